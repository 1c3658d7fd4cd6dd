import { describe, expect, it } from 'vitest';
import type { Clock, TimerHandle } from '../../src/clock.js';
import { LeaseKeeper } from '../../src/keeper/lease-keeper.js';
import { MemoryLeaseStore } from '../../src/store/memory-store.js';
import { SimClock } from '../../sim/sim-clock.js';

/** A clock whose timers fire 1 ms early, as real timers sometimes do against a monotonic clock. */
class EarlyClock implements Clock {
  constructor(readonly base: SimClock) {}
  now(): number {
    return this.base.now();
  }
  wallNow(): number {
    return this.base.wallNow();
  }
  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    return this.base.setTimeout(callback, Math.max(0, delayMs - 1));
  }
  clearTimeout(handle: TimerHandle): void {
    this.base.clearTimeout(handle);
  }
}

describe('renew deadline with timers that fire early', () => {
  it('still steps down at the deadline, not a request timeout later', async () => {
    const base = new SimClock();
    const store = new MemoryLeaseStore(base);
    const keeper = new LeaseKeeper(
      { kind: 'hanging', acquire: (r) => store.acquire(r), renew: () => new Promise(() => {}), release: () => new Promise(() => {}), transfer: () => new Promise(() => {}), read: (k) => store.read(k), close: async () => {} },
      { key: 'k', identity: 'a', ttlMs: 30_000, clock: new EarlyClock(base), random: () => 0, requestTimeoutMs: 3_000 },
    );
    let steppedDownAt = -1;
    keeper.on('stopped-leading', () => {
      if (steppedDownAt < 0) steppedDownAt = base.now();
    });
    keeper.start();
    await base.runUntil(60_000);
    // Acquired at 0 (sent at 0); the renew deadline is 20 s later. Renewals hang from 10 s on.
    expect(steppedDownAt).toBe(20_000);
  });
});
