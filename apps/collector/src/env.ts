import path from 'node:path';
import { z } from 'zod';

/** The only module of the collector that reads process.env; validated once at start. */
/** An empty variable counts as unset (systemd env files and shells often leave `PORT=`). */
const blankAsUnset = (value: unknown) => (value === '' ? undefined : value);

const EnvSchema = z.object({
  HOST: z.string().default('127.0.0.1'),
  PORT: z.preprocess(blankAsUnset, z.coerce.number().int().min(0).max(65535).default(8080)),
  /** postgres://… for a PostgreSQL server; unset for the embedded database in HAVEN_DATA_DIR. */
  DATABASE_URL: z.preprocess(
    blankAsUnset,
    z
      .string()
      .regex(/^postgres(ql)?:\/\//i, 'must start with postgres:// or postgresql:// (unset it for the embedded database)')
      .optional(),
  ),
  HAVEN_DATA_DIR: z.preprocess(blankAsUnset, z.string().default('data')),
  /** The address agents and staff use, when it differs from http://HOST:PORT (e.g. behind a proxy). */
  HAVEN_PUBLIC_URL: z.url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Seconds allowed for in-flight batches to finish on shutdown. */
  HAVEN_SHUTDOWN_GRACE_SECONDS: z.preprocess(blankAsUnset, z.coerce.number().int().min(0).max(300).default(10)),
  /** smtp://user:pass@host:587 or smtps://…: where urgent alerts and digests are sent from. */
  HAVEN_SMTP_URL: z.preprocess(blankAsUnset, z.string().regex(/^smtps?:\/\//i, 'must start with smtp:// or smtps://').optional()),
  HAVEN_MAIL_FROM: z.preprocess(blankAsUnset, z.string().default('Haven <haven@localhost>')),
  /** Called with a JSON summary (no names, no captured text) for each urgent alert. */
  HAVEN_ALERT_WEBHOOK_URL: z.preprocess(blankAsUnset, z.url().optional()),
  HAVEN_ALERT_WEBHOOK_SECRET: z.preprocess(blankAsUnset, z.string().min(16).optional()),
  /** Minutes before an unacknowledged urgent alert goes to the deputy DSL. */
  HAVEN_ESCALATE_AFTER_MINUTES: z.preprocess(blankAsUnset, z.coerce.number().min(1).max(24 * 60).default(15)),
  /** Trust X-Forwarded-For from this proxy address (or `true` for any); unset behind no proxy. */
  HAVEN_TRUST_PROXY: z.preprocess(
    blankAsUnset,
    z
      .string()
      .optional()
      .transform((v) => (v === undefined ? false : v === 'true' ? true : v.split(',').map((x) => x.trim()))),
  ),
  /** Set by systemd for a service: the first enrollment token then goes to a file, not the journal. */
  INVOCATION_ID: z.string().optional(),
});

export type Env = z.infer<typeof EnvSchema> & { databaseLocation: string };

export function readEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const parsed = EnvSchema.safeParse(source);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`Invalid environment: ${issue?.path.join('.')}: ${issue?.message}`);
  }
  const env = parsed.data;
  const databaseLocation = env.DATABASE_URL ?? path.resolve(env.HAVEN_DATA_DIR, 'pglite');
  return { ...env, databaseLocation };
}
