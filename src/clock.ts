/**
 * The time seam. Every piece of `src/` that needs "now" or a timer takes a {@link Clock};
 * production wires {@link SystemClock}, the simulator wires a fake-timers-backed clock.
 * Nothing in `src/` calls `Date.now()`, `performance.now()` or `setTimeout` directly.
 */
import { StoreTimeoutError } from './errors.js';

/** Opaque handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = { readonly __brand?: 'TimerHandle' } | object;

export interface Clock {
  /** Monotonic milliseconds. Only differences are meaningful; never jumps backwards. */
  now(): number;
  /** Wall-clock epoch milliseconds, for records that several processes on one machine compare. */
  wallNow(): number;
  /** Runs `callback` once after `delayMs` (clamped to >= 0). */
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export interface SystemClockOptions {
  /**
   * When true, pending timers do not keep the process alive.
   * @default false
   */
  unref?: boolean;
}

/** The real clock: `performance.now()` for monotonic time, `Date.now()` for wall time. */
export class SystemClock implements Clock {
  readonly #unref: boolean;

  constructor(options: SystemClockOptions = {}) {
    this.#unref = options.unref ?? false;
  }

  now(): number {
    return performance.now();
  }

  wallNow(): number {
    return Date.now();
  }

  /**
   * Node fires a timer whose delay is above 2^31 − 1 ms (24.8 days) after 1 ms instead; a longer
   * delay (a huge TTL's renew interval) is waited out in steps of at most that long.
   */
  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const timer: LongTimer = { handle: undefined as unknown as NodeJS.Timeout };
    const arm = (leftMs: number): void => {
      const stepMs = Math.min(leftMs, MAX_TIMER_DELAY_MS);
      timer.handle = setTimeout(leftMs > MAX_TIMER_DELAY_MS ? () => arm(leftMs - stepMs) : callback, stepMs);
      if (this.#unref) timer.handle.unref();
    };
    arm(Math.max(0, delayMs));
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    clearTimeout((handle as LongTimer).handle);
  }
}

/** The longest delay Node's `setTimeout` honours. */
const MAX_TIMER_DELAY_MS = 2_147_483_647;

/** A {@link SystemClock} timer: the Node timer of the current step. */
interface LongTimer {
  handle: NodeJS.Timeout;
}

/**
 * `CLOCK_MONOTONIC` in milliseconds (µs resolution). Unlike `performance.now()`, whose origin is
 * per process and per thread, this is one timeline for every process and thread of the machine,
 * so a deadline computed in one process can be judged by another on its own reading.
 */
export function machineNow(): number {
  return Number(process.hrtime.bigint() / 1000n) / 1000;
}

/** Resolves after `delayMs` on `clock`; rejects with the signal's reason if aborted first. */
export function sleep(clock: Clock, delayMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      reject(signal?.reason);
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, delayMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Settles like `promise`, or rejects with `StoreTimeoutError(operation, timeoutMs)` when it has not
 * settled within `timeoutMs` on `clock`. The timer is cleared either way.
 */
export function withTimeout<T>(clock: Clock, operation: string, timeoutMs: number, promise: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const handle = clock.setTimeout(() => reject(new StoreTimeoutError(operation, timeoutMs)), timeoutMs);
    promise.then(
      (value) => {
        clock.clearTimeout(handle);
        resolve(value);
      },
      (error: unknown) => {
        clock.clearTimeout(handle);
        reject(error);
      },
    );
  });
}
