#!/usr/bin/env node
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { openDatabase } from '@haven/db';
import { buildApp } from './app';
import { bootstrap, bootstrapAdmin } from './bootstrap';
import { readEnv } from './env';
import { createLogger } from './logger';

/** Starts the collector: database, first-run bootstrap, HTTP + WebSocket, graceful shutdown. */
async function main(): Promise<void> {
  const env = readEnv();
  const logger = createLogger(env.LOG_LEVEL);
  const database = await openDatabase(env.databaseLocation);
  logger.info({ driver: database.driver }, 'Database ready and migrated.');
  const first = await bootstrap(database.db);
  const admin = await bootstrapAdmin(database.db);
  const address0 = `http://${env.HOST.includes(':') ? `[${env.HOST}]` : env.HOST}:${env.PORT}`;
  const app = await buildApp({
    database,
    logger,
    shutdownGraceMs: env.HAVEN_SHUTDOWN_GRACE_SECONDS * 1000,
    trustProxy: env.HAVEN_TRUST_PROXY,
    publicUrl: env.HAVEN_PUBLIC_URL,
    secretKey: env.secretKey,
    secureCookies: env.HAVEN_PUBLIC_URL?.startsWith('https://') ?? false,
    alerts: {
      smtpUrl: env.HAVEN_SMTP_URL,
      mailFrom: env.HAVEN_MAIL_FROM,
      webhookUrl: env.HAVEN_ALERT_WEBHOOK_URL,
      webhookSecret: env.HAVEN_ALERT_WEBHOOK_SECRET,
      escalateAfterMs: env.HAVEN_ESCALATE_AFTER_MINUTES * 60_000,
      publicUrl: env.HAVEN_PUBLIC_URL ?? address0,
    },
  });
  if (!app.alerter.mailEnabled) logger.warn('HAVEN_SMTP_URL is not set: urgent alerts and digests are recorded but not e-mailed.');
  const address = await app.listen({ host: env.HOST, port: env.PORT });
  // Events a previous run stored but did not group (a crash between the two) are grouped now.
  app.triage.recover().catch((err: unknown) => logger.warn({ err }, 'Grouping of leftover events will be retried by the next sweep.'));
  const url = env.HAVEN_PUBLIC_URL ?? address;

  // Signals are handled before anything announces that the collector is up, so a stop that
  // follows the announcement at once still shuts down gracefully.
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'Shutting down: finishing in-flight batches.');
    try {
      await app.close();
      await database.close();
      logger.info('Collector stopped.');
      process.exit(0);
    } catch (err) {
      logger.error({ err }, 'Shutdown failed.');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  // The banner is for the person at the terminal, so it is plain text rather than a log line;
  // the token is shown here once and is never logged. Under systemd stdout is the journal,
  // which keeps it, so there the token goes to a file only the service user can read.
  let firstToken: string | null = null;
  if (first && env.INVOCATION_ID) {
    const file = path.resolve(env.HAVEN_DATA_DIR, 'first-enrolment-token');
    writeFileSync(file, first.token + '\n', { mode: 0o600 });
    firstToken = `First enrolment token written to ${file} (readable by this service's user only; delete it once used).`;
  } else if (first) {
    firstToken = `First enrolment token (valid until ${first.expiresAt.toISOString().slice(0, 10)}; shown only now):\n  ${first.token}`;
  }
  let firstAdmin: string | null = null;
  if (admin && env.INVOCATION_ID) {
    const file = path.resolve(env.HAVEN_DATA_DIR, 'first-admin-password');
    writeFileSync(file, `${admin.email}\n${admin.password}\n`, { mode: 0o600 });
    firstAdmin = `First administrator's password written to ${file} (readable by this service's user only; delete it after signing in).`;
  } else if (admin) {
    firstAdmin = `Sign in as ${admin.email} with password ${admin.password} (shown only now; head teacher and technician of the first school).`;
  }
  const lines = [
    '',
    `Haven collector listening on ${url}`,
    `Dashboard: ${url}/`,
    ...(firstAdmin ? [firstAdmin] : []),
    `Database: ${database.driver === 'pglite' ? `embedded (${env.databaseLocation})` : 'PostgreSQL server'}`,
    firstToken ??
      'Enrolment tokens: make a new one with `npx haven-collector token create` (stop the collector first when using the embedded database).',
    `Agents connect to ${url.replace(/^http/, 'ws')}/agent`,
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');

}

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`Haven collector could not start: ${message}\n`);
  process.exit(1);
});
