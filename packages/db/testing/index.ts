import { randomBytes } from 'node:crypto';
import { isPostgresUrl, openDatabase, type Database, type Driver } from '../src/open';

/**
 * Test helpers: every suite that touches storage runs once per available driver — PGlite
 * always, PostgreSQL when DATABASE_URL is set (as in CI) — each on a database of its own.
 */
export function availableDrivers(): Driver[] {
  return isPostgresUrl(process.env.DATABASE_URL) ? ['pglite', 'postgres'] : ['pglite'];
}

export type TestDatabase = { url: string; driver: Driver; drop(): Promise<void> };

export async function createTestDatabase(driver: Driver): Promise<TestDatabase> {
  if (driver === 'pglite') return { url: 'memory://', driver, drop: async () => undefined };
  const adminUrl = process.env.DATABASE_URL;
  if (!isPostgresUrl(adminUrl)) throw new Error('DATABASE_URL must point at PostgreSQL for the postgres driver');
  const { default: postgres } = await import('postgres');
  const name = `haven_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => undefined });
  try {
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    driver,
    async drop() {
      const a = postgres(adminUrl, { max: 1, onnotice: () => undefined });
      try {
        await a.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await a.end();
      }
    },
  };
}

/** Opens a migrated database of the driver, and a function that closes and drops it. */
export async function openTestDatabase(driver: Driver): Promise<{ database: Database; url: string; dispose(): Promise<void> }> {
  const test = await createTestDatabase(driver);
  const database = await openDatabase(test.url);
  return {
    database,
    url: test.url,
    async dispose() {
      await database.close().catch(() => undefined);
      await test.drop();
    },
  };
}
