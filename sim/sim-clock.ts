import { promiseHooks } from 'node:v8';
import FakeTimers from '@sinonjs/fake-timers';
import type { Clock, TimerHandle } from '../src/clock.js';
import { WorldTimer, WorldTimerQueue } from './world-timers.js';

/** Wall-clock epoch of simulated time 0 (2026-01-04T19:41:45Z, the incident's task date). Fixed for determinism. */
export const SIM_EPOCH_WALL_MS = 1_767_555_705_000;

/**
 * fake-timers, built once per thread against the real globals except for a `setTimeout` that
 * answers a number: seeing that, fake-timers hands out plain numeric timer ids instead of a
 * Node-style handle object with five closures per timer, one allocation less on every simulated
 * timer. Nothing global is patched. Timer order depends only on (due time, creation order), and
 * creation order keeps increasing within every clock, so sharing one instance between runs
 * changes no result.
 */
const fakeTimers = FakeTimers.withGlobal(
  Object.create(globalThis, {
    setTimeout: { value: () => 0 },
    clearTimeout: { value: () => undefined },
  }) as typeof globalThis,
);

/**
 * Microtask turns a step may stay quiet before the driver fires the next timer: the model's
 * promise chains touch the clock (read the time, set or clear a timer) every few turns, and the
 * deepest silent stretch seen over every committed scenario is far below this.
 */
export const QUIET_TURNS = 8;
/** Further turns watched after a quiet stretch; activity there is a deep step (see {@link DeepStepError}). */
export const PROBE_TURNS = 4;
/** Turns one step may take in all before the driver stops counting and takes a real macrotask hop. */
export const MAX_STEP_TURNS = 10_000;

/** What the driver does when a step is still active after its quiet stretch: settle it with a real macrotask hop, or throw. */
export type DeepStepPolicy = 'hop' | 'throw';

export interface SimClockOptions {
  /** @default 'hop' (tests of the driver use 'throw') */
  readonly onDeepStep?: DeepStepPolicy;
  /**
   * After every step, also take a real macrotask hop (which settles every promise, as
   * fake-timers' `tickAsync` did) and treat activity during it as a deep step. Slow; for
   * checking that the microtask chain suffices for a scenario. @default false
   */
  readonly verify?: boolean;
}

/** fake-timers' longest delay; a longer one fires after 1 ms (as in browsers and Node). */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * The whole milliseconds after now that fake-timers makes a timer of `delayMs` due at (its
 * `addTimer` rule: non-finite → 0, above 2^31 − 1 → 1, then `parseInt(String(delay))`, and 0
 * becomes 1 while the clock runs), computed here so that fake-timers is handed an integer: its
 * `String()` of a fractional delay was the dearest part of setting a timer. `delayMs >= 1`
 * prints in plain decimals, so its `parseInt` is `Math.trunc`; below 1 (rare) the rule is
 * applied as written, since e.g. `String(5e-7)` parses as 5.
 */
export function dueOffsetMs(delayMs: number, running: boolean): number {
  let delay = Math.max(0, delayMs);
  if (!Number.isFinite(delay)) delay = 0;
  else if (delay > MAX_DELAY_MS) delay = 1;
  const whole = delay >= 1 ? Math.trunc(delay) : Number.parseInt(String(delay), 10);
  return whole || (running ? 1 : 0);
}

/** A model step needed more microtask turns than the driver's chain gives (with `onDeepStep: 'throw'`). */
export class DeepStepError extends Error {
  readonly code = 'SIM_DEEP_STEP';
  constructor(atMs: number, turns: number) {
    super(
      `a simulated step at ${atMs} ms was still active after ${turns} microtask turns without touching the clock ` +
        `for ${QUIET_TURNS}: raise QUIET_TURNS in sim/sim-clock.ts, or make the model touch the clock (read the time) on the way`,
    );
    this.name = 'DeepStepError';
  }
}

/** A quiet timer's callback started promise work without {@link SimClock.settleThisStep} (caught in `verify` mode). */
export class QuietStepError extends Error {
  readonly code = 'SIM_QUIET_STEP';
  constructor(atMs: number) {
    super(
      `a quiet timer (setQuietTimeout) at ${atMs} ms created or resolved a promise: ` +
        `use setTimeout for it, or call clock.settleThisStep() before the promise work`,
    );
    this.name = 'QuietStepError';
  }
}

/** Counts of the driver's work in one clock, for tests and benches. */
export interface DriverStats {
  /** Timers fired (each followed by settling its promise continuations, unless quiet). */
  steps: number;
  /** Of those, quiet timers fired without settling (see {@link SimClock.setQuietTimeout}). */
  quietSteps: number;
  /** Steps that were still active after the quiet stretch and were settled by a real macrotask hop. */
  deepSteps: number;
  /** Most microtask turns any step took before going quiet. */
  maxActiveTurns: number;
  /** Most turns in a row without activity that a step had before it was active again. */
  maxQuietGap: number;
}

const realSetImmediate = globalThis.setImmediate;
/** Each `.then` on it queues one reaction: one microtask turn. */
const RESOLVED = Promise.resolve();

/**
 * Promises created or settled in this thread while some clock runs in `verify` mode (V8 promise
 * hooks, installed only then: they slow every promise down).
 */
let promiseEvents = 0;
let verifyingClocks = 0;
let stopPromiseHooks: (() => void) | undefined;
const countPromiseEvent = (): void => {
  promiseEvents++;
};

function watchPromises(on: boolean): void {
  verifyingClocks += on ? 1 : -1;
  if (on && stopPromiseHooks === undefined) {
    const stopInit = promiseHooks.onInit(countPromiseEvent);
    const stopSettled = promiseHooks.onSettled(countPromiseEvent);
    stopPromiseHooks = () => {
      stopInit();
      stopSettled();
    };
  } else if (!on && verifyingClocks === 0 && stopPromiseHooks !== undefined) {
    stopPromiseHooks();
    stopPromiseHooks = undefined;
  }
}

interface RunState {
  untilMs: number;
  lastMs: number;
  phase: 0 | 1;
  failed: boolean;
  error: unknown;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * The simulator's one source of time: a `@sinonjs/fake-timers` clock (nothing global is
 * patched). It plays the store server's clock and is the base that every simulated thread's
 * clock is gated on.
 *
 * Two timer queues, one order. fake-timers is the clock and holds every timer set through
 * {@link setTimeout} / {@link setQuietTimeout}: those of every simulated thread (`ThreadClock`:
 * the shipped keeper's and hosts' timers, the strategies') and of the actors that use the clock
 * as a `Clock`. The world's own machinery, which no simulated thread runs (the watchdogs' polls,
 * the store server's apply step and its answer, the session host's idle clock, the work's
 * arrivals and durations, the scenario's crashes and restarts), sets its timers with
 * {@link setWorldTimeout} / {@link setQuietWorldTimeout} in a side queue of our own
 * ({@link WorldTimerQueue}: no fake-timers timer, id, map entry or closure each). The driver
 * merges the two in exactly the order fake-timers would have fired them had they all been its
 * own: (due time, creation order), creation order counted across both queues; time moves as
 * fake-timers' `next()` moves it.
 */
export class SimClock implements Clock {
  readonly #fake = fakeTimers.createClock(0, 1_000_000);
  /** The side queue (see the class comment). */
  readonly #world = new WorldTimerQueue();
  #worldSeq = 0;
  /**
   * The id of the newest fake-timers timer this clock set: orders side-queue timers against
   * fake-timers' ones. fake-timers (15.x `addTimer`) hands out a timer's id and its order (the tie
   * break of `compareTimers` after the due time) from two counters it bumps together, so among one
   * clock's timers a larger id means set later. `test/sim/sim-clock.test.ts` pins the merged order
   * against fake-timers' own.
   */
  #lastFakeId = 0;
  readonly #onDeepStep: DeepStepPolicy;
  readonly #verify: boolean;
  /** Bumped by everything the model does through the clock (read the time, set or clear a timer). */
  #activity = 0;
  #running = false;
  #sentinelFired = false;
  readonly #sentinel = (): void => {
    this.#sentinelFired = true;
  };
  /** Set by a quiet timer as it fires; cleared before each timer and by {@link settleThisStep}. */
  #quietStep = false;
  readonly stats: DriverStats = { steps: 0, quietSteps: 0, deepSteps: 0, maxActiveTurns: 0, maxQuietGap: 0 };
  /** State of the current `runUntil` (one object per clock, reused). */
  readonly #run: RunState = { untilMs: 0, lastMs: 0, phase: 0, failed: false, error: undefined, resolve: () => {}, reject: () => {} };
  #turn = 0;
  #lastActive = 0;
  #seen = 0;

  constructor(options: SimClockOptions = {}) {
    this.#onDeepStep = options.onDeepStep ?? 'hop';
    this.#verify = options.verify ?? false;
  }

  now(): number {
    this.#activity++;
    return this.#fake.now;
  }

  wallNow(): number {
    this.#activity++;
    return SIM_EPOCH_WALL_MS + this.#fake.now;
  }

  /**
   * While the clock runs, a timer comes due 1 ms later at the earliest (a 0 ms timer set by a
   * firing timer or its continuations does not fire in the same instant), as fake-timers'
   * `tickAsync` did; before a run, a 0 ms timer is due now.
   */
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  /** With `arg`: `callback` is called with it (so a caller needs no closure per timer). */
  setTimeout<A>(callback: (arg: A) => void, delayMs: number, arg: A): TimerHandle;
  setTimeout(callback: (arg?: unknown) => void, delayMs: number, arg?: unknown): TimerHandle {
    this.#activity++;
    const fake = this.#fake;
    const dueMs = dueOffsetMs(delayMs, this.#running);
    const id = (arg === undefined ? fake.setTimeout(callback, dueMs) : fake.setTimeout(callback, dueMs, arg)) as unknown as number;
    this.#lastFakeId = id;
    return id as unknown as TimerHandle;
  }

  /**
   * A timer whose callback starts no promise work: it creates no promise, resolves none, calls no
   * async function (e.g. it only reads state and sets timers). The driver fires the next timer
   * right after it, without the microtask turns that settle a step: there is nothing to settle.
   * A callback that does start promise work on some path calls {@link settleThisStep} first.
   * `verify` mode checks the claim (V8 promise hooks) and fails with {@link QuietStepError}.
   */
  setQuietTimeout(callback: () => void, delayMs: number): TimerHandle {
    this.#activity++;
    // fake-timers calls `#fireQuiet(callback)`: no closure per quiet timer.
    const id = this.#fake.setTimeout(this.#fireQuiet, dueOffsetMs(delayMs, this.#running), callback) as unknown as number;
    this.#lastFakeId = id;
    return id as unknown as TimerHandle;
  }

  /**
   * A timer of the world's own machinery, not of a simulated thread: kept in the side queue
   * (see the class comment), fired in the same order as if set with {@link setTimeout}, its step
   * settled the same way. `callback` is called with `arg` (so a caller needs no closure per timer).
   * Cleared with {@link clearTimeout}.
   */
  setWorldTimeout<A>(callback: (arg: A) => void, delayMs: number, arg: A): TimerHandle;
  setWorldTimeout(callback: () => void, delayMs: number): TimerHandle;
  setWorldTimeout(callback: (arg: never) => void, delayMs: number, arg?: unknown): TimerHandle {
    return this.#setWorld(callback, delayMs, arg, false);
  }

  /** {@link setWorldTimeout} for a callback that starts no promise work, with {@link setQuietTimeout}'s rules. */
  setQuietWorldTimeout<A>(callback: (arg: A) => void, delayMs: number, arg: A): TimerHandle;
  setQuietWorldTimeout(callback: () => void, delayMs: number): TimerHandle;
  setQuietWorldTimeout(callback: (arg: never) => void, delayMs: number, arg?: unknown): TimerHandle {
    return this.#setWorld(callback, delayMs, arg, true);
  }

  #setWorld(callback: (arg: never) => void, delayMs: number, arg: unknown, quiet: boolean): TimerHandle {
    this.#activity++;
    const timer = new WorldTimer(
      this.#fake.now + dueOffsetMs(delayMs, this.#running),
      this.#worldSeq++,
      this.#lastFakeId,
      callback,
      arg,
      quiet,
    );
    this.#world.push(timer);
    return timer;
  }

  readonly #fireQuiet = (callback: unknown): void => {
    this.#quietStep = true;
    (callback as () => void)();
  };

  /** Called by a quiet timer's callback before it starts promise work: its step is settled as any other. */
  settleThisStep(): void {
    this.#quietStep = false;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#activity++;
    if (handle instanceof WorldTimer) this.#world.clear(handle);
    else this.#fake.clearTimeout(handle as unknown as FakeTimers.TimerId);
  }

  /**
   * Advances simulated time to `untilMs`, firing timers in (time, creation) order and letting
   * promise continuations settle between timers: the same order fake-timers' `tickAsync` gives,
   * without its real macrotask hop per timer. Timers fire synchronously (fake-timers' `next`);
   * between two timers the driver queues resolved-promise reactions, one microtask turn each,
   * until the model has left the clock alone for {@link QUIET_TURNS} turns and then for
   * {@link PROBE_TURNS} more; after a quiet timer ({@link setQuietTimeout}) it fires the next timer
   * at once. Activity after a quiet stretch is a deep step: it is settled by a
   * real macrotask hop (or thrown, see {@link SimClockOptions}). A callback that throws does not
   * stop the run; the first error is thrown at the end.
   */
  runUntil(untilMs: number): Promise<void> {
    const fake = this.#fake;
    if (!(untilMs > fake.now)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      // Settle what was started before the run first (tickAsync began with a macrotask hop too).
      realSetImmediate(() => {
        const run = this.#run;
        run.untilMs = untilMs;
        run.lastMs = fake.now + Math.floor(untilMs - fake.now);
        run.phase = 0;
        run.failed = false;
        run.error = undefined;
        run.resolve = resolve;
        run.reject = reject;
        this.#running = true;
        if (this.#verify) watchPromises(true);
        this.#armSentinel();
        this.#fireNext();
      });
    });
  }

  /**
   * Phase 0 ends at a sentinel due at the last millisecond; timers due then but set after it
   * fire before a second sentinel set at that instant (phase 1). Timers set meanwhile are due
   * later (see {@link setTimeout}).
   */
  #armSentinel(): void {
    const fake = this.#fake;
    this.#sentinelFired = false;
    this.#lastFakeId = fake.setTimeout(this.#sentinel, this.#run.phase === 0 ? this.#run.lastMs - fake.now : 0) as unknown as number;
  }

  /** Fires the next timer, then settles its continuations (or ends the run at the last sentinel). */
  #fireNext(): void {
    const run = this.#run;
    for (;;) {
      this.#quietStep = false;
      const promisesBefore = promiseEvents;
      try {
        this.#fireFirst();
      } catch (error) {
        if (!run.failed) run.error = error;
        run.failed = true;
      }
      if (!this.#sentinelFired) {
        this.stats.steps++;
        if (!this.#quietStep) break;
        this.stats.quietSteps++;
        if (this.#verify && promiseEvents !== promisesBefore) {
          this.#stop();
          run.reject(new QuietStepError(this.#fake.now));
          return;
        }
        continue;
      }
      if (run.phase === 1) {
        this.#finish();
        return;
      }
      run.phase = 1;
      this.#armSentinel();
    }
    this.#turn = 0;
    this.#lastActive = 0;
    this.#seen = this.#activity;
    RESOLVED.then(this.#pump);
  }

  /**
   * Fires the first timer of the two queues: fake-timers' `next()`, or the side queue's first
   * timer when fake-timers would have fired it first (due earlier, or due at the same instant
   * and set before fake-timers' first). During a run fake-timers always holds a sentinel.
   */
  #fireFirst(): void {
    const fake = this.#fake;
    const world = this.#world.peek();
    if (world !== undefined) {
      const first = fake.timerHeap?.peek();
      const firstAt = first?.callAt as number;
      if (first === undefined || world.dueMs < firstAt || (world.dueMs === firstAt && (first.id as number) > world.afterFakeId)) {
        const callback = world.callback as (arg: unknown) => void;
        this.#world.take(world);
        // What fake-timers' `next()` does before it calls its first timer.
        fake.now = world.dueMs;
        this.#quietStep = world.quiet;
        callback(world.arg);
        return;
      }
    }
    fake.next();
  }

  /** One microtask turn of settling a step. */
  readonly #pump = (): void => {
    const turn = ++this.#turn;
    if (this.#activity !== this.#seen) {
      this.#seen = this.#activity;
      const gap = turn - this.#lastActive - 1;
      if (gap > this.stats.maxQuietGap) this.stats.maxQuietGap = gap;
      if (gap >= QUIET_TURNS || turn >= MAX_STEP_TURNS) {
        this.#deepStep();
        return;
      }
      this.#lastActive = turn;
    }
    if (turn - this.#lastActive < QUIET_TURNS + PROBE_TURNS) {
      RESOLVED.then(this.#pump);
      return;
    }
    if (this.#lastActive > this.stats.maxActiveTurns) this.stats.maxActiveTurns = this.#lastActive;
    if (!this.#verify) {
      this.#fireNext();
      return;
    }
    realSetImmediate(() => {
      if (this.#activity !== this.#seen) this.#deepStep();
      else this.#fireNext();
    });
  };

  #deepStep(): void {
    this.stats.deepSteps++;
    if (this.#onDeepStep === 'throw') {
      this.#stop();
      this.#run.reject(new DeepStepError(this.#fake.now, this.#turn));
      return;
    }
    realSetImmediate(() => this.#fireNext());
  }

  #finish(): void {
    const run = this.#run;
    this.#stop();
    // A fractional end: move the last fraction of a millisecond (no timer is due in it).
    if (run.untilMs > this.#fake.now) this.#fake.tick(run.untilMs - this.#fake.now);
    if (run.failed) run.reject(run.error);
    else run.resolve();
  }

  #stop(): void {
    this.#running = false;
    if (this.#verify) watchPromises(false);
  }

  /** Number of timers still scheduled (for leak checks in tests). */
  pendingTimers(): number {
    return this.#fake.countTimers() - (this.#running && !this.#sentinelFired ? 1 : 0) + this.#world.pending;
  }
}
