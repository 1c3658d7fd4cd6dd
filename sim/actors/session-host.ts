import type { TimerHandle } from '../../src/clock.js';
import type { Rng } from '../rng.js';
import type { SimProcess, ThreadClock } from '../sim-process.js';
import type { SimWorld } from '../sim-world.js';

/** How long the session-idle hook may take to release the lease before the process ends anyway. */
export const IDLE_HOOK_TIMEOUT_MS = 5_000;

/**
 * The host that runs an orchestrator's session. It idles the session `idleAfter` after the
 * session last became quiet (no work, no activity), and once at `maxLifetime` even if busy.
 * A session still starting up (respawn-if-gone) is busy: its idle clock starts at {@link ready}.
 * Idle effects: `clear-timers` (the session's timers are cleared, the process lives), `freeze`
 * (the whole process stops until work arrives), `stall` (the event loop blocks for `stallFor`),
 * `exit` (the process ends, after the `onIdle: release` hook if there is one).
 */
export class SessionHost {
  readonly #world: SimWorld;
  readonly #proc: SimProcess;
  readonly #session: ThreadClock;
  readonly #rng: Rng;
  readonly #actor: string;
  #idleTimer: TimerHandle | undefined;
  #busyUntil = 0;
  #starting = false;
  #exiting = false;
  idle = false;
  idles = 0;

  constructor(world: SimWorld, proc: SimProcess, session: ThreadClock, rng: Rng) {
    this.#world = world;
    this.#proc = proc;
    this.#session = session;
    this.#rng = rng;
    this.#actor = `host/${proc.name}`;
  }

  /** With `starting`, the idle clock waits for {@link ready}. */
  start(starting = false): void {
    this.#starting = starting;
    this.#arm();
    const lifetime = this.#world.scenario.session.maxLifetime;
    if (lifetime !== undefined) {
      this.#world.clock.setWorldTimeout(() => this.#goIdle('max-lifetime'), this.#rng.uniformMs(lifetime));
    }
    this.#proc.onExit(() => this.#disarm());
  }

  /** The session finished starting up: its idle clock starts now. */
  ready(): void {
    this.#starting = false;
    this.#arm();
  }

  /** Work or self-made activity: wakes an idle session and keeps it busy for `busyMs`. */
  activity(busyMs: number): void {
    if (!this.#proc.alive || this.#exiting) return;
    this.#busyUntil = Math.max(this.#busyUntil, this.#world.clock.now() + busyMs);
    if (this.idle) this.#wake();
    this.#arm();
  }

  #arm(): void {
    this.#disarm();
    if (!this.#proc.alive || this.idle || this.#starting) return;
    const quietAt = Math.max(this.#busyUntil, this.#world.clock.now());
    const at = quietAt + this.#rng.uniformMs(this.#world.scenario.session.idleAfter);
    this.#idleTimer = this.#world.clock.setWorldTimeout(() => {
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
      this.#world.clock.setWorldTimeout(() => {
        this.#proc.main.unstall();
        this.#arm();
      }, forMs);
      return;
    }
    this.idle = true;
    if (trace.enabled) trace.emit(this.#actor, 'session-idle', { cause, effect, timersCleared: this.#session.pending });
    if (effect === 'clear-timers') this.#session.clearAll();
    else if (effect === 'exit') this.#exit();
    else this.#proc.freeze();
  }

  /** The idled session's process ends; the `release` hook first frees the lease if this process holds it. */
  #exit(): void {
    const world = this.#world;
    const identity = this.#proc.name;
    const end = (): void => this.#proc.exit(0); // a clean exit: the session ended itself
    this.#exiting = true;
    const info = world.scenario.session.onIdle === 'release' ? world.server.read(world.key) : null;
    if (info === null || info.holder !== identity || info.expiresInMs <= 0) return end();
    if (world.trace.enabled) world.trace.emit(this.#actor, 'idle-hook-release', { token: info.token });
    world.clock.setWorldTimeout(end, IDLE_HOOK_TIMEOUT_MS);
    const request = { key: world.key, holder: identity, token: info.token, version: info.version };
    void world.server.call(identity, this.#proc.main, () => world.server.release(identity, request)).then(end, end);
  }

  #wake(): void {
    this.idle = false;
    if (this.#world.trace.enabled) this.#world.trace.emit(this.#actor, 'session-wake');
    if (this.#world.scenario.session.idleEffect === 'freeze') this.#proc.resume();
  }
}
