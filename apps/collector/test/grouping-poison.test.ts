import { availableDrivers } from '@haven/db/testing';
import { uuidv7 } from '@haven/protocol';
import { sql } from 'drizzle-orm';
import { queryRows } from '../src/db-rows';
import { TestAgent } from './support/agent-client';
import { startCollector, type Harness } from './support/harness';
import { TestWebhook } from './support/mail';

/**
 * One event that grouping cannot handle must never stop a school's safeguarding. The poison
 * rows bypass validation (written straight into the table, as an older collector, a restore
 * or a defect might leave them): a time of 9999-12-31 (the incident window reaches year
 * 10000, which PostgreSQL refuses with 22009) and 'infinity' (JavaScript cannot do
 * arithmetic on it). Later events, a severity-5 one included, must still become incidents
 * and alert, and the poison rows are set aside, logged and counted.
 */
describe.each(availableDrivers())('grouping survives an event it cannot group (%s)', (driver) => {
  let h: Harness;
  let hook: TestWebhook;
  let agent: TestAgent;

  beforeAll(async () => {
    hook = await TestWebhook.start();
    h = await startCollector(driver, { app: { alerts: { webhookUrl: hook.url, webhookSecret: 'poison-test-secret' } } });
    agent = await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
  });
  afterAll(async () => {
    await agent?.close();
    await h?.close();
    await hook?.close();
  });

  async function poison(occurredAt: string): Promise<string> {
    const id = uuidv7();
    await h.database.db.execute(sql`
      insert into events (id, device_id, school_id, occurred_at, source, category, severity, rule_ids, evidence, app, window_title, os_user, trigger_key)
      values (${id}, ${agent.credential.deviceId}, ${h.schoolId}, ${occurredAt}::timestamptz, 'keys', 'bullying', 1, '{}'::text[],
              '{"match":"m","before":"","after":""}'::jsonb, null, null, 'pupil.poison', 'bullying:m')`);
    return id;
  }

  const row = async (id: string) =>
    (
      await queryRows<{ incident_id: string | null; grouping_failed_at: unknown; grouping_error: string | null }>(
        h.database.db,
        sql`select incident_id, grouping_failed_at, grouping_error from events where id = ${id}`,
      )
    )[0]!;

  const metric = async (name: string) => {
    const text = await (await fetch(`${h.baseUrl}/metrics`)).text();
    return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
  };

  it('sets the poison aside and still groups and alerts on everything else', async () => {
    const farFuture = await poison('9999-12-31T23:59:59Z');
    const infinite = await poison('infinity');

    const critical = agent.event({ osUser: 'pupil.critical', category: 'suicide', severity: 5 });
    const others = Array.from({ length: 20 }, (_, i) => agent.event({ osUser: `pupil.${i % 4}`, severity: 2 }));
    expect((await agent.sendBatch([...others.slice(0, 10), critical, ...others.slice(10)])).type).toBe('ack');
    await h.app.triage.idle();

    // Every good event is in an incident; the severity-5 one alerted.
    for (const e of [critical, ...others]) expect((await row(e.id)).incident_id).not.toBeNull();
    const [incident] = await queryRows<{ id: string; severity: number; alerted_at: unknown }>(
      h.database.db,
      sql`select id, severity, alerted_at from incidents where id = ${(await row(critical.id)).incident_id}`,
    );
    expect(Number(incident!.severity)).toBe(5);
    expect(incident!.alerted_at).not.toBeNull();
    await hook.waitFor((b) => b.incidentId === incident!.id && b.severity === 5);

    // The poison is set aside with a reason that is a code, never content.
    const a = await row(farFuture);
    const b = await row(infinite);
    expect(a).toMatchObject({ incident_id: null, grouping_error: '22009' });
    expect(b).toMatchObject({ incident_id: null, grouping_error: 'RangeError' });
    expect(a.grouping_failed_at).not.toBeNull();
    expect(b.grouping_failed_at).not.toBeNull();

    // Reported: an error line per event with its id and school, and the count in /metrics.
    type Line = { level: number; eventId?: string; schoolId?: string; msg: string; databaseError?: { sqlstate?: string; type?: string } };
    const errors = h.logs.map((l) => JSON.parse(l) as Line).filter((l) => l.level >= 50);
    const setAside = (id: string) => errors.find((l) => l.eventId === id && l.schoolId === h.schoolId && /set aside/.test(l.msg));
    expect(setAside(farFuture)?.databaseError?.sqlstate).toBe('22009');
    expect(setAside(infinite)?.databaseError?.type).toBe('RangeError');
    expect(await metric('haven_events_set_aside')).toBe(2);
    expect(await metric('haven_events_set_aside_total')).toBe(2);
  });

  it('keeps grouping later batches, and after a start tries the poison again without being blocked by it', async () => {
    const later = agent.event({ osUser: 'pupil.later', category: 'suicide', severity: 5 });
    expect((await agent.sendBatch([later])).type).toBe('ack');
    await h.app.triage.idle();
    expect((await row(later.id)).incident_id).not.toBeNull();

    // As at start: set-aside events go back in line once, fail again, and block nothing.
    const afterStart = agent.event({ osUser: 'pupil.after', category: 'self_harm', severity: 4 });
    expect((await agent.sendBatch([afterStart])).type).toBe('ack');
    await h.app.triage.recover();
    await h.app.triage.idle();
    expect((await row(afterStart.id)).incident_id).not.toBeNull();
    expect(await metric('haven_events_set_aside')).toBe(2);
  });
});
