import { Writable } from 'node:stream';
import type { Database, Driver } from '@haven/db';
import { openTestDatabase } from '@haven/db/testing';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppOptions } from '../../src/app';
import { createEnrollmentToken, createSchool } from '../../src/enrollment/repository';
import { createLogger } from '../../src/logger';

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
  const app = await buildApp({ database, logger: createLogger('debug', sink), shutdownGraceMs: options.shutdownGraceMs ?? 5000, helloTimeoutMs: 1500, revocationCheckMs: 100, alertSweepMs: 0, ...options.app });
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
