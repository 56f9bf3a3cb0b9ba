import { existsSync } from 'node:fs';
import type { Driver } from '@haven/db';
import { availableDrivers } from '@haven/db/testing';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';

/** Debian's Chromium; CI installs it (`apt-get install chromium`). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

export const hasChromium = existsSync(CHROMIUM_PATH);

/**
 * `describe` once per available database driver (`%s` in the name is the driver) when Chromium
 * is installed; otherwise a skipped suite whose name says why.
 */
export function describeWithChromiumOnEachDriver(name: string, fn: (driver: Driver) => void): void {
  if (hasChromium) describe.each(availableDrivers())(name, fn);
  else describe.skip(`${name.replace('%s', 'each driver')} (skipped: ${CHROMIUM_PATH} does not exist; install Debian's chromium package to run it)`, () => fn('pglite'));
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

/** A laptop in a UK school: 1366×768, en-GB, Europe/London. */
export function newSchoolContext(browser: Browser, baseURL: string): Promise<BrowserContext> {
  return browser.newContext({ baseURL, viewport: { width: 1366, height: 768 }, locale: 'en-GB', timezoneId: 'Europe/London' });
}

/** Signs in through the login form and waits until the form has gone. */
export async function signIn(page: Page, member: { email: string; password: string }): Promise<void> {
  await page.goto('/login');
  await page.getByRole('heading', { name: 'Sign in to Haven' }).waitFor();
  await page.getByLabel('Email', { exact: true }).fill(member.email);
  await page.getByLabel('Password', { exact: true }).fill(member.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Sign in to Haven' }).waitFor({ state: 'detached' });
}

/** The queue once it has loaded (a table or the empty state) and its live feed is subscribed. */
export async function waitForLiveQueue(page: Page, timeout = 10_000): Promise<void> {
  await page.getByRole('heading', { name: 'Incidents', level: 1 }).waitFor({ timeout });
  await page.getByRole('table', { name: 'Incident queue' }).or(page.getByText('Nothing needs your attention.')).waitFor({ timeout });
  await page.getByText('Live', { exact: true }).waitFor({ timeout });
}

/** The queue row whose "Who" link has this text. */
export function queueRow(page: Page, who: string | RegExp): Locator {
  return page
    .getByRole('table', { name: 'Incident queue' })
    .getByRole('row')
    .filter({ has: page.getByRole('link', { name: who, exact: typeof who === 'string' }) });
}

/** The incident id a queue link points at. */
export async function incidentIdOf(link: Locator): Promise<string> {
  const href = await link.getAttribute('href');
  const id = /\/incidents\/([0-9a-f-]{36})$/.exec(href ?? '')?.[1];
  if (!id) throw new Error(`not an incident link: ${href}`);
  return id;
}
