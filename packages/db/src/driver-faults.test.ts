import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { availableDrivers, createTestDatabase, type TestDatabase } from '../testing';

const run = promisify(execFile);

/**
 * postgres-js 3.4.9 as patched by patches/postgres+3.4.9.patch (docs/adr/0007): a query on a
 * connection whose backend was terminated must be rejected, never thrown from a timer where
 * no caller can catch it (porsager/postgres#1154, #1208), never left waiting for ever, and the
 * pool must serve the next query. Each run is a child process, so a crash is seen as one;
 * both builds of the driver are tried: ESM (what the collector's build imports) and CommonJS
 * (what drizzle and the tests require).
 */
const body = `
  const url = process.env.TEST_DATABASE_URL;
  const sql = postgres(url, { max: 2, onnotice: () => {} });
  const killer = postgres(url, { max: 1, onnotice: () => {} });
  const codes = [];
  for (let round = 0; round < 3; round++) {
    const reserved = await sql.reserve();
    const [{ pid }] = await reserved\`select pg_backend_pid() as pid\`;
    await killer\`select pg_terminate_backend(\${pid})\`;
    for (let i = 0; i < 2; i++) codes.push(await reserved\`select 1\`.then(() => 'ok', (e) => e.code));
    reserved.release();
  }
  const [{ one }] = await sql\`select 1 as one\`;
  process.stdout.write(JSON.stringify({ codes, one }));
  await sql.end({ timeout: 1 });
  await killer.end({ timeout: 1 });
`;

const builds = {
  esm: ['--input-type=module', '-e', `import postgres from 'postgres';\n${body}`],
  commonjs: ['--input-type=commonjs', '-e', `const postgres = require('postgres');\n(async () => {${body}})();`],
};

(availableDrivers().includes('postgres') ? describe : describe.skip)('postgres-js when a backend is terminated', () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase('postgres');
  });
  afterAll(async () => {
    await test.drop();
  });

  it.each(Object.entries(builds))('rejects the queries of the dead connection and lives on (%s build)', async (_build, args) => {
    const result = await run(process.execPath, args, {
      cwd: path.resolve(__dirname, '..'),
      env: { ...process.env, TEST_DATABASE_URL: test.url },
      timeout: 30_000,
    }).then(
      ({ stdout }) => ({ exit: 0, stdout, stderr: '' }),
      (err: { code?: number; stdout?: string; stderr?: string }) => ({ exit: err.code ?? -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' }),
    );
    // Unpatched, the process dies with "TypeError: Cannot read properties of null (reading
    // 'write')", or a query never settles and nothing is printed.
    expect(result).toMatchObject({ exit: 0, stderr: expect.not.stringMatching(/TypeError/) });
    const { codes, one } = JSON.parse(result.stdout || '{}') as { codes?: string[]; one?: number };
    expect(codes).toHaveLength(6);
    for (const code of codes!) expect(['CONNECTION_CLOSED', 'ECONNRESET', '57P01']).toContain(code);
    expect(one).toBe(1);
  });
});
