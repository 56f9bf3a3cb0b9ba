import { mkdtempSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  NOTICE_STATE_FILE,
  loginSessionId,
  noticeAcknowledged,
  noticeShown,
  noticeText,
  noticeView,
  readNoticeState,
  shouldShowNotice,
  transparencyLink,
  writeNoticeState,
  type NoticeState,
} from '../src/shell/notice';
import { usSpellingsIn } from './shell-support';

const t = (iso: string) => new Date(iso);

describe('the notice text', () => {
  test("names the school, or says 'your school' when there is no name", () => {
    expect(noticeText('Riverside Academy')).toBe('This computer is monitored by Riverside Academy to keep pupils safe.');
    expect(noticeText(null)).toBe('This computer is monitored by your school to keep pupils safe.');
    expect(noticeText('   ')).toBe('This computer is monitored by your school to keep pupils safe.');
    expect(noticeText('St Mary\'s\nC of E\u0000 Primary')).toBe("This computer is monitored by St Mary's C of E Primary to keep pupils safe.");
  });

  test('the whole notice is in British English', () => {
    const v = noticeView({ school: 'Riverside Academy', transparencyUrl: 'https://riverside.example.sch.uk/privacy' });
    expect(usSpellingsIn([v.heading, v.text, v.explanation, v.link?.label, v.acknowledge].join('\n'))).toEqual([]);
    expect(v.link).toEqual({ href: 'https://riverside.example.sch.uk/privacy', label: "Read the school's notice about monitoring" });
  });
});

describe('the transparency link', () => {
  test.each([
    ['https://riverside.example.sch.uk/monitoring', 'https://riverside.example.sch.uk/monitoring'],
    ['http://intranet.riverside.local/privacy#monitoring', 'http://intranet.riverside.local/privacy#monitoring'],
    ['  HTTPS://Riverside.Example.sch.uk  ', 'https://riverside.example.sch.uk/'],
  ])('accepts the http(s) address %j', (url, href) => {
    expect(transparencyLink(url)).toBe(href);
  });

  test.each([
    'javascript:alert(1)',
    'JavaScript:alert(document.cookie)',
    ' javascript:alert(1)',
    '\njavascript:alert(1)',
    'java\tscript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'vbscript:msgbox(1)',
    'file:///etc/passwd',
    'ftp://riverside.example.sch.uk/notice.pdf',
    '/privacy',
    'riverside.example.sch.uk/privacy',
    'https://',
    'https://pupil:secret@riverside.example.sch.uk/',
    `https://riverside.example.sch.uk/${'a'.repeat(3000)}`,
    '',
  ])('refuses %j: no link at all', (url) => {
    expect(transparencyLink(url)).toBeNull();
    expect(noticeView({ school: 'Riverside Academy', transparencyUrl: url }).link).toBeNull();
  });

  test('no address, no link', () => {
    expect(transparencyLink(null)).toBeNull();
    expect(noticeView({ school: null, transparencyUrl: null }).link).toBeNull();
    expect(noticeView(null).text).toBe('This computer is monitored by your school to keep pupils safe.');
  });
});

describe('when the notice shows', () => {
  const acknowledged = (lastShownAt: string, lastSession: string | null): NoticeState => ({
    version: 1,
    firstShownAt: '2026-09-01T08:00:00Z',
    lastShownAt,
    lastSession,
    acknowledgedAt: '2026-09-01T08:01:00Z',
  });
  const booted = t('2026-12-07T07:00:00Z');

  test('first run on this account (or an unreadable file): shown', () => {
    expect(shouldShowNotice(null, { now: t('2026-12-07T08:00:00Z'), bootedAt: booted, session: 's1' })).toEqual({ show: true, reason: 'first-run' });
  });

  test('shown but never acknowledged: shown again at the next start', () => {
    const state = { ...acknowledged('2026-12-07T08:00:00Z', 's1'), acknowledgedAt: null };
    expect(shouldShowNotice(state, { now: t('2026-12-07T08:00:05Z'), bootedAt: booted, session: 's1' })).toEqual({ show: true, reason: 'not-acknowledged' });
  });

  test('a new login is shown the notice; a restart of the shell in the same login is not', () => {
    const state = acknowledged('2026-12-07T08:00:00Z', 'boot-a/3');
    expect(shouldShowNotice(state, { now: t('2026-12-07T08:00:10Z'), bootedAt: booted, session: 'boot-a/3' })).toEqual({ show: false, reason: 'same-login' });
    expect(shouldShowNotice(state, { now: t('2026-12-07T15:00:00Z'), bootedAt: booted, session: 'boot-a/3' })).toEqual({ show: false, reason: 'same-login' });
    expect(shouldShowNotice(state, { now: t('2026-12-07T08:05:00Z'), bootedAt: booted, session: 'boot-a/4' })).toEqual({ show: true, reason: 'new-login' });
  });

  test('without a login session id (Windows): at most once an hour, so a restart loop does not keep showing it', () => {
    const state = acknowledged('2026-12-07T08:00:00Z', null);
    const at = (iso: string) => shouldShowNotice(state, { now: t(iso), bootedAt: booted, session: null });
    expect(at('2026-12-07T08:00:01Z')).toEqual({ show: false, reason: 'shown-recently' });
    expect(at('2026-12-07T08:59:59Z')).toEqual({ show: false, reason: 'shown-recently' });
    expect(at('2026-12-07T09:00:00Z')).toEqual({ show: true, reason: 'hours-passed' });
  });

  test('after a reboot it shows, whatever the session says', () => {
    const state = acknowledged('2026-12-07T08:00:00Z', null);
    expect(shouldShowNotice(state, { now: t('2026-12-07T08:20:00Z'), bootedAt: t('2026-12-07T08:15:00Z'), session: null })).toEqual({ show: true, reason: 'rebooted' });
  });

  test('a clock that went back shows it rather than trusting the file', () => {
    const state = acknowledged('2027-01-01T08:00:00Z', 's1');
    expect(shouldShowNotice(state, { now: t('2026-12-07T08:00:00Z'), bootedAt: null, session: 's1' })).toEqual({ show: true, reason: 'clock-changed' });
  });

  test('showing and acknowledging keep the first time and record the last', () => {
    const first = noticeShown(null, t('2026-12-07T08:00:00Z'), 's1');
    expect(first).toEqual({ version: 1, firstShownAt: '2026-12-07T08:00:00.000Z', lastShownAt: '2026-12-07T08:00:00.000Z', lastSession: 's1', acknowledgedAt: null });
    const ack = noticeAcknowledged(first, t('2026-12-07T08:00:30Z'), 's1');
    const again = noticeShown(ack, t('2026-12-08T08:00:00Z'), 's2');
    expect(again).toEqual({ version: 1, firstShownAt: '2026-12-07T08:00:00.000Z', lastShownAt: '2026-12-08T08:00:00.000Z', lastSession: 's2', acknowledgedAt: '2026-12-07T08:00:30.000Z' });
  });

  test('the login session id from the platform', () => {
    expect(loginSessionId('linux', { XDG_SESSION_ID: '3' }, 'b00t\n')).toBe('b00t/3');
    expect(loginSessionId('linux', {}, 'b00t')).toBeNull();
    expect(loginSessionId('linux', { XDG_SESSION_ID: '3' }, null)).toBeNull();
    expect(loginSessionId('darwin', { SECURITYSESSIONID: '186a6' }, null)).toBe('186a6');
    expect(loginSessionId('win32', { SESSIONNAME: 'Console' }, null)).toBeNull();
  });
});

describe('the notice state file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'haven-shell-notice-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('written atomically (no temporary file left), readable only by the user, and read back', () => {
    const stateDir = path.join(dir, 'userData', 'Haven');
    const state = noticeShown(null, t('2026-12-07T08:00:00Z'), 's1');
    writeNoticeState(stateDir, state);
    expect(readdirSync(stateDir)).toEqual([NOTICE_STATE_FILE]);
    if (process.platform !== 'win32') {
      expect(statSync(path.join(stateDir, NOTICE_STATE_FILE)).mode & 0o777).toBe(0o600);
      expect(statSync(stateDir).mode & 0o777).toBe(0o700);
    }
    expect(readNoticeState(stateDir)).toEqual(state);
    const ack = noticeAcknowledged(state, t('2026-12-07T08:01:00Z'), 's1');
    writeNoticeState(stateDir, ack);
    expect(readNoticeState(stateDir)).toEqual(ack);
    expect(readdirSync(stateDir)).toEqual([NOTICE_STATE_FILE]);
  });

  test.each([
    ['empty', ''],
    ['half written', '{"version":1,"firstShownAt":"2026-12-07T08:00:00.000Z","lastSh'],
    ['not an object', '[1,2,3]'],
    ['null', 'null'],
    ['another version', JSON.stringify({ version: 2, firstShownAt: '2026-12-07T08:00:00Z', lastShownAt: '2026-12-07T08:00:00Z', lastSession: null, acknowledgedAt: null })],
    ['a bad time', JSON.stringify({ version: 1, firstShownAt: 'yesterday', lastShownAt: '2026-12-07T08:00:00Z', lastSession: null, acknowledgedAt: null })],
    ['a bad acknowledgement', JSON.stringify({ version: 1, firstShownAt: '2026-12-07T08:00:00Z', lastShownAt: '2026-12-07T08:00:00Z', lastSession: null, acknowledgedAt: true })],
    ['binary junk', '\u0000\u0001\u00ff'],
  ])('a corrupt file (%s) means the notice shows again, and is replaced cleanly', (_name, content) => {
    writeFileSync(path.join(dir, NOTICE_STATE_FILE), content);
    const state = readNoticeState(dir);
    expect(state).toBeNull();
    expect(shouldShowNotice(state, { now: t('2026-12-07T08:00:00Z'), bootedAt: null, session: 's1' }).show).toBe(true);
    writeNoticeState(dir, noticeShown(state, t('2026-12-07T08:00:00Z'), 's1'));
    expect(readNoticeState(dir)?.lastSession).toBe('s1');
  });

  test('no file, or a directory where the file should be: shown again, no crash', () => {
    expect(readNoticeState(path.join(dir, 'missing'))).toBeNull();
    mkdirSync(path.join(dir, NOTICE_STATE_FILE));
    expect(readNoticeState(dir)).toBeNull();
  });

  test('a temporary file left by a crash mid-write does not count', () => {
    writeNoticeState(dir, noticeAcknowledged(null, t('2026-12-07T08:00:00Z'), 's1'));
    writeFileSync(path.join(dir, `${NOTICE_STATE_FILE}.999.1.tmp`), '{"version":1,');
    expect(readNoticeState(dir)?.acknowledgedAt).toBe('2026-12-07T08:00:00.000Z');
  });

  test('a day at school, start to finish: first login, a crash, lunch, the next morning', () => {
    const start = (now: string, session: string | null, bootedAt: string): boolean => {
      const decision = shouldShowNotice(readNoticeState(dir), { now: t(now), bootedAt: t(bootedAt), session });
      if (decision.show) writeNoticeState(dir, noticeShown(readNoticeState(dir), t(now), session));
      return decision.show;
    };
    const acknowledge = (now: string, session: string | null) => writeNoticeState(dir, noticeAcknowledged(readNoticeState(dir), t(now), session));

    expect(start('2026-12-07T08:40:00Z', 'b1/2', '2026-12-07T08:38:00Z')).toBe(true); // first login ever
    expect(start('2026-12-07T08:41:00Z', 'b1/2', '2026-12-07T08:38:00Z')).toBe(true); // restarted before "I understand"
    acknowledge('2026-12-07T08:41:10Z', 'b1/2');
    for (let i = 0; i < 20; i++) expect(start(`2026-12-07T09:${String(10 + i).padStart(2, '0')}:00Z`, 'b1/2', '2026-12-07T08:38:00Z')).toBe(false); // a restart loop
    expect(start('2026-12-07T12:30:00Z', 'b1/7', '2026-12-07T08:38:00Z')).toBe(true); // logged in again after lunch
    expect(start('2026-12-08T08:40:00Z', 'b2/2', '2026-12-08T08:38:00Z')).toBe(true); // the next morning
    expect(JSON.parse(readFileSync(path.join(dir, NOTICE_STATE_FILE), 'utf8'))).toMatchObject({ firstShownAt: '2026-12-07T08:40:00.000Z', acknowledgedAt: '2026-12-07T08:41:10.000Z' });
  });
});
