import { createServer } from 'node:net';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { classifyDatabaseError, describeDatabaseError, isDatabaseUnavailable, openDatabase } from './index';
import { availableDrivers, createTestDatabase, openTestDatabase } from '../testing';

/** The error a statement really throws, through drizzle, on a real driver. */
async function failure(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (err) {
    return err;
  }
  throw new Error('expected the statement to fail');
}

describe.each(availableDrivers())('classifyDatabaseError (%s)', (driver) => {
  let t: Awaited<ReturnType<typeof openTestDatabase>>;
  beforeAll(async () => {
    t = await openTestDatabase(driver);
  });
  afterAll(async () => t.dispose());

  it('calls values the database cannot store data, not an outage', async () => {
    const db = t.database.db;
    const nul = await failure(() => db.execute(sql`select ${'a\u0000b'}::text`));
    const year0 = await failure(() => db.execute(sql`select ${'0000-01-01T00:00:00Z'}::timestamptz`));
    const surrogate = await failure(() => db.execute(sql`select ${JSON.stringify({ match: 'a\ud800b' })}::jsonb`));
    for (const err of [nul, year0, surrogate]) {
      expect(classifyDatabaseError(err)).toBe('data');
      expect(isDatabaseUnavailable(err)).toBe(false);
    }
    // The log line names the SQLSTATE and never the value.
    const described = describeDatabaseError(year0);
    expect(described.sqlstate).toMatch(/^22/);
    expect(JSON.stringify(described)).not.toContain('0000-01-01');
  });

  it('calls a broken constraint and a bad query what they are', async () => {
    const db = t.database.db;
    expect(classifyDatabaseError(await failure(() => db.execute(sql`insert into schools (id, name) values (null, 'x')`)))).toBe('constraint');
    expect(classifyDatabaseError(await failure(() => db.execute(sql`select * from no_such_table`)))).toBe('internal');
    expect(classifyDatabaseError(new TypeError("Cannot read properties of null (reading 'write')"))).toBe('internal');
  });
});

describe('classifyDatabaseError (outages)', () => {
  it('calls a closed embedded database unavailable', async () => {
    const database = await openDatabase('memory://');
    await database.close();
    const err = await failure(() => database.db.execute(sql`select 1`));
    expect(classifyDatabaseError(err)).toBe('unavailable');
  });

  it('calls a refused connection unavailable', async () => {
    // A port that was free a moment ago: nothing listens there.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const client = postgres(`postgres://nobody@127.0.0.1:${port}/none`, { max: 1, connect_timeout: 2, onnotice: () => undefined });
    try {
      const err = await failure(() => client`select 1`);
      expect(isDatabaseUnavailable(err)).toBe(true);
    } finally {
      await client.end({ timeout: 1 });
    }
  });

  (availableDrivers().includes('postgres') ? it : it.skip)('calls a database that refuses connections unavailable', async () => {
    const test = await createTestDatabase('postgres');
    const name = new URL(test.url).pathname.slice(1);
    const admin = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => undefined });
    const client = postgres(test.url, { max: 1, connect_timeout: 2, onnotice: () => undefined });
    try {
      await admin.unsafe(`alter database "${name}" allow_connections false`);
      const err = await failure(() => client`select 1`);
      expect(isDatabaseUnavailable(err)).toBe(true);
    } finally {
      await client.end({ timeout: 1 });
      await admin.end({ timeout: 1 });
      await test.drop();
    }
  });

  (availableDrivers().includes('postgres') ? it : it.skip)('calls a terminated backend unavailable', async () => {
    const client = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => undefined });
    const admin = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => undefined });
    try {
      const [{ pid }] = (await client`select pg_backend_pid() as pid`) as unknown as [{ pid: number }];
      const slow = failure(() => client`select pg_sleep(30)`);
      // Wait until the sleep really runs on that backend before ending it.
      for (;;) {
        const [row] = await admin`select state from pg_stat_activity where pid = ${pid}`;
        if (row?.state === 'active') break;
        await new Promise((r) => setTimeout(r, 20));
      }
      await admin`select pg_terminate_backend(${pid})`;
      expect(classifyDatabaseError(await slow)).toBe('unavailable');
    } finally {
      await client.end({ timeout: 1 });
      await admin.end({ timeout: 1 });
    }
  });

  it('reads the codes of the PostgreSQL classes that mean an outage or a conflict', () => {
    const pg = (code: string) => Object.assign(new Error('x'), { code, name: 'PostgresError' });
    const wrapped = (cause: unknown) => Object.assign(new Error('Failed query: …'), { name: 'DrizzleQueryError', cause });
    expect(classifyDatabaseError(wrapped(pg('57P01')))).toBe('unavailable');
    expect(classifyDatabaseError(pg('53300'))).toBe('unavailable');
    expect(classifyDatabaseError(pg('08006'))).toBe('unavailable');
    expect(classifyDatabaseError(pg('40001'))).toBe('conflict');
    expect(classifyDatabaseError(pg('40P01'))).toBe('conflict');
    expect(classifyDatabaseError(wrapped(pg('22P05')))).toBe('data');
    expect(classifyDatabaseError(pg('23505'))).toBe('constraint');
    expect(classifyDatabaseError(pg('42601'))).toBe('internal');
    // Refused at connection: PostgreSQL says FATAL whatever the class (here 55000).
    expect(classifyDatabaseError(Object.assign(pg('55000'), { severity: 'FATAL' }))).toBe('unavailable');
    expect(classifyDatabaseError(Object.assign(pg('55000'), { severity: 'ERROR' }))).toBe('internal');
    expect(classifyDatabaseError(new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })]))).toBe('unavailable');
  });
});
