import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { attachKeeperLog } from '../../src/keeper/keeper-log.js';
import { LeaseKeeper } from '../../src/keeper/lease-keeper.js';
import { createLogger } from '../../src/logger.js';
import { MemoryLeaseStore } from '../../src/store/memory-store.js';
import { SimClock } from '../../sim/sim-clock.js';

function sink(): { stream: Writable; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, lines: () => chunks.join('').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
}

describe('keeper logs', () => {
  it('are structured, quiet by default, and name the key, identity and reason', async () => {
    const clock = new SimClock();
    const quiet = sink();
    const loud = sink();
    const make = (identity: string) => new LeaseKeeper(new MemoryLeaseStore(clock), { key: 'k', identity, ttlMs: 30_000, clock, random: () => 0 });
    const a = make('a');
    attachKeeperLog(a, createLogger({ destination: quiet.stream as never }));
    const b = make('b');
    const detach = attachKeeperLog(b, createLogger({ level: 'info', destination: loud.stream as never }));
    a.start();
    b.start();
    await clock.runUntil(1_000);
    await b.stop();
    detach();
    expect(quiet.lines()).toEqual([]);
    const msgs = loud.lines().map((l) => [l.msg, l.key, l.identity, l.reason ?? l.token]);
    expect(msgs).toEqual([
      ['new leader', 'k', 'b', 1],
      ['started leading', 'k', 'b', 1],
      ['stopped leading', 'k', 'b', 'stopped'],
      ['stopped', 'k', 'b', 'stopped'],
    ]);
  });

  it('redacts secrets in log records', () => {
    const out = sink();
    createLogger({ level: 'info', destination: out.stream as never }).info({ url: 'redis://:hunter2@h', store: { password: 'p' } }, 'x');
    const text = JSON.stringify(out.lines());
    expect(text).not.toContain('hunter2');
    expect(text).toContain('[redacted]');
  });
});
