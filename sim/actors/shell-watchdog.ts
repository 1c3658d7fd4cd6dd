import { sleep, type TimerHandle } from '../../src/clock.js';
import type { Rng } from '../rng.js';
import type { WatchdogChild } from '../strategies/strategy.js';
import { TERMINATE_GRACE_MS } from './watchdog.js';
import type { WatchdogActor, WatchdogWorld } from './watchdog-world.js';

/**
 * The real system's watchdog (`policy: respawn-if-gone`), a shell loop:
 *
 * 1. `sleep interval` — the period runs from the end of the previous check, not on a grid.
 * 2. If its tracked child is alive, go to 1: a live orchestrator is never judged by its lease.
 * 3. The child is gone (never spawned, PID dead, or the PID now someone else's): read the lease.
 *    An empty, released or unreadable lease counts as "no leader".
 * 4. Healthy (`now − lastHeartbeat < ttl + grace`): log "healthy leader exists, skipping
 *    respawn" and go to 1.
 * 5. Otherwise spawn a new orchestrator at once, `sleep startupDelay`, go to 1.
 *
 * The new orchestrator's session starts up for `respawnDelay` before its first acquire attempt.
 */
export class ShellWatchdog implements WatchdogActor {
  readonly #world: WatchdogWorld;
  readonly #startupRng: Rng;
  #timer: TimerHandle | undefined;
  child: WatchdogChild | undefined;
  polls = 0;
  /** "healthy leader exists, skipping respawn" decisions. */
  skips = 0;

  constructor(world: WatchdogWorld) {
    this.#world = world;
    this.#startupRng = world.rng.fork('respawn');
  }

  start(): void {
    this.#spawn();
    this.#next(this.#world.scenario.watchdog.startupDelayMs + this.#world.scenario.watchdog.intervalMs);
  }

  restartFor(forMs: number): void {
    const world = this.#world;
    if (world.trace.enabled) world.trace.emit('watchdog', 'watchdog-down', { forMs, orphan: this.child?.identity ?? null });
    this.child = undefined;
    // The script starts over when it comes back: sleep, then check.
    this.#next(forMs + world.scenario.watchdog.intervalMs);
  }

  async restart(victim: WatchdogChild): Promise<void> {
    const world = this.#world;
    world.metrics.count('restarts');
    if (world.trace.enabled) world.trace.emit('watchdog', 'restart', { victim: victim.identity });
    world.strategy.beforeWatchdogKill?.(victim, world);
    await Promise.race([victim.leadership?.terminate(), sleep(world.clock, TERMINATE_GRACE_MS)]);
    victim.proc.kill();
    if (this.child === victim) {
      world.strategy.onWatchdogRespawn?.(victim, world);
      this.#spawn();
    }
  }

  /**
   * The next check, `delayMs` from now. A world timer (the watchdog is no simulated thread),
   * quiet: a check only reads; one that spawns settles its step (see #check).
   */
  #next(delayMs: number): void {
    const clock = this.#world.clock;
    if (this.#timer !== undefined) clock.clearTimeout(this.#timer);
    this.#timer = clock.setQuietWorldTimeout(this.#onCheckDue, delayMs);
  }

  readonly #onCheckDue = (): void => {
    this.#timer = undefined;
    this.#check();
  };

  #spawn(): void {
    this.child = this.#world.spawnWatchdogChild(this.#startupRng.uniformMs(this.#world.scenario.watchdog.respawnDelay));
  }

  #check(): void {
    const world = this.#world;
    const { intervalMs, graceMs, startupDelayMs } = world.scenario.watchdog;
    this.polls += 1;
    const child = this.child;
    if (child !== undefined && child.proc.alive) return this.#next(intervalMs);
    // An unreadable lease file is "no leader", like an empty one.
    const readable = world.server.readable;
    const info = readable ? world.server.read(world.key) : null;
    const ageMs = info === null || info.holder === null ? null : info.ttlMs - info.expiresInMs;
    if (ageMs !== null && ageMs < world.scenario.lease.ttlMs + graceMs) {
      this.skips += 1;
      if (world.trace.enabled) world.trace.emit('watchdog', 'skip-healthy', { holder: info?.holder ?? null, leaseAgeMs: ageMs });
      return this.#next(intervalMs);
    }
    // Spawning starts promise work (the new orchestrator's): this step is settled as usual.
    world.clock.settleThisStep();
    world.metrics.count('respawns');
    world.metrics.respawnDecided();
    if (world.trace.enabled) {
      world.trace.emit('watchdog', 'respawn', { holder: info?.holder ?? null, leaseAgeMs: ageMs, previous: child?.identity ?? null });
    }
    world.strategy.onWatchdogRespawn?.(child, world);
    this.#spawn();
    this.#next(startupDelayMs + intervalMs);
  }
}
