import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { EVENT_CHANNELS, INVOKE_CHANNELS, isTrustedSender, validateRendererMessage } from '../src/shell/ipc';

describe('messages from the pages', () => {
  test.each(['status:get', 'notice:get', 'notice:acknowledge', 'notice:open-transparency'])('%s with no arguments is accepted', (channel) => {
    expect(validateRendererMessage(channel, [])).toEqual({ ok: true, message: { channel, args: [] } });
  });

  test('the map has exactly these channels', () => {
    expect([...INVOKE_CHANNELS].sort()).toEqual(['notice:acknowledge', 'notice:get', 'notice:open-transparency', 'status:get']);
    expect(EVENT_CHANNELS).toEqual(['status:changed']);
  });

  test.each(['status:set', 'shell:open-external', 'notice:open', '', 'STATUS:GET', ' status:get', '__proto__', 'constructor', 'toString', 'hasOwnProperty'])(
    'unknown channel %j is refused',
    (channel) => {
      expect(validateRendererMessage(channel, [])).toEqual({ ok: false, reason: 'unknown channel' });
    },
  );

  test('status:changed goes one way only: a page cannot send it', () => {
    expect(validateRendererMessage('status:changed', [{}])).toEqual({ ok: false, reason: 'status:changed goes from the shell to pages only' });
  });

  test.each([
    [42, [], 'channel is not a string'],
    [null, [], 'channel is not a string'],
    [{ toString: () => 'status:get' }, [], 'channel is not a string'],
    ['status:get', undefined, 'arguments are not a list'],
    ['status:get', { length: 0 }, 'arguments are not a list'],
    ['notice:open-transparency', ['javascript:alert(1)'], 'wrong arguments for notice:open-transparency'],
    ['notice:open-transparency', ['https://elsewhere.example/'], 'wrong arguments for notice:open-transparency'],
    ['notice:acknowledge', [{ at: '2026-12-07' }], 'wrong arguments for notice:acknowledge'],
    ['status:get', [undefined], 'wrong arguments for status:get'],
  ])('wrong shape %j %j is refused: %s', (channel, args, reason) => {
    expect(validateRendererMessage(channel, args)).toEqual({ ok: false, reason });
  });

  test("the preload exposes every invoke channel, and only the map's channels", () => {
    const preload = readFileSync(path.join(__dirname, '..', 'shell', 'preload.ts'), 'utf8');
    const used = [...preload.matchAll(/\b(?:invoke|on)\('([^']+)'/g)].map((m) => m[1]).sort();
    expect(used).toEqual([...INVOKE_CHANNELS, ...EVENT_CHANNELS].sort());
  });
});

describe('who may send', () => {
  const pagesDir = path.join(path.sep, 'opt', 'Haven', 'resources', 'shell', 'pages');
  const pages = pathToFileURL(pagesDir).href;
  const page = (name: string) => pathToFileURL(path.join(pagesDir, name)).href;

  test("the shell's own pages", () => {
    expect(isTrustedSender(page('notice.html'), pages)).toBe(true);
    expect(isTrustedSender(page('status.html'), pages)).toBe(true);
    expect(isTrustedSender(`${page('status.html')}?x=1#top`, pages)).toBe(true);
  });

  test.each([
    ['another file in the folder', () => page('other.html')],
    ['a file in a subfolder', () => page('sub/notice.html')],
    ['a folder whose name starts the same', () => pathToFileURL(`${pagesDir}-evil/notice.html`).href],
    ['a path that climbs out', () => `${pages}/../../elsewhere/notice.html`],
    ['a web page', () => 'https://riverside.example.sch.uk/notice.html'],
    ['a data URL', () => 'data:text/html,<p>hi</p>'],
    ['a file on another host', () => `file://fileserver${new URL(page('notice.html')).pathname}`],
    ['no URL', () => undefined],
    ['garbage', () => 'not a url'],
  ])('refuses %s', (_name, url) => {
    expect(isTrustedSender(url(), pages)).toBe(false);
  });
});
