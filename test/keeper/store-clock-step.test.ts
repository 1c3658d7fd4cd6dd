/**
 * Issue 13 item 5: stores judge expiry on their wall clock (file store `Date.now()`, Redis `TIME`,
 * PostgreSQL `now()`), the keeper judges validity on its own monotonic clock. A forward step of
 * the store's clock by Δ ends the lease Δ early in real time. The keeper trusts a lease for
 * ttl − drift − clockUncertaintyMs after sending the renewal, so a step up to clockUncertaintyMs
 * never lets a keeper believe it leads while the store already counts the lease as expired.
 *
 * Drift is set to 0 here so only the new margin covers the step. The store side is simulated by
 * `FakeLeaseStore.advanceStoreClock` (the store's clock jumps; the keepers' clocks do not).
 * Reproduce a failure: FC_SEED=<seed> FC_PATH=<path> npx vitest run test/keeper/store-clock-step.test.ts
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LeaseKeeper } from '../../src/keeper/lease-keeper.js';
import { SimClock } from '../../sim/sim-clock.js';
import { FakeLeaseStore, PausableClock } from '../support/fake-store.js';

const KEY = 'leader';

interface Run {
  readonly ttlMs: number;
  readonly clockUncertaintyMs: number | undefined;
  /** Store clock steps: at (fraction of the horizon) by (ms). */
  readonly steps: ReadonlyArray<{ at: number; byMs: number }>;
  /**
   * Keeper a's process stalls (fractions of the horizon): its renew-deadline timer cannot fire,
   * so only its validity stands between a late resume and a lease the store has ended.
   */
  readonly pause: { at: number; until: number };
}

/** Instants at which a keeper believed it led while the store counted the lease as expired or someone else's. */
async function violations(run: Run): Promise<string[]> {
  const clock = new SimClock();
  const server = new FakeLeaseStore(clock);
  const options = { key: KEY, ttlMs: run.ttlMs, maxClockDriftRatio: 0, random: () => 0.5, clock };
  const margin = run.clockUncertaintyMs === undefined ? {} : { clockUncertaintyMs: run.clockUncertaintyMs };
  const aClock = new PausableClock(clock);
  const keepers = ['a', 'b'].map(
    (identity) => new LeaseKeeper(server.connection(), { ...options, ...margin, identity, clock: identity === 'a' ? aClock : clock }),
  );
  for (const k of keepers) k.start();
  const horizon = 4 * run.ttlMs;
  const sampleMs = run.ttlMs / 200;
  const at = (fraction: number): number => Math.round((fraction * horizon) / sampleMs) * sampleMs;
  const steps = [...run.steps].map((s) => ({ atMs: Math.round(s.at * horizon), byMs: s.byMs })).sort((x, y) => x.atMs - y.atMs);
  const [pauseAt, resumeAt] = [at(run.pause.at), at(Math.max(run.pause.at, run.pause.until))];
  const found: string[] = [];
  for (let t = 0; t <= horizon; t += sampleMs) {
    while (steps.length > 0 && (steps[0] as { atMs: number }).atMs <= t) {
      const step = steps.shift() as { atMs: number; byMs: number };
      await clock.runUntil(step.atMs);
      server.advanceStoreClock(step.byMs);
    }
    await clock.runUntil(t);
    if (t === pauseAt) aClock.pause();
    if (t === resumeAt) aClock.resume();
    const lease = server.peek(KEY);
    for (const k of keepers) {
      if (k.state !== 'leading' || k.validityLeftMs() <= 0) continue;
      const ok = lease !== null && lease.holder === k.options.identity && lease.expiresInMs > 0;
      if (!ok) found.push(`${k.options.identity} leads at ${t} ms, store: ${JSON.stringify(lease)}`);
    }
  }
  await Promise.all(keepers.map((k) => k.stop()));
  return found;
}

describe('store clock steps forward (issue 13 item 5)', () => {
  it('canary: without a margin, a 50 ms step just after a renewal gives a keeper a lease the store has ended', async () => {
    // ttl 1 s: renewals every 316.7 ms (jitter 0.5), the one at 950 ms succeeds; a stalls from
    // 960 ms to 2 s; the store's clock steps 50 ms at 1 s, so the store ends the lease at 1900 ms
    // while a trusts it until 1950 ms.
    const run = { ttlMs: 1_000, steps: [{ at: 0.25, byMs: 50 }], pause: { at: 0.24, until: 0.5 } };
    const unsafe = await violations({ ...run, clockUncertaintyMs: 0 });
    expect(unsafe[0]).toMatch(/^a leads at 1900 ms/);
    expect(unsafe).toHaveLength(10); // 1900 … 1945 ms, every 5 ms
  });

  it('the default margin (5 % of a 1 s ttl = 50 ms) covers that step', async () => {
    const run = { ttlMs: 1_000, steps: [{ at: 0.25, byMs: 50 }], pause: { at: 0.24, until: 0.5 } };
    expect(await violations({ ...run, clockUncertaintyMs: undefined })).toEqual([]);
  });

  it('property: steps adding up to at most clockUncertaintyMs per ttl never give a keeper a lease the store has ended', async () => {
    const seed = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED);
    const runArb = fc
      .record({
        ttlMs: fc.constantFrom(1_000, 30_000, 180_000),
        marginPermille: fc.integer({ min: 0, max: 100 }),
        steps: fc.array(fc.record({ at: fc.integer({ min: 0, max: 999 }).map((n) => n / 1000), share: fc.integer({ min: 0, max: 100 }) }), {
          minLength: 1,
          maxLength: 3,
        }),
        pause: fc.record({ at: fc.integer({ min: 0, max: 999 }).map((n) => n / 1000), until: fc.integer({ min: 0, max: 999 }).map((n) => n / 1000) }),
      })
      .map(({ ttlMs, marginPermille, steps, pause }): Run => {
        const clockUncertaintyMs = Math.floor((ttlMs * marginPermille) / 1000);
        const shares = steps.reduce((n, s) => n + s.share, 0) || 1;
        // All steps together stay within the margin (they may fall inside one ttl).
        const scaled = steps.map((s) => ({ at: s.at, byMs: Math.floor((clockUncertaintyMs * s.share) / shares) }));
        return { ttlMs, clockUncertaintyMs, steps: scaled, pause };
      });
    await fc.assert(
      fc.asyncProperty(runArb, async (run) => {
        const found = await violations(run);
        expect(found, found.slice(0, 3).join('\n')).toEqual([]);
      }),
      {
        numRuns: Number(process.env.FC_RUNS ?? 150),
        ...(seed === undefined ? {} : { seed }),
        ...(process.env.FC_PATH === undefined ? {} : { path: process.env.FC_PATH }),
      },
    );
  }, 120_000);
});
