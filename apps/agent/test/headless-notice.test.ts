/**
 * The monitoring notice of a session part without the tray shell (src/headless-notice.ts): the
 * command it builds, when it shows, and — where notify-send and dbus-daemon exist — the notice
 * delivered for real to a notification service on a private session bus, by a real
 * CaptureSession welcomed over a real Unix socket; and `haven-agent session` itself.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CaptureSession, DEFAULT_POLICY, type Source } from '@haven/agent-core';
import { findOnPath, headlessNoticePlan, headlessShouldShow, headlessStateDir, noticeStderrText, showHeadlessNotice } from '../src/headless-notice';
import { noticeShown, NOTICE_STATE_FILE } from '../src/shell/notice';
import { NotificationBus } from './dbus-notifications';
import { usSpellingsIn } from './shell-support';

const REPO = path.resolve(__dirname, '..', '..', '..');
const NOTICE = { school: 'Riverside Academy', transparencyUrl: 'https://riverside.example.sch.uk/monitoring' };
const HAS_BUS = findOnPath('notify-send') !== null && findOnPath('dbus-daemon') !== null;

describe('headlessNoticePlan', () => {
  const env = { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/user/1000/bus' };

  test('notify-send with the shell\'s words and link, when there is a session bus', () => {
    const plan = headlessNoticePlan(NOTICE, env, '/usr/bin/notify-send');
    expect(plan).toEqual({
      via: 'notify-send',
      command: '/usr/bin/notify-send',
      args: [
        '--app-name=Haven',
        '--urgency=normal',
        '--',
        'This computer is monitored',
        [
          'This computer is monitored by Riverside Academy to keep pupils safe.',
          "Haven checks what is typed and shown on this computer for signs that someone may be at risk, and sends only what it flags to the school's safeguarding staff.",
          "Read the school's notice about monitoring: https://riverside.example.sch.uk/monitoring",
        ].join('\n'),
      ],
    });
    expect(usSpellingsIn(JSON.stringify(plan))).toEqual([]);
  });

  test('a school name is text: not markup, not an option; a non-http link is no link', () => {
    const plan = headlessNoticePlan({ school: '--help <b>St Mary & St John</b>', transparencyUrl: 'javascript:alert(1)' }, env, '/usr/bin/notify-send');
    if (plan.via !== 'notify-send') throw new Error('expected notify-send');
    const dashes = plan.args.indexOf('--');
    expect(plan.args.slice(0, dashes).every((a) => a.startsWith('--') && !a.includes('St Mary'))).toBe(true);
    expect(plan.args[dashes + 2]).toContain('monitored by --help &lt;b&gt;St Mary &amp; St John&lt;/b&gt; to keep pupils safe.');
    expect(plan.args[dashes + 2]).not.toContain('javascript');
    expect(plan.args).toHaveLength(dashes + 3);
  });

  test('stderr without notify-send, or without a session bus; the text is plain, and says "your school" without a name', () => {
    for (const [e, bin] of [
      [env, null],
      [{}, '/usr/bin/notify-send'],
      [{ DBUS_SESSION_BUS_ADDRESS: '' }, '/usr/bin/notify-send'],
    ] as const) {
      expect(headlessNoticePlan({ school: 'St Mary & St John', transparencyUrl: null }, e, bin)).toEqual({
        via: 'stderr',
        text:
          'This computer is monitored. This computer is monitored by St Mary & St John to keep pupils safe.\n' +
          "Haven checks what is typed and shown on this computer for signs that someone may be at risk, and sends only what it flags to the school's safeguarding staff.\n",
      });
    }
    expect(noticeStderrText(null)).toContain('monitored by your school to keep pupils safe.');
  });
});

describe('headlessShouldShow: the shell\'s rule, with a shown notification counting as seen', () => {
  const t0 = new Date('2026-12-07T08:00:00Z');
  const later = (h: number) => new Date(t0.getTime() + h * 3_600_000);
  const booted = new Date('2026-12-07T07:50:00Z');

  test('first run; then not again in the same login; again at a new login or after a reboot', () => {
    expect(headlessShouldShow(null, { now: t0, bootedAt: booted, session: 'b/1' })).toEqual({ show: true, reason: 'first-run' });
    const shown = noticeShown(null, t0, 'b/1');
    expect(shown.acknowledgedAt).toBeNull(); // nobody pressed anything...
    expect(headlessShouldShow(shown, { now: later(0.5), bootedAt: booted, session: 'b/1' })).toEqual({ show: false, reason: 'same-login' }); // ...and yet not shown again
    expect(headlessShouldShow(shown, { now: later(0.5), bootedAt: booted, session: 'b/2' })).toEqual({ show: true, reason: 'new-login' });
    expect(headlessShouldShow(shown, { now: later(3), bootedAt: later(2), session: 'b/1' })).toEqual({ show: true, reason: 'rebooted' });
  });

  test('without a login session id: at most once an hour', () => {
    const shown = noticeShown(null, t0, null);
    expect(headlessShouldShow(shown, { now: later(0.5), bootedAt: booted, session: null }).show).toBe(false);
    expect(headlessShouldShow(shown, { now: later(1), bootedAt: booted, session: null })).toEqual({ show: true, reason: 'hours-passed' });
  });
});

test('headlessStateDir and findOnPath', () => {
  expect(headlessStateDir('linux', {}, '/home/pupil1')).toBe('/home/pupil1/.local/state/haven-agent');
  expect(headlessStateDir('linux', { XDG_STATE_HOME: '/tmp/state' }, '/home/pupil1')).toBe('/tmp/state/haven-agent');
  expect(headlessStateDir('linux', { XDG_STATE_HOME: 'relative' }, '/home/pupil1')).toBe('/home/pupil1/.local/state/haven-agent');
  expect(headlessStateDir('linux', {}, null)).toBeNull();
  expect(headlessStateDir('darwin', {}, '/Users/p')).toBe('/Users/p/Library/Application Support/Haven/session');

  const dir = mkdtempSync(path.join(tmpdir(), 'haven-path-'));
  try {
    writeFileSync(path.join(dir, 'not-exec'), '');
    writeFileSync(path.join(dir, 'tool'), '#!/bin/sh\n');
    chmodSync(path.join(dir, 'tool'), 0o755);
    expect(findOnPath('tool', { PATH: `/nonexistent:${dir}` })).toBe(path.join(dir, 'tool'));
    expect(findOnPath('not-exec', { PATH: dir })).toBeNull();
    expect(findOnPath('tool', {})).toBeNull();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A stand-in for the machine's service: welcomes each session part with the school's notice. */
async function welcomingService(socketPath: string): Promise<Server> {
  const server = createServer((client) => {
    client.on('error', () => undefined);
    client.once('data', () =>
      client.write(
        JSON.stringify({ type: 'welcome', ipc: 1, osUser: 'pupil1', deviceId: null, policy: DEFAULT_POLICY, notice: NOTICE, link: { state: 'online', lastDeliveryAt: null } }) + '\n',
      ),
    );
  });
  await new Promise<void>((r) => server.listen(socketPath, () => r()));
  return server;
}

const idle: Source = { name: 'title', available: () => ({ ok: true }), start: () => undefined, stop: () => undefined };

describe('showHeadlessNotice with a real session part', () => {
  let dir: string;
  let server: Server | null = null;
  let session: CaptureSession | null = null;
  let bus: NotificationBus | null = null;
  const logs: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const log = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void logs.push({ level, message, fields });

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'haven-headless-'));
    logs.length = 0;
  });
  afterEach(async () => {
    await session?.stop();
    session = null;
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = null;
    await bus?.stop();
    bus = null;
    rmSync(dir, { recursive: true, force: true });
  });

  async function startSession(withService: boolean): Promise<CaptureSession> {
    const socketPath = path.join(dir, 'agent.sock');
    if (withService) server = await welcomingService(socketPath);
    session = new CaptureSession({ socketPath, log, sources: [idle], reconnectMs: 50 });
    session.start();
    return session;
  }

  (HAS_BUS ? test : test.skip)('through notify-send to the desktop\'s notification service (a real session bus), once per login', async () => {
    bus = await NotificationBus.start();
    const s = await startSession(true);
    const stderr: string[] = [];
    const env = { PATH: process.env.PATH, DBUS_SESSION_BUS_ADDRESS: bus.address, XDG_SESSION_ID: '7' };
    const opts = { log, env, platform: 'linux' as const, stateDir: path.join(dir, 'state'), writeStderr: (t: string) => void stderr.push(t) };

    expect(await showHeadlessNotice(s, opts)).toEqual({ shown: true, reason: 'first-run', via: 'notify-send' });
    expect(bus.notifications).toHaveLength(1);
    expect(bus.notifications[0]).toMatchObject({ appName: 'Haven', summary: 'This computer is monitored', urgency: 1 });
    expect(bus.notifications[0]!.body).toContain('This computer is monitored by Riverside Academy to keep pupils safe.');
    expect(bus.notifications[0]!.body).toContain('https://riverside.example.sch.uk/monitoring');
    expect(stderr).toEqual([]);
    const state = JSON.parse(readFileSync(path.join(dir, 'state', NOTICE_STATE_FILE), 'utf8'));
    expect(state.lastSession).toMatch(/\/7$/);

    // The session part restarted in the same login: not again.
    expect(await showHeadlessNotice(s, opts)).toEqual({ shown: false, reason: 'same-login' });
    expect(bus.notifications).toHaveLength(1);
    // The next login: again.
    expect(await showHeadlessNotice(s, { ...opts, env: { ...env, XDG_SESSION_ID: '8' } })).toEqual({ shown: true, reason: 'new-login', via: 'notify-send' });
    expect(bus.notifications).toHaveLength(2);
  });

  (HAS_BUS ? test : test.skip)('a session bus that does not answer: notify-send fails and the notice goes to stderr once', async () => {
    const s = await startSession(true);
    const stderr: string[] = [];
    const env = { PATH: process.env.PATH, DBUS_SESSION_BUS_ADDRESS: `unix:path=${path.join(dir, 'no-bus')}` };
    const outcome = await showHeadlessNotice(s, { log, env, platform: 'linux', stateDir: path.join(dir, 'state'), writeStderr: (t) => void stderr.push(t) });
    expect(outcome).toEqual({ shown: true, reason: 'first-run', via: 'stderr' });
    expect(stderr).toHaveLength(1);
    expect(stderr[0]).toContain('This computer is monitored by Riverside Academy to keep pupils safe.');
    expect(logs.some((l) => l.level === 'warn' && /notification service/.test(l.message))).toBe(true);
  });

  test('no session bus: stderr, once; with no service answering, the notice still shows, without the name', async () => {
    const s = await startSession(false);
    const stderr: string[] = [];
    const started = Date.now();
    const outcome = await showHeadlessNotice(s, { log, env: { PATH: process.env.PATH }, platform: 'linux', stateDir: path.join(dir, 'state'), waitMs: 300, writeStderr: (t) => void stderr.push(t) });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(outcome).toEqual({ shown: true, reason: 'first-run', via: 'stderr' });
    expect(stderr).toEqual([noticeStderrText(null)]);
    expect(stderr[0]).toContain('monitored by your school');
  });

  test('a state directory that cannot be written does not stop the notice', async () => {
    const s = await startSession(true);
    writeFileSync(path.join(dir, 'file'), '');
    const stderr: string[] = [];
    const outcome = await showHeadlessNotice(s, { log, env: {}, platform: 'linux', stateDir: path.join(dir, 'file', 'state'), writeStderr: (t) => void stderr.push(t) });
    expect(outcome).toMatchObject({ shown: true, via: 'stderr' });
    expect(stderr[0]).toContain('Riverside Academy');
    expect(logs.some((l) => l.level === 'warn' && /remember/.test(l.message))).toBe(true);
  });
});

const CLI_BUILT = existsSync(path.join(REPO, 'apps', 'agent', 'dist', 'headless-notice.js'));

(CLI_BUILT ? describe : describe.skip)(`haven-agent session${CLI_BUILT ? '' : ' (skipped: apps/agent is not built; npx turbo run build --filter=@haven/agent)'}`, () => {
  test('shows the notice at start (stderr here, no session bus), once, then runs until stopped', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'haven-cli-notice-'));
    const socketPath = path.join(dir, 'agent.sock');
    const server = await welcomingService(socketPath);
    mkdirSync(path.join(dir, 'home'));
    try {
      const child = spawn(process.execPath, [path.join(REPO, 'apps', 'agent', 'bin', 'haven-agent.js'), 'session', '--socket', socketPath, '--sources', 'title'], {
        env: { PATH: process.env.PATH, HOME: path.join(dir, 'home'), XDG_SESSION_ID: '3' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const until = Date.now() + 20_000;
      while (!err.includes('to keep pupils safe') && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      child.kill('SIGTERM');
      const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      expect(err).toContain('This computer is monitored by Riverside Academy to keep pupils safe.');
      expect(err.split('to keep pupils safe').length - 1).toBe(1);
      expect(code).toBe(0);
      expect(existsSync(path.join(dir, 'home', '.local', 'state', 'haven-agent', NOTICE_STATE_FILE))).toBe(true);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
