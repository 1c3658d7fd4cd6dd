import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../clock.js';
import { ConfigError } from '../errors.js';
import type { StepDownReason } from '../keeper/keeper-options.js';
import type { KeeperStatsSnapshot } from '../keeper/keeper-stats.js';
import type { LeaseGrant } from '../store/lease-store.js';
import { MachineClock, type FromKeeper, type ToKeeper } from './host-protocol.js';

/**
 * Why the owner may no longer act: the keeper's own reasons, plus `expired` (the last validity
 * deadline the owner heard of passed, e.g. the owner was frozen) and `keeper-exited`.
 */
export type HostStepDownReason = StepDownReason | 'expired' | 'keeper-exited';

/** Events of a {@link KeeperHandle}. */
export interface KeeperHandleEvents {
  'started-leading': [lease: LeaseGrant];
  'stopped-leading': [reason: HostStepDownReason];
  'new-leader': [identity: string | null, token: number];
  /**
   * Every renewal, while this event has a listener. Without one the keeper sends no message for a
   * routine renewal: the owner reads its latest validity from memory it shares with the keeper (a
   * worker's `ValidityCell`, a sidecar's `ValidityFile`) when asked and when its belief would lapse,
   * so the owner's thread sleeps through routine renewals. A keeper with nothing shared (the
   * simulator's) tells the owner when its belief would otherwise run out first (every second
   * renewal with the default timing).
   */
  renewed: [info: { token: number; validityLeftMs: number }];
  /** A store request of the keeper failed or timed out (it retries until the renew deadline). */
  'renew-failed': [info: { message: string }];
  /** The keeper host ended; `stats` when it stopped cleanly. */
  exit: [info: { reason: string; stats: KeeperStatsSnapshot | undefined }];
}

/**
 * The owner's end of the channel to a keeper host: a forked sidecar's IPC channel, a worker's
 * port, or (in the simulator) a simulated channel. Built by the host module.
 */
export interface OwnerChannel {
  /** Best effort: a host that is gone drops it. */
  send(message: ToKeeper): void;
  /** Wires the host's messages and its end (exit, crash or failed start: reported once). */
  listen(events: LinkEvents): void;
  /** The host said `stopped`: let it end now. */
  finish(): void;
  /** Ends the host forcefully (a graceful stop timed out, or start failed). */
  kill(): void;
  /** The keeper's latest validity, read without a message (a worker's `ValidityCell`, a sidecar's `ValidityFile`). */
  validity?(): { token: number; validUntil: number } | undefined;
}

/** What the channel reports to the handle. */
export interface LinkEvents {
  onMessage(message: FromKeeper): void;
  onExit(reason: string): void;
}

/** The handle's seams and options. */
export interface KeeperHandleOptions {
  /** How long `stop()` waits for the graceful release before killing the host. @default 5000 */
  readonly stopTimeoutMs?: number;
  /**
   * The machine's monotonic clock as the owner reads it: belief deadlines and action timers. It
   * must be the clock the host's `validUntil` is on. @default a `MachineClock` whose timers never keep the process alive
   */
  readonly clock?: Clock;
  /** The graceful-stop timer's clock: the owner's process stays up until the release is done. @default a `MachineClock` */
  readonly stopClock?: Clock;
}

const defaultClock = new MachineClock({ unref: true });
const defaultStopClock = new MachineClock();

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: Error): void;
}

/** An `Error` carrying the `code` of the error the keeper host met (e.g. `E_CONFIG`, `E_STORE_UNAVAILABLE`). */
function startError(message: string, code?: string): Error {
  return Object.assign(new Error(message), code === undefined ? {} : { code });
}

/** `Promise.withResolvers`, which Node 20 lacks. */
function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * The owner's view of a keeper that runs out of band (sidecar process or worker thread).
 *
 * Leadership is believed only until the last validity deadline the keeper reported, judged on the
 * machine's monotonic clock as read by the owner itself: a belief that went stale while the owner
 * was frozen is never trusted, and queued renewals revive it only if they are still in date.
 * `started-leading`/`stopped-leading` are emitted on every change of that belief.
 */
export class KeeperHandle extends EventEmitter<KeeperHandleEvents> {
  /** The identity the keeper holds the lease under. */
  readonly identity: string;
  readonly #link: OwnerChannel;
  readonly #stopTimeoutMs: number;
  readonly #clock: Clock;
  readonly #stopClock: Clock;
  readonly #actions = new Set<{ timer: TimerHandle }>();
  #lease: LeaseGrant | undefined;
  #validUntil = -Infinity;
  #leading = false;
  #lostReason: HostStepDownReason = 'expired';
  #deadlineTimer: TimerHandle | undefined;
  /** What the keeper was last told about `renewed` messages (it sends every one until told otherwise). */
  #everyRenewal = true;
  #running = false;
  #exited = false;
  #stopping: Promise<void> | undefined;
  #handingOff = false;
  #stats: KeeperStatsSnapshot | undefined;
  readonly #exit = deferred();
  readonly #ready = deferred();

  /** @internal Built by `startSidecarKeeper` / `startWorkerKeeper` (and the simulator, over its own channel). */
  constructor(identity: string, channel: OwnerChannel, options: KeeperHandleOptions = {}) {
    super();
    this.identity = identity;
    this.#stopTimeoutMs = options.stopTimeoutMs ?? 5000;
    this.#clock = options.clock ?? defaultClock;
    this.#stopClock = options.stopClock ?? defaultStopClock;
    this.#ready.promise.catch(() => undefined);
    this.#link = channel;
    channel.listen({ onMessage: (message) => this.#receive(message), onExit: (reason) => this.#onExit(reason) });
    // `renewed` listeners decide whether the keeper sends every renewal (see the event).
    const emitter = this as EventEmitter;
    emitter.on('newListener', (event: string | symbol) => event === 'renewed' && this.#tellRenewals(true));
    emitter.on('removeListener', (event: string | symbol) => event === 'renewed' && this.#tellRenewals(this.listenerCount('renewed') > 0));
  }

  /** Whether the owner may act as leader *now*: a lease is held and its reported validity has not run out. */
  isLeading(): boolean {
    this.#refresh();
    return this.#leading;
  }

  /** The fencing token while {@link isLeading}, else `null`. Pass it to every fenced write. */
  get token(): number | null {
    return this.isLeading() ? (this.#lease as LeaseGrant).token : null;
  }

  /** Milliseconds of reported validity left, or 0 when not leading. */
  validityLeftMs(): number {
    return this.isLeading() ? this.#validUntil - this.#clock.now() : 0;
  }

  /** Whether the keeper host has ended. */
  get exited(): boolean {
    return this.#exited;
  }

  /** Tells the keeper the owner is making progress (see `maxOwnerSilenceMs`). Call it from the owner's own work loop. */
  checkIn(): void {
    if (!this.#exited && this.#stopping === undefined) this.#link.send({ type: 'check-in' });
  }

  /**
   * Progress check (`keeper.maxProgressSilenceMs`): the owner finished a unit of work; with
   * `pending`, also how much work still waits. Call it from the owner's own work loop.
   */
  progress(pending?: number): void {
    // Progress still matters while a handoff drains.
    if (!this.#exited && (this.#stopping === undefined || this.#handingOff)) {
      this.#link.send(pending === undefined ? { type: 'progress' } : { type: 'progress', pending });
    }
  }

  /** Progress check: the owner has `pending` units of work waiting (silence counts only while > 0). */
  setPendingWork(pending: number): void {
    if (!this.#exited && (this.#stopping === undefined || this.#handingOff)) this.#link.send({ type: 'pending-work', pending });
  }

  /**
   * Runs `action(token)` every `intervalMs` while {@link isLeading}, on a timer owned by this handle
   * (not by the caller's session; it never keeps the process alive). Ends at `stop()`. Returns a cancel function.
   */
  everyWhileLeading(intervalMs: number, action: (token: number) => void): () => void {
    if (this.#stopping !== undefined) return () => undefined;
    const entry = { timer: undefined as unknown as TimerHandle };
    const tick = (): void => {
      entry.timer = this.#clock.setTimeout(tick, intervalMs);
      const token = this.token;
      if (token !== null) action(token);
    };
    entry.timer = this.#clock.setTimeout(tick, intervalMs);
    this.#actions.add(entry);
    return () => {
      this.#clock.clearTimeout(entry.timer);
      this.#actions.delete(entry);
    };
  }

  /** Resolves once the keeper host runs; rejects with its start error. */
  ready(): Promise<void> {
    return this.#ready.promise;
  }

  /**
   * Graceful handoff: the keeper goes on renewing while the owner drains (until it reports no
   * pending work via `setPendingWork`/`progress`, or `drainMs` passes), then steps down, releases
   * and exits, so a follower takes over at its next attempt. Stop taking new work before calling.
   * With `to`, the lease is transferred to that follower instead (see `LeaseKeeper.handoff`).
   */
  handoff({ drainMs = 0, to }: { drainMs?: number; to?: string } = {}): Promise<void> {
    if (this.#stopping !== undefined) return this.#stopping;
    if (!Number.isFinite(drainMs) || drainMs < 0) return Promise.reject(new ConfigError('drainMs', 'must be a finite number >= 0', drainMs));
    if (to !== undefined && (typeof to !== 'string' || to === '')) return Promise.reject(new ConfigError('to', "must be another contender's identity", to));
    this.#handingOff = true;
    this.#stopping = (async () => {
      if (this.#exited) return;
      this.#link.send({ type: 'handoff', drainMs, ...(to === undefined ? {} : { to }) });
      const timer = this.#stopClock.setTimeout(() => this.#link.kill(), drainMs + this.#stopTimeoutMs);
      await this.#exit.promise;
      this.#stopClock.clearTimeout(timer);
    })();
    return this.#stopping;
  }

  /**
   * Graceful stop: the owner stops acting at once, the keeper releases the lease (so a successor
   * may take over immediately) and its host ends. Resolves when the host has ended; a host that
   * does not end within `stopTimeoutMs` is killed (its lease then expires by TTL).
   */
  stop(): Promise<void> {
    if (this.#stopping !== undefined) return this.#stopping;
    this.#lostReason = 'stopped';
    this.#lease = undefined;
    for (const entry of this.#actions) this.#clock.clearTimeout(entry.timer);
    this.#actions.clear();
    this.#refresh();
    this.#stopping = (async () => {
      if (this.#exited) return;
      this.#link.send({ type: 'stop' });
      const timer = this.#stopClock.setTimeout(() => this.#link.kill(), this.#stopTimeoutMs);
      await this.#exit.promise;
      this.#stopClock.clearTimeout(timer);
    })();
    return this.#stopping;
  }

  #receive(message: FromKeeper): void {
    switch (message.type) {
      case 'ready':
        this.#running = true;
        this.#ready.resolve();
        this.#tellRenewals(this.listenerCount('renewed') > 0);
        return;
      case 'failed':
        this.#ready.reject(startError(`lease keeper could not start: ${message.message}`, message.code));
        return;
      case 'started-leading':
        if (this.#stopping !== undefined) return;
        this.#lease = message.lease;
        this.#validUntil = message.validUntil;
        break;
      case 'renewed':
        if (this.#lease?.token !== message.token) return;
        this.#validUntil = Math.max(this.#validUntil, message.validUntil);
        this.emit('renewed', { token: message.token, validityLeftMs: Math.max(0, message.validUntil - this.#clock.now()) });
        break;
      case 'stopped-leading':
        this.#lease = undefined;
        this.#lostReason = message.reason;
        break;
      case 'new-leader':
        this.emit('new-leader', message.identity, message.token);
        return;
      case 'renew-failed':
        this.emit('renew-failed', { message: message.message });
        return;
      case 'stopped':
        this.#stats = message.stats;
        this.#link.finish();
        return;
      default:
        return;
    }
    this.#refresh();
  }

  /** Tells a running keeper whether to send every renewal, when that changed. */
  #tellRenewals(every: boolean): void {
    if (!this.#running || this.#exited || every === this.#everyRenewal) return;
    this.#everyRenewal = every;
    this.#link.send({ type: 'renewals', every });
  }

  #onExit(reason: string): void {
    if (this.#exited) return;
    this.#exited = true;
    if (this.#stopping === undefined) this.#lostReason = 'keeper-exited';
    this.#lease = undefined;
    this.#refresh();
    this.#ready.reject(startError(`lease keeper host ended before it was ready: ${reason}`));
    this.#exit.resolve();
    this.emit('exit', { reason, stats: this.#stats });
  }

  /** Re-derives the belief from lease + deadline and emits when it changed. */
  #refresh(): void {
    const shared = this.#lease === undefined ? undefined : this.#link.validity?.();
    if (shared !== undefined && shared.token === this.#lease?.token) this.#validUntil = Math.max(this.#validUntil, shared.validUntil);
    const leading = this.#lease !== undefined && this.#clock.now() < this.#validUntil;
    if (leading) this.#armDeadline();
    if (leading === this.#leading) return;
    this.#leading = leading;
    if (leading) {
      this.#lostReason = 'expired';
      this.emit('started-leading', this.#lease as LeaseGrant);
    } else {
      this.emit('stopped-leading', this.#lostReason);
    }
  }

  /** One timer at the current deadline, so `stopped-leading` fires even if nobody asks. */
  #armDeadline(): void {
    if (this.#deadlineTimer !== undefined) return;
    this.#deadlineTimer = this.#clock.setTimeout(() => {
      this.#deadlineTimer = undefined;
      this.#refresh();
    }, this.#validUntil - this.#clock.now());
  }
}
