import { EventSchema, LIMITS } from '@haven/protocol';
import { toEvent } from '../../transform/to-event';
import { cleanUrl } from './active-window';

describe('cleanUrl: a browser address as an event may carry it', () => {
  it('keeps scheme, host and path, and drops the query string and fragment always', () => {
    expect(cleanUrl('https://www.example.com/forum/thread/123?page=2')).toBe('https://www.example.com/forum/thread/123');
    expect(cleanUrl('https://www.google.com/search?q=how+to+tie+a+noose&oq=how')).toBe('https://www.google.com/search');
    expect(cleanUrl('https://app.example/callback#access_token=eyJhbGciOi&state=1')).toBe('https://app.example/callback');
    expect(cleanUrl('http://example.com')).toBe('http://example.com/');
    expect(cleanUrl('https://Example.COM:8443/Path/Case')).toBe('https://example.com:8443/Path/Case');
  });

  it('drops a user name and password in the address', () => {
    expect(cleanUrl('https://pupil:hunter2@example.com/private')).toBe('https://example.com/private');
  });

  it('masks e-mail addresses and phone or card numbers in the path as titles are masked', () => {
    const url = cleanUrl('https://mail.example/u/alex.pupil@school.example/inbox/07700900123');
    expect(url).toBe('https://mail.example/u/[email]/inbox/[phone_number]');
  });

  it('reads an address bar without a scheme as https when the host has a dot, and a search being typed as nothing', () => {
    expect(cleanUrl('example.com/page?x=1')).toBe('https://example.com/page');
    expect(cleanUrl('how to tie a noose')).toBeNull();
    expect(cleanUrl('suicide')).toBeNull();
  });

  it('gives nothing for other schemes, no address, or not a string', () => {
    for (const raw of ['file:///home/pupil/diary.txt', 'chrome://settings', 'about:blank', 'javascript:alert(1)', 'ftp://example.com/x', 'data:text/html,hi', '', '   ', undefined, null, 42]) {
      expect([raw, cleanUrl(raw)]).toEqual([raw, null]);
    }
  });

  it('keeps a long path within 2,048 characters, and percent-encodes what the path holds', () => {
    const long = cleanUrl(`https://example.com/${'a'.repeat(5000)}?q=1`)!;
    expect(long.length).toBe(LIMITS.maxUrlChars);
    expect(long.startsWith('https://example.com/aaa')).toBe(true);
    expect(cleanUrl('https://example.com/caf\u00e9 menu')).toBeNull(); // a space: typed text, not an address
    expect(cleanUrl('https://example.com/caf\u00e9')).toBe('https://example.com/caf%C3%A9');
    const escaped = cleanUrl(`https://example.com/${'\u00e9'.repeat(1000)}`)!;
    expect(escaped.length).toBeLessThanOrEqual(LIMITS.maxUrlChars);
    expect(escaped).toMatch(/(%[0-9A-F]{2})+$/); // no half escape at the end
  });

  it('gives only addresses the protocol takes', () => {
    for (const raw of ['https://www.example.com/a?b#c', 'https://x.example/' + 'é'.repeat(3000), 'example.org', 'https://[::1]:8080/p']) {
      const url = cleanUrl(raw);
      const event = {
        id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
        occurredAt: new Date().toISOString(),
        source: 'title',
        category: 'suicide',
        severity: 4,
        ruleIds: ['x'],
        evidence: { match: 'm', before: '', after: '' },
        app: null,
        windowTitle: null,
        osUser: 'pupil',
        deviceId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
        ...(url ? { url } : {}),
      };
      expect([raw, url !== null, EventSchema.safeParse(event).success]).toEqual([raw, true, true]);
    }
  });
});

describe('the address on an event', () => {
  const identity = { deviceId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', osUser: 'pupil' };
  const policy = { threshold: 3, ageBand: 'secondary' as const };
  const obs = { source: 'title' as const, text: 'how to tie a noose - Google Search', app: 'chrome.exe', title: 'how to tie a noose - Google Search', at: new Date() };

  it('goes with a flagged event when the window had one, and is left out when it had none (Linux)', () => {
    const withUrl = toEvent({ ...obs, url: 'https://www.google.com/search' }, policy, identity).event!;
    expect(withUrl.url).toBe('https://www.google.com/search');
    expect(EventSchema.safeParse(withUrl).success).toBe(true);
    for (const url of [null, undefined]) {
      const without = toEvent({ ...obs, url }, policy, identity).event!;
      expect(without).not.toHaveProperty('url');
      expect(EventSchema.safeParse(without).success).toBe(true);
    }
  });

  it('is never sent with a query string, even from a caller that did not clean it', () => {
    const event = toEvent({ ...obs, url: 'https://www.google.com/search?q=how+to+tie+a+noose' }, policy, identity).event!;
    expect(event).not.toHaveProperty('url');
  });
});
