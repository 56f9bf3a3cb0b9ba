import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { uuidv7, type AgentEvent } from '@haven/protocol';
import { Outbox } from './outbox';

const DEVICE = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';

function event(severity: number, match = 'want to die'): AgentEvent {
  return {
    id: uuidv7(),
    occurredAt: new Date().toISOString(),
    source: 'keys',
    category: 'suicide',
    severity,
    ruleIds: ['suicide.en.want_to_die'],
    evidence: { match, before: 'i ', after: '' },
    app: null,
    windowTitle: null,
    osUser: 'pupil',
    deviceId: DEVICE,
  };
}

describe('outbox', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'haven-outbox-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const file = () => path.join(dir, 'outbox.log');

  it('keeps appended events across a reopen, oldest first, and forgets acked ones', () => {
    const a = event(3);
    const b = event(4);
    const c = event(2);
    const box = new Outbox({ dir });
    box.append([a, b]);
    box.append([c, a]); // a repeated id is not written twice
    box.ack([b.id]);
    box.close();
    const again = new Outbox({ dir });
    expect(again.pending(10).map((e) => e.id)).toEqual([a.id, c.id]);
    expect(again.recovery).toEqual({ pending: 2, truncatedBytes: 0, reason: null });
    expect(again.pending(10, new Set([a.id])).map((e) => e.id)).toEqual([c.id]);
    again.close();
  });

  it('cuts a torn last record and keeps everything before it', () => {
    const box = new Outbox({ dir });
    const kept = [event(3), event(4)];
    box.append(kept);
    box.append([event(5)]);
    box.close();
    const full = statSync(file()).size;
    truncateSync(file(), full - 7); // the last record loses its end, as in a crash mid-write
    const again = new Outbox({ dir });
    expect(again.recovery.reason).toBe('the last record was cut short');
    expect(again.recovery.truncatedBytes).toBeGreaterThan(0);
    expect(again.pending(10).map((e) => e.id)).toEqual(kept.map((e) => e.id));
    const later = event(4);
    again.append([later]); // writing goes on after the cut
    again.close();
    const third = new Outbox({ dir });
    expect(third.pending(10).map((e) => e.id)).toEqual([...kept, later].map((e) => e.id));
    expect(third.recovery.truncatedBytes).toBe(0);
    third.close();
  });

  it('stops at a corrupt record (bad checksum or garbage) and says why', () => {
    const box = new Outbox({ dir });
    const first = event(3);
    box.append([first]);
    box.close();
    appendFileSync(file(), Buffer.from('this is not a record at all'));
    const again = new Outbox({ dir });
    expect(again.recovery.reason).toBe('a record header is corrupt');
    expect(again.pending(10).map((e) => e.id)).toEqual([first.id]);
    again.close();

    const bytes = readFileSync(file());
    bytes[bytes.length - 3]! ^= 0xff; // flip a payload byte of the only record
    writeFileSync(file(), bytes);
    const third = new Outbox({ dir });
    expect(third.recovery.reason).toBe('a record failed its checksum');
    expect(third.depth).toBe(0);
    third.close();
  });

  it('when full, drops the lowest-severity oldest event below 4, never 4 or 5, and counts drops', () => {
    const box = new Outbox({ dir, maxEvents: 3 });
    const low1 = event(1);
    const s4 = event(4);
    const low2 = event(2);
    box.append([low1, s4, low2]);
    const s3 = event(3);
    box.append([s3]); // low1 (severity 1) goes
    expect(box.pending(10).map((e) => e.id)).toEqual([s4.id, low2.id, s3.id]);
    const s5 = event(5);
    const s4b = event(4);
    box.append([s5, s4b]); // low2 then s3 go
    expect(box.pending(10).map((e) => e.id)).toEqual([s4.id, s5.id, s4b.id]);
    const s2 = event(2);
    box.append([s2]); // only 4s and 5s are left: the newcomer itself is the lowest
    expect(box.pending(10).map((e) => e.id)).toEqual([s4.id, s5.id, s4b.id]);
    const s5b = event(5);
    box.append([s5b]); // 4 and 5 are never dropped: the bound gives way
    expect(box.depth).toBe(4);
    expect(box.dropped).toBe(4);
    box.close();
    const again = new Outbox({ dir, maxEvents: 3 });
    expect(again.dropped).toBe(4);
    expect(again.depth).toBe(4);
    again.close();
  });

  it('compacts once acked records outweigh live ones, keeping pending events and the drop count', () => {
    const box = new Outbox({ dir, maxEvents: 100, compactAfterBytes: 2000 });
    const keep = event(5);
    box.append([keep]);
    for (let i = 0; i < 40; i++) {
      const e = event(i % 2 === 0 ? 1 : 3);
      box.append([e]);
      box.ack([e.id]);
    }
    const sizeAfter = statSync(file()).size;
    expect(sizeAfter).toBeLessThan(2000);
    box.close();
    const again = new Outbox({ dir });
    expect(again.pending(10).map((e) => e.id)).toEqual([keep.id]);
    again.close();
  });

  it('an event is captured once append returns: it survives kill -9 of the process', async () => {
    const ev = event(4);
    const script = `
      const { Outbox } = require(${JSON.stringify(require.resolve('../../dist/outbox/outbox'))});
      const box = new Outbox({ dir: ${JSON.stringify(dir)} });
      box.append([${JSON.stringify(ev)}]);
      process.stdout.write('captured\\n');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('captured')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
    });
    child.removeAllListeners('exit');
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGKILL');
    await exited;
    const again = new Outbox({ dir });
    expect(again.pending(10)).toEqual([ev]);
    again.close();
  });
});
