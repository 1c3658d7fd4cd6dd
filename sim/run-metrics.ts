import type { LeaseInfo } from '../src/store/lease-store.js';
import type { SimClock } from './sim-clock.js';
import type { StoreObserver } from './sim-store.js';

/** Without a stated failover bound, a crash must be watched this long before "no failover" is concluded. */
export const CENSOR_HORIZON_MS = 30 * 60_000;

/** Everything one simulated run measured. Times are simulated milliseconds. */
export interface RunResult {
  readonly durationMs: number;
  readonly respawns: number;
  /** Respawns whose victim was alive and would have gone on leading. */
  readonly spuriousRespawns: number;
  readonly restarts: number;
  readonly crashes: number;
  /** One entry per real crash: time until another orchestrator held the lease; Infinity = never. */
  readonly failoversMs: readonly number[];
  readonly zombieLeaseMs: number;
  readonly leaderlessMs: number;
  readonly splitBrains: number;
  readonly splitBrainMs: number;
  readonly leaderActions: number;
  readonly staleActions: number;
  readonly storeWrites: number;
  readonly wakeups: number;
  readonly keepAwakeActions: number;
  /** Sessions a supervisor started again in place (not watchdog respawns). */
  readonly sessionRestarts: number;
  /** Smallest time left on the lease (store's clock) when a renewal landed; Infinity when none did. */
  readonly minRenewalMarginMs: number;
  /** Split-brains + stale actions + non-increasing tokens. */
  readonly safetyViolations: number;
  /** Failovers slower than the scenario's bound (or never) + respawns of a healthy leader. */
  readonly livenessViolations: number;
  /** The first violation, for the replay message. */
  readonly firstViolation: Violation | undefined;
}

export interface Violation {
  readonly check: 'split-brain' | 'stale-action' | 'token-order' | 'slow-failover' | 'no-failover' | 'spurious-respawn';
  /** Simulated time of the violation. */
  readonly atMs: number;
  readonly detail: string;
}

/**
 * Collects a run's metrics as the world reports facts. Lease-time figures are integrated
 * exactly between observation points (store changes, process deaths), not sampled.
 */
export class RunMetrics implements StoreObserver {
  readonly #clock: SimClock;
  #holder: string | null = null;
  #expiresAt = 0;
  #lastT = 0;
  readonly #alive = new Map<string, boolean>();
  /** Orchestrators that believe they lead, with the instant their belief runs out. */
  readonly #believers = new Map<string, number>();
  #splitSince = -1;
  #maxToken = 0;
  #failoverBoundMs = Infinity;
  #safety = 0;
  #liveness = 0;
  #first: Violation | undefined;
  readonly #pendingCrashes: Array<{ identity: string; atMs: number }> = [];
  readonly #failovers: number[] = [];
  counts = {
    respawns: 0,
    spuriousRespawns: 0,
    restarts: 0,
    crashes: 0,
    splitBrains: 0,
    leaderActions: 0,
    staleActions: 0,
    storeWrites: 0,
    keepAwakeActions: 0,
    sessionRestarts: 0,
  };
  #zombieMs = 0;
  #leaderlessMs = 0;
  #splitBrainMs = 0;
  #minMarginMs = Infinity;

  constructor(clock: SimClock, failoverBoundMs = Infinity) {
    this.#clock = clock;
    this.#failoverBoundMs = failoverBoundMs;
  }

  #violation(kind: 'safety' | 'liveness', check: Violation['check'], detail: string, atMs = this.#clock.now()): void {
    if (kind === 'safety') this.#safety += 1;
    else this.#liveness += 1;
    if (this.#first === undefined || atMs < this.#first.atMs) this.#first = { check, atMs, detail };
  }

  /** A supervisor (`holder`) started a new session in place of one that ended. */
  sessionRestarted(holder: string): void {
    void holder;
    this.counts.sessionRestarts += 1;
  }

  /** The watchdog replaced a live orchestrator that no fault had touched. */
  spuriousRespawn(victim: string): void {
    this.#violation('liveness', 'spurious-respawn', `the watchdog replaced ${victim}, which was alive and unharmed`);
  }

  processStarted(identity: string): void {
    this.#integrate();
    this.#alive.set(identity, true);
  }

  processDied(identity: string): void {
    this.#integrate();
    this.#alive.set(identity, false);
    this.belief(identity, false);
  }

  /**
   * An orchestrator died for real (or wedged). A failover is owed only when no other live
   * orchestrator already holds a valid lease: killing a follower leaves the leader leading.
   */
  crashed(identity: string): void {
    this.counts.crashes += 1;
    const now = this.#clock.now();
    const otherLeads = this.#holder !== null && this.#holder !== identity && this.#alive.get(this.#holder) === true && this.#expiresAt > now;
    if (!otherLeads) this.#pendingCrashes.push({ identity, atMs: now });
  }

  onApplied(op: 'acquire' | 'renew' | 'release', _client: string, ok: boolean, before: LeaseInfo | null, after: LeaseInfo | null): void {
    this.counts.storeWrites += 1;
    if (!ok || after === null) return;
    this.#integrate();
    if (op === 'renew' && before !== null && before.expiresInMs < this.#minMarginMs) this.#minMarginMs = before.expiresInMs;
    const changed = after.holder !== (before?.holder ?? null) || after.token !== (before?.token ?? 0);
    if (op === 'acquire' && changed) {
      if (after.token <= this.#maxToken) {
        this.#violation('safety', 'token-order', `${after.holder} got token ${after.token}, not above ${this.#maxToken}`);
      }
      this.#maxToken = Math.max(this.#maxToken, after.token);
    }
    this.#holder = after.holder;
    this.#expiresAt = this.#clock.now() + after.expiresInMs;
    if (op === 'acquire' && after.holder !== null) this.#resolveCrashes(after.holder);
  }

  /**
   * An orchestrator starts or stops believing it leads. A belief may carry the instant it runs
   * out by itself (a keeper's local validity); two beliefs alive at one instant are a split-brain.
   */
  belief(identity: string, believes: boolean, untilMs = Infinity): void {
    const now = this.#clock.now();
    this.#expireBeliefs(now);
    if (believes && untilMs > now) this.#believers.set(identity, untilMs);
    else this.#believers.delete(identity);
    if (this.#believers.size >= 2 && this.#splitSince < 0) {
      this.#splitSince = now;
      this.counts.splitBrains += 1;
      this.#violation('safety', 'split-brain', `${[...this.#believers.keys()].join(' and ')} both believe they lead`);
    } else if (this.#believers.size < 2 && this.#splitSince >= 0) {
      this.#splitBrainMs += now - this.#splitSince;
      this.#splitSince = -1;
    }
  }

  /** Drops beliefs that ran out before `now`, closing a split-brain at the instant it ended. */
  #expireBeliefs(now: number): void {
    for (;;) {
      let first: string | undefined;
      let firstUntil = Infinity;
      for (const [identity, until] of this.#believers) {
        if (until <= now && until < firstUntil) {
          first = identity;
          firstUntil = until;
        }
      }
      if (first === undefined) return;
      this.#believers.delete(first);
      if (this.#believers.size < 2 && this.#splitSince >= 0) {
        this.#splitBrainMs += firstUntil - this.#splitSince;
        this.#splitSince = -1;
      }
    }
  }

  /** A leader action by `identity` carrying `token`; stale when a newer token was issued. Returns whether the store accepts it. */
  action(identity: string, currentToken: number, token: number): boolean {
    this.counts.leaderActions += 1;
    const stale = token < currentToken;
    if (stale) {
      this.counts.staleActions += 1;
      this.#violation('safety', 'stale-action', `${identity} acted with token ${token} after token ${currentToken} was issued`);
    }
    return !stale;
  }

  finish(wakeups: number): RunResult {
    this.#integrate();
    const now = this.#clock.now();
    this.#expireBeliefs(now);
    if (this.#splitSince >= 0) this.#splitBrainMs += now - this.#splitSince;
    // A crash without a successor counts as "never" only once the run watched it for the
    // failover bound (30 min when none is stated); a crash just before the end is censored.
    const horizonMs = Number.isFinite(this.#failoverBoundMs) ? this.#failoverBoundMs : CENSOR_HORIZON_MS;
    for (const crash of this.#pendingCrashes) {
      if (now - crash.atMs <= horizonMs) continue;
      this.#failovers.push(Infinity);
      if (Number.isFinite(this.#failoverBoundMs)) {
        this.#violation('liveness', 'no-failover', `no orchestrator took over after ${crash.identity} crashed`, crash.atMs);
      }
    }
    return {
      durationMs: now,
      ...this.counts,
      failoversMs: this.#failovers,
      zombieLeaseMs: this.#zombieMs,
      leaderlessMs: this.#leaderlessMs,
      splitBrainMs: this.#splitBrainMs,
      wakeups,
      minRenewalMarginMs: this.#minMarginMs,
      safetyViolations: this.#safety,
      livenessViolations: this.#liveness,
      firstViolation: this.#first,
    };
  }

  #resolveCrashes(newHolder: string): void {
    const now = this.#clock.now();
    for (let i = this.#pendingCrashes.length - 1; i >= 0; i--) {
      const crash = this.#pendingCrashes[i] as { identity: string; atMs: number };
      if (crash.identity === newHolder) continue;
      this.#failovers.push(now - crash.atMs);
      if (now - crash.atMs > this.#failoverBoundMs) {
        this.#violation('liveness', 'slow-failover', `failover after ${crash.identity} crashed took ${now - crash.atMs} ms, bound ${this.#failoverBoundMs} ms`, crash.atMs);
      }
      this.#pendingCrashes.splice(i, 1);
    }
  }

  #integrate(): void {
    const now = this.#clock.now();
    const span = now - this.#lastT;
    if (span <= 0) return;
    const held = this.#holder === null ? 0 : Math.max(0, Math.min(now, this.#expiresAt) - this.#lastT);
    const holderAlive = this.#holder !== null && this.#alive.get(this.#holder) === true;
    if (holderAlive) this.#leaderlessMs += span - held;
    else {
      this.#leaderlessMs += span;
      this.#zombieMs += held;
    }
    this.#lastT = now;
  }
}
