import { availableDrivers } from '@haven/db/testing';
import { createHmac } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { digestDue, mondayOf } from '../src/alerts/alerter';
import { queryRows } from '../src/db-rows';
import { EVIDENCE_MARKER, TestAgent, TITLE_MARKER } from './support/agent-client';
import { sendGrouped, startCollector, type Harness } from './support/harness';
import { TestMailServer, TestWebhook } from './support/mail';
import { addPerson, addStaff, StaffClient, type StaffMember } from './support/staff';

const WEBHOOK_SECRET = 'a-shared-secret-for-the-webhook';

describe.each(availableDrivers())(`alerts by e-mail and webhook, escalation and the weekly digest (%s)`, (driver) => {
  let h: Harness;
  let mail: TestMailServer;
  let hook: TestWebhook;
  let agent: TestAgent;
  let dsl: StaffMember;
  let deputy: StaffMember;
  let head: StaffMember;

  beforeAll(async () => {
    mail = await TestMailServer.start();
    hook = await TestWebhook.start();
    h = await startCollector(driver, {
      app: {
        alerts: {
          smtpUrl: mail.url,
          mailFrom: 'Haven <haven@school.example>',
          webhookUrl: hook.url,
          webhookSecret: WEBHOOK_SECRET,
          escalateAfterMs: 10 * 60_000,
          publicUrl: 'https://haven.school.example',
        },
      },
    });
    const db = h.database.db;
    dsl = await addStaff(db, h.schoolId, ['dsl'], 'Dana DSL');
    deputy = await addStaff(db, h.schoolId, ['deputy_dsl'], 'Dev Deputy');
    head = await addStaff(db, h.schoolId, ['head'], 'Harriet Head');
    await addPerson(db, h.schoolId, 'teacher.one', 'staff', 'Sam Teacher');
    agent = await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
  });
  afterAll(async () => {
    await agent?.close();
    await h?.close();
    await mail?.close();
    await hook?.close();
  });

  const send = (over: Parameters<TestAgent['event']>[0]) => sendGrouped(h, agent, over);
  const alertHistory = async (id: string, harness: Harness = h) =>
    queryRows<{ from: unknown; to: any }>(
      harness.database.db,
      sql`select from_value as from, to_value as to from incident_history where incident_id = ${id} and field = 'alert' order by id`,
    );

  it('e-mails the DSL and calls the webhook at once for a critical incident, without names or captured text', async () => {
    const id = await send({ osUser: 'pupil.alert', category: 'suicide', severity: 5 });
    const message = await mail.waitFor((m) => m.to.includes(dsl.email) && m.text.includes(id));
    expect(message.subject).toBe('Haven: critical concern (Suicide) at Test Academy');
    expect(message.text).toContain(`https://haven.school.example/incidents/${id}`);
    for (const secret of [EVIDENCE_MARKER, TITLE_MARKER, 'pupil.alert']) expect(message.raw).not.toContain(secret);

    // The history says what really happened, per channel.
    const history = await alertHistory(id);
    expect(history).toEqual([
      { from: null, to: { kind: 'alert', channel: 'email', outcome: 'sent', retrying: false, recipients: 1 } },
      { from: null, to: { kind: 'alert', channel: 'webhook', outcome: 'sent', retrying: false, recipients: 1 } },
    ]);
    expect((await (await StaffClient.login(h.baseUrl, dsl)).get('/api/incidents')).body.alertDelivery).toMatchObject({ working: true, reason: 'ok', message: null });

    const call = await hook.waitFor((b) => b.incidentId === id);
    expect(call.body).toMatchObject({ type: 'incident.alert', category: 'suicide', severity: 5, url: `https://haven.school.example/incidents/${id}` });
    const signature = createHmac('sha256', WEBHOOK_SECRET).update(JSON.stringify(call.body)).digest('hex');
    expect(call.headers['x-haven-signature']).toBe(`sha256=${signature}`);
    expect(JSON.stringify(call.body)).not.toContain('pupil.alert');

    // A second event in the same incident does not alert again.
    await send({ osUser: 'pupil.alert', category: 'suicide', severity: 5 });
    await new Promise((r) => setTimeout(r, 300));
    expect(mail.messages.filter((m) => m.text.includes(id))).toHaveLength(1);
    expect(hook.calls.filter((c) => c.body.incidentId === id)).toHaveLength(1);
  });

  it('sends the weekly digest of the week’s severity 1–2 items to the DSL, once', async () => {
    const now = new Date();
    const daysAgo = (n: number) => new Date(now.getTime() - n * 24 * 3600_000).toISOString();
    const low = await send({ osUser: 'pupil.low', category: 'gambling', severity: 1, occurredAt: daysAgo(2) });
    const moderate = await send({ osUser: 'pupil.moderate', category: 'drugs', severity: 2, occurredAt: daysAgo(5) });
    const old = await send({ osUser: 'pupil.old', category: 'drugs', severity: 2, occurredAt: daysAgo(10) });
    const urgent = await send({ osUser: 'pupil.urgent', category: 'violence', severity: 4, occurredAt: daysAgo(1) });
    const staffLow = await send({ osUser: 'teacher.one', category: 'gambling', severity: 1, occurredAt: daysAgo(1) });

    expect(await h.app.alerter.sendDigests(now)).toBe(1);
    const digest = await mail.waitFor((m) => m.to.includes(dsl.email) && m.subject.startsWith('Haven weekly digest'));
    expect(digest.subject).toBe('Haven weekly digest: 2 low-level concerns at Test Academy');
    expect(digest.text).toContain(low);
    expect(digest.text).toContain(moderate);
    for (const absent of [old, urgent, staffLow, EVIDENCE_MARKER, 'pupil.low']) expect(digest.text).not.toContain(absent);
    expect(digest.text).toMatch(/Gambling, severity 1 \(low\)/);

    expect(await h.app.alerter.sendDigests(now)).toBe(0);
    const [run] = await queryRows<{ week_start: unknown; item_count: number }>(h.database.db, sql`select week_start::text as week_start, item_count from digest_runs`);
    expect(run).toEqual({ week_start: mondayOf(now), item_count: 2 });
    expect(mail.messages.filter((m) => m.subject.startsWith('Haven weekly digest'))).toHaveLength(1);
    // The sweep sends it from 07:00 UK time on Monday (23 Nov 2026 is a Monday, GMT).
    expect(digestDue(new Date('2026-11-23T06:59:00Z'))).toBe(false);
    expect(digestDue(new Date('2026-11-23T07:00:00Z'))).toBe(true);
    expect(mondayOf(new Date('2026-11-29T23:30:00Z'))).toBe('2026-11-23');
  });
  it('escalates an unacknowledged alert to the deputy DSL once, and leaves an acknowledged one alone', async () => {
    const ignored = await send({ osUser: 'pupil.ignored', category: 'self_harm', severity: 4 });
    const seen = await send({ osUser: 'pupil.seen', category: 'self_harm', severity: 4 });
    await mail.waitFor((m) => m.text.includes(ignored));
    await mail.waitFor((m) => m.text.includes(seen));
    const client = await StaffClient.login(h.baseUrl, dsl);
    expect((await client.post(`/api/incidents/${seen}/acknowledge`, {})).body.incident).toMatchObject({ status: 'in_review' });

    await h.app.alerter.sweep(new Date(Date.now() + 5 * 60_000));
    expect(mail.to(deputy.email)).toHaveLength(0);

    await h.app.alerter.sweep(new Date(Date.now() + 11 * 60_000));
    const escalation = await mail.waitFor((m) => m.to.includes(deputy.email) && m.text.includes(ignored));
    expect(escalation.subject).toMatch(/^Haven: unacknowledged severe concern \(Self-harm\)/);
    await hook.waitFor((b) => b.incidentId === ignored && b.type === 'incident.escalated');
    expect(mail.messages.some((m) => m.to.includes(deputy.email) && m.text.includes(seen))).toBe(false);

    await h.app.alerter.sweep(new Date(Date.now() + 30 * 60_000));
    expect(mail.messages.filter((m) => m.to.includes(deputy.email) && m.text.includes(ignored))).toHaveLength(1);
    const history = (await client.get(`/api/incidents/${ignored}`)).body.incident.history as Array<{ field: string; to: any }>;
    expect(history.filter((e) => e.field === 'alert' || e.field === 'escalation').map((e) => (e.field === 'alert' ? `${e.to.kind} ${e.to.channel} ${e.to.outcome}` : e.field))).toEqual([
      'alert email sent',
      'alert webhook sent',
      'escalation',
      'escalation email sent',
      'escalation webhook sent',
    ]);
  });

  it('sends a staff incident to the head teacher only: no DSL mail, no webhook', async () => {
    const id = await send({ osUser: 'teacher.one', category: 'cse', severity: 5 });
    const message = await mail.waitFor((m) => m.text.includes(id));
    expect(message.to).toEqual([head.email]);
    expect(message.raw).not.toContain('Sam Teacher');
    await new Promise((r) => setTimeout(r, 300));
    expect(mail.messages.filter((m) => m.text.includes(id))).toHaveLength(1);
    expect(hook.calls.some((c) => c.body.incidentId === id)).toBe(false);
  });

  it('retries an alert whose mail server was down, without repeating what went through', async () => {
    const down = await TestMailServer.start();
    const port = down.port;
    await down.close(); // a port with nothing listening
    const broken = await startCollector(driver, { app: { alerts: { smtpUrl: `smtp://127.0.0.1:${port}`, webhookUrl: hook.url, publicUrl: 'https://haven.school.example' } } });
    try {
      const member = await addStaff(broken.database.db, broken.schoolId, ['dsl'], 'Other DSL');
      const other = await TestAgent.connect(broken.baseUrl, await TestAgent.enroll(broken.baseUrl, broken.token));
      const event = other.event({ osUser: 'pupil.retry', category: 'violence', severity: 5 });
      expect((await other.sendBatch([event])).type).toBe('ack');
      await other.close();
      const failed = async () =>
        queryRows<{ channel: string; ok: number }>(broken.database.db, sql`select channel, ok from alert_deliveries order by at`);
      const deadline = Date.now() + 10_000;
      while ((await failed()).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect((await failed()).map((d) => `${d.channel}:${d.ok}`).sort()).toEqual(['email:0', 'webhook:1']);
      const calls = hook.calls.length;
      const [{ id } = { id: '' }] = await queryRows<{ id: string }>(broken.database.db, sql`select id from incidents where severity = 5`);
      await broken.app.triage.idle();
      expect((await alertHistory(id, broken)).map((e) => [e.from, e.to.channel, e.to.outcome, e.to.retrying])).toEqual([
        [null, 'email', 'failed', true],
        [null, 'webhook', 'sent', false],
      ]);
      // The queue tells the DSL that urgent alerts are not getting through… unless a channel works:
      // here the webhook went through, so one channel still works.
      const dslClient = await StaffClient.login(broken.baseUrl, member);
      expect((await dslClient.get('/api/incidents')).body.alertDelivery).toMatchObject({ working: true, reason: 'ok' });

      // The mail server comes back on its address: the sweep delivers the e-mail and does not call the webhook again.
      const back = await TestMailServer.start(port);
      await broken.app.alerter.sweep(new Date());
      await back.waitFor((m) => m.to.includes(member.email));
      expect(hook.calls.length).toBe(calls);
      expect((await alertHistory(id, broken)).map((e) => [e.from, e.to.channel, e.to.outcome])).toEqual([
        [null, 'email', 'failed'],
        [null, 'webhook', 'sent'],
        ['failed', 'email', 'sent'],
      ]);
      await back.close();
    } finally {
      await broken.close();
    }
  });


  it('records "not configured" when no mail server is set, and the queue says urgent alerts reach nobody', async () => {
    const bare = await startCollector(driver);
    try {
      const member = await addStaff(bare.database.db, bare.schoolId, ['dsl'], 'Lonely DSL');
      const other = await TestAgent.connect(bare.baseUrl, await TestAgent.enroll(bare.baseUrl, bare.token));
      const id = await sendGrouped(bare, other, { osUser: 'pupil.unheard', category: 'suicide', severity: 5 });
      await other.close();
      expect(await alertHistory(id, bare)).toEqual([{ from: null, to: { kind: 'alert', channel: 'email', outcome: 'not_configured', retrying: false, recipients: 1 } }]);
      const client = await StaffClient.login(bare.baseUrl, member);
      const history = (await client.get(`/api/incidents/${id}`)).body.incident.history as Array<{ field: string; to: unknown }>;
      expect(JSON.stringify(history)).not.toContain('"sent"');
      const queue = await client.get('/api/incidents');
      expect(queue.body.alertDelivery).toMatchObject({
        working: false,
        reason: 'not_configured',
        channels: [
          { channel: 'email', configured: false, lastAttempt: null },
          { channel: 'webhook', configured: false, lastAttempt: null },
        ],
      });
      expect(queue.body.alertDelivery.message).toMatch(/not being sent/);
      // Nothing was attempted, so nothing is retried: the sweep adds no delivery rows.
      await bare.app.alerter.sweep(new Date());
      expect(await queryRows(bare.database.db, sql`select 1 from alert_deliveries`)).toEqual([]);
    } finally {
      await bare.close();
    }
  });

  it('tells the queue when every configured channel failed its last attempt', async () => {
    const down = await TestMailServer.start();
    const port = down.port;
    await down.close();
    const broken = await startCollector(driver, { app: { alerts: { smtpUrl: `smtp://127.0.0.1:${port}`, publicUrl: 'https://haven.school.example' } } });
    try {
      const member = await addStaff(broken.database.db, broken.schoolId, ['head'], 'Failing Head');
      const other = await TestAgent.connect(broken.baseUrl, await TestAgent.enroll(broken.baseUrl, broken.token));
      const id = await sendGrouped(broken, other, { osUser: 'pupil.failing', category: 'self_harm', severity: 4 });
      await other.close();
      expect((await alertHistory(id, broken)).map((e) => e.to)).toEqual([{ kind: 'alert', channel: 'email', outcome: 'failed', retrying: true, recipients: 1 }]);
      // A retry that fails again adds no entry: the history records changes, not every minute.
      await broken.app.alerter.sweep(new Date());
      expect(await alertHistory(id, broken)).toHaveLength(1);
      const queue = await (await StaffClient.login(broken.baseUrl, member)).get('/api/incidents');
      expect(queue.body.alertDelivery).toMatchObject({ working: false, reason: 'failing', channels: [{ channel: 'email', configured: true, lastAttempt: { ok: false } }, { channel: 'webhook', configured: false }] });
    } finally {
      await broken.close();
    }
  });
});
