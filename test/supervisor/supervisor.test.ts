/**
 * Supervisor on fake time (SimClock) with the real MemoryLeaseStore behind a FakeLeaseStore.
 * ttl 180 s, keeper defaults (renew 60 s jittered to 57 s with random 0.5, deadline 120 s,
 * request timeout 10 s); backoff 1 s doubling to 30 s, stable after 60 s; sessions are test
 * doubles that end when told, or on SIGKILL (and on SIGTERM unless told to ignore it).
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { resolveKeeperTiming } from '../../src/keeper/keeper-options.js';
import { backoffDelayMs, RestartBudget } from '../../src/supervisor/restart-budget.js';
import type { SessionExit, SessionSignal, SessionSpawner, SessionStart, SupervisedSession } from '../../src/supervisor/session.js';
import { Supervisor, type SupervisorOutcome } from '../../src/supervisor/supervisor.js';
import { parseRestartLimit, resolveSupervisorOptions, type SupervisorOptions } from '../../src/supervisor/supervisor-options.js';
import { SimClock } from '../../sim/sim-clock.js';
import { FakeLeaseStore } from '../support/fake-store.js';

const KEY = 'leader';
const TTL = 180_000;
const CLEAN: SessionExit = { code: 0, signal: null };
const CRASH: SessionExit = { code: 1, signal: null };

class FakeSession implements SupervisedSession {
  readonly id: string;
  readonly start: SessionStart;
  readonly signals: Array<{ at: number; signal: SessionSignal }> = [];
  ignoresTerm = false;
  ended = false;
  readonly gone: Promise<SessionExit>;
  readonly #clock: SimClock;
  #end!: (exit: SessionExit) => void;

  constructor(clock: SimClock, start: SessionStart) {
    this.#clock = clock;
    this.start = start;
    this.id = `session-${start.attempt}`;
    this.gone = new Promise((resolve) => (this.#end = resolve));
  }

  end(exit: SessionExit): void {
    if (this.ended) return;
    this.ended = true;
    this.#end(exit);
  }

  signal(signal: SessionSignal): void {
    this.signals.push({ at: this.#clock.now(), signal });
    if (signal === 'SIGKILL' || (signal !== 'SIGHUP' && !this.ignoresTerm)) this.end({ code: null, signal });
  }
}

class Harness implements SessionSpawner {
  readonly clock = new SimClock();
  readonly store = new FakeLeaseStore(this.clock);
  readonly sessions: FakeSession[] = [];
  /** Runs on each new session (e.g. end it after a while). */
  onSpawn: (session: FakeSession) => void = () => {};
  failSpawnAt = -1;
  readonly supervisor: Supervisor;
  outcome: SupervisorOutcome | undefined;
  readonly done: Promise<SupervisorOutcome>;

  constructor(options: Partial<SupervisorOptions> = {}) {
    this.supervisor = new Supervisor(this.store, this, {
      keeper: { key: KEY, identity: 'sup-1', ttlMs: TTL, random: () => 0.5 },
      clock: this.clock,
      backoff: { initialMs: 1_000, maxMs: 30_000 },
      ...options,
    });
    this.done = this.supervisor.run().then((o) => (this.outcome = o));
  }

  spawn(start: SessionStart): SupervisedSession {
    if (start.attempt === this.failSpawnAt) throw Object.assign(new Error('spawn ENOENT'), { code: 'ENOENT' });
    const session = new FakeSession(this.clock, start);
    this.sessions.push(session);
    this.onSpawn(session);
    return session;
  }

  last(): FakeSession {
    return this.sessions[this.sessions.length - 1] as FakeSession;
  }

  /** Ends the current session after `afterMs`. */
  endEach(afterMs: number, exit: SessionExit): void {
    this.onSpawn = (s) => void this.clock.setTimeout(() => s.end(exit), afterMs);
  }

  lease() {
    return this.store.peek(KEY);
  }
}

/** Samples the store every second until `untilMs` and returns the smallest time left seen. */
async function minLeaseLeftMs(h: Harness, untilMs: number): Promise<number> {
  let min = Infinity;
  while (h.clock.now() < untilMs) {
    await h.clock.runUntil(h.clock.now() + 1_000);
    const info = h.lease();
    min = Math.min(min, info?.holder === 'sup-1' ? info.expiresInMs : -Infinity);
  }
  return min;
}

describe('restart policies', () => {
  it('on-exit: a session that ends cleanly is restarted with the same token, and the lease never lapses', async () => {
    const h = new Harness({ restart: 'on-exit' });
    h.endEach(300_000, CLEAN); // an idle exit every 5 min
    const minLeft = await minLeaseLeftMs(h, 3_600_000);
    expect(h.outcome).toBeUndefined();
    // 5 min sessions + 1 s backoff (each ran longer than stableAfter 60 s): 12 sessions within the hour.
    expect(h.sessions.length).toBe(12);
    expect(new Set(h.sessions.map((s) => s.start.lease.token))).toEqual(new Set([1]));
    expect(h.sessions[1]?.start.attempt).toBe(1);
    // The keeper renews every 57 s: at least ttl − 57 s − a second of sampling is always left.
    expect(minLeft).toBeGreaterThan(TTL - 60_000);
    expect(h.supervisor.stats()).toMatchObject({ sessions: 12, restarts: 11 });
    expect(h.store.callsOf('acquire').length).toBe(1);
  });

  it('on-exit: a crash is not restarted; the lease is released once the session is gone', async () => {
    const h = new Harness({ restart: 'on-exit' });
    h.endEach(10_000, CRASH);
    await h.clock.runUntil(20_000);
    expect(h.outcome).toEqual({ kind: 'exited', exit: CRASH });
    expect(h.sessions.length).toBe(1);
    expect(h.lease()?.holder).toBeNull();
  });

  it('always: a crash is restarted too', async () => {
    const h = new Harness({ restart: 'always' });
    h.endEach(120_000, CRASH);
    await h.clock.runUntil(600_000);
    expect(h.outcome).toBeUndefined();
    expect(h.sessions.length).toBe(5);
    expect(h.lease()?.holder).toBe('sup-1');
  });

  it('never: the first exit finishes, with the session exit', async () => {
    const h = new Harness({ restart: 'never' });
    h.endEach(5_000, CLEAN);
    await h.clock.runUntil(10_000);
    expect(h.outcome).toEqual({ kind: 'exited', exit: CLEAN });
    expect(h.lease()?.holder).toBeNull();
  });

  it('a forwarded SIGTERM reaches the session and its clean exit is final', async () => {
    const h = new Harness({ restart: 'always' });
    await h.clock.runUntil(5_000);
    h.supervisor.signal('SIGHUP');
    expect(h.last().signals.map((s) => s.signal)).toEqual(['SIGHUP']);
    expect(h.last().ended).toBe(false);
    h.last().ignoresTerm = true;
    h.supervisor.signal('SIGTERM');
    h.last().end(CLEAN);
    await h.clock.runUntil(10_000);
    expect(h.outcome).toEqual({ kind: 'exited', exit: CLEAN });
    expect(h.sessions.length).toBe(1);
  });

  it('a stop signal between sessions finishes without starting another', async () => {
    const h = new Harness({ restart: 'always', backoff: { initialMs: 5_000, maxMs: 5_000 } });
    h.endEach(100_000, CLEAN);
    await h.clock.runUntil(101_000);
    expect(h.supervisor.phase).toBe('restarting');
    h.supervisor.signal('SIGTERM');
    await h.clock.runUntil(110_000);
    expect(h.outcome).toEqual({ kind: 'stopped', signal: 'SIGTERM' });
    expect(h.sessions.length).toBe(1);
    expect(h.lease()?.holder).toBeNull();
  });

  it('a session whose start fails later (spawnError in its exit) is never restarted, even with always', async () => {
    const h = new Harness({ restart: 'always' });
    const error = Object.assign(new Error('spawn ENOENT'), { code: 'ENOENT' });
    h.onSpawn = (s) => void h.clock.setTimeout(() => s.end({ code: null, signal: null, spawnError: error }), 0);
    await h.clock.runUntil(10_000);
    expect(h.outcome).toEqual({ kind: 'spawn-failed', error, attempt: 0 });
    expect(h.sessions.length).toBe(1);
    expect(h.lease()?.holder).toBeNull();
  });

  it('a session that cannot start finishes with spawn-failed and releases', async () => {
    const h = new Harness({ restart: 'on-exit' });
    h.failSpawnAt = 1;
    h.endEach(100_000, CLEAN);
    await h.clock.runUntil(200_000);
    expect(h.outcome).toMatchObject({ kind: 'spawn-failed', attempt: 1 });
    expect(h.lease()?.holder).toBeNull();
  });
});

describe('restart rate and backoff', () => {
  it('max-restarts reached: releases the lease and finishes with restart-limit', async () => {
    const h = new Harness({ restart: 'always', maxRestarts: { count: 3, windowMs: 3_600_000 } });
    h.endEach(100_000, CRASH);
    await h.clock.runUntil(1_000_000);
    // Sessions at 0, ~101 s, ~202 s, ~303 s; the 4th exit would be the 4th restart within the hour.
    expect(h.sessions.length).toBe(4);
    expect(h.outcome).toEqual({ kind: 'restart-limit', exit: CRASH, restarts: 3, windowMs: 3_600_000 });
    expect(h.lease()?.holder).toBeNull();
  });

  it('the window slides: restarts spread wider than the window are never limited', async () => {
    const h = new Harness({ restart: 'always', maxRestarts: { count: 2, windowMs: 600_000 } });
    h.endEach(301_000, CLEAN);
    await h.clock.runUntil(4 * 3_600_000);
    expect(h.outcome).toBeUndefined();
    expect(h.supervisor.stats().restartsInWindow).toBeLessThanOrEqual(2);
    expect(h.sessions.length).toBeGreaterThan(40);
  });

  it('short-lived sessions back off exponentially up to the cap; a stable one resets it', async () => {
    const h = new Harness({ restart: 'always' });
    const starts: number[] = [];
    let n = 0;
    h.onSpawn = (s) => {
      starts.push(h.clock.now());
      n += 1;
      // Seven quick crashes, then one long session, then a quick one.
      const lifeMs = n === 8 ? 120_000 : 1_000;
      h.clock.setTimeout(() => s.end(CRASH), lifeMs);
    };
    await h.clock.runUntil(400_000);
    const gaps = starts.slice(1).map((t, i) => t - (starts[i] as number));
    // gap = life (1 s) + delay; delays 2, 4, 8, 16, 30 (cap), 30, 30 s; then after the 120 s run, 1 s.
    expect(gaps.slice(0, 8)).toEqual([3_000, 5_000, 9_000, 17_000, 31_000, 31_000, 31_000, 121_000]);
    expect(backoffDelayMs({ initialMs: 1_000, maxMs: 30_000, stableAfterMs: 60_000 }, 0)).toBe(1_000);
  });

  it('RestartBudget counts instants in (now − window, now]', () => {
    const budget = new RestartBudget(2, 100);
    expect(budget.take(0)).toBe(true);
    expect(budget.take(50)).toBe(true);
    expect(budget.take(99)).toBe(false);
    expect(budget.take(100)).toBe(true); // the one at 0 left the window
    expect(budget.used(149)).toBe(2);
    expect(budget.used(150)).toBe(1);
  });
});

describe('lease loss and stuck sessions', () => {
  it('lease lost: SIGTERM, SIGKILL after the kill grace, and no release while the session lives', async () => {
    const h = new Harness({ restart: 'always', killGraceMs: 20_000 });
    await h.clock.runUntil(1_000);
    const session = h.last();
    session.ignoresTerm = true;
    h.store.down = true; // renewals fail from here on: the keeper gives up at its renew deadline (120 s)
    await h.clock.runUntil(200_000);
    expect(h.outcome).toEqual({ kind: 'lease-lost', reason: 'renew-deadline' });
    const [term, kill] = session.signals;
    expect(term?.signal).toBe('SIGTERM');
    expect(term?.at).toBeGreaterThanOrEqual(120_000);
    expect(term?.at).toBeLessThan(121_000);
    expect(kill).toEqual({ at: (term?.at ?? 0) + 20_000, signal: 'SIGKILL' });
    for (const call of h.store.callsOf('release')) expect(call.sentAt).toBeGreaterThanOrEqual(kill?.at ?? Infinity);
    expect(h.sessions.length).toBe(1);
  });

  it('a wedged session is caught by the progress check: stopped, never restarted, lease released', async () => {
    const h = new Harness({ restart: 'always', keeper: { key: KEY, identity: 'sup-1', ttlMs: TTL, random: () => 0.5, maxProgressSilenceMs: 90_000 } });
    await h.clock.runUntil(1_000);
    h.supervisor.setPendingWork(1);
    await h.clock.runUntil(60_000);
    h.supervisor.progress(1);
    await h.clock.runUntil(300_000);
    expect(h.outcome).toEqual({ kind: 'stuck', detail: 'the session had work pending and made no progress' });
    expect(h.last().signals[0]).toEqual({ at: 150_000, signal: 'SIGTERM' });
    expect(h.sessions.length).toBe(1);
    expect(h.lease()?.holder).toBeNull();
  });

  it('declareStuck from an outside check stops the session the same way', async () => {
    const h = new Harness({ restart: 'always' });
    await h.clock.runUntil(1_000);
    h.supervisor.declareStuck('progress file unchanged');
    await h.clock.runUntil(2_000);
    expect(h.outcome).toEqual({ kind: 'stuck', detail: 'progress file unchanged' });
  });
});

describe('options', () => {
  const keeper = { key: KEY, identity: 'sup', ttlMs: TTL };
  it('checks rules eagerly, naming the option', () => {
    expect(() => resolveSupervisorOptions({ keeper, killGraceMs: 60_000 })).toThrow(/killGraceMs: must be at most .* = 47s200ms, so/);
    expect(() => resolveSupervisorOptions({ keeper, maxRestarts: { count: 0, windowMs: 1 } })).toThrow(ConfigError);
    expect(() => resolveSupervisorOptions({ keeper, backoff: { initialMs: 5_000, maxMs: 1_000 } })).toThrow(/backoff.maxMs: must be at least backoff.initialMs \(5s\) \(got 1s\)/);
    expect(() => resolveSupervisorOptions({ keeper, restart: 'sometimes' as never })).toThrow(/restart: must be one of never, on-exit, always/);
    expect(resolveSupervisorOptions({ keeper }).backoff).toEqual({ initialMs: 1_000, maxMs: 30_000, stableAfterMs: 60_000 });
  });

  it('resolves the keeper options once: its keeper runs on the very timing resolved, or given resolved', async () => {
    const raw = new Harness();
    expect(raw.supervisor.keeper.timing).toBe(raw.supervisor.options.keeper);
    const timing = resolveKeeperTiming({ ...keeper, renewIntervalMs: 50_000 });
    const given = new Harness({ keeper: timing });
    expect(given.supervisor.keeper.timing).toBe(timing);
    expect(given.supervisor.options.keeper).toMatchObject({ ...timing, clock: given.clock });
    // The callbacks among raw keeper options still reach the keeper.
    const started: number[] = [];
    const hooked = new Harness({ keeper: { ...keeper, random: () => 0.5, onStartedLeading: (lease) => started.push(lease.token) } });
    await hooked.clock.runUntil(1_000);
    expect(started).toEqual([1]);
  });

  it('parses N/DURATION restart limits', () => {
    expect(parseRestartLimit('--max-restarts', '5/1h')).toEqual({ count: 5, windowMs: 3_600_000 });
    expect(parseRestartLimit('--max-restarts', '20/30m')).toEqual({ count: 20, windowMs: 1_800_000 });
    for (const bad of ['5', '0/1h', '5/', '5/1', 'x/1h', '-1/1h']) expect(() => parseRestartLimit('--max-restarts', bad)).toThrow(/--max-restarts: must be COUNT\/DURATION/);
  });
});
