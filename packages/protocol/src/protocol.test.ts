import {
  CloseCode,
  encodeMessage,
  EventSchema,
  isUuidV7,
  LIMITS,
  parseAgentMessage,
  parseCollectorMessage,
  uuidv7,
  uuidv7Time,
  type AgentEvent,
} from './index';

const deviceId = '0b9f1f5e-3c1a-4d47-9a3e-2f5d6c7b8a90';

function event(over: Partial<AgentEvent> = {}): AgentEvent {
  return {
    id: uuidv7(),
    occurredAt: new Date().toISOString(),
    source: 'keys',
    category: 'bullying',
    severity: 3,
    ruleIds: ['bullying.en.insult.1'],
    evidence: { match: 'matched', before: 'a little before ', after: ' and after' },
    app: 'Notepad',
    windowTitle: 'Untitled - Notepad',
    osUser: 'pupil1',
    deviceId,
    ...over,
  };
}

describe('uuidv7', () => {
  it('makes valid, unique, time-ordered ids', () => {
    const ids = Array.from({ length: 5000 }, () => uuidv7());
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(isUuidV7(id)).toBe(true);
    expect([...ids].sort()).toEqual(ids);
  });

  it('embeds the creation time', () => {
    const t = Date.UTC(2026, 10, 24, 9, 30);
    expect(uuidv7Time(uuidv7(t + 10_000))).toBeGreaterThanOrEqual(t + 10_000);
  });

  it('rejects other versions and upper case', () => {
    expect(isUuidV7('0b9f1f5e-3c1a-4d47-9a3e-2f5d6c7b8a90')).toBe(false);
    expect(isUuidV7(uuidv7().toUpperCase())).toBe(false);
  });
});

describe('parseAgentMessage', () => {
  it('accepts a valid events batch', () => {
    const frame = encodeMessage({ type: 'events', batchId: uuidv7(), events: [event(), event()] });
    const result = parseAgentMessage(frame);
    expect(result.ok).toBe(true);
  });

  it('reports malformed JSON and non-objects', () => {
    for (const frame of ['{"type":', '[1,2]', '42', 'null', '{"no":"type"}']) {
      const result = parseAgentMessage(frame);
      expect(result).toMatchObject({ ok: false, failure: { kind: 'malformed' } });
    }
  });

  it('reports an unknown type without echoing long input', () => {
    const result = parseAgentMessage(JSON.stringify({ type: 'x'.repeat(500) }));
    expect(result).toMatchObject({ ok: false, failure: { kind: 'unknown-type' } });
    if (!result.ok && result.failure.kind === 'unknown-type') expect(result.failure.type.length).toBe(64);
  });

  it('names the index of the first invalid event and the batch id', () => {
    const batchId = uuidv7();
    const events = [event(), event(), event({ severity: 9 as never }), event({ category: 'nope' as never })];
    const result = parseAgentMessage(JSON.stringify({ type: 'events', batchId, events }));
    expect(result).toMatchObject({ ok: false, failure: { kind: 'invalid', index: 2, batchId } });
  });

  it('never puts captured text into error messages', () => {
    const secret = 'SECRET-CAPTURED-TEXT '.repeat(20);
    const events = [event({ evidence: { match: secret, before: '', after: '' } })];
    const result = parseAgentMessage(JSON.stringify({ type: 'events', batchId: uuidv7(), events }));
    expect(result.ok).toBe(false);
    expect(JSON.stringify(result)).not.toContain('SECRET-CAPTURED-TEXT');
  });

  it('limits evidence context to 200 characters in all', () => {
    const ok = EventSchema.safeParse(event({ evidence: { match: 'x', before: 'a'.repeat(100), after: 'b'.repeat(100) } }));
    const tooLong = EventSchema.safeParse(event({ evidence: { match: 'x', before: 'a'.repeat(150), after: 'b'.repeat(51) } }));
    expect(ok.success).toBe(true);
    expect(tooLong.success).toBe(false);
  });

  it('takes a browser address of at most 2,048 characters, http(s), without query, fragment or user', () => {
    const url = (u: unknown) => EventSchema.safeParse(event({ url: u as string })).success;
    expect(url(undefined)).toBe(true); // Linux, and any window that is not a browser
    expect(url('https://www.example.com/forum/thread/123')).toBe(true);
    expect(url('http://example.com')).toBe(true);
    expect(url('https://medium.example/@someone/post')).toBe(true);
    const host = 'https://example.com/';
    expect(url(host + 'a'.repeat(LIMITS.maxUrlChars - host.length))).toBe(true);
    expect(url(host + 'a'.repeat(LIMITS.maxUrlChars - host.length + 1))).toBe(false);
    for (const bad of [
      'https://www.example.com/search?q=how+to',
      'https://example.com/page#access_token=abc',
      'https://example.com/?',
      'https://user:pass@example.com/',
      'ftp://example.com/file',
      'file:///home/pupil/diary.txt',
      'javascript:alert(1)',
      'chrome://settings',
      'https://example.com/a b',
      'https://example.com/a\nb',
      'example.com/page',
      '',
      null,
    ]) {
      expect([bad, url(bad)]).toEqual([bad, false]);
    }
  });

  it('refuses batches over the event limit and empty batches', () => {
    const many = Array.from({ length: LIMITS.maxEventsPerBatch + 1 }, () => event({ windowTitle: null, app: null }));
    const over = parseAgentMessage(JSON.stringify({ type: 'events', batchId: uuidv7(), events: many }));
    expect(over).toMatchObject({ ok: false, failure: { kind: 'invalid' } });
    const empty = parseAgentMessage(JSON.stringify({ type: 'events', batchId: uuidv7(), events: [] }));
    expect(empty).toMatchObject({ ok: false, failure: { kind: 'invalid' } });
  });

  it('refuses a frame over the byte limit', () => {
    const frame = Buffer.alloc(LIMITS.maxFrameBytes + 1, 0x20);
    expect(parseAgentMessage(frame)).toMatchObject({ ok: false, failure: { kind: 'too-big' } });
  });

  it('fills the heartbeat drop count default', () => {
    const result = parseAgentMessage(
      JSON.stringify({ type: 'heartbeat', agentVersion: '0.1.0', sources: { keys: { state: 'ok' } }, outboxDepth: 3, sentAt: new Date().toISOString() }),
    );
    expect(result).toMatchObject({ ok: true, message: { droppedEvents: 0 } });
  });
});

describe('encodeMessage', () => {
  it('refuses to build a frame over the limit', () => {
    const big = Array.from({ length: LIMITS.maxEventsPerBatch }, () =>
      event({ windowTitle: 'w'.repeat(LIMITS.maxWindowTitleChars), app: 'a'.repeat(LIMITS.maxAppChars) }),
    );
    expect(() => encodeMessage({ type: 'events', batchId: uuidv7(), events: big })).toThrow(RangeError);
  });
});

describe('parseCollectorMessage', () => {
  it('reads an ack and rejects a bad one', () => {
    const ok = parseCollectorMessage(JSON.stringify({ type: 'ack', batchId: uuidv7(), ids: [uuidv7()], duplicates: 0 }));
    expect(ok.ok).toBe(true);
    const bad = parseCollectorMessage(JSON.stringify({ type: 'ack', batchId: 'nope', ids: [], duplicates: 0 }));
    expect(bad.ok).toBe(false);
  });

  it('refuses an oversized frame in either direction, string or buffer', () => {
    const big = JSON.stringify({ type: 'ack', pad: 'é'.repeat(LIMITS.maxFrameBytes / 2 + 1) });
    expect(parseCollectorMessage(big)).toMatchObject({ ok: false, failure: { kind: 'too-big' } });
    expect(parseAgentMessage(big)).toMatchObject({ ok: false, failure: { kind: 'too-big' } });
    expect(parseAgentMessage([Buffer.from('{"type":'), Buffer.from('"heartbeat"}')])).toMatchObject({ ok: false, failure: { kind: 'invalid' } });
  });

  it('takes a policy with one to four known OCR languages, each once, or none (English)', () => {
    const policy = (over: object) =>
      parseCollectorMessage(
        JSON.stringify({ type: 'policy', version: 1, policy: { threshold: 3, sources: { title: true, keys: true, screen: true }, quietHours: [], ageBand: 'secondary', ...over } }),
      );
    expect(policy({}).ok).toBe(true);
    expect(policy({ ocrLanguages: ['eng', 'pol'] })).toMatchObject({ ok: true, message: { policy: { ocrLanguages: ['eng', 'pol'] } } });
    expect(policy({ ocrLanguages: ['eng', 'pol', 'ron', 'ara'] }).ok).toBe(true);
    expect(policy({ ocrLanguages: ['eng', 'pol', 'ron', 'ara', 'urd'] }).ok).toBe(false);
    expect(policy({ ocrLanguages: [] }).ok).toBe(false);
    expect(policy({ ocrLanguages: ['som'] }).ok).toBe(false); // no Somali data exists
    expect(policy({ ocrLanguages: ['eng', 'eng'] }).ok).toBe(false);
    expect(policy({ ocrLanguages: 'eng' }).ok).toBe(false);
  });

  it('keeps close codes distinct', () => {
    const values = Object.values(CloseCode);
    expect(new Set(values).size).toBe(values.length);
  });
});

describe('hello', () => {
  it('reports another protocol version before checking the shape', () => {
    const result = parseAgentMessage(JSON.stringify({ type: 'hello', protocol: 2, whatever: true }));
    expect(result).toMatchObject({ ok: false, failure: { kind: 'unsupported-protocol', protocol: 2 } });
  });
});
