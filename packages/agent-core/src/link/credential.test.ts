import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { enroll, EnrollError } from './credential';

/** How the agent reads the collector's refusals of an enrolment: which pass with time, which never will. */
describe('enrolment refusals', () => {
  let server: Server;
  let url: string;
  let answer: { status: number; headers?: Record<string, string>; body: unknown };
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const refusal = async (): Promise<EnrollError> => {
    try {
      await enroll(url, 'hvn_enr_x', '0.1.0');
    } catch (err) {
      if (err instanceof EnrollError) return err;
      throw err;
    }
    throw new Error('enrolment was not refused');
  };

  it('too many attempts (429) is not fatal, and says how long to wait', async () => {
    answer = { status: 429, headers: { 'retry-after': '30' }, body: { error: 'HAVEN_ERR_RATE_LIMITED', message: 'Too many failed enrolments; try again later' } };
    const err = await refusal();
    expect({ fatal: err.fatal, retryAfterMs: err.retryAfterMs }).toEqual({ fatal: false, retryAfterMs: 30_000 });
  });

  it('an unknown token (401) is fatal: retrying cannot help', async () => {
    answer = { status: 401, body: { error: 'HAVEN_ERR_TOKEN_UNKNOWN', message: 'Enrolment token is not recognised' } };
    expect((await refusal()).fatal).toBe(true);
  });

  it('a collector that is unwell (503) is not fatal', async () => {
    answer = { status: 503, body: { error: 'HAVEN_ERR_UNAVAILABLE', message: 'try again shortly' } };
    expect((await refusal()).fatal).toBe(false);
  });
});
