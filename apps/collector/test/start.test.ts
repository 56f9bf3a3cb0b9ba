import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const serverJs = path.resolve(__dirname, '..', 'dist', 'server.js');

/** Runs the built server the way `npm start` does, with no PostgreSQL configured. */
function startServer(dataDir: string): { child: ChildProcess; output: () => string; url: Promise<string> } {
  const env: NodeJS.ProcessEnv = { ...process.env, HAVEN_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, [serverJs], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
  return { child, output: () => out, url };
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

describe('the built collector on the embedded database', () => {
  let dataDir: string;
  beforeAll(() => {
    if (!existsSync(serverJs)) throw new Error(`${serverJs} is missing: run \`npm run build\` first (npm test does)`);
    dataDir = mkdtempSync(path.join(tmpdir(), 'haven-start-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('starts on an empty data dir, prints an enrollment token, serves /healthz and stops cleanly', async () => {
    const server = startServer(dataDir);
    const url = await server.url;
    const res = await fetch(`${url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', database: 'up', driver: 'pglite' });
    expect(server.output()).toMatch(/First enrollment token .*\n\s+hvn_enr_[A-Za-z0-9_-]{32}/);
    expect(readdirSync(path.join(dataDir, 'pglite')).length).toBeGreaterThan(0);

    // The token it printed enrolls a device.
    const token = /hvn_enr_[A-Za-z0-9_-]{32}/.exec(server.output())![0];
    const enroll = await fetch(`${url}/api/v1/enroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, hostname: 'lab-01', os: { platform: 'linux', release: '6.1' }, agentVersion: '0.1.0' }),
    });
    expect(enroll.status).toBe(201);
    expect(await stop(server.child)).toBe(0);
  });

  it('keeps its data across a restart and does not print a second first token', async () => {
    const server = startServer(dataDir);
    const url = await server.url;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(server.output()).not.toContain('hvn_enr_');
    expect(server.output()).toContain('token create');
    expect(await stop(server.child)).toBe(0);
  });
});
