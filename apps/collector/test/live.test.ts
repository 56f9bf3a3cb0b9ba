import { availableDrivers } from '@haven/db/testing';
import { sql } from 'drizzle-orm';
import WebSocket from 'ws';
import { hashPassword } from '../src/auth/passwords';
import { totpAt } from '../src/auth/totp';
import { startCollector, type Harness } from './support/harness';
import { addStaff, StaffClient } from './support/staff';

const PUBLIC_URL = 'https://haven.school.example';

type Live = { socket: WebSocket; closed: Promise<number> };

/** The live feed over a real socket: ends with its session, and only for Haven's own pages. */
describe.each(availableDrivers())(`the live feed (%s)`, (driver) => {
  let h: Harness;

  beforeAll(async () => {
    // Sessions ended by another process are noticed by a periodic check; short here.
    h = await startCollector(driver, { app: { liveSessionCheckMs: 50, publicUrl: PUBLIC_URL } });
  });
  afterAll(async () => {
    await h?.close();
  });

  /** Opens the feed; rejects with the HTTP status when the upgrade is refused. */
  function open(cookie: string, origin?: string): Promise<Live> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`${h.baseUrl.replace('http', 'ws')}/api/live`, { headers: { cookie }, ...(origin === undefined ? {} : { origin }) });
      const closed = new Promise<number>((done) => socket.on('close', (code) => done(code)));
      socket.once('message', () => resolve({ socket, closed }));
      socket.on('unexpected-response', (_req, res) => reject(new Error(`refused with ${res.statusCode}`)));
      socket.on('error', reject);
    });
  }

  const signIn = async (role: 'dsl' | 'head' = 'dsl') => {
    const member = await addStaff(h.database.db, h.schoolId, [role]);
    return { member, client: await StaffClient.login(h.baseUrl, member) };
  };

  it('closes the socket when its session signs out, and leaves other sessions’ sockets open', async () => {
    const { member, client } = await signIn();
    const other = await StaffClient.login(h.baseUrl, member);
    const live = await open(client.cookie);
    const stays = await open(other.cookie);
    expect((await client.post('/api/auth/logout', {})).status).toBe(204);
    expect(await live.closed).toBe(4401);
    expect(stays.socket.readyState).toBe(WebSocket.OPEN);
    stays.socket.close();
  });

  it('closes the sockets of a password reset made by another process (the CLI)', async () => {
    const { member, client } = await signIn();
    const live = await open(client.cookie);
    // What `haven-collector staff reset-password` does, from its own process: this one is not told.
    await h.database.db.execute(sql`update staff set password_hash = ${await hashPassword('a brand new password')} where id = ${member.id}`);
    await h.database.db.execute(sql`delete from staff_sessions where staff_id = ${member.id}`);
    expect(await live.closed).toBe(4401);
  });

  it('closes the socket when the session expires, goes idle, or the account is disabled', async () => {
    const idle = await signIn();
    const disabled = await signIn('head');
    const expired = await signIn();
    const sockets = { idle: await open(idle.client.cookie), disabled: await open(disabled.client.cookie), expired: await open(expired.client.cookie) };
    await h.database.db.execute(sql`update staff_sessions set last_seen_at = now() - interval '2 hours' where staff_id = ${idle.member.id}`);
    await h.database.db.execute(sql`update staff set disabled_at = now() where id = ${disabled.member.id}`);
    await h.database.db.execute(sql`update staff_sessions set expires_at = now() - interval '1 second' where staff_id = ${expired.member.id}`);
    expect(await Promise.all([sockets.idle.closed, sockets.disabled.closed, sockets.expired.closed])).toEqual([4401, 4401, 4401]);
  });

  it('closes the other sessions’ sockets when two-factor sign-in is turned on, and keeps this one', async () => {
    const { member, client } = await signIn();
    const elsewhere = await StaffClient.login(h.baseUrl, member);
    const mine = await open(client.cookie);
    const theirs = await open(elsewhere.cookie);
    const { secret } = (await client.post('/api/me/totp', {})).body as { secret: string };
    expect((await client.post('/api/me/totp/enable', { code: totpAt(secret) })).status).toBe(204);
    expect(await theirs.closed).toBe(4401);
    await h.app.live.recheck();
    expect(mine.socket.readyState).toBe(WebSocket.OPEN);
    mine.socket.close();
  });

  it('accepts pages from the public address and the listen address only; a client without Origin is let in', async () => {
    const { client } = await signIn();
    const port = new URL(h.baseUrl).port;
    for (const origin of [PUBLIC_URL, `http://127.0.0.1:${port}`, `http://localhost:${port}`, undefined]) {
      const live = await open(client.cookie, origin);
      live.socket.close();
    }
    for (const origin of ['https://evil.example', 'null', `http://127.0.0.1:${Number(port) + 1}`, 'https://haven.school.example.evil.example', 'not a url']) {
      await expect(open(client.cookie, origin)).rejects.toThrow(/refused with 403/);
    }
  });
});
