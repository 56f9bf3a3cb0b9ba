import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import * as schema from './schema';

export type Schema = typeof schema;
/** What repositories take, so postgres-js and PGlite both fit. */
export type HavenDatabase = PgDatabase<PgQueryResultHKT, Schema>;

export type Driver = 'postgres' | 'pglite';

export type Database = {
  db: HavenDatabase;
  driver: Driver;
  /** Resolves when the database answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;
  /** Applies pending committed migrations (openDatabase does this unless told not to). */
  migrate(): Promise<void>;
  close(): Promise<void>;
};

export type OpenOptions = {
  /** Connections in the postgres-js pool (default 10). Ignored for PGlite. */
  maxConnections?: number;
  /** Apply pending migrations before returning (default true). */
  migrate?: boolean;
};

/** Where the committed SQL migrations live, both from src/ (tests) and dist/ (built). */
export const MIGRATIONS_FOLDER = path.resolve(__dirname, '..', 'migrations');
export const DEFAULT_PGLITE_DIR = path.resolve('data', 'pglite');

/** An arbitrary, fixed key so that collectors starting together migrate one at a time. */
const MIGRATION_LOCK_KEY = 0x4841_5645; // "HAVE"

export function isPostgresUrl(url: string | undefined): url is string {
  return !!url && /^postgres(ql)?:\/\//i.test(url);
}

/**
 * Opens Haven's database and applies migrations.
 * - `postgres://…` or `postgresql://…`: a PostgreSQL server through postgres-js.
 * - `memory://`: a throwaway in-memory PGlite.
 * - anything else (or nothing): PGlite on that directory (default ./data/pglite).
 */
export async function openDatabase(url?: string, options: OpenOptions = {}): Promise<Database> {
  const database = isPostgresUrl(url) ? await openPostgres(url, options) : await openPglite(url, options);
  if (options.migrate !== false) {
    try {
      await database.migrate();
    } catch (error) {
      await database.close().catch(() => undefined);
      throw error;
    }
  }
  return database;
}

/**
 * postgres-js 3.4.9 throws from a timer, where no caller can catch it, when PostgreSQL drops a
 * connection under load, and the process dies (porsager/postgres#1154, #1208). Haven runs it
 * with patches/postgres+3.4.9.patch, applied by `npm install` / `npm ci` (postinstall:
 * patch-package); docs/adr/0007 says why. A tree installed with --ignore-scripts lacks it.
 */
export class DriverNotPatchedError extends Error {
  constructor(readonly files: string[]) {
    super(
      `the PostgreSQL driver (postgres-js) is missing Haven's fix for dropped connections (patches/postgres+3.4.9.patch) in ${files.join(', ')}: ` +
        'run `npx patch-package` in the Haven directory (npm install and npm ci do it unless scripts are disabled); without it the collector dies when PostgreSQL restarts',
    );
    this.name = 'DriverNotPatchedError';
  }
}

/** The marker every hunk of patches/postgres+3.4.9.patch carries. */
const DRIVER_PATCH_MARKER = 'Haven patch (porsager/postgres#1154, #1208)';

/** Both builds of the driver (ESM, imported by the built collector; CommonJS, required by drizzle) must carry the patch. */
export function unpatchedDriverFiles(packageDir = path.resolve(path.dirname(require.resolve('postgres')), '..', '..')): string[] {
  return ['src/connection.js', 'cjs/src/connection.js']
    .map((file) => path.join(packageDir, file))
    .filter((file) => !existsSync(file) || !readFileSync(file, 'utf8').includes(DRIVER_PATCH_MARKER));
}

async function openPostgres(url: string, options: OpenOptions): Promise<Database> {
  const unpatched = unpatchedDriverFiles();
  if (unpatched.length > 0) throw new DriverNotPatchedError(unpatched);
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const client = postgres(url, {
    max: options.maxConnections ?? 10,
    connect_timeout: 5,
    idle_timeout: 60,
    onnotice: () => undefined,
    // Dates and JSON are handled by drizzle; keep the driver's own parsing.
  });
  const db = drizzle({ client, schema, casing: 'snake_case' }) as unknown as HavenDatabase;
  return {
    db,
    driver: 'postgres',
    async ping() {
      await client`select 1`;
    },
    async migrate() {
      const { migrate } = await import('drizzle-orm/postgres-js/migrator');
      // A reserved connection holds a session lock while the pool migrates, so collectors
      // starting together migrate one at a time; the lock goes with the connection if this
      // process dies.
      const reserved = await client.reserve();
      try {
        await reserved`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
        try {
          await migrate(db as never, { migrationsFolder: MIGRATIONS_FOLDER });
        } finally {
          await reserved`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
        }
      } finally {
        reserved.release();
      }
    },
    async close() {
      await client.end({ timeout: 5 });
    },
  };
}

export class DatabaseInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(`the embedded database in ${dataDir} is in use by process ${pid}; stop that process first`);
    this.name = 'DatabaseInUseError';
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * PGlite is a single-process database: two processes (say, the collector and the CLI) on one
 * directory would corrupt it. A lock file holding the owner's pid keeps the second one out;
 * a lock left by a process that has died is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  const file = path.join(dataDir, 'haven.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx', mode: 0o600 });
      const release = () => {
        try {
          if (readFileSync(file, 'utf8') === String(process.pid)) unlinkSync(file);
        } catch {
          // already gone
        }
        process.off('exit', release);
      };
      process.on('exit', release);
      return release;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileSync(file, 'utf8'));
      if (Number.isInteger(owner) && owner > 0 && processAlive(owner)) throw new DatabaseInUseError(dataDir, owner);
      unlinkSync(file); // stale: its process is gone
    }
  }
  throw new Error(`could not lock ${dataDir}`);
}

async function openPglite(location: string | undefined, _options: OpenOptions): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  let dataDir: string | undefined;
  let unlock: () => void = () => undefined;
  if (location !== 'memory://') {
    dataDir = path.resolve(location ?? DEFAULT_PGLITE_DIR);
    mkdirSync(dataDir, { recursive: true });
    unlock = lockDataDir(dataDir);
  }
  let client;
  try {
    client = dataDir ? new PGlite(dataDir) : new PGlite();
    await client.waitReady;
  } catch (err) {
    unlock();
    throw err;
  }
  const db = drizzle({ client, schema, casing: 'snake_case' }) as unknown as HavenDatabase;
  let closed = false;
  return {
    db,
    driver: 'pglite',
    async ping() {
      if (closed) throw new Error('database is closed');
      await client.query('select 1');
    },
    async migrate() {
      const { migrate } = await import('drizzle-orm/pglite/migrator');
      await migrate(drizzle({ client, casing: 'snake_case' }), { migrationsFolder: MIGRATIONS_FOLDER });
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await client.close();
      } finally {
        unlock();
      }
    },
  };
}
