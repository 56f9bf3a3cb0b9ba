/**
 * A test-only desktop notification service: a private `dbus-daemon --session` and, on it, a
 * minimal org.freedesktop.Notifications server written against the D-Bus wire protocol (no
 * library needed), recording each Notify call. Enough for `notify-send` to talk to it for real.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';

export type Notification = { appName: string; summary: string; body: string; timeout: number; urgency: number | null };

/* ------------------------------------------------------------------ marshalling (little-endian) */

class Writer {
  private buf = Buffer.alloc(0);
  get length(): number {
    return this.buf.length;
  }
  align(n: number): this {
    const pad = (n - (this.buf.length % n)) % n;
    if (pad) this.buf = Buffer.concat([this.buf, Buffer.alloc(pad)]);
    return this;
  }
  byte(v: number): this {
    this.buf = Buffer.concat([this.buf, Buffer.from([v])]);
    return this;
  }
  u32(v: number): this {
    this.align(4);
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.buf = Buffer.concat([this.buf, b]);
    return this;
  }
  str(v: string): this {
    const bytes = Buffer.from(v, 'utf8');
    this.u32(bytes.length);
    this.buf = Buffer.concat([this.buf, bytes, Buffer.alloc(1)]);
    return this;
  }
  sig(v: string): this {
    this.buf = Buffer.concat([this.buf, Buffer.from([v.length]), Buffer.from(v, 'ascii'), Buffer.alloc(1)]);
    return this;
  }
  strArray(values: string[]): this {
    const inner = new Writer();
    // Element offsets are relative to the message; strings align to 4, as the length word does.
    for (const v of values) inner.str(v);
    this.u32(inner.length);
    this.buf = Buffer.concat([this.buf, inner.bytes()]);
    return this;
  }
  bytes(): Buffer {
    return this.buf;
  }
}

type Field = { code: number; sig: 's' | 'o' | 'u' | 'g'; value: string | number };

let serial = 0;

function message(type: number, fields: Field[], bodySig: string, body: (w: Writer) => void): Buffer {
  const b = new Writer();
  body(b);
  const all = bodySig ? [...fields, { code: 8, sig: 'g' as const, value: bodySig }] : fields;
  const h = new Writer();
  h.byte(0x6c).byte(type).byte(0).byte(1).u32(b.length).u32(++serial);
  const f = new Writer();
  // The fields array starts at offset 16 (8-aligned), so alignment inside it matches the message's.
  for (const field of all) {
    f.align(8).byte(field.code).sig(field.sig);
    if (field.sig === 'u') f.u32(field.value as number);
    else if (field.sig === 'g') f.sig(field.value as string);
    else f.str(field.value as string);
  }
  h.u32(f.length);
  const head = Buffer.concat([h.bytes(), f.bytes()]);
  const pad = (8 - (head.length % 8)) % 8;
  return Buffer.concat([head, Buffer.alloc(pad), b.bytes()]);
}

function call(dest: string, path: string, iface: string, member: string, sig: string, body: (w: Writer) => void): Buffer {
  return message(
    1,
    [
      { code: 1, sig: 'o', value: path },
      { code: 2, sig: 's', value: iface },
      { code: 3, sig: 's', value: member },
      { code: 6, sig: 's', value: dest },
    ],
    sig,
    body,
  );
}

/* ------------------------------------------------------------------ unmarshalling */

class Reader {
  constructor(
    private readonly buf: Buffer,
    public pos: number,
  ) {}
  align(n: number): void {
    this.pos += (n - (this.pos % n)) % n;
  }
  byte(): number {
    return this.buf[this.pos++]!;
  }
  u32(): number {
    this.align(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  i32(): number {
    this.align(4);
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  str(): string {
    const n = this.u32();
    const v = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n + 1;
    return v;
  }
  sig(): string {
    const n = this.byte();
    const v = this.buf.toString('ascii', this.pos, this.pos + n);
    this.pos += n + 1;
    return v;
  }
  /** Skips an array whose elements align to `elementAlign`. Returns [start, end) of its contents. */
  array(elementAlign: number): [number, number] {
    const n = this.u32();
    this.align(elementAlign);
    const start = this.pos;
    this.pos += n;
    return [start, start + n];
  }
}

type Parsed = { type: number; serial: number; fields: Map<number, string | number>; body: Buffer; bodyStart: number; raw: Buffer };

function parse(raw: Buffer): Parsed {
  const r = new Reader(raw, 4);
  r.u32(); // body length
  const s = r.u32();
  const fields = new Map<number, string | number>();
  const [fStart, fEnd] = r.array(8);
  const fr = new Reader(raw, fStart);
  while (fr.pos < fEnd) {
    fr.align(8);
    const code = fr.byte();
    const sig = fr.sig();
    fields.set(code, sig === 'u' ? fr.u32() : sig === 'g' ? fr.sig() : fr.str());
  }
  r.pos = fEnd;
  r.align(8);
  return { type: raw[1]!, serial: s, fields, body: raw, bodyStart: r.pos, raw };
}

/** Notify(susssasa{sv}i): the fields a test looks at, urgency from the hints. */
function parseNotify(m: Parsed): Notification {
  const r = new Reader(m.raw, m.bodyStart);
  // Alignment in the body is relative to the message start, which is 8-aligned: bodyStart keeps it.
  const appName = r.str();
  r.u32(); // replaces_id
  r.str(); // app_icon
  const summary = r.str();
  const body = r.str();
  r.array(4); // actions
  const [hStart, hEnd] = r.array(8);
  let urgency: number | null = null;
  const hr = new Reader(m.raw, hStart);
  while (hr.pos < hEnd) {
    hr.align(8);
    const key = hr.str();
    const sig = hr.sig();
    if (sig === 'y') {
      const v = hr.byte();
      if (key === 'urgency') urgency = v;
    } else if (sig === 's' || sig === 'o') hr.str();
    else if (sig === 'u' || sig === 'i' || sig === 'b') hr.u32();
    else break; // an image or such: not needed here
  }
  r.pos = hEnd;
  const timeout = r.i32();
  return { appName, summary, body, timeout, urgency };
}

/* ------------------------------------------------------------------ the service */

export class NotificationBus {
  readonly notifications: Notification[] = [];
  private pendingBuf = Buffer.alloc(0);
  private ids = 0;

  private constructor(
    private readonly daemon: ChildProcess,
    readonly address: string,
    private readonly socket: Socket,
  ) {}

  /** Starts a private session bus and the notification server on it. */
  static async start(): Promise<NotificationBus> {
    const daemon = spawn('dbus-daemon', ['--session', '--nofork', '--nopidfile', '--print-address=1'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const address = await new Promise<string>((resolve, reject) => {
      let out = '';
      daemon.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const i = out.indexOf('\n');
        if (i >= 0) resolve(out.slice(0, i).trim());
      });
      daemon.once('error', reject);
      daemon.once('exit', (code) => reject(new Error(`dbus-daemon exited (${code})`)));
    });
    const path = /unix:path=([^,]+)/.exec(address)?.[1];
    const abstract = /unix:abstract=([^,]+)/.exec(address)?.[1];
    const socket = connect(path ?? `\0${abstract}`);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    const bus = new NotificationBus(daemon, address, socket);
    await bus.authenticate();
    return bus;
  }

  private async authenticate(): Promise<void> {
    const uid = Buffer.from(String(process.getuid!()), 'ascii').toString('hex');
    this.socket.write(`\0AUTH EXTERNAL ${uid}\r\n`);
    await this.readLine(/^OK /);
    this.socket.write('BEGIN\r\n');
    let named: () => void = () => undefined;
    const requested = new Promise<void>((r) => (named = r));
    let requestSerial = -1;
    this.socket.on('data', (d: Buffer) => {
      this.pendingBuf = Buffer.concat([this.pendingBuf, d]);
      for (;;) {
        if (this.pendingBuf.length < 16) return;
        const bodyLen = this.pendingBuf.readUInt32LE(4);
        const fieldsLen = this.pendingBuf.readUInt32LE(12);
        const total = Math.ceil((16 + fieldsLen) / 8) * 8 + bodyLen;
        if (this.pendingBuf.length < total) return;
        const raw = this.pendingBuf.subarray(0, total);
        this.pendingBuf = this.pendingBuf.subarray(total);
        const m = parse(Buffer.from(raw));
        if (m.type === 2 && m.fields.get(5) === requestSerial) named();
        if (m.type === 1) this.answer(m);
      }
    });
    this.socket.write(call('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'Hello', '', () => undefined));
    const req = call('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'RequestName', 'su', (w) => w.str('org.freedesktop.Notifications').u32(4));
    requestSerial = serial;
    this.socket.write(req);
    await requested;
  }

  private readLine(expect: RegExp): Promise<string> {
    return new Promise((resolve, reject) => {
      let got = '';
      const onData = (d: Buffer) => {
        got += d.toString('latin1');
        const i = got.indexOf('\r\n');
        if (i < 0) return;
        this.socket.off('data', onData);
        const line = got.slice(0, i);
        if (expect.test(line)) resolve(line);
        else reject(new Error(`D-Bus auth: ${line}`));
      };
      this.socket.on('data', onData);
    });
  }

  private reply(to: Parsed, sig: string, body: (w: Writer) => void): void {
    const fields: Field[] = [{ code: 5, sig: 'u', value: to.serial }];
    const sender = to.fields.get(7);
    if (typeof sender === 'string') fields.push({ code: 6, sig: 's', value: sender });
    this.socket.write(message(2, fields, sig, body));
  }

  private answer(m: Parsed): void {
    const member = m.fields.get(3);
    if (member === 'GetServerInformation') this.reply(m, 'ssss', (w) => w.str('haven-test').str('haven').str('1.0').str('1.2'));
    else if (member === 'GetCapabilities') this.reply(m, 'as', (w) => w.strArray(['body']));
    else if (member === 'Notify') {
      this.notifications.push(parseNotify(m));
      this.reply(m, 'u', (w) => w.u32(++this.ids));
    } else {
      const fields: Field[] = [
        { code: 4, sig: 's', value: 'org.freedesktop.DBus.Error.UnknownMethod' },
        { code: 5, sig: 'u', value: m.serial },
      ];
      const sender = m.fields.get(7);
      if (typeof sender === 'string') fields.push({ code: 6, sig: 's', value: sender });
      this.socket.write(message(3, fields, 's', (w) => w.str(`no ${String(member)}`)));
    }
  }

  async stop(): Promise<void> {
    this.socket.destroy();
    if (this.daemon.exitCode === null) {
      const exited = new Promise<void>((r) => this.daemon.once('exit', () => r()));
      this.daemon.kill('SIGTERM');
      await exited;
    }
  }
}
