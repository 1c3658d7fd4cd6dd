/**
 * A loaded, validated scenario. All durations are milliseconds; ranges are uniform [minMs, maxMs]
 * (a fixed value has minMs === maxMs). The YAML shape is documented in scenarios/schema.json.
 */

export interface RangeMs {
  readonly minMs: number;
  readonly maxMs: number;
}

/**
 * What idling does to the session: `clear-timers` (the seed's description: timers dropped, the
 * process lives), `freeze`, `stall`, or `exit` (the real system: the session's process ends).
 */
export type IdleEffect = 'clear-timers' | 'freeze' | 'stall' | 'exit';

/** The session-idle hook: `none`, or `release` (releases the lease first if this orchestrator holds it). */
export type IdleHook = 'none' | 'release';

/**
 * How the watchdog decides to respawn. `kill-if-stale` (the seed's description): polls on a fixed
 * grid, kills and replaces the orchestrator when its lease is stale. `respawn-if-gone` (the real
 * script): a sleep-then-check loop that acts only when its child process is gone, skips a healthy
 * lease, spawns at once and then sleeps `startupDelay`.
 */
export type WatchdogPolicy = 'kill-if-stale' | 'respawn-if-gone';

export type StrategyName = 'baseline' | 'worker' | 'sidecar' | 'watchdog-loop' | 'keep-awake' | 'naive-worker' | 'supervisor';

/** Variants of option 2 (watchdog renews the lease in its own loop). */
export type WatchdogLoopVariant =
  | 'never-stopped' // one loop for the watchdog's life, renews whoever is leader
  | 'restarted' // stopped when the watchdog kills the orchestrator, started again for the new one
  | 'pid-checked' // renews only while the orchestrator's PID answers kill(pid, 0)
  | 'first-registered'; // option 2 as built: refreshes the first agent registered with the orchestrator role, renews only if it holds the lease

/** The loop variant of a `watchdog-loop` spec that names none. */
export const DEFAULT_LOOP_VARIANT: WatchdogLoopVariant = 'restarted';

/** A spec's loop variant, the default filled in (one place for the default). */
export function loopVariant(spec: Pick<StrategySpec, 'variant'>): WatchdogLoopVariant {
  return spec.variant ?? DEFAULT_LOOP_VARIANT;
}

export interface StrategySpec {
  /** Display name and key in `targets`; defaults to `kind` or `kind:variant`. */
  readonly name: string;
  readonly kind: StrategyName;
  /** Only for `watchdog-loop`. @default DEFAULT_LOOP_VARIANT ('restarted') */
  readonly variant?: WatchdogLoopVariant;
  /** Only for `worker`, `sidecar` and `supervisor`: the keeper's progress check (off when absent). */
  readonly maxProgressSilenceMs?: number;
  /** Only for `supervisor`: when a session that ended is started again. @default 'on-exit' */
  readonly restart?: 'never' | 'on-exit' | 'always';
  /** Only for `supervisor`: at most `count` restarts in any window of `windowMs`. @default 30/1h */
  readonly maxRestarts?: { readonly count: number; readonly windowMs: number };
}

export type MetricName =
  | 'respawnsPerHour'
  | 'spuriousRespawnsPerHour'
  | 'failoverP50Ms'
  | 'failoverMaxMs'
  | 'zombieLeaseMsPerHour'
  | 'leaderlessMsPerHour'
  | 'splitBrains'
  | 'staleActions'
  | 'storeWritesPerHour'
  | 'wakeupsPerHour'
  | 'keepAwakeActionsPerHour'
  | 'minRenewalMarginMs'
  | 'safetyViolations'
  | 'livenessViolations'
  | 'leaseAgeAtRespawnMinMs'
  | 'leaseAgeAtRespawnMeanMs'
  | 'leaseAgeAtRespawnMaxMs'
  | 'leaderlessInPracticeMsPerHour'
  | 'sessionRestartsPerHour'
  | 'leaderGapMaxMs'
  | 'loopRenewalsPerHour';

export interface Bound {
  readonly min?: number;
  readonly max?: number;
}

export interface TargetSpec {
  readonly strategy: string;
  readonly metric: MetricName;
  readonly bound: Bound;
}

export type FaultKind =
  | 'orchestrator-crash' // SIGKILL of the current orchestrator
  | 'orchestrator-freeze' // SIGSTOP for `for`, then SIGCONT
  | 'keeper-crash' // the keeper's thread or sidecar process dies; the orchestrator lives
  | 'stall' // the target's event loop blocks for `for` (a GC pause)
  | 'clock-jump' // the target's clocks jump by `by` (forward, or backward with a negative value)
  | 'clock-drift' // the target's clocks run at `rate` × real speed for `for`
  | 'store-latency' // every store request takes `latency` longer for `for`
  | 'store-outage' // the store refuses connections for `for`
  | 'partition' // the target's processes cannot reach the store for `for`
  | 'watchdog-restart' // the watchdog is down for `for` and forgets the orchestrator it spawned
  | 'pid-reuse' // the orchestrator dies and an unrelated process gets its PID for `for`
  | 'lease-corrupt' // the store answers "corrupt lease data" for `for`, until an operator repairs it
  | 'wedge'; // the orchestrator's main loop stops completing work (deadlock), the process lives

/** Which process a fault hits: the orchestrator's, the keeper's (its thread or sidecar), or both. */
export type FaultTarget = 'orchestrator' | 'keeper' | 'machine';

/**
 * One fault, as plain data. Occurrences: at `at` (drawn from the range), then every `every`
 * after it; with only `every`, first at `every`. Each occurrence fires with `probability`.
 */
export interface FaultSpec {
  readonly kind: FaultKind;
  readonly at: RangeMs | undefined;
  readonly everyMs: number | undefined;
  /** How long the fault lasts. @default 0s */
  readonly for: RangeMs;
  /** @default 1 */
  readonly probability: number;
  /** @default 'orchestrator' */
  readonly target: FaultTarget;
  /** clock-jump: signed jump. @default 0 */
  readonly byMs: number;
  /** clock-drift: rate of the target's clock against real time (1.01 = 1 % fast). @default 1 */
  readonly rate: number;
  /** store-latency: extra one-way latency. @default 0 */
  readonly latencyMs: number;
}

export interface Scenario {
  /** Path as given on the command line, for messages. */
  readonly file: string;
  readonly name: string;
  readonly seed: number;
  readonly durationMs: number;
  readonly runs: number;
  readonly lease: { readonly ttlMs: number };
  readonly heartbeat: { readonly intervalMs: number };
  readonly session: {
    readonly idleAfter: RangeMs;
    readonly idleEffect: IdleEffect;
    /** How long one stall blocks the event loop (idleEffect: stall). @default 10s..60s */
    readonly stallFor: RangeMs;
    /** Mean work arrivals per hour (Poisson); 0 = no work ever arrives. @default 0 */
    readonly workArrivalsPerHour: number;
    /** How long one unit of work keeps the session busy. @default 1s..10s */
    readonly workDuration: RangeMs;
    /** The host idles (with idleEffect) a session after this lifetime even if it is busy; absent = never. */
    readonly maxLifetime: RangeMs | undefined;
    /** The session-idle hook, run before the process exits (idleEffect: exit only). @default 'none' */
    readonly onIdle: IdleHook;
  };
  readonly watchdog: {
    /** @default 'kill-if-stale' */
    readonly policy: WatchdogPolicy;
    /** kill-if-stale: the poll grid's period. respawn-if-gone: the loop's sleep between checks. */
    readonly intervalMs: number;
    readonly graceMs: number;
    /**
     * kill-if-stale: from the kill until the new orchestrator runs. respawn-if-gone: from the
     * spawn until the new orchestrator's first acquire attempt (its session starting up).
     */
    readonly respawnDelay: RangeMs;
    /** respawn-if-gone only: the loop sleeps this long after a spawn, before its next sleep. @default 0s */
    readonly startupDelayMs: number;
  };
  /**
   * The agent registry `watchdog-loop:first-registered` reads: entries expire `timeout` after their
   * last refresh (a live agent refreshes its own). `staleEntries` dead orchestrators are in it at
   * t = 0, registered before the run (the loop's pick when it was deployed).
   */
  readonly registry: { readonly timeoutMs: number; readonly staleEntries: number };
  readonly store: {
    /** One-way request latency to the store. @default 2ms..20ms */
    readonly latency: RangeMs;
  };
  readonly keeper: {
    readonly renewIntervalMs: number | undefined;
    readonly renewDeadlineMs: number | undefined;
    readonly requestTimeoutMs: number | undefined;
  };
  /** keep-awake: how often the orchestrator makes itself busy. @default 60s */
  readonly keepAwake: { readonly intervalMs: number };
  /** Orchestrator crashes (SIGKILL-like) at exponential intervals with this mean; absent = none. */
  readonly crash: { readonly meanEveryMs: number } | undefined;
  /** The watchdog restarts the orchestrator on purpose at exponential intervals with this mean; absent = none. */
  readonly restart: { readonly meanEveryMs: number } | undefined;
  readonly faults: readonly FaultSpec[];
  /** Liveness bound the checkers hold every strategy under test to; absent = only "some failover". */
  readonly liveness: { readonly failoverWithinMs: number } | undefined;
  readonly strategies: readonly StrategySpec[];
  readonly targets: readonly TargetSpec[];
}
