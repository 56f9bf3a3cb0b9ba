import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { availableDrivers, openTestDatabase } from '@haven/db/testing';
import { uuidv7 } from '@haven/protocol';
import { storeEvents } from './ingest/repository';
import { createLogger, safeError } from './logger';

const MARKER = 'CAPTURED-TEXT-5d1e';

function capture(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _e, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, stream };
}

describe.each(availableDrivers())('log privacy with a real query error (%s)', (driver) => {
  it('logs the driver error but none of the bound parameters', async () => {
    const { database, dispose } = await openTestDatabase(driver);
    try {
      // No such device or school: the insert fails on a foreign key, with evidence bound.
      const missing = '00000000-0000-4000-8000-000000000000';
      const event = {
        id: uuidv7(),
        occurredAt: new Date().toISOString(),
        source: 'keys' as const,
        category: 'suicide' as const,
        severity: 5,
        ruleIds: ['r1'],
        evidence: { match: MARKER, before: '', after: '' },
        app: null,
        windowTitle: `${MARKER} title`,
        osUser: 'pupil',
        deviceId: missing,
      };
      const err = await storeEvents(database.db, { id: missing, schoolId: missing }, [event]).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Error);
      // The raw error really does carry the captured text: that is why the serialiser exists.
      expect(String((err as Error).message)).toContain(MARKER);

      const out = safeError(err);
      expect(JSON.stringify(out)).not.toContain(MARKER);
      expect(out.message).toMatch(/foreign key/i);

      const { lines, stream } = capture();
      createLogger('info', stream).warn({ err }, 'Batch not stored.');
      expect(lines).toHaveLength(1);
      expect(lines[0]).not.toContain(MARKER);
      expect(lines[0]).toContain('Batch not stored.');
    } finally {
      await dispose();
    }
  });
});

describe('redaction', () => {
  it('censors sensitive fields at the top level and one level down', () => {
    const { lines, stream } = capture();
    createLogger('info', stream).info({ evidence: MARKER, request: { windowTitle: MARKER, token: MARKER }, count: 3 }, 'x');
    expect(lines[0]).not.toContain(MARKER);
    expect(JSON.parse(lines[0]!)).toMatchObject({ evidence: '[redacted]', request: { windowTitle: '[redacted]', token: '[redacted]' }, count: 3 });
  });

  it('keeps an ordinary error readable', () => {
    const out = safeError(new TypeError('boom'));
    expect(out).toMatchObject({ type: 'TypeError', message: 'boom' });
    expect(String(out.stack)).toContain('logger.test');
  });
});

describe('request logging', () => {
  it('logs the path of a request but never its query string', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const app = Fastify({ loggerInstance: createLogger('info', sink) });
    app.get('/api/people/chronology', async () => ({ ok: true }));
    await app.inject('/api/people/chronology?schoolId=1&subject=alex.pupil');
    await app.close();
    const all = lines.join('');
    expect(all).toContain('"url":"/api/people/chronology?…"');
    expect(all).not.toContain('alex.pupil');
  });
});
