import type { TimerHandle } from '../../src/clock.js';
import type { Rng } from '../rng.js';
import type { SimProcess, ThreadClock } from '../sim-process.js';
import type { World } from '../world.js';

/**
 * The host that runs an orchestrator's session. It idles the session `idleAfter` after the
 * session last became quiet (no work, no activity), and once at `maxLifetime` even if busy.
 * Idle effects: `clear-timers` (the session's timers are cleared, the process lives), `freeze`
 * (the whole process stops until work arrives), `stall` (the event loop blocks for `stallFor`).
 */
export class SessionHost {
  readonly #world: World;
  readonly #proc: SimProcess;
  readonly #session: ThreadClock;
  readonly #rng: Rng;
  readonly #actor: string;
  #idleTimer: TimerHandle | undefined;
  #busyUntil = 0;
  idle = false;
  idles = 0;

  constructor(world: World, proc: SimProcess, session: ThreadClock, rng: Rng) {
    this.#world = world;
    this.#proc = proc;
    this.#session = session;
    this.#rng = rng;
    this.#actor = `host/${proc.name}`;
  }

  start(): void {
    this.#arm();
    const lifetime = this.#world.scenario.session.maxLifetime;
    if (lifetime !== undefined) {
      this.#world.clock.setTimeout(() => this.#goIdle('max-lifetime'), this.#rng.uniformMs(lifetime));
    }
    this.#proc.onExit(() => this.#disarm());
  }

  /** Work or self-made activity: wakes an idle session and keeps it busy for `busyMs`. */
  activity(busyMs: number): void {
    if (!this.#proc.alive) return;
    this.#busyUntil = Math.max(this.#busyUntil, this.#world.clock.now() + busyMs);
    if (this.idle) this.#wake();
    this.#arm();
  }

  #arm(): void {
    this.#disarm();
    if (!this.#proc.alive || this.idle) return;
    const quietAt = Math.max(this.#busyUntil, this.#world.clock.now());
    const at = quietAt + this.#rng.uniformMs(this.#world.scenario.session.idleAfter);
    this.#idleTimer = this.#world.clock.setTimeout(() => {
      this.#idleTimer = undefined;
      this.#goIdle('quiet');
    }, at - this.#world.clock.now());
  }

  #disarm(): void {
    if (this.#idleTimer !== undefined) this.#world.clock.clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  #goIdle(cause: 'quiet' | 'max-lifetime'): void {
    if (!this.#proc.alive || this.idle) return;
    this.#disarm();
    this.idles += 1;
    const effect = this.#world.scenario.session.idleEffect;
    const trace = this.#world.trace;
    if (effect === 'stall') {
      const forMs = this.#rng.uniformMs(this.#world.scenario.session.stallFor);
      if (trace.enabled) trace.emit(this.#actor, 'session-stall', { cause, forMs });
      this.#proc.main.stall();
      this.#world.clock.setTimeout(() => {
        this.#proc.main.unstall();
        this.#arm();
      }, forMs);
      return;
    }
    this.idle = true;
    if (trace.enabled) trace.emit(this.#actor, 'session-idle', { cause, effect, timersCleared: this.#session.pending });
    if (effect === 'clear-timers') this.#session.clearAll();
    else this.#proc.freeze();
  }

  #wake(): void {
    this.idle = false;
    if (this.#world.trace.enabled) this.#world.trace.emit(this.#actor, 'session-wake');
    if (this.#world.scenario.session.idleEffect === 'freeze') this.#proc.resume();
  }
}
