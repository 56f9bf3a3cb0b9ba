import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, forgetEnrolToken, parseConfig, parseRegQuery } from './config';
import { LineReader } from './ipc/messages';
import { policyForUser } from './policy';

describe('the agent configuration file', () => {
  it('reads key = value lines with comments, quotes, a BOM and CRLF', () => {
    const c = parseConfig('\uFEFF# Haven\r\ncollector = https://haven.school.example\r\nenrol_token = "hvn_enr_abc"\r\n; note\r\nschool_name = St Mary\'s C of E School\r\nsocket=/tmp/x.sock\r\n');
    expect(c).toMatchObject({ collector: 'https://haven.school.example', enrolToken: 'hvn_enr_abc', schoolName: "St Mary's C of E School", transparencyUrl: null, socketPath: '/tmp/x.sock' });
  });

  it.each([
    ['', /"collector" is not set/],
    ['collector = not a url', /not a URL/],
    ['collector = ftp://x', /http\(s\)/],
    ['collector = https://a\ncolector = https://b', /line 2: unknown setting "colector"/],
    ['collector = https://a\ncollector = https://b', /line 2: "collector" is set twice/],
    ['collector https://a', /line 1: expected "key = value"/],
    ['collector = https://a\ntransparency_url = javascript:alert(1)', /"transparency_url" must be an http\(s\) address/],
  ])('refuses %j with a message naming the problem', (text, message) => {
    expect(() => parseConfig(text)).toThrow(ConfigError);
    expect(() => parseConfig(text)).toThrow(message);
  });

  it('forgets the enrolment token once used, keeping every other line', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'haven-conf-'));
    try {
      const file = path.join(dir, 'agent.conf');
      writeFileSync(file, '# by the installer\ncollector = https://a\n  Enrol-Token = hvn_enr_x\nschool_name = A\n');
      expect(forgetEnrolToken(file)).toBe(true);
      expect(readFileSync(file, 'utf8')).toBe('# by the installer\ncollector = https://a\nschool_name = A\n');
      expect(forgetEnrolToken(file)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads the Windows registry values the MSI writes, an empty token as none', () => {
    const out = '\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Haven\\Agent\r\n    CollectorUrl    REG_SZ    https://haven.school.example\r\n    EnrolToken    REG_SZ    \r\n    SchoolName    REG_SZ    Oak Academy\r\n';
    expect(parseRegQuery(out)).toMatchObject({ collector: 'https://haven.school.example', enrolToken: null, schoolName: 'Oak Academy' });
  });
});

describe('the IPC line reader', () => {
  it('splits lines across chunks and refuses one over the limit', () => {
    const r = new LineReader(10);
    expect(r.push(Buffer.from('ab\ncd'))).toEqual({ lines: ['ab'], overflow: false });
    expect(r.push(Buffer.from('ef\n'))).toEqual({ lines: ['cdef'], overflow: false });
    expect(r.push(Buffer.from('0123456789a')).overflow).toBe(true);
  });
});

describe("a session part's view of the policy", () => {
  it("holds only its own user's age band, never the school's list of accounts", () => {
    const policy = { threshold: 3, sources: { title: true, keys: true, screen: true }, quietHours: [], ageBand: 'secondary' as const, userAgeBands: { alice: 'primary' as const, bob: 'staff' as const } };
    expect(policyForUser(policy, 'alice').userAgeBands).toEqual({ alice: 'primary' });
    expect(policyForUser(policy, 'carol').userAgeBands).toBeUndefined();
  });
});
