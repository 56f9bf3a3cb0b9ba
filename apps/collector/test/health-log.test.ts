import { availableDrivers } from '@haven/db/testing';
import { startCollector, type Harness } from './support/harness';

/** Health checks come every few seconds from a load balancer: they must not write a log line each. */
describe.each(availableDrivers())('health checks and the log (%s)', (driver) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startCollector(driver);
  });
  afterAll(() => h?.close());

  it('answers /healthz without logging each request, while other requests are still logged', async () => {
    const before = h.logs.length;
    for (let i = 0; i < 5; i++) expect((await fetch(`${h.baseUrl}/healthz`)).status).toBe(200);
    await fetch(`${h.baseUrl}/api/me`); // an ordinary request: logged as usual
    const lines = h.logs.slice(before).join('');
    expect(lines).not.toMatch(/\/healthz/);
    expect(lines).toMatch(/\/api\/me/);
  });
});
