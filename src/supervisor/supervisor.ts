import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../clock.js';
import { isResolvedKeeperTiming, keeperHooks, type StepDownReason } from '../keeper/keeper-options.js';
import { LeaseKeeper } from '../keeper/lease-keeper.js';
import type { OwnerLiveness } from '../owner/owner-liveness.js';
import type { LeaseGrant, LeaseStore } from '../store/lease-store.js';
import { backoffDelayMs, RestartBudget } from './restart-budget.js';
import { isCleanExit, type SessionExit, type SessionSignal, type SessionSpawner, type SupervisedSession } from './session.js';
import { SessionGatedStore, type ReleaseReport } from './session-gated-store.js';
import { resolveSupervisorOptions, type ResolvedSupervisorOptions, type SupervisorOptions } from './supervisor-options.js';

/** Why a supervisor finished. Each kind maps to one exit code in `keeper run`. */
export type SupervisorOutcome =
  /** The session ended and the policy (or a forwarded stop signal) says not to start another. */
  | { readonly kind: 'exited'; readonly exit: SessionExit }
  /** The session ended and restarting would exceed `maxRestarts` within its window. */
  | { readonly kind: 'restart-limit'; readonly exit: SessionExit; readonly restarts: number; readonly windowMs: number }
  /** The keeper stepped down (renew deadline, lost, paused); the session was stopped first. */
  | { readonly kind: 'lease-lost'; readonly reason: StepDownReason }
  /** The session had work and made no progress for too long; it was stopped. */
  | { readonly kind: 'stuck'; readonly detail: string }
  /** A session could not be started at all. */
  | { readonly kind: 'spawn-failed'; readonly error: unknown; readonly attempt: number }
  /** A stop signal came while no session ran (before leading, or between sessions). */
  | { readonly kind: 'stopped'; readonly signal: SessionSignal };

export interface SupervisorEvents {
  'session-started': [info: { attempt: number; id: string; token: number }];
  /** A session ended; `restartInMs` is set when another one will start after that delay. */
  'session-exited': [info: { attempt: number; id: string; exit: SessionExit; uptimeMs: number; restartInMs: number | undefined }];
  /** The supervisor is stopping a session (SIGTERM now, SIGKILL after the kill grace). */
  'stopping-session': [info: { why: 'lease-lost' | 'stuck'; detail: string }];
  /** The session did not end within the kill grace after SIGTERM: SIGKILL now. */
  'killing-session': [info: { graceMs: number }];
  release: [report: ReleaseReport];
  finished: [outcome: SupervisorOutcome];
}

export interface SupervisorStats {
  readonly sessions: number;
  readonly restarts: number;
  /** Restarts counted in the current window of `maxRestarts`. */
  readonly restartsInWindow: number;
}

type Phase = 'contending' | 'running' | 'restarting' | 'finishing' | 'done';

/**
 * Holds the lease and runs sessions as its children, restarting a session that ends without
 * letting the lease go. The keeper lives as long as the supervisor, not as long as a session, so a
 * session that ends when its host idles it is replaced in place: the lease stays held and renewed
 * with the same fencing token, and a watchdog watching the supervisor sees a live child and a
 * healthy lease.
 *
 * The life of one supervisor:
 * 1. Contend with a `LeaseKeeper`. On leading, start session 0 with the lease.
 * 2. A session ends (`gone`: the session and all it started): if the policy allows, a stop was not
 *    asked for, and the restart budget has room, start the next after the backoff delay;
 *    otherwise finish (`exited` or `restart-limit`).
 * 3. The keeper steps down, or the session is stuck: stop the session (SIGTERM, SIGKILL after the
 *    kill grace), never contend again, finish (`lease-lost`, `stuck`) once it is gone.
 * 4. Finishing: stop the keeper, release the lease (only now that no session lives), report.
 * A release is never sent while a session lives (`SessionGatedStore`).
 */
export class Supervisor extends EventEmitter<SupervisorEvents> {
  readonly options: ResolvedSupervisorOptions;
  readonly keeper: LeaseKeeper;
  readonly #spawner: SessionSpawner;
  readonly #store: SessionGatedStore;
  readonly #clock: Clock;
  readonly #budget: RestartBudget;
  #phase: Phase = 'contending';
  #lease: LeaseGrant | undefined;
  #session: SupervisedSession | undefined;
  #sessionStartedAt = 0;
  #attempt = 0;
  #restarts = 0;
  #shortLivedInARow = 0;
  /** Set when the supervisor decided to stop the running session; applied once it is gone. */
  #cause: SupervisorOutcome | undefined;
  /** A stop signal was forwarded: the session's end is final. */
  #stopAsked = false;
  #killTimer: TimerHandle | undefined;
  #restartTimer: TimerHandle | undefined;
  #finish!: (outcome: SupervisorOutcome) => void;
  readonly #finished: Promise<SupervisorOutcome>;

  /** `store` and `spawner` first, then options (the clock is one of them, real by default). */
  constructor(store: LeaseStore, spawner: SessionSpawner, options: SupervisorOptions) {
    super();
    this.options = resolveSupervisorOptions(options);
    this.#spawner = spawner;
    this.#clock = this.options.clock;
    this.#budget = new RestartBudget(this.options.maxRestarts.count, this.options.maxRestarts.windowMs);
    this.#store = new SessionGatedStore(store, (report) => this.emit('release', report));
    this.#finished = new Promise((resolve) => (this.#finish = resolve));
    // The keeper's owner is this supervisor: it renews until the supervisor finishes, sessions or not.
    const owner: OwnerLiveness = {
      check: () => (this.#phase === 'finishing' || this.#phase === 'done' ? { alive: false, reason: 'the supervisor is finishing' } : { alive: true }),
    };
    // The timing given resolved (keeper run's), or resolved above, travels as it is: the keeper does not resolve it again.
    const given = options.keeper;
    const timing = isResolvedKeeperTiming(given) ? given : this.options.keeper;
    const hooks = isResolvedKeeperTiming(given) ? {} : keeperHooks(given);
    this.keeper = new LeaseKeeper(this.#store, { ...hooks, timing, clock: this.#clock, random: this.options.keeper.random, owner });
    this.keeper.on('started-leading', (lease) => this.#onStartedLeading(lease));
    this.keeper.on('stopped-leading', (reason) => this.#onStepDown(reason));
  }

  /** Starts contending; resolves when the supervisor is done (lease released). Call once. */
  run(): Promise<SupervisorOutcome> {
    this.keeper.start();
    return this.#finished;
  }

  get phase(): Phase {
    return this.#phase;
  }

  stats(): SupervisorStats {
    return { sessions: this.#attempt, restarts: this.#restarts, restartsInWindow: this.#budget.used(this.#clock.now()) };
  }

  /**
   * A signal for the supervisor (e.g. forwarded from its own process). While a session runs it is
   * passed on; SIGTERM and SIGINT also mean "do not restart it". With no session running, a stop
   * signal finishes at once; SIGHUP is ignored.
   */
  signal(signal: SessionSignal): void {
    const stops = signal !== 'SIGHUP';
    if (this.#phase === 'running' && this.#session !== undefined) {
      if (stops) this.#stopAsked = true;
      this.#session.signal(signal);
      return;
    }
    if (!stops) return;
    if (this.#phase === 'contending' || this.#phase === 'restarting') void this.#end({ kind: 'stopped', signal });
  }

  /** The session's progress (its work loop finished a unit of work); feeds the keeper's progress check. */
  progress(pending?: number): void {
    if (this.#phase === 'running') this.keeper.progress(pending);
  }

  /** How much work the session has waiting; silence counts only while this is > 0. */
  setPendingWork(pending: number): void {
    if (this.#phase === 'running') this.keeper.setPendingWork(pending);
  }

  /** An outside progress check (e.g. a progress file) found the session stuck: stop it and finish. */
  declareStuck(detail: string): void {
    this.#stopSession({ kind: 'stuck', detail });
  }

  #onStartedLeading(lease: LeaseGrant): void {
    if (this.#phase !== 'contending') return;
    this.#lease = lease;
    this.#startSession();
  }

  #startSession(): void {
    const lease = this.#lease as LeaseGrant;
    const attempt = this.#attempt;
    let session: SupervisedSession;
    try {
      session = this.#spawner.spawn({ lease, attempt });
    } catch (error) {
      void this.#end({ kind: 'spawn-failed', error, attempt });
      return;
    }
    this.#attempt += 1;
    this.#phase = 'running';
    this.#session = session;
    this.#sessionStartedAt = this.#clock.now();
    this.#store.sessionStarted();
    // A new session starts with no work of its own: the last one's pending count is void.
    this.keeper.setPendingWork(0);
    this.emit('session-started', { attempt, id: session.id, token: lease.token });
    void session.gone.then((exit) => this.#onSessionGone(session, attempt, exit));
  }

  #onSessionGone(session: SupervisedSession, attempt: number, exit: SessionExit): void {
    if (this.#session !== session) return;
    this.#session = undefined;
    this.#store.sessionGone();
    if (this.#killTimer !== undefined) this.#clock.clearTimeout(this.#killTimer);
    this.#killTimer = undefined;
    const uptimeMs = this.#clock.now() - this.#sessionStartedAt;
    const next = this.#afterExit(exit, uptimeMs);
    this.emit('session-exited', { attempt, id: session.id, exit, uptimeMs, restartInMs: next.kind === 'restart' ? next.delayMs : undefined });
    if (next.kind === 'finish') {
      void this.#end(next.outcome);
      return;
    }
    this.#phase = 'restarting';
    this.#restarts += 1;
    this.#restartTimer = this.#clock.setTimeout(() => {
      this.#restartTimer = undefined;
      if (this.#phase !== 'restarting') return;
      if (!this.keeper.isLeading()) return void this.#end({ kind: 'lease-lost', reason: 'lost' });
      this.#startSession();
    }, next.delayMs);
  }

  /** Step 2: restart (after which delay), or finish (why). */
  #afterExit(exit: SessionExit, uptimeMs: number): { kind: 'restart'; delayMs: number } | { kind: 'finish'; outcome: SupervisorOutcome } {
    if (this.#cause !== undefined) return { kind: 'finish', outcome: this.#cause };
    if (exit.spawnError !== undefined) return { kind: 'finish', outcome: { kind: 'spawn-failed', error: exit.spawnError, attempt: this.#attempt - 1 } };
    const policy = this.options.restart;
    const wanted = !this.#stopAsked && (policy === 'always' || (policy === 'on-exit' && isCleanExit(exit)));
    if (!wanted) return { kind: 'finish', outcome: { kind: 'exited', exit } };
    if (!this.keeper.isLeading()) return { kind: 'finish', outcome: { kind: 'lease-lost', reason: 'lost' } };
    const limit = this.options.maxRestarts;
    if (!this.#budget.take(this.#clock.now())) {
      return { kind: 'finish', outcome: { kind: 'restart-limit', exit, restarts: this.#budget.used(this.#clock.now()), windowMs: limit.windowMs } };
    }
    this.#shortLivedInARow = uptimeMs >= this.options.backoff.stableAfterMs ? 0 : this.#shortLivedInARow + 1;
    return { kind: 'restart', delayMs: backoffDelayMs(this.options.backoff, this.#shortLivedInARow) };
  }

  /** Step 3. The keeper never contends again: once a session started, this supervisor ends with it. */
  #onStepDown(reason: StepDownReason): void {
    if (this.#phase === 'contending' || this.#phase === 'finishing' || this.#phase === 'done') return;
    void this.keeper.stop(reason);
    if (reason === 'stuck') this.#stopSession({ kind: 'stuck', detail: 'the session had work pending and made no progress' });
    else this.#stopSession({ kind: 'lease-lost', reason });
  }

  #stopSession(cause: SupervisorOutcome & { kind: 'lease-lost' | 'stuck' }): void {
    if (this.#cause !== undefined || this.#phase === 'finishing' || this.#phase === 'done' || this.#phase === 'contending') return;
    this.#cause = cause;
    const session = this.#session;
    if (this.#phase === 'restarting' || session === undefined) {
      void this.#end(cause);
      return;
    }
    this.emit('stopping-session', { why: cause.kind, detail: cause.kind === 'stuck' ? cause.detail : cause.reason });
    session.signal('SIGTERM');
    this.#killTimer = this.#clock.setTimeout(() => {
      this.#killTimer = undefined;
      if (this.#session !== session) return;
      this.emit('killing-session', { graceMs: this.options.killGraceMs });
      session.signal('SIGKILL');
    }, this.options.killGraceMs);
  }

  /** Step 4: no session lives here. */
  async #end(outcome: SupervisorOutcome): Promise<void> {
    if (this.#phase === 'finishing' || this.#phase === 'done') return;
    this.#phase = 'finishing';
    if (this.#restartTimer !== undefined) this.#clock.clearTimeout(this.#restartTimer);
    if (this.#killTimer !== undefined) this.#clock.clearTimeout(this.#killTimer);
    this.#restartTimer = undefined;
    this.#killTimer = undefined;
    await this.keeper.stop(outcome.kind === 'lease-lost' ? outcome.reason : 'stopped');
    await this.#store.finalRelease(this.#clock, Math.max(1_000, this.options.keeper.requestTimeoutMs));
    this.#phase = 'done';
    this.emit('finished', outcome);
    this.#finish(outcome);
  }
}
