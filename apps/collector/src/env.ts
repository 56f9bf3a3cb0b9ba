import path from 'node:path';
import { z } from 'zod';

/** The only module of the collector that reads process.env; validated once at start. */
const EnvSchema = z.object({
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** postgres://… for a PostgreSQL server; unset for the embedded database in HAVEN_DATA_DIR. */
  DATABASE_URL: z.string().optional(),
  HAVEN_DATA_DIR: z.string().default('data'),
  /** The address agents and staff use, when it differs from http://HOST:PORT (e.g. behind a proxy). */
  HAVEN_PUBLIC_URL: z.url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Seconds allowed for in-flight batches to finish on shutdown. */
  HAVEN_SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(0).max(300).default(10),
});

export type Env = z.infer<typeof EnvSchema> & { databaseLocation: string };

export function readEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const parsed = EnvSchema.safeParse(source);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`Invalid environment: ${issue?.path.join('.')}: ${issue?.message}`);
  }
  const env = parsed.data;
  const databaseLocation = env.DATABASE_URL && env.DATABASE_URL.length > 0
    ? env.DATABASE_URL
    : path.resolve(env.HAVEN_DATA_DIR, 'pglite');
  return { ...env, databaseLocation };
}
