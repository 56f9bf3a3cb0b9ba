import { Writable } from 'node:stream';
import type { Database, Driver } from '@haven/db';
import { openTestDatabase } from '@haven/db/testing';
import type { FastifyInstance } from 'fastify';
import { sql } from 'drizzle-orm';
import { buildApp, type AppOptions } from '../../src/app';
import { queryRows } from '../../src/db-rows';
import type { TestAgent } from './agent-client';
import { createEnrollmentToken, createSchool } from '../../src/enrollment/repository';
import { createLogger } from '../../src/logger';

/** The operator's key in tests (HAVEN_SECRET_KEY): 32 bytes. */
export const TEST_SECRET_KEY = Buffer.alloc(32, 7);

/** A collector on a real port with its own database, and everything it logged. */
export type Harness = {
  app: FastifyInstance;
  database: Database;
  databaseUrl: string;
  baseUrl: string;
  schoolId: string;
  token: string;
  logs: string[];
  close(): Promise<void>;
};

export async function startCollector(driver: Driver, options: { shutdownGraceMs?: number; app?: Partial<AppOptions> } = {}): Promise<Harness> {
  const { database, url: databaseUrl, dispose } = await openTestDatabase(driver);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  const app = await buildApp({
    database,
    logger: createLogger('debug', sink),
    shutdownGraceMs: options.shutdownGraceMs ?? 5000,
    helloTimeoutMs: 1500,
    revocationCheckMs: 100,
    alertSweepMs: 0,
    // TOTP secrets are encrypted with the operator's key; tests use a fixed one.
    secretKey: TEST_SECRET_KEY,
    ...options.app,
  });
  const baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  const school = await createSchool(database.db, 'Test Academy');
  const { token } = await createEnrollmentToken(database.db, { schoolId: school.id });
  let closed = false;
  return {
    app,
    database,
    databaseUrl,
    baseUrl,
    schoolId: school.id,
    token,
    logs,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await dispose();
    },
  };
}

/**
 * Sends one event from the agent, waits for its ack and for grouping (which follows the ack),
 * and returns the incident it joined.
 */
export async function sendGrouped(h: Harness, agent: TestAgent, over: Parameters<TestAgent['event']>[0]): Promise<string> {
  const event = agent.event(over);
  const reply = await agent.sendBatch([event]);
  if (reply.type !== 'ack') throw new Error(`expected an ack, got ${reply.type}`);
  await h.app.triage.idle();
  const [row] = await queryRows<{ incident_id: string | null }>(h.database.db, sql`select incident_id from events where id = ${event.id}`);
  if (!row?.incident_id) throw new Error('the event was not grouped into an incident');
  return row.incident_id;
}
