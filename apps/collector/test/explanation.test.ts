import { availableDrivers } from '@haven/db/testing';
import { sql } from 'drizzle-orm';
import { queryRows } from '../src/db-rows';
import { EVIDENCE_MARKER, EXAMPLE_EXPLANATION, TestAgent } from './support/agent-client';
import { sendGrouped, startCollector, type Harness } from './support/harness';
import { addStaff, StaffClient } from './support/staff';

/** The scorer's explanation, sent with an event, stored as sent and shown to staff in words. */
describe.each(availableDrivers())(`the scorer's explanation, from the agent to the staff API (%s)`, (driver) => {
  let h: Harness;
  let agent: TestAgent;
  let dsl: StaffClient;

  beforeAll(async () => {
    h = await startCollector(driver);
    const member = await addStaff(h.database.db, h.schoolId, ['dsl'], 'Dana DSL');
    dsl = await StaffClient.login(h.baseUrl, member);
    agent = await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
  });
  afterAll(async () => {
    await agent?.close();
    await h?.close();
  });

  const stored = async (id: string) =>
    (await queryRows<{ explanation: unknown }>(h.database.db, sql`select explanation from events where id = ${id}`))[0]?.explanation;
  const audits = async () => Number((await queryRows<{ n: number }>(h.database.db, sql`select count(*)::int as n from audit_log`))[0]!.n);

  it('is stored as sent and shown with the event, in words, without a reveal', async () => {
    const auditsBefore = await audits();
    const event = agent.event({ osUser: 'pupil.explained', category: 'suicide', severity: 5, ruleIds: ['suicide.en.kill_myself'], explanation: EXAMPLE_EXPLANATION });
    const id = await sendGrouped(h, agent, event);
    expect(await stored(event.id)).toEqual(EXAMPLE_EXPLANATION);

    const detail = await dsl.get(`/api/incidents/${id}`);
    expect(detail.status).toBe(200);
    const [view] = detail.body.incident.events;
    expect(view.explanation).toEqual([
      {
        ...EXAMPLE_EXPLANATION[0],
        kindLabel: 'a listed phrase',
        adjustments: [
          { name: 'time', delta: 1, label: 'a time or plan' },
          { name: 'corroborated', delta: 1, label: 'a second rule agreeing' },
        ],
      },
      { ...EXAMPLE_EXPLANATION[1], kindLabel: 'a pattern of words', adjustments: [{ name: 'negation', delta: -3, label: 'a negation' }] },
    ]);
    expect(view.why).toBe(
      'Suicide language in typed text matched rule suicide.en.kill_myself (4, a listed phrase); raised by a time or plan (+1) and a second rule agreeing, suicide.en.frame_not_being_here (+1); scored 5 (critical) on the device. One more rule matched.',
    );
    // Not evidence: no captured text travels with it, and reading it is not a reveal.
    expect(JSON.stringify(detail.body)).not.toContain(EVIDENCE_MARKER);
    expect(await audits()).toBe(auditsBefore);

    const chronology = await dsl.get(`/api/people/chronology?schoolId=${h.schoolId}&subject=pupil.explained`);
    expect(chronology.body.events[0]).toMatchObject({ id: event.id, explanation: view.explanation, why: view.why });
  });

  it('is null for an older agent’s event, whose reason stays the general sentence', async () => {
    const event = agent.event({ osUser: 'pupil.older', category: 'bullying', severity: 3, ruleIds: ['bullying.en.insult.1'] });
    expect(event).not.toHaveProperty('explanation');
    const id = await sendGrouped(h, agent, event);
    expect(await stored(event.id)).toBeNull();
    const [view] = (await dsl.get(`/api/incidents/${id}`)).body.incident.events;
    expect(view.explanation).toBeNull();
    expect(view.why).toBe('Bullying language in typed text matched one lexicon rule; scored 3 (high) on the device.');

    // An empty explanation says no more than none.
    const empty = agent.event({ osUser: 'pupil.older', category: 'bullying', severity: 3, explanation: [] });
    await sendGrouped(h, agent, empty);
    expect(await stored(empty.id)).toBeNull();
  });

  it('shows a dampener, a cap and an adjustment this collector has no words for, as sent', async () => {
    const explanation = [
      {
        ruleId: 'drugs.en.pair_drug_use',
        category: 'drugs' as const,
        kind: 'pair' as const,
        base: 3,
        adjustments: [
          { name: 'own_involvement', delta: 1 },
          { name: 'learned_signal', delta: 1 },
          { name: 'educational', delta: -2 },
          { name: 'cap', delta: 0 },
        ],
        severity: 3,
      },
    ];
    // A field a newer agent might add is dropped, not stored (protocol §10).
    const event = agent.event({ osUser: 'pupil.newer', category: 'drugs', severity: 3, explanation: [{ ...explanation[0]!, features: ['some words'] } as never] });
    const id = await sendGrouped(h, agent, event);
    expect(await stored(event.id)).toEqual(explanation);
    const [view] = (await dsl.get(`/api/incidents/${id}`)).body.incident.events;
    expect(view.explanation[0].adjustments.map((a: { label: string }) => a.label)).toEqual([
      'their own involvement',
      'learned_signal',
      'a lesson or revision title',
      'the highest severity for the category',
    ]);
    expect(view.why).toBe(
      'Drugs and substance misuse language in typed text matched rule drugs.en.pair_drug_use (3, two words near each other); raised by their own involvement (+1) and learned_signal (+1); lowered by a lesson or revision title (−2); held at the highest severity for the category; scored 3 (high) on the device.',
    );
  });

  it('refuses a batch whose explanation carries free text, naming the event, storing none of it', async () => {
    const secret = `${EVIDENCE_MARKER} i want to kill myself`;
    const good = agent.event({ osUser: 'pupil.refused' });
    const bad = agent.event({ osUser: 'pupil.refused', explanation: [{ ...EXAMPLE_EXPLANATION[0]!, adjustments: [{ name: secret, delta: 1 }] }] });
    const reply = await agent.sendBatch([good, bad]);
    expect(reply).toMatchObject({ type: 'error', code: 'invalid-batch', index: 1 });
    expect(JSON.stringify(reply)).not.toContain(EVIDENCE_MARKER);
    const rows = await queryRows(h.database.db, sql`select id from events where id in (${good.id}, ${bad.id})`);
    expect(rows).toHaveLength(0);
    expect(h.logs.join('')).not.toContain(EVIDENCE_MARKER);
  });
});
