import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, type AgentStatus, type Logger } from '@haven/agent-core';

const USAGE = `Usage:
  haven-agent run --collector URL [--enroll-token TOKEN] --data-dir DIR [--sources title,keys,screen]
  haven-agent status --data-dir DIR
  haven-agent --help

Sources (the same names as the school's policy and the collector's --agent-sources):
  title   window titles
  keys    typed phrases
  screen  text on the screen`;

/** The capture sources by their one name, as in the protocol's policy. */
const SOURCE_NAMES = ['title', 'keys', 'screen'] as const;

/** JSON lines on stderr: what happened, never what was captured. */
const log: Logger = (level, message, fields) => {
  process.stderr.write(JSON.stringify({ level, time: new Date().toISOString(), msg: message, ...fields }) + '\n');
};

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
      options: { collector: { type: 'string' }, 'enroll-token': { type: 'string' }, 'data-dir': { type: 'string' }, sources: { type: 'string' } },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const dataDir = values['data-dir'];
  if (!dataDir || (command !== 'run' && command !== 'status')) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  if (command === 'status') return status(path.resolve(dataDir));
  if (!values.collector) {
    process.stderr.write(`--collector is required\n${USAGE}\n`);
    return 2;
  }
  const only = values.sources?.split(',').map((x) => x.trim().toLowerCase());
  const unknown = only?.filter((x) => !(SOURCE_NAMES as readonly string[]).includes(x)) ?? [];
  if (unknown.length > 0) {
    const hint = unknown.includes('window') ? ' (window titles are "title")' : '';
    process.stderr.write(`--sources takes a list of ${SOURCE_NAMES.join(', ')}; not: ${unknown.join(', ')}${hint}\n`);
    return 2;
  }
  const sources = only ? { window: only.includes('title'), keys: only.includes('keys'), screen: only.includes('screen') } : undefined;
  const agent = new Agent({ collector: values.collector, enrollToken: values['enroll-token'], dataDir: path.resolve(dataDir), log, sources });
  try {
    await agent.start();
  } catch (err) {
    log('error', `The agent could not start: ${(err as Error).message}`);
    return 1;
  }
  log('info', 'Haven agent running.');
  await new Promise<void>((resolve) => {
    const stop = () => {
      agent.stop();
      log('info', 'Haven agent stopped.');
      resolve();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  return 0;
}

function status(dataDir: string): number {
  let s: AgentStatus;
  try {
    s = JSON.parse(readFileSync(path.join(dataDir, 'status.json'), 'utf8')) as AgentStatus;
  } catch {
    process.stdout.write(`No agent status in ${dataDir} (has the agent run here?)\n`);
    return 1;
  }
  const lines = [
    `Collector:   ${s.collector} — ${s.link.state}${s.link.fatal ? ' (refused: this device needs re-enrolling)' : ''}${s.link.lastError ? ` — last error: ${s.link.lastError}` : ''}`,
    `Device:      ${s.deviceId ?? 'not enrolled'}`,
    `Sources:     ${Object.entries(s.sources).map(([k, v]) => `${k} ${v.state}${v.detail ? ` (${v.detail})` : ''}`).join(', ') || 'none'}`,
    `Outbox:      ${s.outboxDepth} waiting to send, ${s.droppedEvents} dropped to stay within the bound`,
    `Policy:      ${s.policyError ?? 'ok'}`,
    `As of:       ${s.updatedAt} (process ${s.pid})`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
