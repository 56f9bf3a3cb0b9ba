#!/usr/bin/env node
import { devices, enrollmentTokens, openDatabase, schools } from '@haven/db';
import { asc, desc } from 'drizzle-orm';
import { parseArgs } from 'node:util';
import { createEnrollmentToken, revokeDevice, revokeEnrollmentToken } from './enrollment/repository';
import { readEnv } from './env';
import { safeError } from './logger';

const USAGE = `Usage:
  haven-collector token create [--school ID] [--days N] [--max-uses N] [--label TEXT]
  haven-collector token list
  haven-collector token revoke TOKEN_ID
  haven-collector device list
  haven-collector device revoke DEVICE_ID
  haven-collector school list

Uses DATABASE_URL, or the embedded database in HAVEN_DATA_DIR (default ./data), which only
one process can open at a time: stop the collector first.`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      school: { type: 'string' },
      days: { type: 'string', default: '30' },
      'max-uses': { type: 'string' },
      label: { type: 'string', default: '' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [noun, verb, id] = positionals;
  if (values.help || !noun) {
    process.stdout.write(USAGE + '\n');
    return values.help ? 0 : 2;
  }
  const database = await openDatabase(readEnv().databaseLocation);
  try {
    const db = database.db;
    if (noun === 'school' && verb === 'list') {
      for (const s of await db.select().from(schools)) process.stdout.write(`${s.id}  ${s.name}\n`);
      return 0;
    }
    if (noun === 'token' && verb === 'create') {
      let schoolId = values.school;
      if (!schoolId) {
        const all = await db.select({ id: schools.id }).from(schools);
        if (all.length !== 1) {
          process.stderr.write('There is more than one school (or none): name one with --school.\n');
          return 2;
        }
        schoolId = all[0]!.id;
      }
      const days = Number(values.days);
      const maxUses = values['max-uses'] === undefined ? null : Number(values['max-uses']);
      if (!Number.isFinite(days) || days <= 0 || (maxUses !== null && !(Number.isInteger(maxUses) && maxUses > 0))) {
        process.stderr.write('--days must be a positive number and --max-uses a positive whole number.\n');
        return 2;
      }
      const token = await createEnrollmentToken(db, { schoolId, ttlMs: days * 24 * 3600_000, maxUses, label: values.label });
      process.stdout.write(`Token ${token.id}, valid until ${token.expiresAt.toISOString()} (shown only now):\n${token.token}\n`);
      return 0;
    }
    if (noun === 'token' && verb === 'list') {
      const rows = await db.select().from(enrollmentTokens).orderBy(desc(enrollmentTokens.createdAt));
      const now = Date.now();
      for (const t of rows) {
        const state = t.revokedAt ? 'revoked' : t.expiresAt.getTime() <= now ? 'expired' : t.maxUses !== null && t.useCount >= t.maxUses ? 'used up' : 'active';
        const uses = `${t.useCount}${t.maxUses === null ? '' : `/${t.maxUses}`} uses`;
        process.stdout.write(`${t.id}  ${state.padEnd(7)}  expires ${t.expiresAt.toISOString().slice(0, 16)}Z  ${uses}  ${t.label}\n`);
      }
      return 0;
    }
    if (noun === 'device' && verb === 'list') {
      const rows = await db.select().from(devices).orderBy(asc(devices.hostname));
      for (const d of rows) {
        const seen = d.lastSeenAt ? `last seen ${d.lastSeenAt.toISOString().slice(0, 16)}Z` : 'never connected';
        process.stdout.write(`${d.id}  ${(d.revokedAt ? 'revoked' : 'active').padEnd(7)}  ${d.hostname}  ${d.osPlatform}  agent ${d.agentVersion}  ${seen}  outbox ${d.outboxDepth}\n`);
      }
      return 0;
    }
    if (noun === 'token' && verb === 'revoke' && id) {
      const done = await revokeEnrollmentToken(db, id);
      process.stdout.write(done ? 'Token revoked.\n' : 'No such active token.\n');
      return done ? 0 : 1;
    }
    if (noun === 'device' && verb === 'revoke' && id) {
      const done = await revokeDevice(db, id);
      process.stdout.write(
        done
          ? 'Device revoked. A connected agent is refused at its first message after the next 30-second re-check (agents send a heartbeat every minute).\n'
          : 'No such active device.\n',
      );
      return done ? 0 : 1;
    }
    process.stderr.write(USAGE + '\n');
    return 2;
  } finally {
    await database.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // Described like a log line: a failed query's message would carry its parameters.
    process.stderr.write(`haven-collector: ${String(safeError(err).message ?? 'failed')}\n`);
    process.exit(1);
  },
);
