/**
 * Windows where typing is probably a password, PIN or one-time code: keys typed there are not
 * assembled into phrases at all. A heuristic on the window title and application, so it has
 * limits (docs/agent.md): a password typed into a window that does not say so is assembled
 * like any other phrase — though it only leaves the device if the scorer flags it.
 */
const TITLE = /pass(word|code|phrase)|\bpin\b|sign[\s-]?in|log[\s-]?in|login|log on|2fa|two[\s-]?factor|one[\s-]?time (code|password)|verification code|security code|authenticat|credential|unlock|keychain|vault|sudo|gpg|ssh key/i;
const APPS = /1password|bitwarden|lastpass|keepass|dashlane|enpass|nordpass|roboform|keeper|seahorse|pinentry|credential ?manager|credentialuibroker|consent\.exe|logonui|polkit/i;

export function isPasswordContext(title: string | null, app: string | null): boolean {
  return (title !== null && TITLE.test(title)) || (app !== null && APPS.test(app));
}
