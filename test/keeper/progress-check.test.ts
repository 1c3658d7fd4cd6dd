import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { LeaseKeeper } from '../../src/keeper/lease-keeper.js';
import { MemoryLeaseStore } from '../../src/store/memory-store.js';
import { SimClock } from '../../sim/sim-clock.js';

function setup(maxProgressSilenceMs = 120_000) {
  const clock = new SimClock();
  const store = new MemoryLeaseStore(clock);
  const keeper = new LeaseKeeper(store, { key: 'k', identity: 'a', ttlMs: 180_000, clock, random: () => 0.5, maxProgressSilenceMs });
  const stuck: Array<{ at: number; silentMs: number; pending: number }> = [];
  keeper.on('stuck', (info) => stuck.push({ at: clock.now(), ...info }));
  keeper.start();
  return { clock, store, keeper, stuck };
}

describe('progress check', () => {
  it('an idle owner with no work is never stuck', async () => {
    const { clock, keeper, stuck, store } = setup();
    await clock.runUntil(6 * 3_600_000);
    expect(stuck).toEqual([]);
    expect(keeper.isLeading()).toBe(true);
    expect((await store.read('k'))?.holder).toBe('a');
  });

  it('an owner that keeps making progress while busy is not stuck', async () => {
    const { clock, keeper, stuck } = setup();
    await clock.runUntil(1_000);
    keeper.setPendingWork(3);
    for (let t = 60_000; t <= 3_600_000; t += 60_000) {
      await clock.runUntil(t);
      keeper.progress(3);
    }
    expect(stuck).toEqual([]);
    expect(keeper.isLeading()).toBe(true);
  });

  it('work pending with no progress for maxProgressSilenceMs: released and stopped with reason stuck', async () => {
    const { clock, keeper, stuck, store } = setup();
    const stops: string[] = [];
    keeper.on('stopped-leading', (reason) => stops.push(reason));
    await clock.runUntil(10_000);
    keeper.setPendingWork(1);
    await clock.runUntil(50_000);
    keeper.progress(2); // progress at 50 s, still work pending
    await clock.runUntil(600_000);
    expect(stuck).toEqual([{ at: 170_000, silentMs: 120_000, pending: 2 }]);
    expect(stops).toEqual(['stuck']);
    expect(keeper.state).toBe('stopped');
    const info = await store.read('k');
    expect(info?.holder).toBeNull();
    expect(keeper.stats().stuck).toBe(1);
    expect(keeper.stats().stepDowns).toEqual({ stuck: 1 });
  });

  it('work that finishes (pending back to 0) disarms the check', async () => {
    const { clock, keeper, stuck } = setup();
    await clock.runUntil(1_000);
    keeper.setPendingWork(1);
    await clock.runUntil(100_000);
    keeper.progress(0);
    await clock.runUntil(3_600_000);
    expect(stuck).toEqual([]);
  });

  it('rejects a non-positive maxProgressSilenceMs, naming the option', () => {
    const clock = new SimClock();
    expect(() => new LeaseKeeper(new MemoryLeaseStore(clock), { key: 'k', identity: 'a', ttlMs: 1000, clock, maxProgressSilenceMs: 0 })).toThrow(
      ConfigError,
    );
    expect(() => new LeaseKeeper(new MemoryLeaseStore(clock), { key: 'k', identity: 'a', ttlMs: 1000, clock, maxProgressSilenceMs: 0 })).toThrow(
      /maxProgressSilenceMs/,
    );
  });
});
