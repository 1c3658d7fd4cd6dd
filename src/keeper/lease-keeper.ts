/*
 * Why this file stays whole (~540 lines): it is one state machine. The renew loop below reads as one
 * numbered sequence (check local validity, ask the owner, renew or acquire, arm the deadline), and every
 * step reads and writes the same `#private` state: `#state`, `#lease`, `#validUntil`, `#lastRenewSentAt`,
 * `#inFlight` and the renew, deadline and progress timers. Splitting the steps across files would mean
 * making that state public or passing it around, which is exactly what lets a step-down race a renewal.
 * What could leave already has: option resolution and validation (keeper-options.ts), counters
 * (keeper-stats.ts), and waiting for leadership (campaign.ts).
 */

import { EventEmitter } from 'node:events';
import { sleep, withTimeout, type Clock, type TimerHandle } from '../clock.js';
import { ConfigError, HeartbeatLabError } from '../errors.js';
import type { OwnerLiveness } from '../owner/owner-liveness.js';
import type { LeaseGrant, LeaseInfo, LeaseStore } from '../store/lease-store.js';
import {
  checkKeeperTiming,
  failoverWindow,
  resolveKeeperTiming,
  withSeams,
  type FailoverWindow,
  type KeeperWithTiming,
  type LeaseKeeperOptions,
  type ResolvedKeeperOptions,
  type ResolvedKeeperTiming,
  type StepDownReason,
} from './keeper-options.js';
import { KeeperStats, type KeeperStatsSnapshot } from './keeper-stats.js';
import { waitForLeadership } from './campaign.js';

export type KeeperState = 'idle' | 'following' | 'leading' | 'stopped';

/** Events, in the spirit of client-go's leader election callbacks. */
/** The longest wait between acquires while the store refuses them for lack of permission. */
export const PERMISSION_BACKOFF_MAX_MS = 30_000;

function isPermissionError(error: unknown): boolean {
  return error instanceof HeartbeatLabError && error.code === 'E_STORE_PERMISSION';
}

export interface LeaseKeeperEvents {
  'started-leading': [lease: LeaseGrant];
  'stopped-leading': [reason: StepDownReason];
  'new-leader': [identity: string | null, token: number];
  /** A renewal succeeded; `marginMs` is how much local validity was left when it was sent. */
  renewed: [info: { token: number; marginMs: number; latencyMs: number }];
  'renew-failed': [error: unknown];
  /** A timer fired this much later than asked: the process was paused (freeze, stall, sleep). */
  pause: [info: { lateMs: number }];
  stopped: [reason: StepDownReason];
  /** The owner had work pending and made no progress for `maxProgressSilenceMs`. */
  stuck: [info: { silentMs: number; pending: number }];
  /** A graceful handoff began: stop taking new work; finish what is pending within `drainMs`. */
  handoff: [info: { drainMs: number; pending: number }];
}

/**
 * Acquires a lease and keeps it renewed in the background, on whatever clock it is given.
 *
 * The loop, one step per timer:
 * 1. If leading and local validity has run out (we were paused), step down before anything else.
 * 2. Ask the owner seam whether the owner lives; if not, release and stop.
 * 3. Leading: send a renewal and remember when it was *sent*. On success the lease is trusted
 *    locally until sentAt + ttl × (1 − drift) − clockUncertainty (`options.validityMs`). Refused: step down. Transient failure: retry
 *    until the renew deadline (sentAt of the last success + renewDeadline), then step down.
 * 4. Following: try to acquire; on success start leading, else note the leader and retry.
 * A separate deadline timer steps down at the renew deadline even while a request hangs.
 */
export class LeaseKeeper extends EventEmitter<LeaseKeeperEvents> {
  readonly options: ResolvedKeeperOptions;
  /** The timing this keeper runs on, the very object it was given or resolved (see {@link ResolvedKeeperTiming}). */
  readonly timing: ResolvedKeeperTiming;
  readonly #store: LeaseStore;
  readonly #clock: Clock;
  readonly #owner: OwnerLiveness | undefined;
  readonly #raw: LeaseKeeperOptions | KeeperWithTiming;
  readonly #stats = new KeeperStats();
  #state: KeeperState = 'idle';
  #lease: LeaseGrant | undefined;
  #validUntil = -Infinity;
  #lastRenewSentAt = -Infinity;
  #knownLeader: string | null | undefined;
  /** Acquires refused in a row for lack of permission (see `#backOffAcquire`). */
  #permissionFailures = 0;
  #timer: TimerHandle | undefined;
  #timerDueAt = 0;
  #deadlineTimer: TimerHandle | undefined;
  #inFlight = false;
  /** A timer tick came while a step was in flight; run it when that step ends. */
  #tickMissed = false;
  #pendingWork = 0;
  #lastProgressAt = 0;
  #progressTimer: TimerHandle | undefined;
  #drained: (() => void) | undefined;
  /** Our own best-effort release, while it may still reach the store. */
  #releasing: Promise<void> | undefined;
  #unwatchOwner: (() => void) | undefined;
  #stopping: Promise<void> | undefined;
  #stopReason: StepDownReason = 'stopped';

  /**
   * `options`: the keeper's options, resolved and checked here (throws `ConfigError`); or
   * `{ timing, ...seams }` with a timing resolved once elsewhere, used as it is.
   */
  constructor(store: LeaseStore, options: LeaseKeeperOptions | KeeperWithTiming) {
    super();
    this.timing = 'timing' in options ? checkKeeperTiming(options.timing) : resolveKeeperTiming(options);
    this.options = withSeams(this.timing, options);
    this.#raw = options;
    this.#store = store;
    this.#clock = this.options.clock;
    this.#owner = options.owner;
  }

  get state(): KeeperState {
    return this.#state;
  }

  /** The fencing token while leading (validity checked), else `null`. */
  get token(): number | null {
    return this.isLeading() ? (this.#lease as LeaseGrant).token : null;
  }

  /** The lease while leading (validity checked), else `undefined`. */
  currentLease(): LeaseGrant | undefined {
    return this.isLeading() ? this.#lease : undefined;
  }

  /**
   * Starts contending (if not started) and resolves with the lease once this keeper leads, at
   * once when it already does. Rejects with `NotLeaderError` if the keeper stops first, and
   * with `signal.reason` when `signal` aborts first (the keeper keeps contending).
   */
  campaign({ signal }: { signal?: AbortSignal } = {}): Promise<LeaseGrant> {
    this.start();
    return waitForLeadership(this, signal);
  }

  /** `await using keeper = new LeaseKeeper(...)`: stops (and releases, see `releaseOnStop`) on scope exit. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /** Worst-case failover times for these options on this store (etcd's whole-second TTLs included). */
  failoverWindow(): FailoverWindow {
    return failoverWindow(this.options, this.#store.expiryBoundMs?.(this.options.ttlMs) ?? this.options.ttlMs);
  }

  stats(): KeeperStatsSnapshot {
    return this.#stats.snapshot();
  }

  /**
   * Whether this keeper may act as leader *now*. Judged on local monotonic time: if the
   * lease's local validity ran out (e.g. after a pause), this steps down first and returns false.
   */
  isLeading(): boolean {
    if (this.#state !== 'leading') return false;
    if (this.#clock.now() < this.#validUntil) return true;
    this.#reportOverdueTimer();
    this.#stepDown('paused');
    return false;
  }

  /** Milliseconds of local validity left, or 0 when not leading. */
  validityLeftMs(): number {
    return this.#state === 'leading' ? Math.max(0, this.#validUntil - this.#clock.now()) : 0;
  }

  /**
   * The owner reports progress (a unit of work done). With `pending`, also how much work is
   * still waiting. Feeds the progress check (`maxProgressSilenceMs`).
   */
  progress(pending?: number): void {
    this.#lastProgressAt = this.#clock.now();
    if (pending !== undefined) this.#pendingWork = pending;
    if (this.#pendingWork === 0) this.#drained?.();
    this.#armProgressCheck();
  }

  /** The owner has `pending` units of work waiting; silence counts only while this is > 0. */
  setPendingWork(pending: number): void {
    if (this.#pendingWork === 0 && pending > 0) this.#lastProgressAt = this.#clock.now();
    this.#pendingWork = pending;
    if (pending === 0) this.#drained?.();
    this.#armProgressCheck();
  }

  /**
   * Graceful handoff. 1. Emits `handoff` so the owner stops taking new work. 2. Keeps renewing
   * while the owner drains: until it reports no pending work, or `drainMs` passes. 3. Steps down
   * (`stopped-leading('handoff')`, the owner is told first) and releases, so any follower takes
   * the lease at its next acquire attempt instead of waiting for the TTL. With `to`, step 3
   * transfers the lease to that identity instead (the store's `transfer`: it holds the lease with
   * a new fencing token, and its keeper takes it up at its next acquire attempt; if the transfer
   * is refused or fails, the lease is released as without `to`). Resolves once done.
   */
  async handoff({ drainMs = 0, to }: { drainMs?: number; to?: string } = {}): Promise<void> {
    if (!Number.isFinite(drainMs) || drainMs < 0) throw new ConfigError('drainMs', 'must be a finite number >= 0', drainMs);
    if (to !== undefined && (typeof to !== 'string' || to === '' || to === this.options.identity)) {
      throw new ConfigError('to', "must be another contender's identity", to);
    }
    if (this.#state === 'leading') {
      this.emit('handoff', { drainMs, pending: this.#pendingWork });
      if (this.#pendingWork > 0 && drainMs > 0) {
        const giveUp = new AbortController();
        const drained = new Promise<void>((resolve) => (this.#drained = resolve));
        await Promise.race([drained, sleep(this.#clock, drainMs, giveUp.signal).catch(() => undefined)]);
        giveUp.abort();
        this.#drained = undefined;
      }
    }
    if (to !== undefined && this.#state === 'leading') await this.#transferTo(to);
    await this.stop('handoff');
  }

  /** Steps down (the owner is told first), then moves the grant to `to`; true when the store did. */
  async #transferTo(to: string): Promise<boolean> {
    const lease = this.#lease as LeaseGrant;
    this.#stepDown('handoff', { release: false });
    this.#state = 'stopped';
    this.#clearTimers();
    this.#stats.storeOps += 1;
    try {
      const result = await this.#withTimeout('transfer', this.#store.transfer({ ...lease, to, ttlMs: this.options.ttlMs }));
      if (result.ok) this.#noteLeader({ holder: result.lease.holder, token: result.lease.token });
      else if (this.options.releaseOnStop) await this.#tryRelease(lease);
      return result.ok;
    } catch (error) {
      this.emit('renew-failed', error);
      if (this.options.releaseOnStop) await this.#tryRelease(lease);
      return false;
    }
  }

  #armProgressCheck(): void {
    const maxSilenceMs = this.options.maxProgressSilenceMs;
    if (this.#progressTimer !== undefined) this.#clock.clearTimeout(this.#progressTimer);
    this.#progressTimer = undefined;
    if (maxSilenceMs === undefined || this.#pendingWork === 0 || this.#state === 'stopped') return;
    this.#progressTimer = this.#clock.setTimeout(() => {
      this.#progressTimer = undefined;
      const silentMs = this.#clock.now() - this.#lastProgressAt;
      if (this.#pendingWork === 0 || this.#state === 'stopped') return;
      if (silentMs < maxSilenceMs) return this.#armProgressCheck();
      this.#stats.stuck += 1;
      this.emit('stuck', { silentMs, pending: this.#pendingWork });
      void this.stop('stuck');
    }, this.#lastProgressAt + maxSilenceMs - this.#clock.now());
  }

  /** Starts contending. Idempotent. */
  start(): this {
    if (this.#state !== 'idle') return this;
    this.#state = 'following';
    const signal = this.#raw.signal;
    if (signal?.aborted) {
      void this.stop();
      return this;
    }
    signal?.addEventListener('abort', () => void this.stop(), { once: true });
    this.#unwatchOwner = this.#owner?.watch?.((reason) => this.#onOwnerDead(reason));
    this.#schedule(0);
    return this;
  }

  /** Stops renewing and, when leading and `releaseOnStop`, releases the lease. */
  stop(reason: StepDownReason = 'stopped'): Promise<void> {
    if (this.#stopping !== undefined) return this.#stopping;
    this.#stopReason = reason;
    this.#stopping = this.#doStop(reason);
    return this.#stopping;
  }

  async #doStop(reason: StepDownReason): Promise<void> {
    const lease = this.#state === 'leading' ? this.#lease : undefined;
    if (this.#state === 'leading') this.#stepDown(reason, { release: false });
    this.#state = 'stopped';
    this.#clearTimers();
    this.#unwatchOwner?.();
    if (lease !== undefined && this.options.releaseOnStop) await this.#tryRelease(lease);
    this.emit('stopped', reason);
  }

  #onOwnerDead(reason: string): void {
    this.#stats.ownerDeaths += 1;
    if (this.#state === 'stopped') return;
    void reason;
    void this.stop('owner-dead');
  }

  #schedule(delayMs: number): void {
    if (this.#state === 'stopped') return;
    if (this.#timer !== undefined) {
      this.#reportOverdueTimer(); // the replaced timer will never fire to report its lateness
      this.#clock.clearTimeout(this.#timer);
    }
    this.#timerDueAt = this.#clock.now() + delayMs;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      void this.#tick();
    }, delayMs);
  }

  #armDeadline(): void {
    if (this.#deadlineTimer !== undefined) this.#clock.clearTimeout(this.#deadlineTimer);
    const dueAt = this.#lastRenewSentAt + this.options.renewDeadlineMs;
    this.#deadlineTimer = this.#clock.setTimeout(() => {
      this.#deadlineTimer = undefined;
      if (this.#state !== 'leading') return;
      // Real timers may fire a little early against a monotonic clock: wait out the remainder.
      if (this.#clock.now() < this.#lastRenewSentAt + this.options.renewDeadlineMs) return this.#armDeadline();
      this.#stepDown(this.#clock.now() >= this.#validUntil ? 'paused' : 'renew-deadline');
    }, dueAt - this.#clock.now());
  }

  #clearTimers(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    if (this.#deadlineTimer !== undefined) this.#clock.clearTimeout(this.#deadlineTimer);
    if (this.#progressTimer !== undefined) this.#clock.clearTimeout(this.#progressTimer);
    this.#progressTimer = undefined;
    this.#timer = undefined;
    this.#deadlineTimer = undefined;
  }

  async #tick(): Promise<void> {
    if (this.#state === 'stopped') return;
    if (this.#inFlight) {
      // A step-down rescheduled us while a request hangs: dropping this tick would leave no timer.
      this.#tickMissed = true;
      return;
    }
    this.#stats.wakeups += 1;
    this.#reportLateness(this.#clock.now() - this.#timerDueAt);
    // Step 1: a pause may have outlived our local validity.
    if (this.#state === 'leading' && this.#clock.now() >= this.#validUntil) this.#stepDown('paused');
    this.#inFlight = true;
    try {
      // Step 2: the owner.
      if (this.#owner !== undefined) {
        const status = await this.#owner.check();
        if (!status.alive) {
          this.#onOwnerDead(status.reason);
          return;
        }
      }
      if (this.#state === 'leading') await this.#renew();
      else if (this.#state === 'following') await this.#acquire();
    } finally {
      this.#inFlight = false;
      if (this.#tickMissed) {
        this.#tickMissed = false;
        if (this.#timer === undefined) this.#schedule(0);
      }
    }
  }

  #reportLateness(lateMs: number): void {
    if (lateMs > this.options.requestTimeoutMs) {
      this.#stats.pauses += 1;
      this.emit('pause', { lateMs });
    }
  }

  /** A timer still pending long after its due time means the process was paused; report it once. */
  #reportOverdueTimer(): void {
    if (this.#timer === undefined) return;
    const now = this.#clock.now();
    this.#reportLateness(now - this.#timerDueAt);
    this.#timerDueAt = Math.max(this.#timerDueAt, now);
  }

  async #renew(): Promise<void> {
    const lease = this.#lease as LeaseGrant;
    const sentAt = this.#clock.now();
    const marginMs = this.#validUntil - sentAt;
    this.#stats.storeOps += 1;
    let result;
    try {
      result = await this.#withTimeout('renew', this.#store.renew({ ...lease, ttlMs: this.options.ttlMs }));
    } catch (error) {
      this.#stats.renewFailures += 1;
      this.emit('renew-failed', error);
      if (this.#state !== 'leading') return;
      const deadline = this.#lastRenewSentAt + this.options.renewDeadlineMs;
      const now = this.#clock.now();
      if (now >= deadline) this.#stepDown('renew-deadline');
      else this.#schedule(Math.min(this.options.retryIntervalMs, deadline - now));
      return;
    }
    if (this.#state !== 'leading' || this.#lease !== lease) return; // stepped down meanwhile
    const now = this.#clock.now();
    if (!result.ok) {
      this.#noteLeader(result.current);
      this.#stepDown('lost', { release: false });
      return;
    }
    const validUntil = sentAt + this.#trustedTtlMs();
    if (now >= validUntil) {
      // The answer came back after the renewal it confirms could already have expired.
      this.#stepDown('paused');
      return;
    }
    this.#lastRenewSentAt = sentAt;
    this.#validUntil = validUntil;
    this.#stats.recordRenewal(marginMs, now - sentAt);
    this.emit('renewed', { token: lease.token, marginMs, latencyMs: now - sentAt });
    this.#armDeadline();
    this.#schedule(this.#jittered(this.options.renewIntervalMs) - (now - sentAt));
  }

  async #acquire(): Promise<void> {
    // A release of ours still on its way could land after this acquire and free the lease it
    // grants (same holder, same token); let it settle first (bounded by the request timeout).
    if (this.#releasing !== undefined) await this.#releasing;
    if (this.#state !== 'following') return;
    const sentAt = this.#clock.now();
    this.#stats.storeOps += 1;
    let result;
    try {
      result = await this.#withTimeout(
        'acquire',
        this.#store.acquire({ key: this.options.key, holder: this.options.identity, ttlMs: this.options.ttlMs }),
      );
    } catch (error) {
      this.emit('renew-failed', error);
      if (isPermissionError(error)) this.#backOffAcquire();
      else this.#scheduleAcquire();
      return;
    }
    this.#permissionFailures = 0;
    if (this.#state !== 'following') {
      // Stopped while the request was in flight: do not keep a lease nobody will renew.
      if (result.ok && this.options.releaseOnStop) await this.#tryRelease(result.lease);
      return;
    }
    if (!result.ok) {
      this.#noteLeader(result.current);
      this.#scheduleAcquire();
      return;
    }
    const now = this.#clock.now();
    const validUntil = sentAt + this.#trustedTtlMs();
    if (now >= validUntil) {
      this.#scheduleAcquire();
      return;
    }
    this.#lease = result.lease;
    this.#lastRenewSentAt = sentAt;
    this.#validUntil = validUntil;
    this.#state = 'leading';
    this.#stats.acquisitions += 1;
    this.#noteLeader({ holder: result.lease.holder, token: result.lease.token });
    this.#armDeadline();
    this.#schedule(this.#jittered(this.options.renewIntervalMs) - (now - sentAt));
    this.#raw.onStartedLeading?.(result.lease);
    this.emit('started-leading', result.lease);
  }

  /**
   * The store refused for lack of permission: retrying at the contention rate would only repeat
   * the refusal (and its warning) until an operator fixes permissions, so the retries back off
   * exponentially from `retryIntervalMs` to at most {@link PERMISSION_BACKOFF_MAX_MS}, and reset on
   * the next answer that is not a permission refusal. The keeper keeps contending rather than
   * stopping: a permission fixed by an operator is picked up without restarting the process.
   */
  #backOffAcquire(): void {
    this.#permissionFailures += 1;
    if (this.#state !== 'following' || !this.options.contend) return this.#scheduleAcquire();
    const base = this.options.retryIntervalMs * 2 ** Math.min(this.#permissionFailures - 1, 30);
    this.#schedule(this.#jittered(Math.min(base, Math.max(PERMISSION_BACKOFF_MAX_MS, this.options.retryIntervalMs))));
  }

  #scheduleAcquire(): void {
    if (this.#state === 'following' && this.options.contend) this.#schedule(this.#jittered(this.options.retryIntervalMs));
    else if (this.#state === 'following') void this.stop(this.#stopReason);
  }

  /**
   * Leaves leadership: the owner is told first (synchronously), then, unless the store already
   * said the lease is someone else's, a best-effort release lets a successor in early.
   */
  #stepDown(reason: StepDownReason, { release = true }: { release?: boolean } = {}): void {
    if (this.#state !== 'leading') return;
    const lease = this.#lease as LeaseGrant;
    // An owner that has not heard of this step-down yet (its thread blocked, the message queued)
    // may still trust the lease until its local validity ends. Releasing before then would let a
    // successor get a new token while the old one is still believed, so the early release is
    // only made once that validity is over; until then the lease expires on the store by itself.
    const beliefOver = this.#clock.now() >= this.#validUntil;
    this.#state = 'following';
    this.#validUntil = -Infinity;
    if (this.#deadlineTimer !== undefined) this.#clock.clearTimeout(this.#deadlineTimer);
    this.#deadlineTimer = undefined;
    this.#stats.recordStepDown(reason);
    this.#raw.onStoppedLeading?.(reason);
    this.emit('stopped-leading', reason);
    if (release && beliefOver) void this.#tryRelease(lease);
    if (reason !== 'stopped' && reason !== 'owner-dead' && reason !== 'handoff' && reason !== 'stuck') {
      if (this.options.contend) this.#schedule(this.#jittered(this.options.retryIntervalMs));
      else void this.stop(reason);
    }
  }

  #tryRelease(lease: LeaseGrant): Promise<void> {
    this.#stats.storeOps += 1;
    const releasing = this.#withTimeout('release', this.#store.release(lease)).then(
      () => undefined,
      () => undefined, // Best effort: the lease expires on the store by itself.
    );
    this.#releasing = releasing;
    void releasing.then(() => {
      if (this.#releasing === releasing) this.#releasing = undefined;
    });
    return releasing;
  }

  #noteLeader(current: Pick<LeaseInfo, 'holder' | 'token'> | null): void {
    const holder = current?.holder ?? null;
    if (holder === this.#knownLeader) return;
    this.#knownLeader = holder;
    this.#raw.onNewLeader?.(holder, current?.token ?? 0);
    this.emit('new-leader', holder, current?.token ?? 0);
  }

  #trustedTtlMs(): number {
    return this.options.validityMs;
  }

  #jittered(intervalMs: number): number {
    return intervalMs * (1 - this.options.jitterRatio * this.options.random());
  }

  #withTimeout<T>(operation: string, promise: Promise<T>): Promise<T> {
    return withTimeout(this.#clock, operation, this.options.requestTimeoutMs, promise);
  }
}
