import type { Browser, Page } from 'playwright-core';
import { EXAMPLE_EXPLANATION, TestAgent } from './support/agent-client';
import { describeWithChromiumOnEachDriver, launchChromium, newSchoolContext, signIn } from './support/browser';
import { sendGrouped, startCollector, type Harness } from './support/harness';
import { addStaff } from './support/staff';

/** The incident page says why each event was flagged: the device's rules and what moved them. */
describeWithChromiumOnEachDriver(`why flagged, on the incident page in Chromium (%s)`, (driver) => {
  let h: Harness;
  let browser: Browser;
  let page: Page;
  let agent: TestAgent;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    [h, browser] = await Promise.all([startCollector(driver), launchChromium()]);
    const dsl = await addStaff(h.database.db, h.schoolId, ['dsl'], 'Dana Lead');
    agent = await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
    page = await (await newSchoolContext(browser, h.baseUrl)).newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await signIn(page, dsl);
  }, 60_000);
  afterAll(async () => {
    await agent?.close();
    await browser?.close();
    await h?.close();
  });

  /** The timeline's entries once the incident page has loaded. */
  async function timeline(incidentId: string) {
    await page.goto(`/incidents/${incidentId}`);
    const section = page.getByRole('region', { name: 'Timeline' });
    await section.getByRole('listitem').first().waitFor({ timeout: 10_000 });
    return section;
  }

  it('lists each rule with its kind and severity, what raised or lowered it, and where it ended', async () => {
    const id = await sendGrouped(h, agent, {
      osUser: 'pupil.explained',
      category: 'suicide',
      severity: 5,
      ruleIds: ['suicide.en.kill_myself', 'suicide.en.frame_not_being_here'],
      explanation: EXAMPLE_EXPLANATION,
    });
    const section = await timeline(id);
    const reasons = section.getByRole('list', { name: 'Why flagged' });
    const first = reasons.locator(':scope > li').nth(0);
    const second = reasons.locator(':scope > li').nth(1);
    expect(await reasons.locator(':scope > li').count()).toBe(2);

    expect(await first.innerText()).toMatch(/^suicide\.en\.kill_myself \(a listed phrase\), severity 4/);
    const raised = first.getByRole('list', { name: 'What changed the severity of suicide.en.kill_myself' });
    expect(await raised.getByRole('listitem').allInnerTexts()).toEqual(['+1 a time or plan', '+1 a second rule agreeing (suicide.en.frame_not_being_here)']);
    expect(await first.innerText()).toMatch(/Final severity 5 \(Critical\)$/);

    expect(await second.innerText()).toMatch(/^self_harm\.en\.frame_injure_own_body \(a pattern of words\), severity 4/);
    const lowered = second.getByRole('list', { name: 'What changed the severity of self_harm.en.frame_injure_own_body' });
    expect(await lowered.getByRole('listitem').allInnerTexts()).toEqual(['\u22123 a negation']);
    expect(await second.innerText()).toMatch(/Final severity 1 \(Low\)$/);

    // A rule the event names beyond its explanation is still listed; the general sentence is not shown.
    expect(await section.getByText('Also matched:').locator('..').innerText()).toBe('Also matched: suicide.en.frame_not_being_here');
    expect(await section.getByText(/matched one lexicon rule|matched \d+ lexicon rules/).count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });

  it('shows the learned model as its own kind, with its confidence and what it raised', async () => {
    const id = await sendGrouped(h, agent, {
      osUser: 'pupil.learned',
      category: 'cse',
      severity: 3,
      ruleIds: ['learned.cse', 'cse.en.pair_older_secrecy'],
      explanation: [
        { ruleId: 'learned.cse', category: 'cse', kind: 'learned', base: 3, adjustments: [], severity: 3, confidence: 91 },
        { ruleId: 'cse.en.pair_older_secrecy', category: 'cse', kind: 'pair', base: 2, adjustments: [{ name: 'learned', delta: 1 }], severity: 3 },
      ],
    });
    const section = await timeline(id);
    const reasons = section.getByRole('list', { name: 'Why flagged' });
    const first = reasons.locator(':scope > li').nth(0);
    expect(await first.innerText()).toMatch(/^learned\.cse \(the learned model \(the words it relied on are marked in the evidence\), 91% confident\), severity 3/);
    const second = reasons.locator(':scope > li').nth(1);
    const raised = second.getByRole('list', { name: 'What changed the severity of cse.en.pair_older_secrecy' });
    expect(await raised.getByRole('listitem').allInnerTexts()).toEqual(['+1 the learned model agreeing']);
    // The explanation carries no captured text: nothing of the evidence is on the page before a reveal.
    expect(await section.innerText()).not.toMatch(/confidence|features/);
    expect(pageErrors).toEqual([]);
  });

  it('falls back to the general sentence and the rule ids for an older agent’s event', async () => {
    const id = await sendGrouped(h, agent, { osUser: 'pupil.older', category: 'bullying', severity: 3, ruleIds: ['bullying.en.insult.1'] });
    const section = await timeline(id);
    await section.getByText('Bullying language in typed text matched one lexicon rule; scored 3 (high) on the device.').waitFor({ timeout: 5000 });
    expect(await section.getByText('Rules:').count()).toBe(1);
    expect(await section.getByRole('list', { name: 'Why flagged' }).count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });
});
