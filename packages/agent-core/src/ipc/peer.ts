import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Socket } from 'node:net';

export type PeerCredentials = { uid: number; gid: number; pid: number };

type Native = { peerCredentials(fd: number): PeerCredentials };
let native: Native | null | undefined;

function load(): Native | null {
  if (native !== undefined) return native;
  try {
    // A native addon is loaded with require() whatever the module system.
    native = createRequire(__filename)(path.join(__dirname, '..', '..', 'dist-native', 'peercred.node')) as Native;
  } catch {
    native = null;
  }
  return native;
}

/**
 * The OS identity of the process at the other end of an accepted Unix socket, from the kernel
 * (SO_PEERCRED / getpeereid) — never from anything the client sent. Throws if it cannot be
 * known: the service then refuses the connection rather than guess.
 */
export function peerOf(socket: Socket): PeerCredentials {
  const n = load();
  if (!n) throw new Error('peer credentials are not available on this platform (the peercred addon is not built)');
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('the connection has no file descriptor');
  return n.peerCredentials(fd);
}

/** The account name for a uid, from the passwd file; `uid-N` when it has none (a directory account). */
export function userName(uid: number, passwd = '/etc/passwd'): string {
  try {
    for (const line of readFileSync(passwd, 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length >= 3 && Number(f[2]) === uid && f[0]) return f[0];
    }
  } catch {
    // fall through
  }
  return `uid-${uid}`;
}

/**
 * Whether the account still has processes running, other than the per-user daemons that outlive
 * a login (systemd --user, D-Bus, sound servers). Reads /proc, which every account may read.
 */
export function userHasProcesses(uid: number, exceptPid?: number, proc = '/proc'): boolean {
  const lingering = /^(systemd|\(sd-pam\)|dbus-daemon|dbus-broker.*|pipewire.*|wireplumber|pulseaudio|gvfs.*|at-spi.*|xdg-.*|gpg-agent|ssh-agent|gnome-keyring-d.*)$/;
  let entries: string[];
  try {
    entries = readdirSync(proc);
  } catch {
    return false;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name) || Number(name) === exceptPid) continue;
    try {
      const status = readFileSync(path.join(proc, name, 'status'), 'utf8');
      const uidLine = /^Uid:\s+(\d+)/m.exec(status);
      if (!uidLine || Number(uidLine[1]) !== uid) continue;
      if (/^State:\s+Z/m.test(status)) continue;
      const comm = /^Name:\s+(.*)$/m.exec(status)?.[1] ?? '';
      if (lingering.test(comm)) continue;
      return true;
    } catch {
      // the process ended while we looked
    }
  }
  return false;
}
