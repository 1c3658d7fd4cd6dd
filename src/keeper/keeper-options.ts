import { SystemClock, type Clock } from '../clock.js';
import { ConfigError } from '../errors.js';
import type { OwnerLiveness } from '../owner/owner-liveness.js';
import type { LeaseGrant } from '../store/lease-store.js';

/** Why a keeper stopped leading. */
export type StepDownReason =
  | 'renew-deadline' // could not renew before the renew deadline
  | 'lost' // the store says someone else holds the lease, or it expired there
  | 'paused' // the process was paused past the lease's local validity
  | 'owner-dead' // the owner process/thread died or stopped checking in
  | 'stopped' // stop() or the abort signal
  | 'stuck' // the owner had work but made no progress for maxProgressSilenceMs
  | 'handoff'; // graceful handoff

/** Timing of a watchdog that respawns the owner, when one exists; used for validation and the failover window. */
export interface WatchdogTiming {
  readonly intervalMs: number;
  readonly graceMs: number;
  /** Upper bound of the time from the watchdog's decision to a new owner running. @default 0 */
  readonly respawnDelayMaxMs?: number;
}

export interface LeaseKeeperOptions {
  /** Lease name in the store. */
  readonly key: string;
  /** This contender's identity; unique per process incarnation. */
  readonly identity: string;
  /** Lease time to live on the store's clock. */
  readonly ttlMs: number;
  /** Time between successful renewals. @default ttlMs / 3 */
  readonly renewIntervalMs?: number;
  /** Step down when no renewal *sent* within this long succeeded. @default ttlMs * 2 / 3 */
  readonly renewDeadlineMs?: number;
  /** Per-request timeout. @default min(ttlMs / 10, 10 s) */
  readonly requestTimeoutMs?: number;
  /** Wait between failed renew attempts and between acquire attempts. @default renewIntervalMs / 4 */
  readonly retryIntervalMs?: number;
  /** Renewals come up to this fraction early, to spread load. @default 0.1 */
  readonly jitterRatio?: number;
  /** Worst rate difference between our clock and the store's; the lease is trusted for ttl × (1 − ratio). @default 0.01 */
  readonly maxClockDriftRatio?: number;
  /**
   * Largest forward step of the *store's* clock to survive (NTP step, VM migration, manual set).
   * Stores judge expiry on their wall clock (the file store on `Date.now()`, Redis on `TIME`,
   * PostgreSQL on `now()`; etcd on its leader's monotonic clock), and a step of Δ ends the lease
   * Δ early in real time, while the keeper measures validity on its own monotonic clock. The
   * lease is trusted for ttl × (1 − drift) − clockUncertaintyMs; a bigger step can give two
   * leaders for up to (step − margin). @default min(1 s, ttl × 5 %)
   */
  readonly clockUncertaintyMs?: number;
  /** Keep trying to (re)acquire after stepping down. @default true */
  readonly contend?: boolean;
  /** Release the lease on stop() so a successor can take over at once. @default true */
  readonly releaseOnStop?: boolean;
  readonly owner?: OwnerLiveness;
  /**
   * Progress check beside the heartbeat: when the owner has work pending (`setPendingWork`) and
   * reports no `progress()` for this long, the keeper releases the lease and stops with reason
   * `stuck`, so a wedged-but-alive leader is replaced. An owner with no work is never stuck.
   * @default undefined (off)
   */
  readonly maxProgressSilenceMs?: number;
  readonly watchdog?: WatchdogTiming;
  /** @default new SystemClock() */
  readonly clock?: Clock;
  /** Uniform [0, 1) source for jitter. @default Math.random */
  readonly random?: () => number;
  readonly signal?: AbortSignal;
  readonly onStartedLeading?: (lease: LeaseGrant) => void;
  readonly onStoppedLeading?: (reason: StepDownReason) => void;
  readonly onNewLeader?: (identity: string | null, token: number) => void;
}

/** Options with every default filled in and every rule checked. */
export interface ResolvedKeeperOptions {
  readonly key: string;
  readonly identity: string;
  readonly ttlMs: number;
  readonly renewIntervalMs: number;
  readonly renewDeadlineMs: number;
  readonly requestTimeoutMs: number;
  readonly retryIntervalMs: number;
  readonly jitterRatio: number;
  readonly maxClockDriftRatio: number;
  /** ttlMs × maxClockDriftRatio: how much earlier than the store we consider the lease gone. */
  readonly driftMarginMs: number;
  readonly clockUncertaintyMs: number;
  /** How long after sending a renewal the lease is trusted: ttl − driftMargin − clockUncertainty. */
  readonly validityMs: number;
  /**
   * Time between the renew-deadline step-down and the end of the lease's validity:
   * validity − renewDeadline − requestTimeout. What a command has to stop in (keeper run's kill grace).
   */
  readonly stepDownMarginMs: number;
  readonly contend: boolean;
  readonly releaseOnStop: boolean;
  readonly maxProgressSilenceMs: number | undefined;
  readonly watchdog: WatchdogTiming | undefined;
  readonly clock: Clock;
  readonly random: () => number;
}

/**
 * Lower bounds from timer and network resolution. Node timers fire late by up to ~10 ms on a
 * loaded machine, and one store round trip with an fsync (Redis `appendfsync always`, etcd's raft
 * WAL) takes milliseconds: a budget finer than this loops on timeouts instead of renewing.
 */
export const LIMITS = {
  /** Shortest renew interval, retry interval and progress silence: timer lateness. */
  minTimerMs: 10,
  /** Shortest request timeout: a store round trip with an fsync. */
  minRequestTimeoutMs: 10,
  /** Shortest TTL: the defaults (÷3 renewal, ÷10 timeout) then still clear the bounds above. */
  minTtlMs: 200,
  /** Shortest step-down margin: a late deadline timer plus a SIGKILLed process group dying. */
  minStepDownMarginMs: 20,
} as const;

function positive(option: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) throw new ConfigError(option, 'must be a finite number > 0', value);
}

function atLeast(option: string, value: number, min: number, why: string): void {
  positive(option, value);
  if (value < min) throw new ConfigError(option, `must be at least ${min} ms (${why})`, value);
}

function ratio(option: string, value: number, maxExclusive: number): void {
  if (!Number.isFinite(value) || value < 0 || value >= maxExclusive) {
    throw new ConfigError(option, `must be in [0, ${maxExclusive})`, value);
  }
}

/**
 * Fills defaults and checks the timing budget eagerly. Rules, in order:
 * 1. key and identity are non-empty strings;
 * 2. every duration is > 0 and above the lower bounds in {@link LIMITS} (ttl ≥ 200 ms, request
 *    timeout ≥ 10 ms, renew and retry intervals ≥ 10 ms), ratios are in range, clockUncertaintyMs ≥ 0;
 * 3. renewIntervalMs < renewDeadlineMs (a renewal is attempted before giving up);
 * 4. renewDeadlineMs + requestTimeoutMs + LIMITS.minStepDownMarginMs <= validityMs, where
 *    validityMs = ttlMs − driftMarginMs − clockUncertaintyMs (a keeper that gives up at the
 *    deadline still steps down, with time to stop its owner, before the store can hand the lease
 *    to someone else);
 * 5. retryIntervalMs < renewDeadlineMs − renewIntervalMs (at least one retry fits);
 * 6. with a watchdog: graceMs >= 0, intervalMs > 0.
 */
export function resolveKeeperOptions(options: LeaseKeeperOptions): ResolvedKeeperOptions {
  if (typeof options.key !== 'string' || options.key.length === 0) throw new ConfigError('key', 'must be a non-empty string', options.key);
  if (typeof options.identity !== 'string' || options.identity.length === 0) {
    throw new ConfigError('identity', 'must be a non-empty string', options.identity);
  }
  const ttlMs = options.ttlMs;
  atLeast('ttlMs', ttlMs, LIMITS.minTtlMs, 'a shorter lease leaves no room for timer lateness and a store round trip');
  const renewIntervalMs = options.renewIntervalMs ?? ttlMs / 3;
  const renewDeadlineMs = options.renewDeadlineMs ?? (ttlMs * 2) / 3;
  const requestTimeoutMs = options.requestTimeoutMs ?? Math.min(ttlMs / 10, 10_000);
  const retryIntervalMs = options.retryIntervalMs ?? renewIntervalMs / 4;
  const jitterRatio = options.jitterRatio ?? 0.1;
  const maxClockDriftRatio = options.maxClockDriftRatio ?? 0.01;
  const clockUncertaintyMs = options.clockUncertaintyMs ?? Math.min(1_000, ttlMs * 0.05);
  atLeast('renewIntervalMs', renewIntervalMs, LIMITS.minTimerMs, 'timers fire that late on a loaded machine');
  positive('renewDeadlineMs', renewDeadlineMs);
  atLeast('requestTimeoutMs', requestTimeoutMs, LIMITS.minRequestTimeoutMs, 'one store round trip with an fsync takes that long');
  atLeast('retryIntervalMs', retryIntervalMs, LIMITS.minTimerMs, 'timers fire that late on a loaded machine');
  ratio('jitterRatio', jitterRatio, 1);
  ratio('maxClockDriftRatio', maxClockDriftRatio, 0.5);
  if (!Number.isFinite(clockUncertaintyMs) || clockUncertaintyMs < 0) {
    throw new ConfigError('clockUncertaintyMs', 'must be a finite number >= 0', clockUncertaintyMs);
  }
  const driftMarginMs = ttlMs * maxClockDriftRatio;
  const validityMs = ttlMs - driftMarginMs - clockUncertaintyMs;
  if (renewIntervalMs >= renewDeadlineMs) {
    throw new ConfigError('renewIntervalMs', `must be shorter than renewDeadlineMs (${renewDeadlineMs} ms)`, renewIntervalMs);
  }
  const stepDownMarginMs = validityMs - renewDeadlineMs - requestTimeoutMs;
  if (stepDownMarginMs < LIMITS.minStepDownMarginMs) {
    const limit = validityMs - requestTimeoutMs - LIMITS.minStepDownMarginMs;
    throw new ConfigError(
      'renewDeadlineMs',
      `must be at most ttlMs − driftMargin − clockUncertainty − requestTimeoutMs − ${LIMITS.minStepDownMarginMs} ms step-down margin = ` +
        `${ttlMs} − ${driftMarginMs} − ${clockUncertaintyMs} − ${requestTimeoutMs} − ${LIMITS.minStepDownMarginMs} = ${limit} ms`,
      renewDeadlineMs,
    );
  }
  if (retryIntervalMs >= renewDeadlineMs - renewIntervalMs) {
    throw new ConfigError(
      'retryIntervalMs',
      `must be shorter than renewDeadlineMs − renewIntervalMs = ${renewDeadlineMs - renewIntervalMs} ms so that at least one retry fits`,
      retryIntervalMs,
    );
  }
  if (options.maxProgressSilenceMs !== undefined) {
    atLeast('maxProgressSilenceMs', options.maxProgressSilenceMs, LIMITS.minTimerMs, 'timers fire that late on a loaded machine');
  }
  const watchdog = options.watchdog;
  if (watchdog !== undefined) {
    positive('watchdog.intervalMs', watchdog.intervalMs);
    if (!Number.isFinite(watchdog.graceMs) || watchdog.graceMs < 0) throw new ConfigError('watchdog.graceMs', 'must be >= 0', watchdog.graceMs);
    const respawn = watchdog.respawnDelayMaxMs ?? 0;
    if (!Number.isFinite(respawn) || respawn < 0) throw new ConfigError('watchdog.respawnDelayMaxMs', 'must be >= 0', respawn);
  }
  return {
    key: options.key,
    identity: options.identity,
    ttlMs,
    renewIntervalMs,
    renewDeadlineMs,
    requestTimeoutMs,
    retryIntervalMs,
    jitterRatio,
    maxClockDriftRatio,
    driftMarginMs,
    clockUncertaintyMs,
    validityMs,
    stepDownMarginMs,
    contend: options.contend ?? true,
    releaseOnStop: options.releaseOnStop ?? true,
    maxProgressSilenceMs: options.maxProgressSilenceMs,
    watchdog,
    clock: options.clock ?? new SystemClock(),
    random: options.random ?? Math.random,
  };
}

/**
 * Worst-case times until a successor can lead, for each way the current leader can go, counted
 * from that event. Assumes a request the store applies at all, it applies within requestTimeoutMs.
 */
export interface FailoverWindow {
  /** Leader shut down cleanly and released: the release lands, then a contender's next acquire attempt. */
  readonly afterCleanStopMs: number;
  /** Leader's owner died, keeper alive: the keeper notices at its next check, then releases. */
  readonly afterOwnerDeathMs: number;
  /**
   * Leader and keeper died together: a renewal already sent may still land, the lease expires on
   * the store a ttl later, then a contender retries.
   */
  readonly afterCrashMs: number;
  /** Same as afterCrashMs when a watchdog, not a contender, must respawn the owner. */
  readonly afterCrashWithWatchdogMs: number | undefined;
}

/**
 * @param storeExpiryMs how long the store may keep an unrenewed lease after applying the last
 * renewal (`LeaseStore.expiryBoundMs(ttl)`; etcd's whole-second TTLs make it longer than ttl).
 */
export function failoverWindow(o: ResolvedKeeperOptions, storeExpiryMs: number = o.ttlMs): FailoverWindow {
  const acquireRetry = o.retryIntervalMs + o.requestTimeoutMs;
  // The release, or a renewal in flight at the crash, takes up to one request timeout to land.
  const lastRequestMs = o.requestTimeoutMs;
  const wd = o.watchdog;
  return {
    afterCleanStopMs: lastRequestMs + acquireRetry,
    afterOwnerDeathMs: o.renewIntervalMs + lastRequestMs + acquireRetry,
    afterCrashMs: lastRequestMs + storeExpiryMs + acquireRetry,
    afterCrashWithWatchdogMs:
      wd === undefined
        ? undefined
        : lastRequestMs + storeExpiryMs + wd.graceMs + wd.intervalMs + (wd.respawnDelayMaxMs ?? 0) + o.requestTimeoutMs,
  };
}
