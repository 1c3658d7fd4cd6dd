/**
 * LeaseKeeper on fake time. Every instant below comes from the SimClock; with `random: () => 0.5`
 * and the ttl 180 s defaults the schedule is exact: renew interval 60 s jittered to 57 s, acquire
 * retry 15 s jittered to 14.25 s, renew retry 15 s (not jittered), request timeout 10 s, renew
 * deadline 120 s, local validity ttl − 1 % drift − 1 s clock uncertainty = 177.2 s from the *send*
 * time of the last success.
 */
import { describe, expect, it } from 'vitest';
import { StoreTimeoutError, StoreUnavailableError } from '../../src/errors.js';
import type { LeaseKeeperEvents } from '../../src/keeper/lease-keeper.js';
import { LeaseKeeper } from '../../src/keeper/lease-keeper.js';
import type { LeaseKeeperOptions, StepDownReason } from '../../src/keeper/keeper-options.js';
import { ALIVE, type OwnerLiveness, type OwnerStatus } from '../../src/owner/owner-liveness.js';
import { SimClock } from '../../sim/sim-clock.js';
import { FakeLeaseStore, PausableClock } from '../support/fake-store.js';

const KEY = 'leader';
const TTL = 180_000;
const EVENT_NAMES = ['started-leading', 'stopped-leading', 'new-leader', 'renewed', 'renew-failed', 'pause', 'stopped'] as const;

type EventName = (typeof EVENT_NAMES)[number];
interface Recorded<K extends EventName = EventName> {
  readonly at: number;
  readonly type: K;
  readonly args: LeaseKeeperEvents[K];
}

interface Contender {
  readonly keeper: LeaseKeeper;
  readonly store: FakeLeaseStore;
  readonly events: Recorded[];
  /** Callback log: onStartedLeading / onStoppedLeading / onNewLeader, with the instant. */
  readonly callbacks: Array<{ at: number; what: string; value: unknown }>;
  of<K extends EventName>(type: K): Array<Recorded<K>>;
}

class World {
  readonly clock = new SimClock();
  /** The store server, as seen by test code (and the first contender, unless given its own connection). */
  readonly store = new FakeLeaseStore(this.clock);

  /** A keeper with its own connection to the store (so faults can be per client). */
  contender(identity: string, options: Partial<LeaseKeeperOptions> = {}, store = this.store.connection()): Contender {
    const callbacks: Contender['callbacks'] = [];
    const keeper = new LeaseKeeper(store, {
      key: KEY,
      identity,
      ttlMs: TTL,
      clock: this.clock,
      random: () => 0.5,
      onStartedLeading: (lease) => callbacks.push({ at: this.clock.now(), what: 'started', value: lease.token }),
      onStoppedLeading: (reason) => callbacks.push({ at: this.clock.now(), what: 'stopped', value: reason }),
      onNewLeader: (holder, token) => callbacks.push({ at: this.clock.now(), what: 'new-leader', value: [holder, token] }),
      ...options,
    });
    const events: Recorded[] = [];
    for (const type of EVENT_NAMES) {
      keeper.on(type, (...args: unknown[]) => {
        events.push({ at: this.clock.now(), type, args } as unknown as Recorded);
      });
    }
    return {
      keeper,
      store,
      events,
      callbacks,
      of: <K extends EventName>(type: K) => events.filter((e): e is Recorded<K> => e.type === type),
    };
  }

  run(untilMs: number): Promise<void> {
    return this.clock.runUntil(untilMs);
  }

  lease() {
    return this.store.peek(KEY);
  }

  /** Calls `check` at every `stepMs` of fake time from now until `untilMs` (each check between timers). */
  async sample(untilMs: number, stepMs: number, check: (now: number) => void): Promise<void> {
    for (let t = this.clock.now(); t <= untilMs; t += stepMs) {
      await this.run(t);
      check(t);
    }
  }
}

/** The store's view agrees that `c` leads: it holds the key, with the keeper's token, unexpired. */
function expectStoreAgrees(w: World, c: Contender): void {
  const lease = w.lease();
  expect(lease?.holder, `store holder at ${w.clock.now()}`).toBe(c.keeper.options.identity);
  expect(lease?.token).toBe(c.keeper.token);
  expect(lease?.expiresInMs ?? 0).toBeGreaterThan(0);
}

function reasons(c: Contender): StepDownReason[] {
  return c.of('stopped-leading').map((e) => e.args[0]);
}

describe('acquire and renew', () => {
  it('acquires at start: started-leading with the store token, new-leader names itself', async () => {
    const w = new World();
    const a = w.contender('a');
    expect(a.keeper.state).toBe('idle');
    expect(a.keeper.isLeading()).toBe(false);
    expect(a.keeper.token).toBeNull();
    a.keeper.start();
    expect(a.keeper.start()).toBe(a.keeper); // idempotent
    await w.run(0);
    await w.run(1);
    expect(a.of('started-leading')).toEqual([{ at: 0, type: 'started-leading', args: [{ key: KEY, holder: 'a', token: 1, version: 1, ttlMs: TTL }] }]);
    expect(a.of('new-leader').map((e) => [e.at, ...e.args])).toEqual([[0, 'a', 1]]);
    expect(a.callbacks).toEqual([
      { at: 0, what: 'new-leader', value: ['a', 1] },
      { at: 0, what: 'started', value: 1 },
    ]);
    expect(a.keeper.state).toBe('leading');
    expect(a.keeper.isLeading()).toBe(true);
    expect(a.keeper.token).toBe(1);
    expect(w.lease()).toMatchObject({ holder: 'a', token: 1, ttlMs: TTL, expiresInMs: TTL - 1 });
    expect(a.keeper.validityLeftMs()).toBe(TTL * 0.99 - 1_000 - 1);
    expect(a.store.callsOf('acquire')).toHaveLength(1);
  });

  it('renews every ttl/3 less up to 10 % jitter, timed from each send, and stays in agreement with the store', async () => {
    const w = new World();
    // Deterministic "random" jitter source; remembers what it handed out.
    let seed = 12345;
    const drawn: number[] = [];
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const r = seed / 2 ** 31;
      drawn.push(r);
      return r;
    };
    const a = w.contender('a', { random });
    a.store.requestLatency = 150;
    a.store.responseLatency = 250;
    a.keeper.start();
    await w.run(1_000);
    await w.sample(30 * 60_000, 1_000, () => {
      expect(a.keeper.isLeading()).toBe(true);
      expectStoreAgrees(w, a);
    });
    const sends = [...a.store.callsOf('acquire'), ...a.store.callsOf('renew')].map((c) => c.sentAt);
    expect(sends.length).toBeGreaterThan(30);
    for (let i = 1; i < sends.length; i += 1) {
      const gap = (sends[i] as number) - (sends[i - 1] as number);
      expect(gap).toBeGreaterThan(54_000);
      expect(gap).toBeLessThanOrEqual(60_000);
      // Exactly the jittered interval drawn after the previous success, latency not added on top.
      // (fake-timers fires at whole milliseconds, so within 1 ms).
      expect(Math.abs(gap - 60_000 * (1 - 0.1 * (drawn[i - 1] as number)))).toBeLessThan(1);
    }
    const renewed = a.of('renewed');
    expect(renewed.length).toBe(sends.length - 1);
    expect(a.of('stopped-leading')).toEqual([]);
    for (const e of renewed) {
      expect(e.args[0].token).toBe(1);
      expect(e.args[0].latencyMs).toBe(400);
    }
    // Margin at send = local validity left = previous send + 177.2 s − this send.
    expect(renewed[0]?.args[0].marginMs).toBeCloseTo(TTL * 0.99 - 1_000 - ((sends[1] as number) - (sends[0] as number)), 6);
  });
});

describe('renew deadline', () => {
  /** A leads from 0; its renewal sent at 57 s succeeds; its connection goes down at 60 s. */
  async function leaderLosesStore(w: World) {
    const a = w.contender('a');
    a.keeper.start();
    await w.run(60_000);
    expect(a.store.callsOf('renew').map((c) => [c.sentAt, c.outcome])).toEqual([[57_000, 'applied']]);
    a.store.down = true;
    return a;
  }

  it('retries, then steps down at last success send + renewDeadline, before the store expires the lease', async () => {
    const w = new World();
    const a = await leaderLosesStore(w);
    await w.run(176_999);
    expect(a.keeper.isLeading()).toBe(true);
    await w.run(177_000);
    expect(a.keeper.isLeading()).toBe(false);
    const renews = a.store.callsOf('renew');
    expect(renews.map((c) => [c.sentAt, c.outcome])).toEqual([
      [57_000, 'applied'],
      [114_000, 'failed'],
      [129_000, 'failed'],
      [144_000, 'failed'],
      [159_000, 'failed'],
      [174_000, 'failed'],
    ]);
    expect(a.of('renew-failed').map((e) => e.args[0])).toEqual(Array(5).fill(expect.any(StoreUnavailableError)));
    const stepDown = a.of('stopped-leading');
    expect(stepDown.map((e) => [e.at, e.args[0]])).toEqual([[57_000 + 120_000, 'renew-deadline']]);
    // The owner is told synchronously, well before the store could give the lease away (sent + ttl).
    expect(a.callbacks.filter((c) => c.what === 'stopped')).toEqual([{ at: 177_000, what: 'stopped', value: 'renew-deadline' }]);
    const storeExpiry = 57_000 + TTL;
    expect(177_000).toBeLessThan(storeExpiry);
    expect(w.lease()).toMatchObject({ holder: 'a', token: 1, expiresInMs: storeExpiry - 177_000 });
    // No early release: an owner that has not heard of the step-down may trust the lease until its
    // local validity ends (57 s + ttl − drift), so the lease is left to expire on the store.
    expect(a.store.callsOf('release')).toEqual([]);
    expect(a.keeper.state).toBe('following');
  });

  it('re-acquires its own lease (same token) when the store returns before the lease expired there', async () => {
    const w = new World();
    const a = await leaderLosesStore(w);
    await w.run(200_000);
    a.store.down = false;
    await w.run(230_000);
    const started = a.of('started-leading');
    expect(started.map((e) => [e.at, e.args[0].token])).toEqual([
      [0, 1],
      [205_500, 1], // acquire retries from 177 s every 14.25 s: 191.25 s failed, 205.5 s succeeded
    ]);
    expect(a.keeper.isLeading()).toBe(true);
    expectStoreAgrees(w, a);
  });

  it('re-acquires with a higher token when someone else took the lease meanwhile', async () => {
    const w = new World();
    const a = await leaderLosesStore(w);
    const b = w.contender('b');
    b.keeper.start();
    await w.run(300_000);
    // b got the lease once it expired on the store (57 s + 180 s), and not before.
    const bStart = b.of('started-leading');
    expect(bStart).toHaveLength(1);
    expect(bStart[0]?.at).toBeGreaterThanOrEqual(57_000 + TTL);
    expect(bStart[0]?.args[0].token).toBe(2);
    expect(a.of('stopped-leading')[0]?.at).toBeLessThan(bStart[0]?.at as number);
    // a's connection comes back: b holds it.
    a.store.down = false;
    await w.run(330_000);
    expect(a.keeper.isLeading()).toBe(false);
    expect(a.of('new-leader').map((e) => e.args)).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    await b.keeper.stop();
    await w.run(360_000);
    expect(a.of('started-leading').map((e) => e.args[0].token)).toEqual([1, 3]);
    expectStoreAgrees(w, a);
  });
});

describe('hanging requests', () => {
  // ttl 30 s defaults: renew 10 s (9.5 s jittered), deadline 20 s, request timeout 3 s, retry 2.5 s
  // (2.375 s jittered for acquires), validity 29.7 s.
  const SHORT = { ttlMs: 30_000 };

  it('a renew that never answers is cut by the request timeout; step-down still comes at the deadline', async () => {
    const w = new World();
    const a = w.contender('a', SHORT);
    a.keeper.start();
    await w.run(10_000);
    a.store.hang = true;
    await w.run(29_499);
    expect(a.keeper.isLeading()).toBe(true);
    await w.run(29_500);
    expect(a.keeper.isLeading()).toBe(false);
    expect(a.store.callsOf('renew').map((c) => [c.sentAt, c.outcome])).toEqual([
      [9_500, 'applied'],
      [19_000, 'hung'],
      [24_500, 'hung'],
      // the retry timer for 29.5 s was replaced by the step-down at the same instant: no renew then
    ]);
    expect(a.of('renew-failed').map((e) => [e.at, (e.args[0] as Error).constructor])).toEqual([
      [22_000, StoreTimeoutError],
      [27_500, StoreTimeoutError],
    ]);
    expect(a.of('stopped-leading').map((e) => [e.at, e.args[0]])).toEqual([[9_500 + 20_000, 'renew-deadline']]);
    // The store recovers before the lease expired there (9.5 s + 30 s). No release was sent at the
    // step-down (the owner may still trust the lease); the next acquire gets the same lease back,
    // same token.
    a.store.hang = false;
    await w.run(50_000);
    expect(a.store.callsOf('release')).toEqual([]);
    const reacquired = a.of('started-leading').map((e) => [e.at, e.args[0].token]);
    expect(reacquired[0]).toEqual([0, 1]);
    expect(reacquired[1]?.[1]).toBe(1);
    expect(reacquired[1]?.[0]).toBeGreaterThan(29_500);
    expect(reacquired[1]?.[0]).toBeLessThan(9_500 + 30_000);
    expectStoreAgrees(w, a);
  });

  it('steps down at the deadline while a renew is in flight, and keeps contending after that request times out', async () => {
    const w = new World();
    const a = w.contender('a', SHORT);
    a.keeper.start();
    await w.run(10_000);
    a.store.down = true; // renews at 19 s, 21.5 s, 24 s, 26.5 s fail fast
    await w.run(26_600);
    a.store.down = false;
    a.store.hang = true; // the retry at 29 s hangs: in flight at the 29.5 s deadline, times out at 32 s
    await w.run(29_500);
    expect(a.of('stopped-leading').map((e) => [e.at, e.args[0]])).toEqual([[29_500, 'renew-deadline']]);
    expect(a.store.callsOf('renew').map((c) => [c.sentAt, c.outcome])).toEqual([
      [9_500, 'applied'],
      [19_000, 'failed'],
      [21_500, 'failed'],
      [24_000, 'failed'],
      [26_500, 'failed'],
      [29_000, 'hung'],
    ]);
    // The step-down's retry tick (31.875 s) comes while that renew still hangs: it must not be lost.
    await w.run(33_000);
    a.store.hang = false;
    // The missed tick runs as soon as the hung renew times out (32 s, +1 ms): its acquire hangs
    // too and times out at 35 s; the retry at 35 s + 2.375 s wins the lease back before it
    // expired on the store (9.5 s + 30 s). No release was sent at the step-down.
    await w.run(40_000);
    expect(a.store.callsOf('acquire').map((c) => [c.sentAt, c.outcome])).toEqual([
      [0, 'applied'],
      [32_001, 'hung'],
      [37_376, 'applied'],
    ]);
    expect(a.of('started-leading').map((e) => [e.at, e.args[0].token])).toEqual([
      [0, 1],
      [37_376, 1],
    ]);
    expect(a.store.callsOf('release')).toEqual([]);
    expect(a.keeper.isLeading()).toBe(true);
    expectStoreAgrees(w, a);
  });

  it('a slow release sent at a step-down cannot free the lease under a re-acquired leadership', async () => {
    const w = new World();
    const a = w.contender('a', SHORT);
    a.keeper.start();
    await w.run(10_000);
    a.store.down = true; // renewals from 19 s fail; step-down at the 29.5 s deadline
    await w.run(29_400);
    a.store.down = false;
    // The release sent at the step-down takes 2.9 s to reach the store (within the 3 s timeout);
    // everything else is instant. The next acquire attempt is at 29.5 + 2.375 = 31.875 s.
    a.store.requestLatency = (op) => (op === 'release' ? 2_900 : 0);
    const b = w.contender('b', SHORT);
    b.keeper.start();
    await w.sample(60_000, 100, () => {
      const lease = w.lease();
      for (const c of [a, b]) {
        if (c.keeper.state === 'leading' && c.keeper.validityLeftMs() > 0) {
          expect(lease, `${c.keeper.options.identity} leads at ${w.clock.now()}`).toMatchObject({ holder: c.keeper.options.identity, token: c.keeper.token });
        }
      }
    });
    expect(reasons(a)[0]).toBe('renew-deadline');
    // No release at a renew-deadline step-down: nothing can free the lease under a re-acquisition.
    expect(a.store.callsOf('release')).toEqual([]);
    // Exactly one of them leads, and the store agrees.
    const leaders = [a, b].filter((c) => c.keeper.isLeading());
    expect(leaders).toHaveLength(1);
    expectStoreAgrees(w, leaders[0] as Contender);
  });

  it('an acquire that never answers is cut by the request timeout and retried', async () => {
    const w = new World();
    const a = w.contender('a');
    a.store.hangNext(1);
    a.keeper.start();
    await w.run(30_000);
    expect(a.of('renew-failed').map((e) => [e.at, (e.args[0] as Error).constructor])).toEqual([[10_000, StoreTimeoutError]]);
    expect(a.of('started-leading').map((e) => e.at)).toEqual([10_000 + 14_250]);
    expectStoreAgrees(w, a);
  });
});

describe('lost lease', () => {
  it('renew refused because another holder took over: stopped-leading(lost), new-leader names it', async () => {
    const w = new World();
    const a = w.contender('a');
    a.keeper.start();
    await w.run(60_000);
    // The store's clock jumps past the lease's expiry (57 s + 180 s): a contender takes it at once.
    w.store.advanceStoreClock(200_000);
    const b = w.contender('b');
    b.keeper.start();
    await w.run(61_000);
    expect(b.keeper.token).toBe(2);
    // a only learns at its next renewal, at 114 s.
    await w.run(113_999);
    expect(a.of('stopped-leading')).toEqual([]);
    await w.run(114_000);
    expect(a.store.callsOf('renew').map((c) => [c.sentAt, (c.result as { ok: boolean }).ok])).toEqual([
      [57_000, true],
      [114_000, false],
    ]);
    expect(a.of('stopped-leading').map((e) => [e.at, e.args[0]])).toEqual([[114_000, 'lost']]);
    expect(a.of('new-leader').map((e) => [e.at, ...e.args])).toEqual([
      [0, 'a', 1],
      [114_000, 'b', 2],
    ]);
    expect(a.keeper.isLeading()).toBe(false);
    expect(a.keeper.token).toBeNull();
    // No release for a lease the store says is someone else's.
    expect(a.store.callsOf('release')).toEqual([]);
    // It keeps following: acquires are refused while b leads.
    await w.run(200_000);
    expect(a.of('started-leading')).toHaveLength(1);
    expect(a.store.callsOf('acquire').length).toBeGreaterThan(1);
    expectStoreAgrees(w, b);
    expect(a.keeper.stats().stepDowns).toEqual({ lost: 1 });
  });

  it('renew refused because the lease expired on the store: lost, then re-acquired with a new token', async () => {
    const w = new World();
    const a = w.contender('a');
    a.keeper.start();
    await w.run(60_000);
    w.store.advanceStoreClock(200_000);
    await w.run(114_000);
    expect(reasons(a)).toEqual(['lost']);
    await w.run(114_000 + 14_250);
    expect(a.of('started-leading').map((e) => e.args[0].token)).toEqual([1, 2]);
    expectStoreAgrees(w, a);
  });

  it('with contend: false, a lost lease stops the keeper', async () => {
    const w = new World();
    const a = w.contender('a', { contend: false });
    a.keeper.start();
    await w.run(60_000);
    w.store.advanceStoreClock(200_000);
    w.store.inner.acquireNow({ key: KEY, holder: 'b', ttlMs: TTL });
    await w.run(120_000);
    expect(a.of('stopped').map((e) => [e.at, e.args[0]])).toEqual([[114_000, 'lost']]);
    expect(a.keeper.state).toBe('stopped');
    expect(w.clock.pendingTimers()).toBe(0);
  });
});

describe('stop()', () => {
  it('releases the lease so another contender acquires at its next attempt with token + 1', async () => {
    const w = new World();
    const a = w.contender('a');
    const b = w.contender('b');
    a.keeper.start();
    await w.run(1_000);
    b.keeper.start();
    await w.run(30_000);
    expect(b.of('new-leader').map((e) => e.args)).toEqual([['a', 1]]);
    const stopping = a.keeper.stop();
    expect(a.keeper.stop()).toBe(stopping); // twice: the same promise
    expect(a.keeper.isLeading()).toBe(false);
    await stopping;
    expect(w.lease()).toMatchObject({ holder: null, token: 1 });
    expect(a.of('stopped-leading').map((e) => [e.at, e.args[0]])).toEqual([[30_000, 'stopped']]);
    expect(a.of('stopped').map((e) => [e.at, e.args[0]])).toEqual([[30_000, 'stopped']]);
    expect(a.keeper.state).toBe('stopped');
    // b retries every 14.25 s from 1 s: 15.25, 29.5, 43.75 s — the first attempt after the stop wins.
    await w.run(50_000);
    expect(b.of('started-leading').map((e) => [e.at, e.args[0].token])).toEqual([[43_750, 2]]);
    expect(43_750 - 30_000).toBeLessThanOrEqual(a.keeper.failoverWindow().afterCleanStopMs);
    // A third stop after completion does nothing more; a stopped keeper cannot be restarted.
    await a.keeper.stop();
    a.keeper.start();
    await w.run(100_000);
    expect(a.of('stopped')).toHaveLength(1);
    expect(a.store.calls.filter((c) => c.sentAt > 30_000)).toEqual([]);
    await b.keeper.stop();
    expect(w.clock.pendingTimers()).toBe(0);
  });

  it('with releaseOnStop: false, stop leaves the lease to expire', async () => {
    const w = new World();
    const a = w.contender('a', { releaseOnStop: false });
    a.keeper.start();
    await w.run(30_000);
    await a.keeper.stop();
    expect(a.store.callsOf('release')).toEqual([]);
    expect(w.lease()).toMatchObject({ holder: 'a', token: 1, expiresInMs: TTL - 30_000 });
  });

  it('an AbortSignal stops and releases', async () => {
    const w = new World();
    const controller = new AbortController();
    const a = w.contender('a', { signal: controller.signal });
    a.keeper.start();
    await w.run(30_000);
    controller.abort();
    await w.run(30_001);
    expect(a.of('stopped').map((e) => [e.at, e.args[0]])).toEqual([[30_000, 'stopped']]);
    expect(a.of('stopped-leading').map((e) => e.args[0])).toEqual(['stopped']);
    expect(w.lease()?.holder).toBeNull();
    expect(w.clock.pendingTimers()).toBe(0);
  });

  it('an already-aborted signal stops it before any store call', async () => {
    const w = new World();
    const a = w.contender('a', { signal: AbortSignal.abort() });
    a.keeper.start();
    await w.run(60_000);
    expect(a.store.calls).toEqual([]);
    expect(a.of('stopped').map((e) => e.args[0])).toEqual(['stopped']);
    expect(a.of('stopped-leading')).toEqual([]);
  });

  it('stop while an acquire is in flight releases the lease that arrives afterwards', async () => {
    const w = new World();
    const a = w.contender('a');
    a.store.requestLatency = 2_000;
    a.store.responseLatency = 3_000;
    a.keeper.start();
    await w.run(1_000);
    const stopped = a.keeper.stop();
    await w.run(2_000);
    expect(w.lease()).toMatchObject({ holder: 'a', token: 1 }); // the acquire landed on the store
    await w.run(5_000 + 2_000); // its answer arrives at 5 s; the release is applied at 7 s
    await stopped;
    expect(a.of('started-leading')).toEqual([]);
    expect(a.keeper.isLeading()).toBe(false);
    expect(a.store.callsOf('release').map((c) => [c.sentAt, c.appliedAt, c.result])).toEqual([[5_000, 7_000, true]]);
    expect(w.lease()?.holder).toBeNull();
    // A successor gets it at once, with the next token.
    const b = w.contender('b');
    b.keeper.start();
    await w.run(11_000);
    expect(b.keeper.token).toBe(2);
  });

  it('stop before start is safe and final', async () => {
    const w = new World();
    const a = w.contender('a');
    await a.keeper.stop();
    a.keeper.start();
    await w.run(10_000);
    expect(a.keeper.state).toBe('stopped');
    expect(a.store.calls).toEqual([]);
  });
});

describe('process pause', () => {
  /** a on a pausable clock, b contending on the (never paused) base clock. */
  async function pausedLeader(pauseAt: number, resumeAt: number) {
    const w = new World();
    const clock = new PausableClock(w.clock);
    const a = w.contender('a', { clock });
    const b = w.contender('b');
    a.keeper.start();
    await w.run(1_000);
    b.keeper.start();
    await w.run(pauseAt);
    clock.pause();
    await w.run(resumeAt);
    return { w, clock, a, b };
  }

  it('after a pause longer than ttl, isLeading() is false at once, before any renew', async () => {
    const { w, clock, a, b } = await pausedLeader(60_000, 300_000);
    // While a was frozen its lease expired on the store (57 s + 180 s) and b took it.
    expect(b.of('started-leading').map((e) => e.args[0].token)).toEqual([2]);
    expect(b.of('started-leading')[0]?.at).toBeGreaterThanOrEqual(57_000 + TTL);
    const renewsBefore = a.store.callsOf('renew').length;
    clock.resume();
    // The first thing the resumed process asks: not leading; a step-down is reported.
    expect(a.keeper.isLeading()).toBe(false);
    expect(a.keeper.token).toBeNull();
    expect(reasons(a)).toEqual(['paused']);
    expect(a.callbacks.filter((c) => c.what === 'stopped')).toEqual([{ at: 300_000, what: 'stopped', value: 'paused' }]);
    // The overdue renew tick (due at 114 s) is replaced by the step-down; its lateness is reported,
    // before the step-down it explains.
    expect(a.of('pause').map((e) => [e.at, e.args[0].lateMs])).toEqual([[300_000, 300_000 - 114_000]]);
    expect(a.events.filter((e) => e.at === 300_000).map((e) => e.type)).toEqual(['pause', 'stopped-leading']);
    await w.run(300_000 + 14_250);
    expect(a.store.callsOf('renew')).toHaveLength(renewsBefore);
    expect(a.of('new-leader').map((e) => e.args)).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    expect(a.keeper.stats().pauses).toBe(1);
    expectStoreAgrees(w, b);
  });

  it('without anyone asking, the resumed keeper steps down (paused) before sending any renew', async () => {
    const { w, clock, a, b } = await pausedLeader(60_000, 300_000);
    clock.resume();
    await w.run(400_000);
    expect(a.of('stopped-leading').map((e) => [e.at, e.args[0]])).toEqual([[300_000, 'paused']]);
    expect(a.of('pause').map((e) => e.args[0].lateMs)).toEqual([186_000]);
    expect(a.events.filter((e) => e.at === 300_000).map((e) => e.type).slice(0, 2)).toEqual(['pause', 'stopped-leading']);
    expect(a.keeper.stats().pauses).toBe(1);
    // After resuming, only a release (refused: b holds it) and acquires (refused) went out.
    const after = a.store.calls.filter((c) => c.sentAt >= 300_000);
    expect(after.some((c) => c.op === 'renew')).toBe(false);
    expect(a.store.callsOf('release').map((c) => c.result)).toEqual([false]);
    expect(a.of('started-leading')).toHaveLength(1);
    expectStoreAgrees(w, b);
  });

  it('never reports leading on a lease the store has already expired, asked at every second through the pause', async () => {
    const w = new World();
    const clock = new PausableClock(w.clock);
    const a = w.contender('a', { clock });
    a.keeper.start();
    await w.run(60_000);
    clock.pause();
    let sawLeading = 0;
    await w.sample(300_000, 1_000, () => {
      const lease = w.lease();
      const storeSaysA = lease?.holder === 'a' && lease.expiresInMs > 0;
      if (a.keeper.isLeading()) {
        sawLeading += 1;
        expect(storeSaysA).toBe(true);
      }
    });
    expect(sawLeading).toBeGreaterThan(100); // it did lead while the lease was good: the check is live
    expect(reasons(a)).toEqual(['paused']);
    // The first question after the local validity (57 s + 177.2 s) ran out, before the store expiry (237 s).
    expect(a.of('stopped-leading')[0]?.at).toBe(235_000);
  });

  it('a pause shorter than the validity is reported but does not cost the lease', async () => {
    const { w, clock, a } = await pausedLeader(60_000, 130_000);
    clock.resume();
    await w.run(131_000);
    expect(a.of('pause').map((e) => [e.at, e.args[0].lateMs])).toEqual([[130_000, 16_000]]);
    expect(a.of('stopped-leading')).toEqual([]);
    expect(a.store.callsOf('renew').map((c) => c.sentAt)).toEqual([57_000, 130_000]);
    expect(a.keeper.isLeading()).toBe(true);
    expectStoreAgrees(w, a);
  });
});

describe('owner liveness', () => {
  class TestOwner implements OwnerLiveness {
    alive = true;
    checks = 0;
    #onDead: ((reason: string) => void) | undefined;
    unwatched = false;
    constructor(readonly withWatch: boolean) {
      if (!withWatch) (this as { watch?: unknown }).watch = undefined;
    }
    check(): OwnerStatus {
      this.checks += 1;
      return this.alive ? ALIVE : { alive: false, reason: 'owner pid 42 exited' };
    }
    watch(onDead: (reason: string) => void): () => void {
      this.#onDead = onDead;
      return () => {
        this.unwatched = true;
      };
    }
    die(): void {
      this.alive = false;
      this.#onDead?.('ipc channel closed');
    }
  }

  it('check() reports dead: the keeper releases the lease and stops with owner-dead at its next tick', async () => {
    const w = new World();
    const owner = new TestOwner(false);
    const a = w.contender('a', { owner });
    a.keeper.start();
    await w.run(70_000);
    expect(owner.checks).toBe(2); // before the acquire and the 57 s renew
    owner.alive = false;
    await w.run(113_999);
    expect(a.keeper.isLeading()).toBe(true);
    await w.run(114_000);
    expect(a.of('stopped-leading').map((e) => [e.at, e.args[0]])).toEqual([[114_000, 'owner-dead']]);
    expect(a.of('stopped').map((e) => [e.at, e.args[0]])).toEqual([[114_000, 'owner-dead']]);
    expect(a.store.callsOf('renew').map((c) => c.sentAt)).toEqual([57_000]); // no renewal for a dead owner
    expect(a.store.callsOf('release').map((c) => c.result)).toEqual([true]);
    expect(w.lease()?.holder).toBeNull();
    expect(a.keeper.stats()).toMatchObject({ ownerDeaths: 1, stepDowns: { 'owner-dead': 1 } });
    expect(114_000 - 70_000).toBeLessThanOrEqual(a.keeper.failoverWindow().afterOwnerDeathMs);
    expect(w.clock.pendingTimers()).toBe(0);
  });

  it('watch() fires: the lease is released at once, without waiting for the next renew tick', async () => {
    const w = new World();
    const owner = new TestOwner(true);
    const a = w.contender('a', { owner });
    a.keeper.start();
    await w.run(70_000);
    owner.die();
    expect(a.keeper.isLeading()).toBe(false);
    await w.run(70_001);
    expect(a.of('stopped').map((e) => [e.at, e.args[0]])).toEqual([[70_000, 'owner-dead']]);
    expect(a.store.callsOf('release').map((c) => [c.sentAt, c.result])).toEqual([[70_000, true]]);
    expect(w.lease()?.holder).toBeNull();
    expect(owner.unwatched).toBe(true);
    await w.run(200_000);
    expect(a.store.callsOf('renew').map((c) => c.sentAt)).toEqual([57_000]);
  });

  it('a dead owner at start: no lease is ever acquired', async () => {
    const w = new World();
    const owner = new TestOwner(false);
    owner.alive = false;
    const a = w.contender('a', { owner });
    a.keeper.start();
    await w.run(60_000);
    expect(a.store.calls).toEqual([]);
    expect(a.of('stopped').map((e) => e.args[0])).toEqual(['owner-dead']);
  });
});

describe('fencing tokens', () => {
  it('strictly increase across holders: clean stop, crash without release, expiry', async () => {
    const w = new World();
    const grants: Array<{ holder: string; token: number; at: number }> = [];
    const leaders: Contender[] = [];
    const join = (identity: string, options: Partial<LeaseKeeperOptions> = {}): Contender => {
      const c = w.contender(identity, options);
      c.keeper.on('started-leading', (lease) => grants.push({ holder: lease.holder, token: lease.token, at: w.clock.now() }));
      leaders.push(c);
      return c.keeper.start() && c;
    };
    // Never two keepers leading at once, checked every 500 ms.
    const checkOne = (): void => {
      const leading = leaders.filter((c) => c.keeper.state === 'leading' && c.keeper.validityLeftMs() > 0);
      expect(leading.length).toBeLessThanOrEqual(1);
      if (leading[0] !== undefined) expectStoreAgrees(w, leading[0]);
    };

    const a = join('a');
    await w.sample(10_000, 500, checkOne);
    const bClock = new PausableClock(w.clock);
    const b = join('b', { clock: bClock });
    await w.sample(20_000, 500, checkOne);
    await a.keeper.stop(); // clean: b next
    await w.sample(60_000, 500, checkOne);
    expect(b.keeper.isLeading()).toBe(true);

    // b crashes: its process never runs again (timers frozen, requests black-holed), no release.
    const crashAt = w.clock.now();
    bClock.pause();
    b.store.hang = true;
    leaders.splice(leaders.indexOf(b), 1);
    const c = join('c');
    await w.sample(crashAt + 300_000, 500, checkOne);
    const cGrant = grants.find((g) => g.holder === 'c');
    expect(cGrant).toBeDefined();
    // c got in only after b's lease expired on the store, within the crash failover window.
    const bLastRenewApplied = Math.max(...b.store.calls.filter((x) => x.outcome === 'applied').map((x) => x.appliedAt as number));
    expect(cGrant?.at).toBeGreaterThanOrEqual(bLastRenewApplied + TTL);
    expect((cGrant?.at as number) - crashAt).toBeLessThanOrEqual(c.keeper.failoverWindow().afterCrashMs);

    // A new incarnation of a joins; c is cut off from the store, steps down at its renew deadline,
    // its lease expires and a#2 takes over; then both stop cleanly and d comes in.
    const a2 = join('a#2');
    await w.sample(w.clock.now() + 30_000, 500, checkOne);
    c.store.down = true;
    await w.sample(w.clock.now() + 300_000, 500, checkOne);
    expect(reasons(c)).toEqual(['renew-deadline']);
    await c.keeper.stop();
    await a2.keeper.stop();
    const d = join('d');
    await w.sample(w.clock.now() + 30_000, 500, checkOne);
    await d.keeper.stop();

    expect(grants.map((g) => g.holder)).toEqual(['a', 'b', 'c', 'a#2', 'd']);
    const tokens = grants.map((g) => g.token);
    expect(tokens).toEqual([1, 2, 3, 4, 5]);
    for (let i = 1; i < tokens.length; i += 1) expect(tokens[i]).toBeGreaterThan(tokens[i - 1] as number);
  });
});

describe('failoverWindow() is a worst case', () => {
  // Requests take up to 9.9 s to reach the store (inside the 10 s timeout). The successor b runs
  // without jitter (random 0: retry exactly 15 s after each refusal) and is started so that one of
  // its refused attempts lands just before the lease frees up: the worst phase.
  const SLOW = 9_900;

  it('after a clean stop: the release and the successor acquire both take up to a request timeout', async () => {
    const w = new World();
    const a = w.contender('a');
    a.keeper.start();
    await w.run(1_000);
    const b = w.contender('b', { random: () => 0 });
    b.store.requestLatency = SLOW;
    b.keeper.start(); // b's attempts land at 10.9 s + k × 24.9 s: 60.7 s for k = 2
    const stopAt = 60_700 + 1 - SLOW;
    await w.run(stopAt);
    a.store.requestLatency = SLOW;
    const stopping = a.keeper.stop();
    await w.run(stopAt + SLOW);
    await stopping;
    expect(w.lease()?.holder).toBeNull();
    await w.run(stopAt + 60_000);
    const bLeads = b.of('started-leading')[0]?.at as number;
    expect(bLeads - stopAt).toBe(SLOW - 1 + 15_000 + SLOW);
    expect(bLeads - stopAt).toBeLessThanOrEqual(a.keeper.failoverWindow().afterCleanStopMs);
  });

  it('after a crash: a renewal in flight at the crash still extends the lease on the store', async () => {
    const w = new World();
    const aClock = new PausableClock(w.clock);
    const a = w.contender('a', { clock: aClock });
    a.keeper.start();
    await w.run(1);
    a.store.requestLatency = SLOW; // the renewal sent at 57 s lands at 66.9 s
    // b's attempts land at start + 9.9 s + k × 24.9 s; the lease expires at 66.9 + 180 = 246.9 s.
    await w.run(246_899 - SLOW - 9 * 24_900);
    const b = w.contender('b', { random: () => 0 });
    b.store.requestLatency = SLOW;
    b.keeper.start();
    await w.run(57_001);
    // a crashes right after sending that renewal: frozen for good, no release.
    const crashAt = w.clock.now();
    aClock.pause();
    a.store.hang = true;
    await w.run(crashAt + 240_000);
    expect(a.store.callsOf('renew').map((c) => [c.sentAt, c.appliedAt])).toEqual([[57_000, 66_900]]);
    const bLeads = b.of('started-leading')[0]?.at as number;
    expect(bLeads).toBe(246_899 + 15_000 + SLOW);
    expect(bLeads - crashAt).toBeGreaterThan(TTL + 15_000 + 10_000); // more than the old figure
    expect(bLeads - crashAt).toBeLessThanOrEqual(b.keeper.failoverWindow().afterCrashMs);
  });
});

describe('stats()', () => {
  it('counts renewals, failures, step-down reasons and the smallest renewal margin', async () => {
    const w = new World();
    const a = w.contender('a');
    a.store.requestLatency = 100;
    a.store.responseLatency = 100;
    expect(a.keeper.stats()).toEqual({
      acquisitions: 0,
      renewals: 0,
      renewFailures: 0,
      storeOps: 0,
      wakeups: 0,
      pauses: 0,
      ownerDeaths: 0,
      stuck: 0,
      minRenewalMarginMs: Infinity,
      maxRenewLatencyMs: 0,
      stepDowns: {},
    });
    a.keeper.start();
    // Renewals sent at 57, 114 s succeed (margin 120.2 s each); the one at 171 s fails once (its
    // answer takes 200 ms) and its retry at 186.2 s succeeds with 114 + 177.2 − 186.2 = 105 s left.
    await w.run(170_000);
    a.store.failNext(1);
    await w.run(200_000);
    let s = a.keeper.stats();
    expect(s.renewals).toBe(3);
    expect(s.renewFailures).toBe(1);
    expect(s.minRenewalMarginMs).toBe(114_000 + 177_200 - 186_200);
    expect(s.maxRenewLatencyMs).toBe(200);
    expect(s.acquisitions).toBe(1);
    expect(s.stepDowns).toEqual({});
    const margins = a.of('renewed').map((e) => e.args[0].marginMs);
    expect(margins).toEqual([120_200, 120_200, 105_000]);
    expect(Math.min(...margins)).toBe(s.minRenewalMarginMs);

    // Store down for a while: renew-deadline step-down at 186.2 + 120 s.
    a.store.down = true;
    await w.run(400_000);
    a.store.down = false;
    await w.run(500_000);
    s = a.keeper.stats();
    expect(reasons(a)).toEqual(['renew-deadline']);
    expect(a.of('stopped-leading')[0]?.at).toBe(306_200);
    expect(s.stepDowns).toEqual({ 'renew-deadline': 1 });
    expect(s.acquisitions).toBe(2);
    expect(s.renewals).toBe(a.of('renewed').length);
    expect(s.renewFailures).toBe(a.store.callsOf('renew').filter((c) => c.outcome === 'failed').length);
    const stopping = a.keeper.stop();
    await w.run(501_000); // the release takes 200 ms of fake time
    await stopping;
    s = a.keeper.stats();
    expect(s.stepDowns).toEqual({ 'renew-deadline': 1, stopped: 1 });
    expect(s.storeOps).toBe(a.store.calls.length);
    expect(s.pauses).toBe(0);
    // Snapshots are copies.
    (s.stepDowns as Record<string, number>).stopped = 99;
    expect(a.keeper.stats().stepDowns.stopped).toBe(1);
  });
});
