import { AT_LOGIN_ARG, autostartPlan, openRequested } from '../src/shell/autostart';

describe('start at login', () => {
  const exe = 'C:\\Program Files\\Haven\\Haven.exe';

  test('Windows: a login item for the installed executable, marked as a start at login', () => {
    expect(autostartPlan({ platform: 'win32', isPackaged: true, execPath: exe })).toEqual({
      register: true,
      settings: { openAtLogin: true, path: exe, args: [AT_LOGIN_ARG], name: 'Haven', enabled: true },
    });
  });

  test('macOS: a login item', () => {
    expect(autostartPlan({ platform: 'darwin', isPackaged: true, execPath: '/Applications/Haven.app/Contents/MacOS/Haven' })).toEqual({
      register: true,
      settings: { openAtLogin: true },
    });
  });

  test('Linux: nothing, the package installs the XDG autostart entry', () => {
    expect(autostartPlan({ platform: 'linux', isPackaged: true, execPath: '/opt/haven/haven' })).toEqual({
      register: false,
      reason: 'the package installs an XDG autostart entry',
    });
  });

  test('a development run never registers itself', () => {
    for (const platform of ['win32', 'darwin', 'linux'] as const) expect(autostartPlan({ platform, isPackaged: false, execPath: exe }).register).toBe(false);
  });
});

describe('what a start opens', () => {
  test('the first start, at login or by hand, opens nothing of its own (the notice decides itself)', () => {
    expect(openRequested([exe(), AT_LOGIN_ARG], false)).toBeNull();
    expect(openRequested([exe()], false)).toBeNull();
  });

  test('a second start hands over: the status window, or what it asked for', () => {
    expect(openRequested([exe()], true)).toBe('status');
    expect(openRequested([exe(), '--notice'], true)).toBe('notice');
    expect(openRequested([exe(), '--status'], false)).toBe('status');
    expect(openRequested([exe(), AT_LOGIN_ARG], true)).toBeNull();
  });

  function exe(): string {
    return '/opt/haven/haven';
  }
});
