import { SystemClock, type Clock } from '../clock.js';
import { formatDurationMs, parseDurationMs } from '../duration.js';
import { ConfigError } from '../errors.js';
import {
  checkKeeperTiming,
  isResolvedKeeperTiming,
  resolveKeeperTiming,
  withSeams,
  type LeaseKeeperOptions,
  type ResolvedKeeperOptions,
  type ResolvedKeeperTiming,
} from '../keeper/keeper-options.js';
import type { Backoff } from './restart-budget.js';

/**
 * When a session that ended is started again:
 * - `never`: not at all (the supervisor releases the lease and exits with the session's code);
 * - `on-exit`: after a clean exit (code 0, no signal), e.g. a session that ended itself when idle;
 *   a crash ends the supervisor, so the watchdog (or another contender) takes over;
 * - `always`: after any exit, crashes included.
 * A session stopped by a signal the supervisor forwarded (SIGTERM, SIGINT) is never restarted.
 */
export type RestartPolicy = 'never' | 'on-exit' | 'always';
export const RESTART_POLICIES: readonly RestartPolicy[] = ['never', 'on-exit', 'always'];

/** At most `count` restarts in any sliding window of `windowMs`. */
export interface RestartLimit {
  readonly count: number;
  readonly windowMs: number;
}

export interface SupervisorOptions {
  /**
   * The lease keeper's options (the supervisor supplies the clock and the owner), or a timing
   * resolved once already (`resolveKeeperTiming`, as `keeper run` does), used as it is.
   */
  readonly keeper: Omit<LeaseKeeperOptions, 'clock' | 'owner'> | ResolvedKeeperTiming;
  /** @default 'never' */
  readonly restart?: RestartPolicy;
  /** @default { count: 30, windowMs: 1 h } */
  readonly maxRestarts?: RestartLimit;
  /** @default { initialMs: 1 s, maxMs: 30 s, stableAfterMs: 2 × maxMs } */
  readonly backoff?: Partial<Backoff>;
  /**
   * SIGTERM to SIGKILL delay when the supervisor stops a session (lease lost, stuck).
   * @default min(10 s, the lease's margin)
   */
  readonly killGraceMs?: number;
  /** @default new SystemClock() */
  readonly clock?: Clock;
}

export interface ResolvedSupervisorOptions {
  readonly keeper: ResolvedKeeperOptions;
  readonly restart: RestartPolicy;
  readonly maxRestarts: RestartLimit;
  readonly backoff: Backoff;
  readonly killGraceMs: number;
  /** ttl − renew deadline − request timeout − drift: how long a stopped session may take to die. */
  readonly marginMs: number;
  readonly clock: Clock;
}

export const DEFAULT_MAX_RESTARTS: RestartLimit = Object.freeze({ count: 30, windowMs: 3_600_000 });
const MAX_RESTART_COUNT = 100_000;

function positive(option: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) throw new ConfigError(option, 'must be a finite number > 0', value);
}

/**
 * Fills defaults and checks the rules eagerly, before anything runs:
 * 1. the keeper's own rules (see `resolveKeeperTiming`), unless given a timing resolved already;
 * 2. restart is one of never, on-exit, always;
 * 3. maxRestarts.count is an integer in [1, 100000] and maxRestarts.windowMs > 0;
 * 4. backoff: 0 < initialMs <= maxMs, stableAfterMs > 0;
 * 5. 0 < killGraceMs <= ttl − renewDeadline − requestTimeout − drift, so a session stopped when
 *    the keeper gives up at its renew deadline is dead before the store can hand the lease on.
 */
export function resolveSupervisorOptions(options: SupervisorOptions): ResolvedSupervisorOptions {
  const clock = options.clock ?? new SystemClock();
  const given = options.keeper;
  const keeper = isResolvedKeeperTiming(given) ? withSeams(checkKeeperTiming(given), { clock }) : withSeams(resolveKeeperTiming(given), { ...given, clock });
  const restart = options.restart ?? 'never';
  if (!RESTART_POLICIES.includes(restart)) throw new ConfigError('restart', `must be one of ${RESTART_POLICIES.join(', ')}`, restart);
  const maxRestarts = options.maxRestarts ?? DEFAULT_MAX_RESTARTS;
  if (!Number.isInteger(maxRestarts.count) || maxRestarts.count < 1 || maxRestarts.count > MAX_RESTART_COUNT) {
    throw new ConfigError('maxRestarts.count', `must be an integer in [1, ${MAX_RESTART_COUNT}]`, maxRestarts.count);
  }
  positive('maxRestarts.windowMs', maxRestarts.windowMs);
  const initialMs = options.backoff?.initialMs ?? 1_000;
  const maxMs = options.backoff?.maxMs ?? Math.max(30_000, initialMs);
  const stableAfterMs = options.backoff?.stableAfterMs ?? 2 * maxMs;
  positive('backoff.initialMs', initialMs);
  positive('backoff.maxMs', maxMs);
  positive('backoff.stableAfterMs', stableAfterMs);
  if (maxMs < initialMs) throw new ConfigError('backoff.maxMs', `must be at least backoff.initialMs (${formatDurationMs(initialMs)})`, maxMs);
  const marginMs = Math.floor(keeper.stepDownMarginMs);
  const killGraceMs = options.killGraceMs ?? Math.min(10_000, marginMs);
  positive('killGraceMs', killGraceMs);
  if (killGraceMs > marginMs) {
    throw new ConfigError(
      'killGraceMs',
      `must be at most ttl − drift − clock uncertainty − renew deadline − request timeout = ${formatDurationMs(marginMs)}, so a session stopped on lease loss is dead before the lease can pass to a successor`,
      killGraceMs,
    );
  }
  return { keeper, restart, maxRestarts, backoff: { initialMs, maxMs, stableAfterMs }, killGraceMs, marginMs, clock };
}

/** Parses `N/DURATION` (`5/1h`, `20/30m`) as a restart limit; `flag` names the option in errors. */
export function parseRestartLimit(flag: string, text: string): RestartLimit {
  const match = /^\s*(\d+)\s*\/\s*(\S+)\s*$/.exec(text);
  const windowMs = match === null ? undefined : parseDurationMs(match[2] as string);
  const count = match === null ? NaN : Number(match[1]);
  if (match === null || windowMs === undefined || windowMs <= 0 || !Number.isInteger(count) || count < 1 || count > MAX_RESTART_COUNT) {
    throw new ConfigError(flag, `must be COUNT/DURATION with 1 <= COUNT <= ${MAX_RESTART_COUNT}, like 5/1h or 20/30m`, text);
  }
  return { count, windowMs };
}
