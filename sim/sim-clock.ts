import FakeTimers from '@sinonjs/fake-timers';
import type { Clock, TimerHandle } from '../src/clock.js';

/** Wall-clock epoch of simulated time 0 (2026-01-04T19:41:45Z, the incident's task date). Fixed for determinism. */
export const SIM_EPOCH_WALL_MS = 1_767_555_705_000;

/**
 * fake-timers, built once per thread against the real globals except for a `setTimeout` that
 * answers a number: seeing that, fake-timers hands out plain numeric timer ids instead of a
 * Node-style handle object with five closures per timer, one allocation less on every simulated
 * timer. Nothing global is patched and `tickAsync` still yields through the real `setImmediate`.
 * Timer order depends only on (due time, creation order), and creation order keeps increasing
 * within every clock, so sharing one instance between runs changes no result.
 */
const fakeTimers = FakeTimers.withGlobal(
  Object.create(globalThis, {
    setTimeout: { value: () => 0 },
    clearTimeout: { value: () => undefined },
  }) as typeof globalThis,
);

/**
 * The simulator's one source of time: a `@sinonjs/fake-timers` clock (nothing global is
 * patched). It plays the store server's clock and is the base that every simulated thread's
 * clock is gated on.
 */
export class SimClock implements Clock {
  readonly #fake = fakeTimers.createClock(0, 1_000_000);

  now(): number {
    return this.#fake.now;
  }

  wallNow(): number {
    return SIM_EPOCH_WALL_MS + this.#fake.now;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    return this.#fake.setTimeout(callback, Math.max(0, delayMs)) as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#fake.clearTimeout(handle as unknown as FakeTimers.TimerId);
  }

  /**
   * Advances simulated time to `untilMs`, firing timers in (time, creation) order and letting
   * promise continuations settle between timers (fake-timers' `tickAsync`).
   */
  async runUntil(untilMs: number): Promise<void> {
    if (untilMs > this.#fake.now) await this.#fake.tickAsync(untilMs - this.#fake.now);
  }

  /** Number of timers still scheduled (for leak checks in tests). */
  pendingTimers(): number {
    return this.#fake.countTimers();
  }
}
