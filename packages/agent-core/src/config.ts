import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The machine-wide agent configuration, written by the installer (Linux `/etc/haven/agent.conf`,
 * Windows the registry key HKLM\SOFTWARE\Haven\Agent, macOS managed preferences): the collector,
 * the one-time enrolment token (deleted once used) and what the monitoring notice says. Nothing
 * secret is ever passed on a command line, where every user of the machine can read it.
 */
export type AgentConfig = {
  collector: string;
  enrolToken: string | null;
  schoolName: string | null;
  transparencyUrl: string | null;
  dataDir: string;
  socketPath: string;
};

export class ConfigError extends Error {}

export const DEFAULT_CONFIG_FILE = process.platform === 'win32' ? path.join(process.env.ProgramData ?? 'C:\\ProgramData', 'Haven', 'agent.conf') : '/etc/haven/agent.conf';

export function defaultDataDir(): string {
  if (process.platform === 'win32') return path.join(process.env.ProgramData ?? 'C:\\ProgramData', 'Haven', 'data');
  if (process.platform === 'darwin') return '/Library/Application Support/Haven/agent';
  return '/var/lib/haven-agent';
}

export function defaultSocketPath(): string {
  if (process.platform === 'win32') return '\\\\.\\pipe\\haven-agent';
  if (process.platform === 'darwin') return '/var/run/haven-agent.sock';
  return '/run/haven-agent/agent.sock';
}

const KEYS = ['collector', 'enrol_token', 'school_name', 'transparency_url', 'data_dir', 'socket'] as const;

/**
 * Parses `key = value` lines; `#` and `;` start comments; blank lines are ignored. An unknown
 * key, a line without `=` or a repeated key is an error naming the line (a typo must not
 * silently leave the agent unconfigured).
 */
export function parseConfig(text: string, source = 'the agent configuration'): AgentConfig {
  const values = new Map<string, string>();
  text.replace(/^\uFEFF/, '').split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const eq = line.indexOf('=');
    if (eq < 0) throw new ConfigError(`${source}, line ${i + 1}: expected "key = value"`);
    const key = line.slice(0, eq).trim().toLowerCase().replace(/-/g, '_');
    let value = line.slice(eq + 1).trim();
    if (value.length >= 2 && ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'")))) value = value.slice(1, -1);
    if (!(KEYS as readonly string[]).includes(key)) throw new ConfigError(`${source}, line ${i + 1}: unknown setting "${key}" (known: ${KEYS.join(', ')})`);
    if (values.has(key)) throw new ConfigError(`${source}, line ${i + 1}: "${key}" is set twice`);
    values.set(key, value);
  });
  return checkConfig(values, source);
}

function checkConfig(values: Map<string, string>, source: string): AgentConfig {
  const collector = values.get('collector') ?? '';
  if (!collector) throw new ConfigError(`${source}: "collector" is not set (the address of the school's Haven collector)`);
  let url: URL;
  try {
    url = new URL(collector);
  } catch {
    throw new ConfigError(`${source}: "collector" is not a URL: ${JSON.stringify(collector.slice(0, 200))}`);
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) throw new ConfigError(`${source}: "collector" must be an http(s) address`);
  const transparency = values.get('transparency_url') || null;
  if (transparency !== null) {
    let ok = false;
    try {
      ok = ['http:', 'https:'].includes(new URL(transparency).protocol);
    } catch {
      ok = false;
    }
    if (!ok) throw new ConfigError(`${source}: "transparency_url" must be an http(s) address`);
  }
  return {
    collector,
    enrolToken: values.get('enrol_token') || null,
    schoolName: values.get('school_name') || null,
    transparencyUrl: transparency,
    dataDir: values.get('data_dir') || defaultDataDir(),
    socketPath: values.get('socket') || defaultSocketPath(),
  };
}

export function readConfigFile(file: string): AgentConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(code === 'ENOENT' ? `no agent configuration at ${file} (the installer writes it)` : `the agent configuration ${file} cannot be read (${code ?? (err as Error).message})`);
  }
  return parseConfig(text, file);
}

/**
 * Removes the enrolment token from the configuration file once it has been used, keeping every
 * other line (and comment) as it was. Written in place: the file's directory belongs to root,
 * the file itself to the service's account.
 */
export function forgetEnrolToken(file: string): boolean {
  const text = readFileSync(file, 'utf8');
  const lines = text.split(/(?<=\n)/);
  const kept = lines.filter((l) => !/^\s*enrol[-_]token\s*=/i.test(l));
  if (kept.length === lines.length) return false;
  writeFileSync(file, kept.join(''), { mode: 0o600 });
  return true;
}

/**
 * `reg query HKLM\SOFTWARE\Haven\Agent` output as a configuration (Windows; the MSI writes the
 * values CollectorUrl, EnrolToken, SchoolName, TransparencyUrl).
 */
export function parseRegQuery(output: string): AgentConfig {
  const names: Record<string, string> = { collectorurl: 'collector', enroltoken: 'enrol_token', schoolname: 'school_name', transparencyurl: 'transparency_url', datadir: 'data_dir' };
  const values = new Map<string, string>();
  for (const line of output.split(/\r?\n/)) {
    const m = /^\s+(\S+)\s+REG_(?:SZ|EXPAND_SZ)\s+(.*)$/.exec(line);
    const key = m && names[m[1]!.toLowerCase()];
    if (key && m) values.set(key, m[2]!.trim());
  }
  return checkConfig(values, 'HKLM\\SOFTWARE\\Haven\\Agent');
}
