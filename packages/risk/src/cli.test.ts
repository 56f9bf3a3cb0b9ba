import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { scoreLine } from './cli';

describe('haven-risk score', () => {
  it('answers one JSON line per input line with id, category, severity and rules', () => {
    const out = JSON.parse(scoreLine(JSON.stringify({ id: 'a1', text: 'how to kill the process in linux', kind: 'typed' })));
    expect(out).toEqual({ id: 'a1', category: null, severity: 0, rules: [] });
  });

  it('with --explain adds the explanation in words and as data', () => {
    const out = JSON.parse(scoreLine(JSON.stringify({ id: 'b', text: 'i want to kill myself tonight' }), true));
    expect(out.explanation).toContain('suicide.en.kill_myself');
    expect(out.reasons[0]).toMatchObject({ ruleId: expect.any(String), category: 'suicide', kind: 'term', base: expect.any(Number), severity: 5 });
    expect(out.reasons[0].adjustments).toContainEqual({ name: 'time', delta: 1 });
  });

  it.each([
    ['not JSON', '{"id": 1, "text":', 'line is not valid JSON'],
    ['an array', '[1, 2]', 'line is not a JSON object'],
    ['no text', '{"id": "x"}', '"text" must be a string'],
    ['a bad kind', '{"id": "x", "text": "hi", "kind": "audio"}', '"kind" must be typed, keys, title or screen'],
    ['a bad age band', '{"id": "x", "text": "hi", "ageBand": "adult"}', '"ageBand" must be primary, secondary or staff'],
    ['an empty line', '   ', 'empty line'],
  ])('answers %s with id null and an error', (_name, line, error) => {
    expect(JSON.parse(scoreLine(line))).toEqual({ id: null, error });
  });

  it('keeps order and goes on after bad lines, through the built bin', () => {
    const bin = path.resolve(__dirname, '..', 'bin', 'haven-risk.js');
    if (!existsSync(path.resolve(__dirname, '..', 'dist', 'cli.js'))) throw new Error('run `npm run build` first (npm test does)');
    const input = ['{"id":"1","text":"hello there"}', 'nonsense', '{"id":"3","text":"see you tomorrow","kind":"title"}', ''].join('\n');
    const run = spawnSync(process.execPath, [bin, 'score'], { input, encoding: 'utf8' });
    expect(run.status).toBe(0);
    const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.id)).toEqual(['1', null, '3']);
    expect(lines[1]).toEqual({ id: null, error: 'line is not valid JSON' });
  });

  it('prints usage and exits 2 without a command', () => {
    const bin = path.resolve(__dirname, '..', 'bin', 'haven-risk.js');
    const run = spawnSync(process.execPath, [bin], { encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stdout).toContain('Usage: haven-risk score');
  });
});
