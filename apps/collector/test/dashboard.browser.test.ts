import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { and, eq, sql } from 'drizzle-orm';
import { auditLog, devices, events, incidentHistory } from '@haven/db';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { EVIDENCE_MARKER, TestAgent, TITLE_MARKER } from './support/agent-client';

const URL_MARKER = 'url-marker-4d1e';
/** What an agent on Windows or macOS sends for a browser window: scheme, host and path. */
const URL_SENT = `https://forum.example/threads/${URL_MARKER}`;
import { describeWithChromiumOnEachDriver, incidentIdOf, launchChromium, newSchoolContext, queueRow, signIn, waitForLiveQueue } from './support/browser';
import { startCollector, type Harness } from './support/harness';
import { TestMailServer } from './support/mail';
import { addPerson, addStaff, StaffClient, type StaffMember } from './support/staff';

const SCREENSHOTS = path.resolve(__dirname, '..', '..', '..', 'docs', 'screenshots');
const REASON = 'Reviewing the Year 9 concern raised by the form tutor';
const NOTE = 'Spoke to Alex with the head of year; pastoral plan agreed and parents called.';

/** The page's window object; the collector's tsconfig has no DOM types. */
type Win = any;

describeWithChromiumOnEachDriver(`DSL dashboard in Chromium (%s)`, (driver) => {
  let h: Harness;
  let browser: Browser;
  let mail: TestMailServer;
  let agent: TestAgent;
  let dsl: StaffMember;
  let deputy: StaffMember;
  let head: StaffMember;
  let technician: StaffMember;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];
  /** The DSL's page: it stays open from sign-in to the last test. */
  let dslPage: Page;
  /** The incident test 1 creates (pupil.one, suicide, 5). */
  let incidentId: string | undefined;

  async function openPage(): Promise<Page> {
    const context = await newSchoolContext(browser, h.baseUrl);
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(`${page.url()}: ${err.message}`));
    return page;
  }

  beforeAll(async () => {
    // Alerts go to a mail server, as in a school: the queue shows no "alerts not sent" banner
    // (alert-banner.browser.test.ts shows it).
    mail = await TestMailServer.start();
    [h, browser] = await Promise.all([startCollector(driver, { app: { alerts: { smtpUrl: mail.url } } }), launchChromium()]);
    const db = h.database.db;
    dsl = await addStaff(db, h.schoolId, ['dsl'], 'Dana Lead');
    deputy = await addStaff(db, h.schoolId, ['deputy_dsl'], 'Dev Deputy');
    head = await addStaff(db, h.schoolId, ['head'], 'Harper Head');
    technician = await addStaff(db, h.schoolId, ['technician'], 'Toni Technician');
    await addPerson(db, h.schoolId, 'pupil.one', 'pupil', 'Alex Pupil', '9');
    await addPerson(db, h.schoolId, 'teacher.one', 'staff', 'Sam Teacher');
    agent = await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
    dslPage = await openPage();
  }, 60_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await agent?.close();
    await h?.close();
    await mail?.close();
  }, 30_000);

  it('signs the DSL in, and a new incident appears in the open queue within 2 s of the ack, without a reload', async () => {
    const page = dslPage;
    await signIn(page, dsl);
    await waitForLiveQueue(page);
    expect(new URL(page.url()).pathname).toBe('/');
    expect(await page.getByRole('link', { name: 'Alex Pupil' }).count()).toBe(0);

    let loads = 0;
    page.on('load', () => loads++);
    // Marks this document and notes (in page time, the same clock as ours) when the row appears.
    await page.evaluate((name: string) => {
      const w = globalThis as Win;
      w.__marker = 1;
      const present = () => Array.from(w.document.querySelectorAll('table a') as ArrayLike<{ textContent: string }>).some((a) => a.textContent === name);
      const observer = new w.MutationObserver(() => {
        if (w.__rowAt === undefined && present()) {
          w.__rowAt = Date.now();
          observer.disconnect();
        }
      });
      observer.observe(w.document.body, { childList: true, subtree: true, characterData: true });
    }, 'Alex Pupil');

    const sentAt = Date.now();
    const reply = await agent.sendBatch([agent.event({ osUser: 'pupil.one', category: 'suicide', severity: 5, url: URL_SENT })]);
    const ackedAt = Date.now();
    expect(reply.type).toBe('ack');

    const link = page.getByRole('link', { name: 'Alex Pupil', exact: true });
    await link.waitFor({ state: 'visible', timeout: 2000 });
    const rowAt = (await page.evaluate(() => (globalThis as Win).__rowAt)) as number;
    // The live push leaves the collector as the ack does and the page renders in another
    // process, so the row can be drawn a few ms before this process reads the ack.
    const timeToRow = rowAt - ackedAt;
    process.stdout.write(`dashboard.browser: queue row ${timeToRow} ms after the ack (${rowAt - sentAt} ms after the batch was sent)\n`);
    expect(timeToRow).toBeLessThan(2000);

    // The same document: no reload, no navigation.
    expect(await page.evaluate(() => (globalThis as Win).__marker)).toBe(1);
    expect(loads).toBe(0);
    expect(new URL(page.url()).pathname).toBe('/');

    const row = queueRow(page, 'Alex Pupil');
    expect(await row.count()).toBe(1);
    const cells = await row.getByRole('cell').allInnerTexts();
    expect(cells[0]).toMatch(/5\s*Critical/);
    expect(cells[1]).toBe('Suicide');
    expect(cells[4]).toBe('1');
    await page.getByText('New incident: Suicide, severity 5').waitFor({ timeout: 2000 });
    incidentId = await incidentIdOf(link);
  });

  it('hides evidence until revealed with a reason (audited), and records the workflow', async () => {
    expect(incidentId).toBeDefined();
    const id = incidentId!;
    const page = dslPage;
    await page.getByRole('link', { name: 'Alex Pupil', exact: true }).click();
    await page.getByRole('heading', { name: 'Incident: Suicide — Alex Pupil', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/incidents/${id}`);
    await page.getByRole('heading', { name: 'Timeline', level: 2 }).waitFor();

    // Nothing captured is in the document before the reveal.
    const before = await page.content();
    expect(before).not.toContain(EVIDENCE_MARKER);
    expect(before).not.toContain(TITLE_MARKER);
    expect(before).not.toContain(URL_MARKER);
    expect(await page.getByRole('region', { name: 'Evidence' }).count()).toBe(0);

    await page.getByRole('button', { name: 'Show evidence' }).click();
    const dialog = page.getByRole('dialog', { name: 'Show evidence' });
    await dialog.waitFor();
    await dialog.getByLabel('Reason for viewing').fill(REASON);
    await dialog.getByRole('button', { name: 'Reveal evidence' }).click();
    const evidence = page.getByRole('region', { name: 'Evidence' });
    await evidence.getByText(EVIDENCE_MARKER).waitFor({ timeout: 5000 });
    expect(await evidence.locator('mark').allInnerTexts()).toEqual([`${EVIDENCE_MARKER} phrase`]);
    expect(await evidence.innerText()).toContain(TITLE_MARKER);
    // The browser's address is shown as text beside the title, never as a link to follow.
    expect(await evidence.innerText()).toContain(`Web address: ${URL_SENT}`);
    expect(await evidence.getByRole('link').count()).toBe(0);
    expect(await evidence.locator(`a[href*="${URL_MARKER}"]`).count()).toBe(0);
    await dialog.waitFor({ state: 'detached' });

    const audit = await h.database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.incidentId, id), eq(auditLog.action, 'evidence.reveal')));
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: 'evidence.reveal', incidentId: id, reason: REASON, actorId: dsl.id, schoolId: h.schoolId });

    // Workflow, first save: into review.
    const form = page.getByRole('form', { name: 'Workflow' });
    const saved = form.getByRole('status').getByText('Saved.', { exact: true });
    const patch = () => page.waitForResponse((r) => r.url() === `${h.baseUrl}/api/incidents/${id}` && r.request().method() === 'PATCH');
    await form.getByLabel('Status', { exact: true }).selectOption({ label: 'In review' });
    let [response] = await Promise.all([patch(), form.getByRole('button', { name: 'Save changes' }).click()]);
    expect(response.status()).toBe(200);
    await saved.waitFor();

    // Second save: what was done, how it ended, closed, with a note.
    await form.getByRole('group', { name: 'Who is involved' }).getByLabel('Child as victim', { exact: true }).check();
    const actions = form.getByRole('group', { name: 'Actions' });
    await actions.getByLabel('Pastoral support', { exact: true }).check();
    await actions.getByLabel('Parents or carers informed', { exact: true }).check();
    await form.getByLabel('Outcome', { exact: true }).selectOption({ label: 'Resolved' });
    await form.getByLabel('Status', { exact: true }).selectOption({ label: 'Closed' });
    await form.getByLabel('Add a note', { exact: true }).fill(NOTE);
    await saved.waitFor({ state: 'detached' });
    [response] = await Promise.all([patch(), form.getByRole('button', { name: 'Save changes' }).click()]);
    expect(response.status()).toBe(200);
    await saved.waitFor();
    await page.getByRole('region', { name: 'Notes' }).getByText(NOTE, { exact: true }).waitFor();

    const api = await StaffClient.login(h.baseUrl, dsl);
    const { status, body } = await api.get(`/api/incidents/${id}`);
    expect(status).toBe(200);
    const incident = body.incident;
    expect(incident.status).toBe('closed');
    expect(incident.actions).toEqual(expect.arrayContaining(['pastoral_support', 'parents_informed']));
    expect(incident.actions).toHaveLength(2);
    expect(incident.involvement).toEqual(['child_victim']);
    expect(incident.outcome).toBe('resolved');
    expect(incident.notes).toEqual([expect.objectContaining({ text: NOTE, author: { id: dsl.id, displayName: dsl.displayName } })]);
    const byDsl = (field: string) => incident.history.filter((e: any) => e.field === field && e.actor?.id === dsl.id);
    expect(byDsl('status').map((e: any) => [e.from, e.to])).toEqual([
      ['new', 'in_review'],
      ['in_review', 'closed'],
    ]);
    expect(byDsl('actions')).toHaveLength(1);
    expect(byDsl('actions')[0].to).toEqual(expect.arrayContaining(['pastoral_support', 'parents_informed']));
    expect(byDsl('outcome')).toHaveLength(1);
  });

  it('keeps a technician out of incidents: 403 from the API, Devices in the browser, nothing of the incident on screen', async () => {
    expect(incidentId).toBeDefined();
    const id = incidentId!;
    const api = await StaffClient.login(h.baseUrl, technician);
    expect((await api.get('/api/incidents')).status).toBe(403);
    expect((await api.get(`/api/incidents/${id}`)).status).toBe(403);
    const reveal = await api.post(`/api/incidents/${id}/evidence`, { reason: 'Just curious about this incident' });
    expect(reveal.status).toBe(403);
    expect(JSON.stringify(reveal.body)).not.toContain(EVIDENCE_MARKER);
    expect(await h.database.db.select().from(auditLog).where(eq(auditLog.actorId, technician.id))).toEqual([]);

    const page = await openPage();
    const incidentAnswers: number[] = [];
    page.on('response', (r) => {
      if (new URL(r.url()).pathname.startsWith('/api/incidents')) incidentAnswers.push(r.status());
    });
    await signIn(page, technician);
    await page.getByRole('heading', { name: 'Devices', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/devices');
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Devices' }).waitFor();
    expect(await nav.getByRole('link', { name: 'Queue' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Queue' }).count()).toBe(0);

    // A session part stopped while its user was logged in: the technician sees that it
    // happened and when, never who.
    await h.database.db
      .update(devices)
      .set({
        sessions: [
          { osUser: 'pupil.one', state: 'stopped', since: '2026-12-07T10:15:00Z' },
          { osUser: 'pupil.two', state: 'running', since: '2026-12-07T09:00:00Z' },
        ],
        lastTamperAt: new Date('2026-12-07T10:15:00Z'),
      })
      .where(eq(devices.id, agent.credential.deviceId));
    // An event kept with its arrival time (the device's clock said 1999) and one set aside.
    const [first, second] = await h.database.db.select({ id: events.id }).from(events).where(eq(events.deviceId, agent.credential.deviceId)).limit(2);
    await h.database.db.update(events).set({ reportedOccurredAt: '1999-01-01T00:00:00Z' }).where(eq(events.id, first!.id));
    await h.database.db.update(events).set({ groupingFailedAt: new Date(), groupingError: 'test' }).where(eq(events.id, (second ?? first)!.id));
    const fleet = JSON.stringify((await api.get('/api/devices')).body);
    expect(fleet).toContain('"stopped":1');
    expect(fleet).toContain('"clockWrongEvents":1');
    expect(fleet).toContain('"setAsideEvents":1');
    expect(fleet).not.toContain('pupil.');
    await page.goto(`/incidents/${id}`);
    await page.getByRole('heading', { name: 'Devices', level: 1 }).waitFor();
    await page.getByRole('table', { name: 'Devices' }).waitFor();
    await page.getByText('Monitoring was last stopped by a user at').waitFor();
    await page.getByText('Stopped while logged in').waitFor();
    await page.getByText('Clock wrong: 1 event in the last 7 days kept with the time they arrived.', { exact: false }).waitFor();
    await page.getByText('1 event set aside', { exact: false }).waitFor();
    const html = await page.content();
    for (const secret of [EVIDENCE_MARKER, TITLE_MARKER, 'Alex Pupil', 'pupil.one', 'Suicide']) expect(html).not.toContain(secret);
    expect(incidentAnswers.filter((s) => s === 200)).toEqual([]);
  });

  it('routes an incident about a member of staff to the head, never to the DSL', async () => {
    const headPage = await openPage();
    await signIn(headPage, head);
    await waitForLiveQueue(headPage);
    await dslPage.goto('/');
    await waitForLiveQueue(dslPage);

    const reply = await agent.sendBatch([agent.event({ osUser: 'teacher.one', category: 'cse', severity: 4 })]);
    expect(reply.type).toBe('ack');

    const row = queueRow(headPage, 'Sam Teacher');
    await row.waitFor({ timeout: 5000 });
    await row.getByText('Staff', { exact: true }).waitFor();
    expect(await row.getByRole('cell').nth(1).innerText()).toBe('Sexual exploitation and grooming');
    const staffIncident = await incidentIdOf(headPage.getByRole('link', { name: 'Sam Teacher', exact: true }));

    // The head heard it live; the DSL's open queue did not, and does not after a reload either.
    expect(await dslPage.getByRole('link', { name: 'Sam Teacher' }).count()).toBe(0);
    await dslPage.reload();
    await waitForLiveQueue(dslPage);
    expect(await dslPage.getByRole('link', { name: 'Sam Teacher' }).count()).toBe(0);
    expect(await dslPage.content()).not.toContain('Sam Teacher');

    const asDsl = await StaffClient.login(h.baseUrl, dsl);
    expect((await asDsl.get(`/api/incidents/${staffIncident}`)).status).toBe(404);
    const list = await asDsl.get('/api/incidents?status=all');
    expect(list.status).toBe(200);
    expect(list.body.incidents.map((i: any) => i.id)).not.toContain(staffIncident);
    const asDeputy = await StaffClient.login(h.baseUrl, deputy);
    expect((await asDeputy.get(`/api/incidents/${staffIncident}`)).status).toBe(404);
    const asHead = await StaffClient.login(h.baseUrl, head);
    const seen = await asHead.get(`/api/incidents/${staffIncident}`);
    expect(seen.status).toBe(200);
    expect(seen.body.incident).toMatchObject({ routedTo: 'head', subject: { key: 'teacher.one', kind: 'staff', displayName: 'Sam Teacher' } });
  });

  it('groups the same trigger on thirty devices into one cluster, likely lesson content', async () => {
    const page = dslPage;
    await page.goto('/');
    await waitForLiveQueue(page);

    const agents = await Promise.all(
      Array.from({ length: 30 }, async () => TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token))),
    );
    try {
      const start = Date.now() - 90_000;
      const replies = await Promise.all(
        agents.map((a, i) =>
          a.sendBatch([
            a.event({
              osUser: `pupil${String(i + 1).padStart(2, '0')}`,
              category: 'suicide',
              severity: 4,
              evidence: { match: 'suicide prevention', before: 'PSHE: ', after: ' and where to get help' },
              // 0 to 87 s after the first: one lesson.
              occurredAt: new Date(start + i * 3000).toISOString(),
            }),
          ]),
        ),
      );
      for (const r of replies) expect(r.type).toBe('ack');
      await h.app.triage.idle(); // grouping follows the acks
    } finally {
      await Promise.all(agents.map((a) => a.close()));
    }
    const users = new Set(Array.from({ length: 30 }, (_, i) => `pupil${String(i + 1).padStart(2, '0')}`));

    const api = await StaffClient.login(h.baseUrl, dsl);
    const open = (await api.get('/api/incidents')).body.incidents as any[];
    const clusters = open.filter((i) => i.kind === 'cluster' && i.category === 'suicide');
    expect(clusters).toHaveLength(1);
    expect(clusters[0]).toMatchObject({ kind: 'cluster', likelyLessonContent: true, eventCount: 30, deviceCount: 30, severity: 4 });
    expect(open.filter((i) => users.has(i.subject.key))).toEqual([]);
    const detail = await api.get(`/api/incidents/${clusters[0].id}`);
    expect(new Set(detail.body.incident.events.map((e: any) => e.osUser))).toEqual(users);

    // The open queue, live: the cluster's row, and none for the person incidents it absorbed.
    const cluster = queueRow(page, 'Cluster on 30 devices');
    await cluster.waitFor({ timeout: 5000 });
    await cluster.getByText('Likely lesson content', { exact: true }).waitFor();
    const lessonRowsLive = await queueRow(page, /^Cluster on /).count();
    const staleLive = await page.getByRole('link', { name: /^pupil\d\d$/ }).allInnerTexts();

    // And after a reload.
    await page.reload();
    await waitForLiveQueue(page);
    const rows = page.getByRole('table', { name: 'Incident queue' }).getByRole('row').filter({ hasText: 'Likely lesson content' });
    expect(await rows.count()).toBe(1);
    expect(await rows.getByRole('link').innerText()).toBe('Cluster on 30 devices');
    expect(await page.getByRole('link', { name: /^pupil\d\d$/ }).count()).toBe(0);

    expect(lessonRowsLive).toBe(1);
    // The person incidents absorbed into the cluster must leave the live queue too.
    expect(staleLive).toEqual([]);
  });

  it('shows a class logon’s incident live as a shared logon in its room, and the DSL attributes it to a pupil from the incident page', async () => {
    const page = dslPage;
    const db = h.database.db;
    await db.execute(sql`insert into shared_logons (school_id, os_username, label) values (${h.schoolId}, 'class5b', 'Class 5B')`);
    await db.execute(sql`update devices set room = 'Room 12' where id = ${agent.credential.deviceId}`);
    await page.goto('/');
    await waitForLiveQueue(page);
    expect(await page.getByRole('link', { name: 'Shared logon: class5b' }).count()).toBe(0);

    const reply = await agent.sendBatch([agent.event({ osUser: 'class5b', category: 'bullying', severity: 3 })]);
    expect(reply.type).toBe('ack');

    // Live, without a reload: the account, the room under it, and the badge.
    const row = queueRow(page, 'Shared logon: class5b');
    await row.waitFor({ timeout: 5000 });
    await row.getByText('Room 12', { exact: true }).waitFor();
    await row.getByText('Shared logon', { exact: true }).waitFor();
    expect(await row.getByRole('cell').nth(1).innerText()).toBe('Bullying');
    const link = page.getByRole('link', { name: 'Shared logon: class5b', exact: true });
    const id = await incidentIdOf(link);

    await link.click();
    await page.getByRole('heading', { name: 'Incident: Bullying — Shared logon: class5b', level: 1 }).waitFor();
    const section = page.getByRole('region', { name: 'Shared logon' });
    await section.getByRole('heading', { name: 'Shared logon', level: 2 }).waitFor();
    expect(await section.innerText()).toContain('Room 12');
    const form = section.getByRole('form', { name: 'Attribute to a pupil' });
    const people = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/people' && new URL(r.url()).searchParams.get('q') === 'Alex');
    await form.getByLabel('Search pupils', { exact: true }).fill('Alex');
    expect((await people).status()).toBe(200);
    const pupil = form.getByLabel('Pupil', { exact: true });
    await pupil.locator('option', { hasText: 'Alex Pupil' }).waitFor({ state: 'attached' });
    await pupil.selectOption({ label: 'Alex Pupil (Year 9)' });
    await form.getByLabel('How you know', { exact: true }).fill('Seating plan');
    await form.getByRole('button', { name: 'Attribute' }).click();
    await section.getByRole('status').getByText('Attributed.', { exact: true }).waitFor();

    await page.getByRole('heading', { name: 'Incident: Bullying — Alex Pupil', level: 1 }).waitFor();
    expect(await page.getByRole('form', { name: 'Attribute to a pupil' }).count()).toBe(0);
    await page
      .getByRole('region', { name: 'History' })
      .getByText(`${dsl.displayName} attributed the incident to Alex Pupil (was class5b in Room 12)`)
      .waitFor();

    const entries = await db.select().from(incidentHistory).where(and(eq(incidentHistory.incidentId, id), eq(incidentHistory.field, 'attribution')));
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      actorId: dsl.id,
      fromValue: { osUser: 'class5b', room: 'Room 12' },
      toValue: { displayName: 'Alex Pupil', reason: 'Seating plan' },
    });

    // Closed again, so the queue the screenshots show is as it was.
    const api = await StaffClient.login(h.baseUrl, dsl);
    let { version } = (await api.get(`/api/incidents/${id}`)).body.incident;
    ({ version } = (await api.patch(`/api/incidents/${id}`, { version, status: 'in_review' })).body.incident);
    expect((await api.patch(`/api/incidents/${id}`, { version, status: 'closed', outcome: 'resolved' })).status).toBe(200);
  });

  it('writes the queue and incident screenshots for the docs (1366×768)', async () => {
    expect(incidentId).toBeDefined();
    mkdirSync(SCREENSHOTS, { recursive: true });
    const page = dslPage;
    // One more open incident, so the queue shows a person beside the cluster.
    const reply = await agent.sendBatch([agent.event({ osUser: 'pupil.one', category: 'self_harm', severity: 3, source: 'title' })]);
    expect(reply.type).toBe('ack');
    await page.goto('/');
    await waitForLiveQueue(page);
    await queueRow(page, 'Alex Pupil').waitFor();
    await queueRow(page, 'Cluster on 30 devices').waitFor();
    await page.screenshot({ path: path.join(SCREENSHOTS, 'queue.png'), animations: 'disabled', caret: 'hide' });

    await page.goto(`/incidents/${incidentId}`);
    await page.getByRole('heading', { name: 'Incident: Suicide — Alex Pupil', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Show evidence' }).waitFor();
    expect(await page.getByRole('region', { name: 'Evidence' }).count()).toBe(0);
    expect(await page.content()).not.toContain(EVIDENCE_MARKER);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'incident.png'), animations: 'disabled', caret: 'hide' });
    expect(page.viewportSize()).toEqual({ width: 1366, height: 768 });
  });

  it('shows the head teacher the audit log with the DSL’s reveal and its reason', async () => {
    expect(incidentId).toBeDefined();
    const page = await openPage();
    await signIn(page, head);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log', exact: true }).click();
    await page.getByRole('heading', { name: 'Audit log', level: 1 }).waitFor();
    const row = page.getByRole('table', { name: 'Audit log' }).getByRole('row').filter({ hasText: REASON });
    await row.waitFor({ timeout: 5000 });
    expect(await row.innerText()).toContain('Dana Lead');
    expect(await row.getByRole('link').getAttribute('href')).toBe(`/incidents/${incidentId}`);
  });

  it('can be used from the keyboard, and every control has a label', async () => {
    expect(incidentId).toBeDefined();
    const page = await openPage();
    await page.goto('/login');
    await page.getByRole('heading', { name: 'Sign in to Haven' }).waitFor();
    // Tab to each field and submit with Enter: no mouse.
    await page.keyboard.press('Tab');
    for (let i = 0; i < 5 && !(await page.getByLabel('Email', { exact: true }).evaluate((el) => el === (globalThis as Win).document.activeElement)); i++) {
      await page.keyboard.press('Tab');
    }
    await page.keyboard.type(deputy.email);
    await page.keyboard.press('Tab');
    await page.keyboard.type(deputy.password);
    await page.keyboard.press('Enter');
    await waitForLiveQueue(page);

    // Tab through the queue to the incident's link and open it with Enter.
    const link = page.getByRole('link', { name: 'Alex Pupil', exact: true }).first();
    let reached = false;
    for (let i = 0; i < 40 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await link.evaluate((el) => el === (globalThis as Win).document.activeElement);
    }
    expect(reached).toBe(true);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /^Incident: /, level: 1 }).waitFor();

    // Every form control on the incident page has an accessible name.
    const unnamed = await page.evaluate(() => {
      const w = globalThis as Win;
      const controls = Array.from(w.document.querySelectorAll('input, select, textarea, button') as ArrayLike<any>);
      return controls
        .filter((el) => el.type !== 'hidden')
        .filter((el) => !((el.labels && el.labels.length > 0) || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || (el.tagName === 'BUTTON' && el.textContent.trim())))
        .map((el) => el.outerHTML.slice(0, 80));
    });
    expect(unnamed).toEqual([]);
    // Focus is visible: the focused control draws an outline.
    await page.getByRole('button', { name: 'Show evidence' }).focus();
    const outline = await page.getByRole('button', { name: 'Show evidence' }).evaluate((el) => (globalThis as Win).getComputedStyle(el).outlineStyle);
    expect(outline).not.toBe('none');
  });

  it('threw no uncaught errors in any page', () => {
    expect(pageErrors).toEqual([]);
  });
});
