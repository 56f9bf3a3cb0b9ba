import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { parseSecretKey } from './auth/secret-box';

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
  /**
   * Which reverse proxies' X-Forwarded-For to believe, so limits count the client's address:
   * a number of hops (`1` for the shipped nginx on the same server), or the proxies' addresses
   * or CIDR ranges, comma-separated. `true` (believe any hop) is refused: a client could then
   * write any address it liked.
   */
  HAVEN_TRUST_PROXY: z.preprocess(
    blankAsUnset,
    z
      .string()
      .optional()
      .transform((v, ctx): false | number | string[] => {
        if (v === undefined || v.trim().toLowerCase() === 'false' || v.trim() === '0') return false;
        if (/^\d+$/.test(v.trim())) {
          const hops = Number(v.trim());
          if (hops > 10) ctx.addIssue({ code: 'custom', message: 'at most 10 proxy hops' });
          return hops;
        }
        if (v.trim().toLowerCase() === 'true') {
          ctx.addIssue({
            code: 'custom',
            message: 'true would believe any X-Forwarded-For a client sends; give the number of proxies in front of the collector (1 for nginx on the same server) or their addresses',
          });
          return false;
        }
        const list = v.split(',').map((x) => x.trim()).filter((x) => x !== '');
        for (const entry of list) {
          const [address, bits, ...rest] = entry.split('/');
          const family = isIP(address ?? '');
          const named = ['loopback', 'linklocal', 'uniquelocal'].includes(entry);
          const okBits = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32));
          if (!named && (family === 0 || !okBits || rest.length > 0)) {
            ctx.addIssue({ code: 'custom', message: `${JSON.stringify(entry.slice(0, 60))} is not an address, a CIDR range or a hop count` });
          }
        }
        return list;
      }),
  ),
  /** The key TOTP secrets are encrypted with: 32 bytes as 64 hex digits or base64. Or HAVEN_SECRET_KEY_FILE, a file holding it. */
  HAVEN_SECRET_KEY: z.preprocess(blankAsUnset, z.string().optional()),
  HAVEN_SECRET_KEY_FILE: z.preprocess(blankAsUnset, z.string().optional()),
  /** Set by systemd for a service: the first enrollment token then goes to a file, not the journal. */
  INVOCATION_ID: z.string().optional(),
});

export type Env = Omit<z.infer<typeof EnvSchema>, 'HAVEN_SECRET_KEY'> & {
  databaseLocation: string;
  /** From HAVEN_SECRET_KEY or HAVEN_SECRET_KEY_FILE; undefined when neither is set. */
  secretKey: Buffer | undefined;
};

function readSecretKey(env: z.infer<typeof EnvSchema>, readFile: (file: string) => string): Buffer | undefined {
  if (env.HAVEN_SECRET_KEY !== undefined && env.HAVEN_SECRET_KEY_FILE !== undefined) {
    throw new Error('Invalid environment: HAVEN_SECRET_KEY: set HAVEN_SECRET_KEY or HAVEN_SECRET_KEY_FILE, not both');
  }
  let text = env.HAVEN_SECRET_KEY;
  const name = text === undefined ? 'HAVEN_SECRET_KEY_FILE' : 'HAVEN_SECRET_KEY';
  if (text === undefined && env.HAVEN_SECRET_KEY_FILE !== undefined) {
    try {
      text = readFile(env.HAVEN_SECRET_KEY_FILE);
    } catch (err) {
      throw new Error(`Invalid environment: HAVEN_SECRET_KEY_FILE: cannot read ${env.HAVEN_SECRET_KEY_FILE} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  if (text === undefined) return undefined;
  try {
    return parseSecretKey(text);
  } catch (err) {
    throw new Error(`Invalid environment: ${name}: ${(err as Error).message}`);
  }
}

export function readEnv(source: NodeJS.ProcessEnv = process.env, readFile: (file: string) => string = (file) => readFileSync(file, 'utf8')): Env {
  const parsed = EnvSchema.safeParse(source);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`Invalid environment: ${issue?.path.join('.')}: ${issue?.message}`);
  }
  const { HAVEN_SECRET_KEY: _key, ...env } = parsed.data;
  const secretKey = readSecretKey(parsed.data, readFile);
  const databaseLocation = env.DATABASE_URL ?? path.resolve(env.HAVEN_DATA_DIR, 'pglite');
  return { ...env, databaseLocation, secretKey };
}
