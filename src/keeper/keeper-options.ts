import { SystemClock, type Clock } from '../clock.js';
import { formatDurationMs as d } from '../duration.js';
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

/** The timing options: plain data, so they can cross a process or thread boundary. */
export type KeeperTimingOptions = Pick<
  LeaseKeeperOptions,
  | 'key'
  | 'identity'
  | 'ttlMs'
  | 'renewIntervalMs'
  | 'renewDeadlineMs'
  | 'requestTimeoutMs'
  | 'retryIntervalMs'
  | 'jitterRatio'
  | 'maxClockDriftRatio'
  | 'clockUncertaintyMs'
  | 'contend'
  | 'releaseOnStop'
  | 'maxProgressSilenceMs'
  | 'watchdog'
>;

/** The names of {@link KeeperTimingOptions}, to copy them out of a larger object. */
export const KEEPER_TIMING_KEYS = [
  'key', 'identity', 'ttlMs', 'renewIntervalMs', 'renewDeadlineMs', 'requestTimeoutMs', 'retryIntervalMs',
  'jitterRatio', 'maxClockDriftRatio', 'clockUncertaintyMs', 'contend', 'releaseOnStop', 'maxProgressSilenceMs', 'watchdog',
] as const satisfies readonly (keyof KeeperTimingOptions)[];

/**
 * The keeper's timing with every default filled in and every rule checked: plain numbers, so it can
 * be resolved once (by `keeper run`, a keeper host's owner, a supervisor) and travel as it is, over
 * IPC or to a worker thread, to the `LeaseKeeper` that uses it (`new LeaseKeeper(store, { timing })`).
 * `kind` marks it as resolved; one that arrives from another process is checked once with
 * {@link checkKeeperTiming}, never resolved again.
 */
export interface ResolvedKeeperTiming {
  readonly kind: 'resolved-keeper-timing';
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
}

/**
 * A keeper built from a timing resolved elsewhere (by `keeper run`, a keeper host's owner, a
 * supervisor), with this process's seams and callbacks: `new LeaseKeeper(store, { timing, clock })`.
 * The timing is used as it is; one not resolved or checked in this process is checked once
 * ({@link checkKeeperTiming}), never resolved again.
 */
export interface KeeperWithTiming
  extends Pick<LeaseKeeperOptions, 'owner' | 'clock' | 'random' | 'signal' | 'onStartedLeading' | 'onStoppedLeading' | 'onNewLeader'> {
  readonly timing: ResolvedKeeperTiming;
}

/** Options with every default filled in and every rule checked: the timing and this process's seams. */
export interface ResolvedKeeperOptions extends ResolvedKeeperTiming {
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
  if (value < min) throw new ConfigError(option, `must be at least ${d(min)} (${why})`, value);
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
 * The result is frozen; resolve it once and pass it on (see {@link ResolvedKeeperTiming}).
 */
export function resolveKeeperTiming(options: KeeperTimingOptions): ResolvedKeeperTiming {
  const ttlMs = options.ttlMs;
  const renewIntervalMs = options.renewIntervalMs ?? ttlMs / 3;
  const maxClockDriftRatio = options.maxClockDriftRatio ?? 0.01;
  const clockUncertaintyMs = options.clockUncertaintyMs ?? Math.min(1_000, ttlMs * 0.05);
  const renewDeadlineMs = options.renewDeadlineMs ?? (ttlMs * 2) / 3;
  const requestTimeoutMs = options.requestTimeoutMs ?? Math.min(ttlMs / 10, 10_000);
  const timing: ResolvedKeeperTiming = {
    kind: 'resolved-keeper-timing',
    key: options.key,
    identity: options.identity,
    ttlMs,
    renewIntervalMs,
    renewDeadlineMs,
    requestTimeoutMs,
    retryIntervalMs: options.retryIntervalMs ?? renewIntervalMs / 4,
    jitterRatio: options.jitterRatio ?? 0.1,
    maxClockDriftRatio,
    ...derivedTiming(ttlMs, maxClockDriftRatio, clockUncertaintyMs, renewDeadlineMs, requestTimeoutMs),
    clockUncertaintyMs,
    contend: options.contend ?? true,
    releaseOnStop: options.releaseOnStop ?? true,
    maxProgressSilenceMs: options.maxProgressSilenceMs,
    watchdog: options.watchdog === undefined ? undefined : Object.freeze({ ...options.watchdog }),
  };
  checkTimingRules(timing);
  return vouch(timing);
}

/** {@link resolveKeeperTiming}, with the clock and jitter source filled in too. */
export function resolveKeeperOptions(options: LeaseKeeperOptions): ResolvedKeeperOptions {
  return withSeams(resolveKeeperTiming(options), options);
}

/** A resolved timing with this process's clock and jitter source (real ones by default). */
export function withSeams(timing: ResolvedKeeperTiming, seams: Pick<LeaseKeeperOptions, 'clock' | 'random'>): ResolvedKeeperOptions {
  return vouch({ ...timing, clock: seams.clock ?? new SystemClock(), random: seams.random ?? Math.random });
}

/** The abort signal and callbacks among `options`, to pass on beside a resolved timing. */
export function keeperHooks(options: Pick<LeaseKeeperOptions, 'signal' | 'onStartedLeading' | 'onStoppedLeading' | 'onNewLeader'>): Pick<KeeperWithTiming, 'signal' | 'onStartedLeading' | 'onStoppedLeading' | 'onNewLeader'> {
  const { signal, onStartedLeading, onStoppedLeading, onNewLeader } = options;
  return {
    ...(signal === undefined ? {} : { signal }),
    ...(onStartedLeading === undefined ? {} : { onStartedLeading }),
    ...(onStoppedLeading === undefined ? {} : { onStoppedLeading }),
    ...(onNewLeader === undefined ? {} : { onNewLeader }),
  };
}

/**
 * Timings that came from {@link resolveKeeperTiming} or passed {@link checkKeeperTiming} in this
 * process (frozen, so what was checked is what is used): a keeper takes them as they are.
 */
const checked = new WeakSet<ResolvedKeeperTiming>();

function vouch<T extends ResolvedKeeperTiming>(timing: T): T {
  Object.freeze(timing);
  checked.add(timing);
  return timing;
}

/**
 * The one check of a resolved timing that crossed a trust boundary (a message from another
 * process or thread, a hand-built object): the `kind` mark, the types, the rules of
 * {@link resolveKeeperTiming}, and that the derived fields are what the others make. No default
 * is filled in: a field missing is an error. Returns the same object, frozen; cheap when it was
 * already checked (or resolved) in this process. Throws `ConfigError` naming the field.
 */
export function checkKeeperTiming(value: unknown): ResolvedKeeperTiming {
  const timing = value as ResolvedKeeperTiming;
  if (typeof value === 'object' && value !== null && checked.has(timing)) return timing;
  if (typeof value !== 'object' || value === null || timing.kind !== 'resolved-keeper-timing') {
    throw new ConfigError('keeper', "must be a resolved keeper timing (resolveKeeperTiming's result, from the same heartbeat-lab version)", value);
  }
  for (const name of ['contend', 'releaseOnStop'] as const) {
    if (typeof timing[name] !== 'boolean') throw new ConfigError(name, 'must be a boolean in a resolved keeper timing', timing[name]);
  }
  checkTimingRules(timing);
  const derived = derivedTiming(timing.ttlMs, timing.maxClockDriftRatio, timing.clockUncertaintyMs, timing.renewDeadlineMs, timing.requestTimeoutMs);
  for (const [name, expected] of Object.entries(derived) as [keyof typeof derived, number][]) {
    if (timing[name] !== expected) {
      throw new ConfigError(name, `must be ${d(expected)}, what the other fields of a resolved keeper timing make (it was altered after resolveKeeperTiming)`, timing[name]);
    }
  }
  return vouch(timing);
}

/** Whether `value` is a resolved timing (by its mark; {@link checkKeeperTiming} checks the rest). */
export function isResolvedKeeperTiming(value: unknown): value is ResolvedKeeperTiming {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'resolved-keeper-timing';
}

/** The fields every other one is derived from; one formula for resolving and for checking. */
function derivedTiming(ttlMs: number, maxClockDriftRatio: number, clockUncertaintyMs: number, renewDeadlineMs: number, requestTimeoutMs: number) {
  const driftMarginMs = ttlMs * maxClockDriftRatio;
  const validityMs = ttlMs - driftMarginMs - clockUncertaintyMs;
  return { driftMarginMs, validityMs, stepDownMarginMs: validityMs - renewDeadlineMs - requestTimeoutMs };
}

/** The rules of {@link resolveKeeperTiming}, in its order, on a timing whose defaults are filled in. */
function checkTimingRules(t: ResolvedKeeperTiming): void {
  if (typeof t.key !== 'string' || t.key.length === 0) throw new ConfigError('key', 'must be a non-empty string', t.key);
  if (typeof t.identity !== 'string' || t.identity.length === 0) throw new ConfigError('identity', 'must be a non-empty string', t.identity);
  atLeast('ttlMs', t.ttlMs, LIMITS.minTtlMs, 'a shorter lease leaves no room for timer lateness and a store round trip');
  atLeast('renewIntervalMs', t.renewIntervalMs, LIMITS.minTimerMs, 'timers fire that late on a loaded machine');
  positive('renewDeadlineMs', t.renewDeadlineMs);
  atLeast('requestTimeoutMs', t.requestTimeoutMs, LIMITS.minRequestTimeoutMs, 'one store round trip with an fsync takes that long');
  atLeast('retryIntervalMs', t.retryIntervalMs, LIMITS.minTimerMs, 'timers fire that late on a loaded machine');
  ratio('jitterRatio', t.jitterRatio, 1);
  ratio('maxClockDriftRatio', t.maxClockDriftRatio, 0.5);
  if (!Number.isFinite(t.clockUncertaintyMs) || t.clockUncertaintyMs < 0) {
    throw new ConfigError('clockUncertaintyMs', 'must be a finite number >= 0', t.clockUncertaintyMs);
  }
  if (t.renewIntervalMs >= t.renewDeadlineMs) {
    throw new ConfigError('renewIntervalMs', `must be shorter than renewDeadlineMs (${d(t.renewDeadlineMs)})`, t.renewIntervalMs);
  }
  if (t.stepDownMarginMs < LIMITS.minStepDownMarginMs) {
    const limit = t.validityMs - t.requestTimeoutMs - LIMITS.minStepDownMarginMs;
    throw new ConfigError(
      'renewDeadlineMs',
      `must be at most ttlMs − driftMargin − clockUncertainty − requestTimeoutMs − ${d(LIMITS.minStepDownMarginMs)} step-down margin = ` +
        `${d(t.ttlMs)} − ${d(t.driftMarginMs)} − ${d(t.clockUncertaintyMs)} − ${d(t.requestTimeoutMs)} − ${d(LIMITS.minStepDownMarginMs)} = ${d(limit)}`,
      t.renewDeadlineMs,
    );
  }
  if (t.retryIntervalMs >= t.renewDeadlineMs - t.renewIntervalMs) {
    throw new ConfigError(
      'retryIntervalMs',
      `must be shorter than renewDeadlineMs − renewIntervalMs = ${d(t.renewDeadlineMs - t.renewIntervalMs)} so that at least one retry fits`,
      t.retryIntervalMs,
    );
  }
  if (t.maxProgressSilenceMs !== undefined) {
    atLeast('maxProgressSilenceMs', t.maxProgressSilenceMs, LIMITS.minTimerMs, 'timers fire that late on a loaded machine');
  }
  const watchdog = t.watchdog;
  if (watchdog !== undefined) {
    positive('watchdog.intervalMs', watchdog.intervalMs);
    if (!Number.isFinite(watchdog.graceMs) || watchdog.graceMs < 0) throw new ConfigError('watchdog.graceMs', 'must be >= 0', watchdog.graceMs);
    const respawn = watchdog.respawnDelayMaxMs ?? 0;
    if (!Number.isFinite(respawn) || respawn < 0) throw new ConfigError('watchdog.respawnDelayMaxMs', 'must be >= 0', respawn);
  }
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
export function failoverWindow(o: ResolvedKeeperTiming, storeExpiryMs: number = o.ttlMs): FailoverWindow {
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
