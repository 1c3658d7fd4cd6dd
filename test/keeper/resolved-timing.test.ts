/**
 * Issue 12, "validate once": the keeper's timing is resolved once, travels as plain data (over IPC,
 * to a worker thread), and is used as it is; one that crossed a boundary is checked once, cheaply,
 * and refused with the field named when it was altered on the way.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { checkKeeperTiming, resolveKeeperOptions, resolveKeeperTiming, type ResolvedKeeperTiming } from '../../src/keeper/keeper-options.js';
import { LeaseKeeper } from '../../src/keeper/lease-keeper.js';
import { MemoryLeaseStore } from '../../src/store/memory-store.js';
import { SimClock } from '../../sim/sim-clock.js';

const clock = new SimClock();
// ttl 20 s: the defaults (ttl / 3, × 2/3) are not whole milliseconds, so a round trip must keep them exactly.
const timing = resolveKeeperTiming({ key: 'leader', identity: 'a', ttlMs: 20_000 });

function refusal(value: unknown): ConfigError {
  let caught: unknown;
  try {
    checkKeeperTiming(value);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ConfigError);
  return caught as ConfigError;
}

/** A copy of the timing as another process receives it, with `change` applied. */
function received(change: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...(JSON.parse(JSON.stringify(timing)) as Record<string, unknown>), ...change };
}

describe('ResolvedKeeperTiming', () => {
  it('is plain data, marked and frozen, that survives structured clone and JSON exactly', () => {
    expect(timing.kind).toBe('resolved-keeper-timing');
    expect(timing.renewIntervalMs).toBe(20_000 / 3);
    expect(Object.isFrozen(timing)).toBe(true);
    expect(structuredClone(timing)).toEqual(timing);
    expect(JSON.parse(JSON.stringify(timing))).toEqual(timing);
    // The same numbers as resolveKeeperOptions, which only adds this process's seams.
    const { clock: _clock, random: _random, ...options } = resolveKeeperOptions({ key: 'leader', identity: 'a', ttlMs: 20_000 });
    expect(options).toEqual(timing);
  });

  it('reaches the keeper as it is: new LeaseKeeper(store, { timing }) resolves nothing again', () => {
    const keeper = new LeaseKeeper(new MemoryLeaseStore(clock), { timing, clock });
    expect(keeper.timing).toBe(timing);
    expect(keeper.options).toMatchObject({ ...timing, clock });
    // A plain call still resolves (and validates) as before.
    expect(new LeaseKeeper(new MemoryLeaseStore(clock), { key: 'leader', identity: 'a', ttlMs: 20_000, clock }).options).toMatchObject(timing);
    expect(() => new LeaseKeeper(new MemoryLeaseStore(clock), { key: 'leader', identity: 'a', ttlMs: 0, clock })).toThrow(ConfigError);
  });

  it('checks a copy from another process once, fills no default, and keeps it as received', () => {
    const copy = received();
    expect(checkKeeperTiming(copy)).toBe(copy);
    expect(Object.isFrozen(copy)).toBe(true);
    const keeper = new LeaseKeeper(new MemoryLeaseStore(clock), { timing: copy as unknown as ResolvedKeeperTiming, clock });
    expect(keeper.timing).toBe(copy);
  });

  it('refuses options that were never resolved, naming what is expected', () => {
    const raw = refusal({ key: 'leader', identity: 'a', ttlMs: 20_000 });
    expect(raw.option).toBe('keeper');
    expect(raw.message).toMatch(/^invalid option keeper: must be a resolved keeper timing \(resolveKeeperTiming's result/);
  });

  it('refuses a field missing instead of filling its default', () => {
    expect(refusal(received({ retryIntervalMs: undefined })).option).toBe('retryIntervalMs');
    expect(refusal(received({ contend: undefined })).option).toBe('contend');
  });

  it('refuses a derived field that the others do not make, with the value it should have', () => {
    const error = refusal(received({ validityMs: 19_999 }));
    expect(error.option).toBe('validityMs');
    expect(error.message).toBe(
      'invalid option validityMs: must be 18s800ms, what the other fields of a resolved keeper timing make (it was altered after resolveKeeperTiming) (got 19s999ms)',
    );
    // A deadline pushed past the lease's validity breaks rule 4 even with the margin recomputed to match.
    const late = received({ renewDeadlineMs: 18_000, stepDownMarginMs: 18_800 - 18_000 - 2_000 });
    expect(refusal(late).option).toBe('renewDeadlineMs');
  });

  it('is what a keeper given an unchecked timing runs first: an altered one never starts', () => {
    const altered = received({ validityMs: 19_999 }) as unknown as ResolvedKeeperTiming;
    expect(() => new LeaseKeeper(new MemoryLeaseStore(clock), { timing: altered, clock })).toThrow(/invalid option validityMs/);
  });
});

describe('numbers in option errors', () => {
  it('a derived default reads as a duration, never a raw float', () => {
    // ttl 10 s: renew interval 3333.33…, retry 833.33…; a 3.5 s deadline leaves no room for a retry.
    let caught: unknown;
    try {
      resolveKeeperTiming({ key: 'leader', identity: 'a', ttlMs: 10_000, renewDeadlineMs: 3_500 });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const { message } = caught as ConfigError;
    expect(message).toBe('invalid option retryIntervalMs: must be shorter than renewDeadlineMs − renewIntervalMs = 167ms so that at least one retry fits (got 833ms)');
    expect(message).not.toMatch(/\d\.\d{3,}/);
  });
});
