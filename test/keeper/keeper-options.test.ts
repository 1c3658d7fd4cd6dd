import { describe, expect, it } from 'vitest';
import { formatDurationMs } from '../../src/duration.js';
import { ConfigError } from '../../src/errors.js';
import { failoverWindow, resolveKeeperOptions, type LeaseKeeperOptions } from '../../src/keeper/keeper-options.js';
import { LeaseKeeper } from '../../src/keeper/lease-keeper.js';
import { SimClock } from '../../sim/sim-clock.js';
import { FakeLeaseStore } from '../support/fake-store.js';

const clock = new SimClock();
const base: LeaseKeeperOptions = { key: 'leader', identity: 'a', ttlMs: 180_000, clock };

function configError(options: Partial<LeaseKeeperOptions> & Record<string, unknown>): ConfigError {
  let caught: unknown;
  try {
    resolveKeeperOptions({ ...base, ...options } as LeaseKeeperOptions);
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected a ConfigError for ${JSON.stringify(options)}`).toBeInstanceOf(ConfigError);
  const error = caught as ConfigError;
  expect(error.code).toBe('E_CONFIG');
  return error;
}

describe('resolveKeeperOptions: defaults', () => {
  it('derives 60 s / 120 s / 10 s (renew interval / deadline / request timeout) from ttl 180 s', () => {
    const o = resolveKeeperOptions(base);
    expect(o).toMatchObject({
      key: 'leader',
      identity: 'a',
      ttlMs: 180_000,
      renewIntervalMs: 60_000,
      renewDeadlineMs: 120_000,
      requestTimeoutMs: 10_000,
      retryIntervalMs: 15_000,
      jitterRatio: 0.1,
      maxClockDriftRatio: 0.01,
      driftMarginMs: 1_800,
      clockUncertaintyMs: 1_000,
      validityMs: 177_200,
      stepDownMarginMs: 47_200,
      contend: true,
      releaseOnStop: true,
      watchdog: undefined,
    });
    expect(o.clock).toBe(clock);
    expect(o.random).toBe(Math.random);
  });

  it('caps the default request timeout at 10 s and scales it below 100 s', () => {
    expect(resolveKeeperOptions({ ...base, ttlMs: 600_000 }).requestTimeoutMs).toBe(10_000);
    expect(resolveKeeperOptions({ ...base, ttlMs: 30_000 }).requestTimeoutMs).toBe(3_000);
  });

  it('derives the retry interval from an explicit renew interval', () => {
    const o = resolveKeeperOptions({ ...base, renewIntervalMs: 40_000 });
    expect(o.retryIntervalMs).toBe(10_000);
    expect(o.renewDeadlineMs).toBe(120_000);
  });

  it('accepts a renew deadline up to ttl − drift − clock uncertainty − requestTimeout − 20 ms', () => {
    // 180000 − 1800 − 1000 − 10000 − 20 = 167180.
    expect(resolveKeeperOptions({ ...base, renewDeadlineMs: 167_180 }).stepDownMarginMs).toBe(20);
  });

  it('validates in the LeaseKeeper constructor too', () => {
    const store = new FakeLeaseStore(clock);
    expect(() => new LeaseKeeper(store, { ...base, ttlMs: 0 })).toThrow(ConfigError);
  });
});

describe('resolveKeeperOptions: rules', () => {
  it('rule 1: key and identity must be non-empty strings', () => {
    const key = configError({ key: '' });
    expect(key.option).toBe('key');
    expect(key.message).toBe('invalid option key: must be a non-empty string (got "")');
    const identity = configError({ identity: 42 as unknown as string });
    expect(identity.option).toBe('identity');
    expect(identity.message).toBe('invalid option identity: must be a non-empty string (got 42)');
  });

  it.each([
    ['ttlMs', 0],
    ['ttlMs', -1],
    ['ttlMs', Number.NaN],
    ['ttlMs', Number.POSITIVE_INFINITY],
    ['renewIntervalMs', 0],
    ['renewDeadlineMs', -5],
    ['requestTimeoutMs', Number.NaN],
    ['retryIntervalMs', 0],
  ])('rule 2: %s = %s must be a finite number > 0', (option, value) => {
    const error = configError({ [option]: value });
    expect(error.option).toBe(option);
    expect(error.message).toBe(`invalid option ${option}: must be a finite number > 0 (got ${Number.isFinite(value) ? formatDurationMs(value) : String(value)})`);
  });

  it('rule 2: ttlMs is required', () => {
    const error = configError({ ttlMs: undefined as unknown as number });
    expect(error.option).toBe('ttlMs');
    expect(error.message).toContain('(got undefined)');
  });

  it.each([
    ['jitterRatio', 1, '[0, 1)'],
    ['jitterRatio', -0.1, '[0, 1)'],
    ['maxClockDriftRatio', 0.5, '[0, 0.5)'],
    ['maxClockDriftRatio', Number.NaN, '[0, 0.5)'],
  ])('rule 2: %s = %s must be in range', (option, value, range) => {
    const error = configError({ [option]: value });
    expect(error.option).toBe(option);
    expect(error.message).toBe(`invalid option ${option}: must be in ${range} (got ${String(value)})`);
  });

  it('rule 3: renewIntervalMs < renewDeadlineMs, naming both values', () => {
    const error = configError({ renewIntervalMs: 120_000 });
    expect(error.option).toBe('renewIntervalMs');
    expect(error.message).toBe('invalid option renewIntervalMs: must be shorter than renewDeadlineMs (2m) (got 2m)');
    // A derived deadline (ttl × 2/3) is a duration in the message, never a raw float like 6666.666666666667 ms.
    const derived = configError({ ttlMs: 10_000, renewIntervalMs: 7_000 });
    expect(derived.message).toContain('must be shorter than renewDeadlineMs (6s667ms)');
    expect(derived.message).not.toMatch(/\d\.\d{3,}/);
  });

  it('rule 4: a renew deadline leaving less than a 20 ms step-down margin is refused, with the arithmetic', () => {
    const error = configError({ renewDeadlineMs: 167_181 });
    expect(error.option).toBe('renewDeadlineMs');
    expect(error.message).toBe(
      'invalid option renewDeadlineMs: must be at most ttlMs − driftMargin − clockUncertainty − requestTimeoutMs − 20ms step-down margin = ' +
        '3m − 1s800ms − 1s − 10s − 20ms = 2m47s180ms (got 2m47s181ms)',
    );
    // An explicit request timeout and clock uncertainty enter the sum.
    const withTimeout = configError({ requestTimeoutMs: 60_000, maxClockDriftRatio: 0, clockUncertaintyMs: 0 });
    expect(withTimeout.message).toContain('3m − 0s − 0s − 1m − 20ms = 1m59s980ms (got 2m)');
    const withUncertainty = configError({ clockUncertaintyMs: 49_000 });
    expect(withUncertainty.message).toContain('3m − 1s800ms − 49s − 10s − 20ms = 1m59s180ms');
  });

  it('lower bounds from timer and network resolution, named in the error (issue 13 item 8)', () => {
    // --ttl 1ms used to pass with a 0.1 ms request timeout and loop on ~500 warnings/s.
    expect(configError({ ttlMs: 1 }).message).toBe(
      'invalid option ttlMs: must be at least 200ms (a shorter lease leaves no room for timer lateness and a store round trip) (got 1ms)',
    );
    expect(configError({ ttlMs: 1_000, requestTimeoutMs: 5 }).message).toMatch(/requestTimeoutMs: must be at least 10ms \(one store round trip with an fsync/);
    expect(configError({ ttlMs: 1_000, retryIntervalMs: 1 }).message).toMatch(/retryIntervalMs: must be at least 10ms \(timers fire that late/);
    expect(configError({ ttlMs: 1_000, renewIntervalMs: 5 }).option).toBe('renewIntervalMs');
    expect(configError({ maxProgressSilenceMs: 1 }).option).toBe('maxProgressSilenceMs');
    // --ttl 1s --renew-deadline 889ms used to leave a 1 ms kill grace.
    const thin = configError({ ttlMs: 1_000, renewDeadlineMs: 889 });
    expect(thin.message).toContain('1s − 10ms − 50ms − 100ms − 20ms = 820ms (got 889ms)');
    expect(resolveKeeperOptions({ ...base, ttlMs: 1_000, renewDeadlineMs: 820 }).stepDownMarginMs).toBe(20);
    expect(resolveKeeperOptions({ ...base, ttlMs: 200 })).toMatchObject({ requestTimeoutMs: 20, clockUncertaintyMs: 10 });
  });

  it('clockUncertaintyMs: default min(1 s, 5 % of ttl); must be finite and >= 0', () => {
    expect(resolveKeeperOptions({ ...base, ttlMs: 1_000 }).clockUncertaintyMs).toBe(50);
    expect(resolveKeeperOptions({ ...base, ttlMs: 600_000 }).clockUncertaintyMs).toBe(1_000);
    expect(resolveKeeperOptions({ ...base, clockUncertaintyMs: 0 }).validityMs).toBe(178_200);
    expect(configError({ clockUncertaintyMs: -1 }).option).toBe('clockUncertaintyMs');
    expect(configError({ clockUncertaintyMs: Number.NaN }).option).toBe('clockUncertaintyMs');
  });

  it('rule 5: retryIntervalMs < renewDeadlineMs − renewIntervalMs (one retry fits)', () => {
    const error = configError({ retryIntervalMs: 60_000 });
    expect(error.option).toBe('retryIntervalMs');
    expect(error.message).toBe(
      'invalid option retryIntervalMs: must be shorter than renewDeadlineMs − renewIntervalMs = 1m so that at least one retry fits (got 1m)',
    );
    // The default retry (renewInterval / 4) can break the rule too when the renew interval is long.
    const derived = configError({ renewIntervalMs: 100_000 });
    expect(derived.option).toBe('retryIntervalMs');
    expect(derived.message).toContain('= 20s so that');
    expect(derived.message).toContain('(got 25s)');
  });

  it('rule 6: watchdog timings', () => {
    const interval = configError({ watchdog: { intervalMs: 0, graceMs: 0 } });
    expect(interval.option).toBe('watchdog.intervalMs');
    expect(interval.message).toBe('invalid option watchdog.intervalMs: must be a finite number > 0 (got 0s)');
    const grace = configError({ watchdog: { intervalMs: 1_000, graceMs: -1 } });
    expect(grace.option).toBe('watchdog.graceMs');
    expect(grace.message).toBe('invalid option watchdog.graceMs: must be >= 0 (got -1ms)');
    const respawn = configError({ watchdog: { intervalMs: 1_000, graceMs: 0, respawnDelayMaxMs: Number.NaN } });
    expect(respawn.option).toBe('watchdog.respawnDelayMaxMs');
    expect(respawn.message).toBe('invalid option watchdog.respawnDelayMaxMs: must be >= 0 (got NaN)');
    expect(resolveKeeperOptions({ ...base, watchdog: { intervalMs: 1_000, graceMs: 0 } }).watchdog).toEqual({ intervalMs: 1_000, graceMs: 0 });
  });

  it('checks the rules in the documented order', () => {
    // Both rule 2 (jitter) and rule 4 (deadline) are broken: rule 2 is reported.
    expect(configError({ jitterRatio: 2, renewDeadlineMs: 179_000 }).option).toBe('jitterRatio');
    // Rules 3 and 5 are both broken: rule 3 is reported.
    expect(configError({ renewIntervalMs: 130_000, retryIntervalMs: 100_000 }).option).toBe('renewIntervalMs');
  });
});

describe('failoverWindow', () => {
  it('gives the worst-case figures for the ttl 180 s defaults', () => {
    const w = failoverWindow(resolveKeeperOptions(base));
    // One acquire retry = retry 15 s + that acquire's request timeout 10 s = 25 s.
    expect(w).toEqual({
      afterCleanStopMs: 35_000, // the release lands (≤ 10 s) + 25 s
      afterOwnerDeathMs: 95_000, // next check (≤ renew interval 60 s) + release 10 s + 25 s
      afterCrashMs: 215_000, // a renewal in flight lands (≤ 10 s) + ttl 180 s + 25 s
      afterCrashWithWatchdogMs: undefined,
    });
  });

  it('adds the watchdog terms when there is one', () => {
    const o = resolveKeeperOptions({ ...base, watchdog: { intervalMs: 30_000, graceMs: 60_000, respawnDelayMaxMs: 5_000 } });
    // in-flight renewal + ttl + grace + poll interval + respawn delay + the new keeper's acquire
    expect(failoverWindow(o).afterCrashWithWatchdogMs).toBe(10_000 + 180_000 + 60_000 + 30_000 + 5_000 + 10_000);
    const noRespawn = resolveKeeperOptions({ ...base, watchdog: { intervalMs: 30_000, graceMs: 60_000 } });
    expect(failoverWindow(noRespawn).afterCrashWithWatchdogMs).toBe(290_000);
  });

  it('is what LeaseKeeper.failoverWindow() reports', () => {
    const keeper = new LeaseKeeper(new FakeLeaseStore(clock), { ...base, ttlMs: 30_000 });
    expect(keeper.failoverWindow()).toEqual({
      afterCleanStopMs: 3_000 + 2_500 + 3_000,
      afterOwnerDeathMs: 10_000 + 3_000 + 5_500,
      afterCrashMs: 3_000 + 30_000 + 5_500,
      afterCrashWithWatchdogMs: undefined,
    });
  });

  it("uses the store's expiry bound for a crash (etcd: whole-second TTLs and its expiry sweep)", () => {
    const store = Object.assign(new FakeLeaseStore(clock), { expiryBoundMs: (ttlMs: number) => Math.ceil(ttlMs / 1000) * 1000 + 600 });
    const keeper = new LeaseKeeper(store, { ...base, ttlMs: 1_200, watchdog: { intervalMs: 1_000, graceMs: 0 } });
    const { requestTimeoutMs: timeout, retryIntervalMs: retry } = keeper.options;
    expect(keeper.failoverWindow().afterCrashMs).toBe(timeout + 2_600 + retry + timeout);
    expect(keeper.failoverWindow().afterCrashWithWatchdogMs).toBe(timeout + 2_600 + 1_000 + timeout);
    expect(failoverWindow(keeper.options).afterCrashMs).toBe(timeout + 1_200 + retry + timeout);
  });
});
