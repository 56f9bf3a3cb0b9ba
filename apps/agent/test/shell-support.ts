/** Helpers for the tray shell's tests (apps/agent/test/shell-*.test.ts). */
import type { ShellStatus } from '../src/shell/status-model';

/** US spellings (and US-only forms) that must not appear in what a pupil reads. */
export const US_SPELLINGS: RegExp[] = [
  /\bcolors?\b/i,
  /\bbehavior/i,
  /\borganiz/i,
  /\blicense\b/i,
  /\bcenter/i,
  /\bfavorite/i,
  /\banalyz/i,
  /\bcanceled\b/i,
  /\bgray\b/i,
  /\benroll\b|\benrollment/i,
  /\brecogniz/i,
  /\bauthoriz/i,
  /\brealiz/i,
  /\bprioritiz/i,
  /\bcatalog\b/i,
  /\bdialog\b/i,
  /\bfulfill\b/i,
  /\bdefense\b/i,
  /\boffense\b/i,
];

export function usSpellingsIn(text: string): string[] {
  return US_SPELLINGS.filter((re) => re.test(text)).map((re) => `${re}: ${re.exec(text)?.[0]}`);
}

/** A status where everything works, delivered at 14:05 on 7 December 2026 (GMT). */
export function healthyStatus(over: Partial<ShellStatus> = {}): ShellStatus {
  return {
    notice: { school: 'Riverside Academy', transparencyUrl: 'https://riverside.example.sch.uk/monitoring' },
    service: { state: 'connected', since: '2026-12-07T08:00:00Z' },
    collector: { state: 'online', lastDeliveryAt: '2026-12-07T14:05:00Z' },
    sources: { title: { state: 'ok' }, keys: { state: 'ok' }, screen: { state: 'ok' } },
    updatedAt: '2026-12-07T14:06:30Z',
    ...over,
  };
}
