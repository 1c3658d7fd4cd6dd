/**
 * The restart rate limit: at most `count` restarts within any sliding window of `windowMs`.
 * Keeps at most `count` instants, so its memory is bounded whatever the run's length.
 */
export class RestartBudget {
  readonly count: number;
  readonly windowMs: number;
  /** Instants of the restarts still inside the window, oldest first. */
  readonly #taken: number[] = [];

  constructor(count: number, windowMs: number) {
    this.count = count;
    this.windowMs = windowMs;
  }

  /** Restarts counted in the window that ends at `now` (instants in (now − window, now]). */
  used(now: number): number {
    while (this.#taken.length > 0 && (this.#taken[0] as number) <= now - this.windowMs) this.#taken.shift();
    return this.#taken.length;
  }

  /** Takes one restart at `now` when the window has room; returns whether it did. */
  take(now: number): boolean {
    if (this.used(now) >= this.count) return false;
    this.#taken.push(now);
    return true;
  }
}

/** Exponential backoff with a cap, reset by a session that stayed up long enough. */
export interface Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  /** A session up at least this long resets the backoff to `initialMs`. */
  readonly stableAfterMs: number;
}

/**
 * The delay before the next session, given how many sessions in a row (this one included)
 * lived shorter than `stableAfterMs`: initialMs × 2^short, capped at maxMs.
 */
export function backoffDelayMs(backoff: Backoff, shortLivedInARow: number): number {
  const exponent = Math.min(shortLivedInARow, 52);
  return Math.min(backoff.maxMs, backoff.initialMs * 2 ** exponent);
}
