import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
// Each command loads only what it runs: the service never loads the scorer or the capture
// libraries, and nothing loads the OCR engine unless the screen source runs (see the bench).
import type { AgentConfig, AgentStatus, Logger, ServiceStatus } from '@haven/agent-core';
import { ConfigError, DEFAULT_CONFIG_FILE, defaultSocketPath, forgetEnrolToken, parseConfig, readConfigFile } from '@haven/agent-core/dist/config';
import { AGENT_VERSION } from '@haven/agent-core/dist/version';
import { SOURCES as SOURCE_NAMES } from '@haven/protocol';
import { showHeadlessNotice } from './headless-notice';

const USAGE = `Usage:
  haven-agent service [--config FILE]
      The per-machine service (started at boot, as the haven-agent account): enrols the
      device, keeps the outbox and talks to the collector. Reads ${DEFAULT_CONFIG_FILE}.
  haven-agent session [--socket PATH] [--sources title,keys,screen]
      The per-user session part (started at each login): captures, scores on the device
      and hands flagged items to the service.
  haven-agent enrol [--config FILE]
      Enrols the device now (the package's install script runs it as the service's account);
      exit 0 when enrolled, 1 when the collector refused the token, 75 when it could not be
      reached (the service keeps trying).
  haven-agent run --config FILE [--data-dir DIR] [--sources title,keys,screen]
      Service and session in one process, for one user (development, kiosks).
  haven-agent status [--data-dir DIR]
  haven-agent --help

The configuration file holds "key = value" lines: collector, enrol_token (removed once the
device is enrolled), school_name, transparency_url, data_dir, socket. Secrets are never
taken from the command line, where every user of the computer can read them.

Sources (the same names as the school's policy and the collector's --agent-sources):
  title   window titles
  keys    typed phrases
  screen  text on the screen`;

/** JSON lines on stderr: what happened, never what was captured. */
const log: Logger = (level, message, fields) => {
  process.stderr.write(JSON.stringify({ level, time: new Date().toISOString(), msg: message, ...fields }) + '\n');
};

class UsageError extends Error {}

export async function run(argv: string[] = process.argv.slice(2)): Promise<number> {
  if (argv.length === 0 || argv.some((a) => a === '--help' || a === '-h' || a === 'help')) {
    const asked = argv.length > 0;
    (asked ? process.stdout : process.stderr).write(`${USAGE}\n`);
    return asked ? 0 : 2;
  }
  const [command, ...rest] = argv;
  let values;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        config: { type: 'string' },
        collector: { type: 'string' },
        'data-dir': { type: 'string' },
        socket: { type: 'string' },
        sources: { type: 'string' },
      },
      strict: true,
    }));
  } catch (err) {
    const secret = /enroll?-token/.test((err as Error).message) ? ' (an enrolment token goes in the configuration file, never on the command line)' : '';
    process.stderr.write(`${(err as Error).message}${secret}\n${USAGE}\n`);
    return 2;
  }
  try {
    switch (command) {
      case 'status':
        return status(path.resolve(values['data-dir'] ?? configOrDefault(values.config)?.dataDir ?? '/var/lib/haven-agent'));
      case 'service':
        return await service(values.config ?? DEFAULT_CONFIG_FILE);
      case 'enrol':
      case 'enroll':
        return await enrolNow(values.config ?? DEFAULT_CONFIG_FILE);
      case 'session':
        return await session(values.socket ?? defaultSocketPath(), parseSources(values.sources));
      case 'run': {
        if (!values.config && !values.collector) throw new UsageError('--config is required (a file with at least "collector = URL")');
        const config: AgentConfig = values.config ? readConfigFile(values.config) : parseConfig(`collector = ${values.collector}`, '--collector');
        const dataDir = path.resolve(values['data-dir'] ?? config.dataDir);
        return await standalone({ ...config, collector: values.collector ?? config.collector, dataDir }, parseSources(values.sources));
      }
      default:
        throw new UsageError(`unknown command: ${command}`);
    }
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n${err instanceof UsageError ? USAGE + '\n' : ''}`);
      return 2;
    }
    throw err;
  }
}

function configOrDefault(file: string | undefined): AgentConfig | null {
  try {
    return readConfigFile(file ?? DEFAULT_CONFIG_FILE);
  } catch {
    return null;
  }
}

function parseSources(list: string | undefined): Record<'title' | 'keys' | 'screen', boolean> | undefined {
  if (list === undefined) return undefined;
  const only = list.split(',').map((x) => x.trim().toLowerCase());
  const unknown = only.filter((x) => !(SOURCE_NAMES as readonly string[]).includes(x));
  if (unknown.length > 0) {
    const hint = unknown.includes('window') ? ' (window titles are "title")' : '';
    throw new UsageError(`--sources takes a list of ${SOURCE_NAMES.join(', ')}; not: ${unknown.join(', ')}${hint}`);
  }
  return { title: only.includes('title'), keys: only.includes('keys'), screen: only.includes('screen') };
}

function untilSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
}

async function service(configFile: string): Promise<number> {
  const config = readConfigFile(configFile);
  const { AgentService } = await import('@haven/agent-core/dist/service.js');
  const svc = new AgentService({ config, configFile, log });
  const stopping = untilSignal();
  try {
    await Promise.race([svc.start(), stopping]);
  } catch (err) {
    log('error', `The Haven service could not start: ${(err as Error).message}`);
    return 1;
  }
  log('info', 'Haven service running.');
  await stopping;
  await svc.stop();
  log('info', 'Haven service stopped.');
  return 0;
}

async function enrolNow(configFile: string): Promise<number> {
  const config = readConfigFile(configFile);
  const deadline = Date.now() + 30_000;
  try {
    const { obtainCredential } = await import('@haven/agent-core/dist/link/credential.js');
    const credential = await Promise.race([
      obtainCredential({
        dataDir: config.dataDir,
        collector: config.collector,
        enrolToken: config.enrolToken,
        agentVersion: AGENT_VERSION,
        log,
        onEnrolled: () => forgetEnrolToken(configFile),
      }),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), Math.max(0, deadline - Date.now())).unref()),
    ]);
    if (!credential) {
      process.stdout.write(`Not enrolled yet: ${config.collector} could not be reached; the Haven service will keep trying.\n`);
      return 75;
    }
    process.stdout.write(`Enrolled: this device is ${credential.deviceId} at ${config.collector}.\n`);
    return 0;
  } catch (err) {
    process.stdout.write(`Not enrolled: ${(err as Error).message}\n`);
    return 1;
  }
}

async function session(socketPath: string, want: Record<'title' | 'keys' | 'screen', boolean> | undefined): Promise<number> {
  const { CaptureSession } = await import('@haven/agent-core/dist/session.js');
  const { defaultSources } = await import('@haven/agent-core/dist/sources/source.js');
  const s = new CaptureSession({ socketPath, log, sources: defaultSources(want ?? {}) });
  s.start();
  void showHeadlessNotice(s, { log }); // the monitoring notice where there is no tray shell (src/headless-notice.ts)
  log('info', 'Haven session part running.');
  await untilSignal();
  await s.stop();
  log('info', 'Haven session part stopped.');
  return 0;
}

async function standalone(config: AgentConfig, want: Record<'title' | 'keys' | 'screen', boolean> | undefined): Promise<number> {
  const { Agent } = await import('@haven/agent-core/dist/agent.js');
  const agent = new Agent({
    collector: config.collector,
    enrollToken: config.enrolToken ?? undefined,
    dataDir: config.dataDir,
    log,
    sources: want ? { window: want.title, keys: want.keys, screen: want.screen } : undefined,
  });
  try {
    await agent.start();
  } catch (err) {
    log('error', `The agent could not start: ${(err as Error).message}`);
    return 1;
  }
  log('info', 'Haven agent running.');
  await untilSignal();
  agent.stop();
  log('info', 'Haven agent stopped.');
  return 0;
}

function status(dataDir: string): number {
  let s: AgentStatus | ServiceStatus;
  try {
    s = JSON.parse(readFileSync(path.join(dataDir, 'status.json'), 'utf8')) as AgentStatus | ServiceStatus;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    process.stdout.write(
      code === 'EACCES' ? `The agent's status in ${dataDir} can be read only by its service account or an administrator.\n` : `No agent status in ${dataDir} (has the agent run here?)\n`,
    );
    return 1;
  }
  const lines = [
    `Collector:   ${s.collector} — ${s.link.state}${s.link.fatal ? ' (refused: this device needs re-enrolling)' : ''}${s.link.lastError ? ` — last error: ${s.link.lastError}` : ''}`,
    `Device:      ${s.deviceId ?? 'not enrolled'}`,
    'role' in s
      ? `Sessions:    ${s.sessions.running} running, ${s.sessions.stopped} stopped while logged in, ${s.sessions.ended} logged out`
      : `Sources:     ${Object.entries(s.sources).map(([k, v]) => `${k} ${v.state}${v.detail ? ` (${v.detail})` : ''}`).join(', ') || 'none'}`,
    `Outbox:      ${s.outboxDepth} waiting to send, ${s.droppedEvents} dropped to stay within the bound`,
    `Policy:      ${s.policyError ?? 'ok'}`,
    `As of:       ${s.updatedAt} (process ${s.pid})`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
