import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent } from '../src/agent';
import { saveCredential } from '../src/link/credential';
import { writePolicy } from '../src/policy';
import { waitFor } from './support/desktop';
import { testCredential } from './support/fake-collector';

/**
 * What the agent reports of its sources follows the policy in force: a source the school has
 * turned off reads "disabled", one in quiet hours "paused" — never "OK" for something not watched.
 */
describe('source health as reported', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'haven-health-'));
    saveCredential(dir, testCredential('http://127.0.0.1:9'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a source turned off by the policy, or in quiet hours, is not reported as OK', async () => {
    const agent = new Agent({ collector: 'http://127.0.0.1:9', dataDir: dir, sources: { window: false, keys: false, screen: false }, log: () => undefined, backoff: { minMs: 60_000, maxMs: 60_000 } });
    await agent.start();
    try {
      agent.observe({ source: 'screen', text: 'i want to kill myself tonight', app: null, title: null, at: new Date() });
      expect(agent.status().sources.screen).toMatchObject({ state: 'ok' });

      writePolicy(dir, { threshold: 3, sources: { title: true, keys: true, screen: false }, quietHours: [], ageBand: 'secondary' });
      await waitFor(() => agent.status().sources.screen?.state === 'disabled', 10_000, 'screen still reported as running');
      expect(agent.status().sources.screen?.detail).toMatch(/policy/);
      expect(agent.status().sources.screen?.lastCaptureAt).toBeTruthy(); // when it last saw something is still true

      // Quiet hours all day: capture is paused, and said to be.
      writePolicy(dir, { threshold: 3, sources: { title: true, keys: true, screen: true }, quietHours: [{ start: '00:00', end: '23:59' }], ageBand: 'secondary' });
      await waitFor(() => agent.status().sources.screen?.state === 'paused', 10_000, 'screen not reported as paused in quiet hours');
    } finally {
      agent.stop();
    }

    // The data directory is as docs/agent.md says: each file it lists has the mode it gives.
    const table = readFileSync(path.join(__dirname, '..', '..', '..', 'docs', 'agent.md'), 'utf8');
    const documented = [...table.matchAll(/^\| `([\w.]+)` \|.*\| (0[0-7]{3}) \|$/gm)].map((m) => ({ file: m[1]!, mode: m[2]! }));
    expect(documented.map((d) => d.file)).toEqual(expect.arrayContaining(['credential.json', 'outbox.log', 'policy.json', 'status.json']));
    for (const { file, mode } of documented) {
      const actual = (statSync(path.join(dir, file)).mode & 0o777).toString(8).padStart(4, '0');
      expect({ file, mode: actual }).toEqual({ file, mode });
    }
  });
});
