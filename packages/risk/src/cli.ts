import { createInterface } from 'node:readline';
import { defaultScorer, type AgeBand, type Source } from './score';

const USAGE = `Usage: haven-risk score [--explain] < in.jsonl > out.jsonl

Reads JSON lines {"id", "text", "kind"?, "title"?, "ageBand"?} and writes one line per input line,
in the same order: {"id", "category": string|null, "severity": 0-5, "rules": [...]};
with --explain also "explanation" (words) and "reasons" (the same as data, see the README).
kind: typed (default) | keys | title | screen. ageBand: primary | secondary (default) | staff.
A line that cannot be read gives {"id": null, "error": "..."} and scoring goes on.`;

const KINDS: Record<string, Source> = { typed: 'keys', keys: 'keys', title: 'title', screen: 'screen' };
const AGE_BANDS = new Set(['primary', 'secondary', 'staff']);

/** Scores one input line; never throws. */
export function scoreLine(line: string, explain = false): string {
  if (line.trim() === '') return JSON.stringify({ id: null, error: 'empty line' });
  let input: unknown;
  try {
    input = JSON.parse(line);
  } catch {
    return JSON.stringify({ id: null, error: 'line is not valid JSON' });
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return JSON.stringify({ id: null, error: 'line is not a JSON object' });
  }
  const { id, text, kind, title, ageBand } = input as Record<string, unknown>;
  if (typeof text !== 'string') return JSON.stringify({ id: null, error: '"text" must be a string' });
  if (id !== undefined && typeof id !== 'string' && typeof id !== 'number') {
    return JSON.stringify({ id: null, error: '"id" must be a string or number' });
  }
  const source = kind === undefined ? 'keys' : KINDS[String(kind)];
  if (!source) return JSON.stringify({ id: null, error: '"kind" must be typed, keys, title or screen' });
  if (title !== undefined && typeof title !== 'string') return JSON.stringify({ id: null, error: '"title" must be a string' });
  if (ageBand !== undefined && !AGE_BANDS.has(String(ageBand))) {
    return JSON.stringify({ id: null, error: '"ageBand" must be primary, secondary or staff' });
  }
  const result = defaultScorer().score(text, { source, title: title as string | undefined, ageBand: ageBand as AgeBand | undefined });
  const out: Record<string, unknown> = {
    id: id ?? null,
    category: result.category,
    severity: result.severity,
    rules: [...new Set(result.matches.map((m) => m.ruleId))],
  };
  if (explain) {
    out.explanation = result.explanation;
    out.reasons = result.reasons;
  }
  return JSON.stringify(out);
}

export async function main(argv: string[]): Promise<number> {
  if (argv[0] !== 'score' || argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE + '\n');
    return argv[0] === 'score' || argv.includes('--help') ? 0 : 2;
  }
  const explain = argv.includes('--explain');
  defaultScorer(); // compile before the first line arrives
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  let pending = '';
  for await (const line of lines) {
    pending += scoreLine(line, explain) + '\n';
    if (pending.length > 64 * 1024) {
      if (!process.stdout.write(pending)) await new Promise((r) => process.stdout.once('drain', r));
      pending = '';
    }
  }
  process.stdout.write(pending);
  return 0;
}

/** Entry point of the `haven-risk` bin. */
export function run(argv: string[] = process.argv.slice(2)): void {
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`haven-risk: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
