import { formatDurationMs } from '../src/duration.js';
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
  /** Smallest time left on the lease (store's clock) when a renewal landed; Infinity when none did. */
  readonly minRenewalMarginMs: number;
  /** Split-brains + stale actions + non-increasing tokens. */
  readonly safetyViolations: number;
  /** Failovers slower than the scenario's bound (or never) + respawns of a healthy leader. */
  readonly livenessViolations: number;
  /** The first violation, for the replay message. */
  readonly firstViolation: Violation | undefined;
  /** Sessions restarted in place by a supervisor (not watchdog respawns). */
  readonly sessionRestarts: number;
  /** Lease renewals made by a watchdog-loop strategy's loop. */
  readonly loopRenewals: number;
  /** Lease age (time since its last successful acquire or renew) at each respawn decision. */
  readonly leaseAgesAtRespawn: AgeStats;
  /** Time no working orchestrator led: no valid lease, or its holder had no live, started session. */
  readonly leaderlessInPracticeMs: number;
  /** Stretches without a working leader that began after one existed (an open one counts as far as it went). */
  readonly leaderGaps: AgeStats;
}

/** Count, sum, min and max of a set of durations (ms); min is Infinity and max -Infinity when empty. */
export interface AgeStats {
  readonly count: number;
  readonly sumMs: number;
  readonly minMs: number;
  readonly maxMs: number;
}

function addTo(stats: AgeStats, ms: number): AgeStats {
  return { count: stats.count + 1, sumMs: stats.sumMs + ms, minMs: Math.min(stats.minMs, ms), maxMs: Math.max(stats.maxMs, ms) };
}

const NO_AGES: AgeStats = { count: 0, sumMs: 0, minMs: Infinity, maxMs: -Infinity };

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
  /** Holders whose session can do leader work now (alive and started); see {@link serving}. */
  readonly #serving = new Map<string, boolean>();
  /** Supervised sessions → the lease holder they work for. */
  readonly #servedBy = new Map<string, string>();
  /** Last successful acquire or renew (the lease's last heartbeat); -1 before the first. */
  #lastBeatAt = -1;
  #leaseAges: AgeStats = NO_AGES;
  #practiceMs = 0;
  /** Start of the current stretch without a working leader; -1 while one works, -2 before the first ever did. */
  #gapSince = -2;
  #gaps: AgeStats = NO_AGES;
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
  readonly #counts = {
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
    loopRenewals: 0,
  };
  #zombieMs = 0;
  #leaderlessMs = 0;
  #splitBrainMs = 0;
  #minMarginMs = Infinity;

  constructor(clock: SimClock, failoverBoundMs = Infinity) {
    this.#clock = clock;
    this.#failoverBoundMs = failoverBoundMs;
  }
  /** One more of a counted event that has no other bookkeeping (respawn, restart, keep-awake action, loop renewal). */
  count(event: 'respawns' | 'spuriousRespawns' | 'restarts' | 'keepAwakeActions' | 'loopRenewals'): void {
    this.#counts[event] += 1;
  }


  #violation(kind: 'safety' | 'liveness', check: Violation['check'], detail: string, atMs = this.#clock.now()): void {
    if (kind === 'safety') this.#safety += 1;
    else this.#liveness += 1;
    if (this.#first === undefined || atMs < this.#first.atMs) this.#first = { check, atMs, detail };
  }

  /** The watchdog replaced a live orchestrator that no fault had touched. */
  spuriousRespawn(victim: string): void {
    this.#violation('liveness', 'spurious-respawn', `the watchdog replaced ${victim}, which was alive and unharmed`);
  }

  /** A process named `identity` started; with `serving` false its session is still starting (see {@link serving}). */
  processStarted(identity: string, serving = true): void {
    this.#integrate();
    this.#alive.set(identity, true);
    this.#serving.set(identity, serving);
  }

  processDied(identity: string): void {
    this.#integrate();
    this.#alive.set(identity, false);
    this.#serving.set(identity, false);
    this.belief(identity, false);
  }

  /**
   * Whether the lease holder named `identity` has a session that can do leader work: false while
   * a fresh session starts up or a supervisor restarts it in place, true once it runs again.
   */
  serving(identity: string, serving: boolean): void {
    this.#integrate();
    this.#serving.set(identity, serving && this.#alive.get(identity) === true);
    if (serving && this.#alive.get(identity) === true) this.#resolveInPlace(identity);
  }

  /** The holder's session serves again after its crash: a failover in place. */
  #resolveInPlace(holder: string): void {
    const now = this.#clock.now();
    for (let i = this.#pendingCrashes.length - 1; i >= 0; i--) {
      const crash = this.#pendingCrashes[i] as { identity: string; atMs: number };
      if (crash.identity !== holder || crash.atMs >= now) continue;
      this.#failoverDone(crash, now);
      this.#pendingCrashes.splice(i, 1);
    }
  }

  #failoverDone(crash: { identity: string; atMs: number }, now: number): void {
    this.#failovers.push(now - crash.atMs);
    if (now - crash.atMs > this.#failoverBoundMs) {
      this.#violation('liveness', 'slow-failover', `failover after ${crash.identity} crashed took ${formatDurationMs(now - crash.atMs)}, bound ${formatDurationMs(this.#failoverBoundMs)}`, crash.atMs);
    }
  }

  /** A supervisor restarted a session in place (counted apart from watchdog respawns). */
  sessionRestarted(): void {
    this.#counts.sessionRestarts += 1;
  }

  /** The watchdog decided to respawn: records the lease's age (time since its last heartbeat). */
  respawnDecided(): void {
    if (this.#lastBeatAt >= 0) this.#leaseAges = addTo(this.#leaseAges, this.#clock.now() - this.#lastBeatAt);
  }

  /**
   * An orchestrator died for real (or wedged). A failover is owed only when no other live
   * orchestrator already holds a valid lease: killing a follower leaves the leader leading.
   */
  crashed(identity: string): void {
    this.#counts.crashes += 1;
    const now = this.#clock.now();
    // A supervised session's crash is its supervisor's leadership failing (see servedBy).
    const leader = this.#servedBy.get(identity) ?? identity;
    const otherLeads = this.#holder !== null && this.#holder !== leader && this.#alive.get(this.#holder) === true && this.#expiresAt > now;
    if (!otherLeads) this.#pendingCrashes.push({ identity: leader, atMs: now });
  }

  /**
   * The session `session` does the leader work of the lease holder `holder` (a supervisor's
   * session). Its crash or wedge then owes a failover too: another holder taking the lease, or
   * the holder's session serving again (restarted in place), ends it.
   */
  servedBy(session: string, holder: string): void {
    this.#servedBy.set(session, holder);
  }

  onApplied(op: 'acquire' | 'renew' | 'release', _client: string, ok: boolean, before: LeaseInfo | null, after: LeaseInfo | null): void {
    this.#counts.storeWrites += 1;
    if (!ok || after === null) return;
    this.#integrate();
    if (op === 'renew' && before !== null && before.expiresInMs < this.#minMarginMs) this.#minMarginMs = before.expiresInMs;
    if (op !== 'release') this.#lastBeatAt = this.#clock.now();
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
      this.#counts.splitBrains += 1;
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
    this.#counts.leaderActions += 1;
    const stale = token < currentToken;
    if (stale) {
      this.#counts.staleActions += 1;
      this.#violation('safety', 'stale-action', `${identity} acted with token ${token} after token ${currentToken} was issued`);
    }
    return !stale;
  }

  finish(wakeups: number): RunResult {
    this.#integrate();
    const now = this.#clock.now();
    this.#expireBeliefs(now);
    if (this.#splitSince >= 0) this.#splitBrainMs += now - this.#splitSince;
    const gaps = this.#gapSince >= 0 && now > this.#gapSince ? addTo(this.#gaps, now - this.#gapSince) : this.#gaps;
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
      ...this.#counts,
      failoversMs: this.#failovers,
      zombieLeaseMs: this.#zombieMs,
      leaderlessMs: this.#leaderlessMs,
      splitBrainMs: this.#splitBrainMs,
      wakeups,
      minRenewalMarginMs: this.#minMarginMs,
      safetyViolations: this.#safety,
      livenessViolations: this.#liveness,
      firstViolation: this.#first,
      leaseAgesAtRespawn: this.#leaseAges,
      leaderlessInPracticeMs: this.#practiceMs,
      leaderGaps: gaps,
    };
  }

  #resolveCrashes(newHolder: string): void {
    const now = this.#clock.now();
    for (let i = this.#pendingCrashes.length - 1; i >= 0; i--) {
      const crash = this.#pendingCrashes[i] as { identity: string; atMs: number };
      if (crash.identity === newHolder) continue;
      this.#failoverDone(crash, now);
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
    // In practice: the lease is held and its holder's session works; the state set at #lastT holds
    // over the whole span, except that the lease may run out inside it.
    const working = this.#holder !== null && this.#serving.get(this.#holder) === true ? held : 0;
    this.#practiceMs += span - working;
    if (working > 0 && this.#gapSince !== -1) {
      if (this.#gapSince >= 0 && this.#lastT > this.#gapSince) this.#gaps = addTo(this.#gaps, this.#lastT - this.#gapSince);
      this.#gapSince = -1;
    }
    if (working < span && this.#gapSince === -1) this.#gapSince = this.#lastT + working;
    this.#lastT = now;
  }
}
