import type { Browser } from 'playwright-core';
import { TestAgent } from './support/agent-client';
import { describeWithChromiumOnEachDriver, launchChromium, newSchoolContext, signIn, waitForLiveQueue } from './support/browser';
import { sendGrouped, startCollector, type Harness } from './support/harness';
import { addStaff } from './support/staff';

/** What a DSL is told about urgent alerts must be true: here no mail server is set up. */
describeWithChromiumOnEachDriver(`urgent alerts with no delivery channel, in Chromium (%s)`, (driver) => {
  let h: Harness;
  let browser: Browser;

  beforeAll(async () => {
    [h, browser] = await Promise.all([startCollector(driver), launchChromium()]);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('warns the DSL on the queue, and the incident history says the alert was not sent', async () => {
    const dsl = await addStaff(h.database.db, h.schoolId, ['dsl'], 'Dana Lead');
    const agent = await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
    const id = await sendGrouped(h, agent, { osUser: 'pupil.unheard', category: 'suicide', severity: 5 });
    await agent.close();
    const page = await (await newSchoolContext(browser, h.baseUrl)).newPage();
    await signIn(page, dsl);
    await waitForLiveQueue(page);
    const banner = page.getByRole('alert').filter({ hasText: 'Urgent alerts are not being sent' });
    await banner.waitFor({ timeout: 5000 });
    expect(await banner.innerText()).toMatch(/no e-mail server or webhook is set up/);

    await page.goto(`/incidents/${id}`);
    await page.getByText('Haven could not send the urgent alert by e-mail: no mail server is set up, so nothing was sent').waitFor({ timeout: 5000 });
    expect(await page.getByText(/alert from none to sent/).count()).toBe(0);
  });
});
