import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { DriverNotPatchedError, openDatabase, schools, unpatchedDriverFiles } from './index';
import { availableDrivers, createTestDatabase } from '../testing';

describe.each(availableDrivers())('openDatabase (%s)', (driver) => {
  it('migrates an empty database and is idempotent on reopen', async () => {
    const test = await createTestDatabase(driver);
    const dir = driver === 'pglite' ? mkdtempSync(path.join(tmpdir(), 'haven-db-')) : null;
    const url = dir ?? test.url;
    try {
      const first = await openDatabase(url);
      expect(first.driver).toBe(driver);
      await first.ping();
      const [row] = await first.db.insert(schools).values({ name: 'Oak Hill Primary' }).returning();
      await first.close();

      const second = await openDatabase(url);
      const found = await second.db.select().from(schools).where(eq(schools.id, row!.id));
      expect(found.map((s) => s.name)).toEqual(['Oak Hill Primary']);
      const result = await second.db.execute(
        sql`select table_name from information_schema.tables where table_schema = 'public' order by table_name`,
      );
      const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Array<{ table_name: string }>;
      // Every table of the schema, once: the second open applied nothing twice.
      expect(rows.map((r) => r.table_name)).toEqual([
        'alert_deliveries',
        'audit_log',
        'auth_attempts',
        'device_credentials',
        'devices',
        'digest_runs',
        'enrollment_tokens',
        'events',
        'incident_history',
        'incident_notes',
        'incidents',
        'people',
        'school_settings',
        'schools',
        'shared_logons',
        'staff',
        'staff_roles',
        'staff_sessions',
        'tombstones',
        'trusts',
      ]);
      await second.close();
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
      await test.drop();
    }
  });

  it('rejects ping after close', async () => {
    const test = await createTestDatabase(driver);
    const database = await openDatabase(test.url);
    await database.close();
    await expect(database.ping()).rejects.toThrow();
    await test.drop();
  });
});

(availableDrivers().includes('postgres') ? describe : describe.skip)('openDatabase on PostgreSQL', () => {
  it('lets several collectors start and migrate at once', async () => {
    const test = await createTestDatabase('postgres');
    try {
      const opened = await Promise.all([1, 2, 3, 4].map(() => openDatabase(test.url, { maxConnections: 2 })));
      for (const d of opened) await d.ping();
      await Promise.all(opened.map((d) => d.close()));
    } finally {
      await test.drop();
    }
  });

  it('fails clearly when the server cannot be reached', async () => {
    await expect(openDatabase('postgres://postgres@127.0.0.1:1/none')).rejects.toThrow(/ECONNREFUSED|connect/i);
  });
});

describe('the embedded database directory', () => {
  it('can be opened by one holder at a time, and again after close', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'haven-lock-'));
    try {
      const first = await openDatabase(dir);
      await expect(openDatabase(dir)).rejects.toThrow(/in use by process \d+/);
      await first.ping();
      await first.close();
      const again = await openDatabase(dir);
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes over a lock left by a process that has died', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'haven-lock-'));
    try {
      writeFileSync(path.join(dir, 'haven.lock'), '2147483646');
      const database = await openDatabase(dir);
      await database.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the PostgreSQL driver', () => {
  const installed = path.resolve(path.dirname(require.resolve('postgres')), '..', '..');

  it("carries Haven's fix for dropped connections in both its builds (docs/adr/0007)", () => {
    expect(unpatchedDriverFiles()).toEqual([]);
  });

  it('is refused when a build lacks the fix, with a message that says how to apply it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'haven-driver-'));
    try {
      cpSync(path.join(installed, 'src'), path.join(dir, 'src'), { recursive: true });
      // A CommonJS build without the fix (as npm unpacks it, when patch-package did not run).
      mkdirSync(path.join(dir, 'cjs', 'src'), { recursive: true });
      writeFileSync(path.join(dir, 'cjs', 'src', 'connection.js'), '  function nextWrite(fn) {\n    const x = socket.write(chunk, fn)\n');
      expect(unpatchedDriverFiles(dir)).toEqual([path.join(dir, 'cjs/src/connection.js')]);
      expect(new DriverNotPatchedError(unpatchedDriverFiles(dir)).message).toMatch(/npx patch-package/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
