import { SystemClock, type Clock } from '../clock.js';
import { formatDurationMs } from '../duration.js';
import { ConfigError } from '../errors.js';
import { ALIVE, type OwnerLiveness, type OwnerStatus } from './owner-liveness.js';

/** Options of {@link CheckInOwner}. */
export interface CheckInOwnerOptions {
  /** The owner is considered hung after this long without a {@link CheckInOwner.checkIn}. */
  readonly maxOwnerSilenceMs: number;
  /** @default new SystemClock() */
  readonly clock?: Clock;
}

/**
 * An owner that must prove it is making progress: it calls {@link checkIn} from its own work loop,
 * and is dead once it has been silent for more than `maxOwnerSilenceMs` (hung, deadlocked, or
 * frozen). Construction counts as the first check-in. Death is final: a later check-in does not
 * revive it, so a keeper never resumes leading for an owner it already gave up on.
 */
export class CheckInOwner implements OwnerLiveness {
  readonly maxOwnerSilenceMs: number;
  readonly #clock: Clock;
  #lastCheckIn: number;
  #deadReason: string | undefined;

  constructor(options: CheckInOwnerOptions) {
    const max = options.maxOwnerSilenceMs;
    if (typeof max !== 'number' || !Number.isFinite(max) || max <= 0) {
      throw new ConfigError('maxOwnerSilenceMs', 'must be a finite number > 0', max);
    }
    this.maxOwnerSilenceMs = max;
    this.#clock = options.clock ?? new SystemClock();
    this.#lastCheckIn = this.#clock.now();
  }

  /** Records that the owner is alive and making progress now. */
  checkIn(): void {
    if (this.#deadReason === undefined) this.#lastCheckIn = this.#clock.now();
  }

  /** Milliseconds since the last check-in. */
  silenceMs(): number {
    return this.#clock.now() - this.#lastCheckIn;
  }

  check(): OwnerStatus {
    if (this.#deadReason === undefined) {
      const silent = this.silenceMs();
      if (silent <= this.maxOwnerSilenceMs) return ALIVE;
      this.#deadReason = `owner silent for ${formatDurationMs(silent)}, more than maxOwnerSilenceMs (${formatDurationMs(this.maxOwnerSilenceMs)})`;
    }
    return { alive: false, reason: this.#deadReason };
  }
}
