import type { LeaseInfo } from '../src/store/lease-store.js';
import type { SimClock } from './sim-clock.js';
import type { StoreObserver } from './sim-store.js';

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
  readonly #believers = new Set<string>();
  #splitSince = -1;
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
  };
  #zombieMs = 0;
  #leaderlessMs = 0;
  #splitBrainMs = 0;
  #minMarginMs = Infinity;

  constructor(clock: SimClock) {
    this.#clock = clock;
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

  crashed(identity: string): void {
    this.counts.crashes += 1;
    this.#pendingCrashes.push({ identity, atMs: this.#clock.now() });
  }

  onApplied(op: 'acquire' | 'renew' | 'release', _client: string, ok: boolean, before: LeaseInfo | null, after: LeaseInfo | null): void {
    this.counts.storeWrites += 1;
    if (!ok || after === null) return;
    this.#integrate();
    if (op === 'renew' && before !== null && before.expiresInMs < this.#minMarginMs) this.#minMarginMs = before.expiresInMs;
    this.#holder = after.holder;
    this.#expiresAt = this.#clock.now() + after.expiresInMs;
    if (op === 'acquire' && after.holder !== null) this.#resolveCrashes(after.holder);
  }

  /** An orchestrator starts or stops believing it leads. */
  belief(identity: string, believes: boolean): void {
    const had = this.#believers.has(identity);
    if (believes === had) return;
    if (believes) this.#believers.add(identity);
    else this.#believers.delete(identity);
    const now = this.#clock.now();
    if (this.#believers.size >= 2 && this.#splitSince < 0) {
      this.#splitSince = now;
      this.counts.splitBrains += 1;
    } else if (this.#believers.size < 2 && this.#splitSince >= 0) {
      this.#splitBrainMs += now - this.#splitSince;
      this.#splitSince = -1;
    }
  }

  /** A leader action carrying `token`; stale when a newer token was issued. Returns whether the store accepts it. */
  action(currentToken: number, token: number): boolean {
    this.counts.leaderActions += 1;
    const stale = token < currentToken;
    if (stale) this.counts.staleActions += 1;
    return !stale;
  }

  finish(wakeups: number): RunResult {
    this.#integrate();
    const now = this.#clock.now();
    if (this.#splitSince >= 0) this.#splitBrainMs += now - this.#splitSince;
    for (let i = 0; i < this.#pendingCrashes.length; i++) this.#failovers.push(Infinity);
    return {
      durationMs: now,
      ...this.counts,
      failoversMs: this.#failovers,
      zombieLeaseMs: this.#zombieMs,
      leaderlessMs: this.#leaderlessMs,
      splitBrainMs: this.#splitBrainMs,
      wakeups,
      minRenewalMarginMs: this.#minMarginMs,
    };
  }

  #resolveCrashes(newHolder: string): void {
    const now = this.#clock.now();
    for (let i = this.#pendingCrashes.length - 1; i >= 0; i--) {
      const crash = this.#pendingCrashes[i] as { identity: string; atMs: number };
      if (crash.identity === newHolder) continue;
      this.#failovers.push(now - crash.atMs);
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
