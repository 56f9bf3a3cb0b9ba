/**
 * Start at login, and one shell per login: the decisions, as plain functions.
 *
 * Windows and macOS: the shell registers itself as a login item (app.setLoginItemSettings) with
 * the settings below. Linux: the package installs an XDG autostart entry
 * (/etc/xdg/autostart), so the shell registers nothing. An unpackaged shell (a developer's
 * checkout) never registers itself.
 */

/** The fields of Electron's login item Settings that the shell sets (a subset of electron's type). */
export type LoginItemSettings = {
  openAtLogin: boolean;
  /** Windows: the executable and its arguments; a name that stays the same across updates. */
  path?: string;
  args?: string[];
  name?: string;
  enabled?: boolean;
};

export type AutostartPlan = { register: true; settings: LoginItemSettings } | { register: false; reason: string };

/** The argument the login item passes, so a start at login is told from one by hand. */
export const AT_LOGIN_ARG = '--at-login';

export function autostartPlan(input: { platform: NodeJS.Platform; isPackaged: boolean; execPath: string }): AutostartPlan {
  if (!input.isPackaged) return { register: false, reason: 'not packaged (a development run)' };
  switch (input.platform) {
    case 'win32':
      return { register: true, settings: { openAtLogin: true, path: input.execPath, args: [AT_LOGIN_ARG], name: 'Haven', enabled: true } };
    case 'darwin':
      return { register: true, settings: { openAtLogin: true } };
    case 'linux':
      return { register: false, reason: 'the package installs an XDG autostart entry' };
    default:
      return { register: false, reason: `no autostart on ${input.platform}` };
  }
}

/** What the shell opens when it starts, or when a second start hands over to the first. */
export type ShellOpen = 'status' | 'notice' | null;

/**
 * From the command line: `--status` or `--notice` opens that window; a start at login (or a
 * bare start of a second instance, e.g. from the Start menu) opens nothing at first start and
 * the status window when one is already running.
 */
export function openRequested(argv: readonly string[], secondInstance: boolean): ShellOpen {
  if (argv.includes('--notice')) return 'notice';
  if (argv.includes('--status')) return 'status';
  if (argv.includes(AT_LOGIN_ARG)) return null;
  return secondInstance ? 'status' : null;
}
