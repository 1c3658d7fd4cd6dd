/**
 * Property: whatever the store outages, hangs, latencies, process pauses, stops and crashes
 * (within the bounds the keeper is designed for), no keeper ever reports `isLeading()` true at an
 * instant when the store's lease is expired or held by someone else, and once the faults end a
 * leader emerges.
 *
 * Bounds: every contender's clock runs at the store's rate (the drift margin is not exercised
 * here); a request the store applies at all, it applies within `requestTimeoutMs` of its sending
 * (answers may come later, or never).
 *
 * Reproduce a failure with the printed seed and path:
 *   FC_SEED=<seed> FC_PATH=<path> npx vitest run test/keeper/keeper-property.test.ts
 * More runs: FC_RUNS=2000.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveKeeperOptions, type LeaseKeeperOptions } from '../../src/keeper/keeper-options.js';
import { LeaseKeeper } from '../../src/keeper/lease-keeper.js';
import { Rng } from '../../sim/rng.js';
import { SimClock } from '../../sim/sim-clock.js';
import { FakeLeaseStore, PausableClock } from '../support/fake-store.js';

const KEY = 'leader';

/** A fraction in [min, max] with 1/1000 resolution (fc.double leans heavily toward tiny values). */
function frac(min: number, max: number): fc.Arbitrary<number> {
  return fc.integer({ min: Math.round(min * 1000), max: Math.round(max * 1000) }).map((n) => n / 1000);
}

/** Timings as fractions of ttl; always satisfy the option rules (checked again below). */
const timingArb = fc.record({
  ttlMs: fc.constantFrom(9_000, 30_000, 180_000),
  custom: fc.boolean(),
  renew: frac(0.15, 0.35),
  deadlineExtra: frac(0.1, 0.3),
  timeout: frac(0.02, 0.15),
  retry: frac(0.1, 0.9),
  jitterRatio: fc.constantFrom(0, 0.1, 0.5),
});

type Timing = (typeof timingArb extends fc.Arbitrary<infer T> ? T : never);

function keeperTiming(t: Timing): Partial<LeaseKeeperOptions> & { ttlMs: number } {
  if (!t.custom) return { ttlMs: t.ttlMs, jitterRatio: t.jitterRatio };
  const renewIntervalMs = Math.round(t.ttlMs * t.renew);
  const renewDeadlineMs = Math.round(t.ttlMs * (t.renew + t.deadlineExtra));
  return {
    ttlMs: t.ttlMs,
    renewIntervalMs,
    renewDeadlineMs,
    requestTimeoutMs: Math.round(t.ttlMs * t.timeout),
    retryIntervalMs: Math.max(1, Math.round((renewDeadlineMs - renewIntervalMs) * t.retry)),
    jitterRatio: t.jitterRatio,
  };
}

/** Fault events, placed in [0, 6 ttl) by `at` ∈ [0, 1); durations in units of ttl. */
const faultArb = fc.oneof(
  fc.record({ kind: fc.constant('down' as const), at: frac(0, 0.999), who: fc.nat(2), ttls: frac(0.01, 1.5) }),
  fc.record({ kind: fc.constant('hang' as const), at: frac(0, 0.999), who: fc.nat(2), ttls: frac(0.01, 1.5) }),
  fc.record({ kind: fc.constant('fail' as const), at: frac(0, 0.999), who: fc.nat(2), n: fc.integer({ min: 1, max: 5 }) }),
  fc.record({
    kind: fc.constant('slow' as const),
    at: frac(0, 0.999),
    who: fc.nat(2),
    ttls: frac(0.05, 2),
    /** Upper bounds of the per-call latencies, as fractions of requestTimeout. */
    request: frac(0, 0.99),
    response: frac(0, 2),
  }),
  fc.record({ kind: fc.constant('pause' as const), at: frac(0, 0.999), who: fc.nat(2), ttls: frac(0.01, 2) }),
  fc.record({ kind: fc.constant('restart' as const), at: frac(0, 0.999), who: fc.nat(2), crash: fc.boolean() }),
);

type Fault = (typeof faultArb extends fc.Arbitrary<infer T> ? T : never);

const scenarioArb = fc.record({
  timing: timingArb,
  contenders: fc.integer({ min: 1, max: 3 }),
  faults: fc.array(faultArb, { maxLength: 14 }),
  /** Seed of the per-call latency and jitter draws. */
  seed: fc.integer({ min: 1, max: 2 ** 31 - 2 }),
  /** Instants (fractions of the horizon) at which a contender's owner asks isLeading(). */
  asks: fc.array(fc.record({ at: frac(0, 0.999), who: fc.nat(2) }), { maxLength: 40 }),
});

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

/** What the runs exercised, summed over all runs: the property must not hold vacuously. */
const coverage = { runs: 0, acquisitions: 0, renewals: 0, checks: 0, leadingChecks: 0, stepDowns: {} as Record<string, number> };

interface Slot {
  identity: string;
  keeper: LeaseKeeper;
  store: FakeLeaseStore;
  clock: PausableClock;
  /** Crashed incarnations are left frozen; they are not asked anything any more. */
  dead: boolean;
}

async function runScenario(sc: Scenario): Promise<void> {
  const timing = keeperTiming(sc.timing);
  const resolved = resolveKeeperOptions({ key: KEY, identity: 'x', ...timing });
  const ttl = resolved.ttlMs;
  const horizon = 6 * ttl;
  const rng = new Rng(sc.seed); // the project's one seeded generator
  const rand = (): number => rng.next();
  const w = { clock: new SimClock() };
  const server = new FakeLeaseStore(w.clock);
  const violations: string[] = [];
  const slots: Slot[] = [];
  let incarnation = 0;

  /** The invariant, judged without side effects on the keeper. */
  const check = (where: string): void => {
    const lease = server.peek(KEY);
    coverage.checks += 1;
    for (const slot of slots) {
      const k = slot.keeper;
      if (k.state !== 'leading' || k.validityLeftMs() <= 0) continue;
      coverage.leadingChecks += 1;
      const token = k.token;
      const ok = lease !== null && lease.holder === slot.identity && lease.token === token && lease.expiresInMs > 0;
      if (!ok) {
        violations.push(
          `${where} at ${w.clock.now()}: ${slot.identity} leads locally (token ${token}, ${k.validityLeftMs()} ms left) but the store has ${JSON.stringify(lease)}`,
        );
      }
    }
  };

  const spawn = (i: number): Slot => {
    incarnation += 1;
    const identity = `c${i}#${incarnation}`;
    const store = server.connection();
    store.requestLatency = 0;
    store.responseLatency = 0;
    store.onApplied = (record) => check(`after ${record.op} by ${identity}`);
    const clock = new PausableClock(w.clock);
    const keeper = new LeaseKeeper(store, { key: KEY, identity, ...timing, clock, random: rand });
    keeper.on('stopped-leading', (reason) => {
      coverage.stepDowns[reason] = (coverage.stepDowns[reason] ?? 0) + 1;
    });
    keeper.on('started-leading', () => void (coverage.acquisitions += 1));
    keeper.on('renewed', () => void (coverage.renewals += 1));
    keeper.start();
    return { identity, keeper, store, clock, dead: false };
  };
  for (let i = 0; i < sc.contenders; i += 1) slots.push(spawn(i));
  const live = (who: number): Slot | undefined => {
    const active = slots.filter((s) => !s.dead);
    return active[who % Math.max(1, active.length)];
  };

  // Fault timeline: [instant, action] pairs, sorted; the end of each fault is its own action.
  const actions: Array<[number, () => void]> = [];
  const at = (frac: number): number => Math.floor(frac * horizon);
  for (const f of sc.faults as Fault[]) {
    const start = at(f.at);
    actions.push([
      start,
      () => {
        const slot = live(f.who);
        if (slot === undefined) return;
        const until = (ttls: number): number => start + Math.max(1, Math.floor(ttls * ttl));
        // The end of a fault: skipped once the slot crashed, which is for good.
        const end = (instant: number, undo: () => void): void => {
          actions.push([instant, () => void (slot.dead || undo())]);
        };
        switch (f.kind) {
          case 'down':
            slot.store.down = true;
            end(until(f.ttls), () => void (slot.store.down = false));
            break;
          case 'hang':
            slot.store.hang = true;
            end(until(f.ttls), () => void (slot.store.hang = false));
            break;
          case 'fail':
            slot.store.failNext(f.n);
            break;
          case 'slow': {
            const maxReq = f.request * resolved.requestTimeoutMs;
            const maxRes = f.response * resolved.requestTimeoutMs;
            slot.store.requestLatency = () => Math.floor(rand() * maxReq);
            slot.store.responseLatency = () => Math.floor(rand() * maxRes);
            end(until(f.ttls), () => {
              slot.store.requestLatency = 0;
              slot.store.responseLatency = 0;
            });
            break;
          }
          case 'pause':
            if (slot.clock.paused) break;
            slot.clock.pause();
            end(until(f.ttls), () => slot.clock.resume());
            break;
          case 'restart': {
            const index = slots.indexOf(slot);
            if (f.crash) {
              // Dies on the spot: no release, its timers never fire, its requests vanish.
              slot.dead = true;
              slot.clock.pause();
              slot.store.hang = true;
            } else {
              void slot.keeper.stop();
            }
            const next = spawn(index);
            if (f.crash) slots.push(next);
            else slots[index] = next;
            // A cleanly stopped keeper stays observable until its stop completed.
            if (!f.crash) slots.push({ ...slot, dead: true });
            break;
          }
        }
      },
    ]);
  }
  for (const a of sc.asks) {
    actions.push([
      at(a.at),
      () => {
        const slot = live(a.who);
        if (slot === undefined || slot.clock.paused) return;
        // The owner asks; the answer must agree with the store.
        if (slot.keeper.isLeading()) check(`isLeading() by ${slot.identity}`);
      },
    ]);
  }

  // Drive: sample the invariant every ttl/50 and at each action instant.
  const step = Math.max(1, Math.floor(ttl / 50));
  let nextSample = 0;
  while (true) {
    actions.sort((x, y) => x[0] - y[0]);
    const nextAction = actions[0]?.[0] ?? Infinity;
    const t = Math.min(nextAction, nextSample);
    if (t > horizon) break;
    await w.clock.runUntil(t);
    if (t === nextAction) (actions.shift() as [number, () => void])[1]();
    else nextSample += step;
    check('sample');
    if (violations.length > 0) break;
  }
  expect(violations, violations.slice(0, 3).join('\n')).toEqual([]);

  // Faults end: resume everyone alive, clear the store faults (already hung calls stay hung).
  for (const slot of slots) {
    if (slot.dead) continue;
    slot.store.down = false;
    slot.store.hang = false;
    slot.store.requestLatency = 0;
    slot.store.responseLatency = 0;
    if (slot.clock.paused) slot.clock.resume();
  }
  for (let t = horizon; t <= horizon + 2 * ttl; t += step) {
    await w.clock.runUntil(t);
    check('recovery');
  }
  expect(violations, violations.slice(0, 3).join('\n')).toEqual([]);
  // Liveness: within ttl + a retry or two after the faults end, a live contender leads.
  const leaders = slots.filter((s) => !s.dead && s.keeper.isLeading());
  const lease = server.peek(KEY);
  expect(
    leaders.map((s) => s.identity),
    `no leader ${2 * ttl} ms after the faults ended; store: ${JSON.stringify(lease)}; states: ${slots.map((s) => `${s.identity}:${s.keeper.state}${s.dead ? '(dead)' : ''}`).join(', ')}`,
  ).toHaveLength(1);
  expect(lease?.holder).toBe(leaders[0]?.identity);
  coverage.runs += 1;
}

describe('LeaseKeeper safety under random faults (fast-check)', () => {
  it('never reports isLeading() on a lease the store has expired or given to someone else; a leader emerges afterwards', async () => {
    const seed = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED);
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (sc) => {
        await runScenario(sc);
      }),
      {
        numRuns: Number(process.env.FC_RUNS ?? 1000),
        ...(seed === undefined ? {} : { seed }),
        ...(process.env.FC_PATH === undefined ? {} : { path: process.env.FC_PATH }),
        // On failure fast-check prints the seed, the path and the shrunk counterexample;
        // FC_VERBOSE=1 adds every failing value met while shrinking.
        verbose: process.env.FC_VERBOSE === '1' ? fc.VerbosityLevel.Verbose : fc.VerbosityLevel.None,
        endOnFailure: process.env.FC_SHRINK === '0',
      },
    );
    if (process.env.FC_COVERAGE === '1') console.log(coverage);
    // Every run passed; make sure they exercised something: leadership, renewals and each fault path.
    expect(coverage.leadingChecks).toBeGreaterThan(coverage.runs * 10);
    expect(coverage.renewals).toBeGreaterThan(coverage.runs);
    for (const reason of ['renew-deadline', 'paused', 'stopped'] as const) expect(coverage.stepDowns[reason] ?? 0).toBeGreaterThan(0);
  }, 300_000);
});
