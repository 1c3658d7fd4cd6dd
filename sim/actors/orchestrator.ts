import type { LeaseStore } from '../../src/store/lease-store.js';
import type { SimProcess, ThreadClock } from '../sim-process.js';
import type { Leadership } from '../strategies/leadership.js';
import type { SimWorld } from '../sim-world.js';
import { SessionHost } from './session-host.js';

/**
 * One orchestrator incarnation: a process whose session runs the strategy's heartbeat and
 * whose work, when it believes it leads, becomes a fenced leader action.
 */
export class Orchestrator {
  readonly identity: string;
  readonly proc: SimProcess;
  /** Timers registered in the session: the host clears these when it idles the session. */
  readonly session: ThreadClock;
  /** The store as seen from the session's thread. */
  readonly sessionStore: LeaseStore;
  readonly host: SessionHost;
  readonly #world: SimWorld;
  readonly #lead: (orchestrator: Orchestrator) => Leadership;
  #leadership: Leadership | undefined;
  believes = false;
  #faulted = false;
  #wedged = false;
  /** Called once, when work first waits on the wedged loop (see {@link wedge}). */
  #onStuck: (() => void) | undefined;
  /** Work arrived and not finished yet. */
  pending = 0;
  /** Its session is starting up (respawn-if-gone): busy, not yet serving, until it first leads. */
  #starting = false;

  /** `lead` starts the strategy's leadership in this orchestrator's session. */
  constructor(world: SimWorld, incarnation: number, lead: (orchestrator: Orchestrator) => Leadership) {
    this.#world = world;
    this.#lead = lead;
    this.identity = `orch-${incarnation}`;
    this.proc = world.spawnProcess(this.identity);
    this.session = this.proc.clock(this.proc.main);
    this.sessionStore = world.server.client(this.identity, this.proc.main);
    this.host = new SessionHost(world, this.proc, this.session, world.rng.fork(`host:${incarnation}`));
  }

  /** Set when a fault hit this orchestrator: replacing it is then not spurious. */
  get faulted(): boolean {
    return this.#faulted;
  }

  markFaulted(): void {
    this.#faulted = true;
  }

  /** A wedged main loop takes work in but never finishes any. */
  get wedged(): boolean {
    return this.#wedged;
  }

  get leadership(): Leadership | undefined {
    return this.#leadership;
  }

  /**
   * Starts the session. Without `startupMs`, the strategy starts at once and the session serves
   * from now. With it (respawn-if-gone), the session starts up: the strategy starts (first acquire
   * attempt) after `startupMs`, and the session is busy and not serving until it first leads, or
   * one TTL after that attempt if it never does (so a session that cannot lead still idles).
   */
  start(startupMs?: number): void {
    const world = this.#world;
    this.#starting = startupMs !== undefined;
    world.metrics.processStarted(this.identity, !this.#starting);
    this.proc.onExit(() => world.metrics.processDied(this.identity));
    this.host.start(this.#starting);
    if (startupMs === undefined) {
      this.#leadership = this.#lead(this);
      return;
    }
    world.clock.setWorldTimeout(() => {
      this.proc.main.deliver(() => {
        this.#leadership = this.#lead(this);
        world.clock.setWorldTimeout(() => this.#ready(), world.scenario.lease.ttlMs);
      });
    }, startupMs);
  }

  #ready(): void {
    if (!this.#starting || !this.proc.alive) return;
    this.#starting = false;
    this.#world.metrics.serving(this.identity, true);
    if (this.#world.trace.enabled) this.#world.trace.emit(this.identity, 'session-ready');
    this.host.ready();
  }

  /**
   * Reports whether this orchestrator believes it leads, and until when (simulated time) the
   * belief holds by itself: a keeper's local validity; Infinity for strategies that never doubt.
   */
  believe(believes: boolean, untilMs = Infinity): void {
    if (!this.proc.alive) return;
    this.#world.metrics.belief(this.identity, believes, untilMs);
    if (believes) this.#ready();
    if (believes === this.believes) return;
    this.believes = believes;
    if (this.#world.trace.enabled) this.#world.trace.emit(this.identity, believes ? 'leading' : 'not-leading');
  }

  /**
   * A unit of work arrives: the session wakes and stays busy for `busyMs`; when the work is done
   * the orchestrator, if it believes it leads, acts with its token, and reports progress.
   */
  work(busyMs: number): void {
    this.host.activity(busyMs);
    this.pending += 1;
    this.#stuckNow();
    this.#leadership?.reportWork?.(this.pending, false);
    this.#world.clock.setWorldTimeout(() => this.proc.main.deliver(() => this.#finish()), busyMs);
  }

  /**
   * The main loop wedges. `onStuck` runs once work waits on it — at once if work is pending, else
   * at the next arrival: until then a wedged leader is indistinguishable from an idle one.
   */
  wedge(onStuck: () => void): void {
    this.#wedged = true;
    this.#onStuck = onStuck;
    if (this.pending > 0) this.#stuckNow();
  }

  #stuckNow(): void {
    const onStuck = this.wedged ? this.#onStuck : undefined;
    this.#onStuck = undefined;
    onStuck?.();
  }

  #finish(): void {
    if (this.#wedged) return;
    this.pending -= 1;
    this.#act();
    this.#leadership?.reportWork?.(this.pending, true);
  }

  #act(): void {
    const token = this.#leadership?.leaderToken() ?? null;
    if (token === null) return;
    const current = this.#world.server.read(this.#world.key)?.token ?? 0;
    const accepted = this.#world.metrics.action(this.identity, current, token);
    if (this.#world.trace.enabled) this.#world.trace.emit(this.identity, 'leader-action', { token, accepted });
  }
}
