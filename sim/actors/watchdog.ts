import { sleep } from '../../src/clock.js';
import type { WatchdogChild } from '../strategies/strategy.js';
import type { Rng } from '../rng.js';
import type { WatchdogActor, WatchdogWorld } from './watchdog-world.js';

/** How long a planned restart waits for a graceful shutdown before killing. */
export const TERMINATE_GRACE_MS = 10_000;

/**
 * The seed's description of the watchdog (`policy: kill-if-stale`). Polls the store every `interval` (phase from t = 0) and declares the
 * leader dead when `now − lastHeartbeat > ttl + grace` (strictly), or when the lease was released;
 * then kills the orchestrator and spawns a new one `respawnDelay` later. It does not judge again
 * until the new orchestrator holds the lease (or one TTL passed since it was spawned, not counting
 * time the store was down or corrupt: no child can take a lease then, and the watchdog reads the
 * same store, so it has nothing to judge it by).
 */
export class Watchdog implements WatchdogActor {
  readonly #world: WatchdogWorld;
  #pendingSince: number | undefined;
  /** The store's unusable time (`server.unusableMs()`) at `#pendingSince`. */
  #pendingUnusableMs = 0;
  #pendingIdentity: string | undefined;
  /** The orchestrator this watchdog spawned and would kill; forgotten when the watchdog restarts. */
  child: WatchdogChild | undefined;
  #downUntil = -1;
  polls = 0;
  readonly #respawnRng: Rng;

  constructor(world: WatchdogWorld) {
    this.#world = world;
    this.#respawnRng = world.rng.fork('respawn');
  }

  /**
   * Spawns the first orchestrator at once, then polls on the grid. The first child gets the same
   * wait as any new one: a store that is down or corrupt from the start must not get it replaced
   * at the first poll, before it could take the lease.
   */
  start(): void {
    this.#pendingIdentity = this.#world.nextIdentity();
    this.child = this.#world.spawnWatchdogChild();
    this.#waitFromNow();
    this.#schedulePoll(0);
  }

  /**
   * Poll `k` (from 0) is due at `(k + 1) × interval`. A world timer (the watchdog is no simulated
   * thread), quiet: a poll only reads; one that acts settles its step (see #poll).
   */
  #schedulePoll(k: number): void {
    const clock = this.#world.clock;
    clock.setQuietWorldTimeout(this.#onPollDue, (k + 1) * this.#world.scenario.watchdog.intervalMs - clock.now(), k);
  }

  readonly #onPollDue = (k: number): void => {
    this.#poll();
    this.#schedulePoll(k + 1);
  };

  /** The watchdog process is down for `forMs`; it comes back knowing nothing of its old child. */
  restartFor(forMs: number): void {
    const world = this.#world;
    this.#downUntil = world.clock.now() + forMs;
    if (world.trace.enabled) world.trace.emit('watchdog', 'watchdog-down', { forMs, orphan: this.child?.identity ?? null });
    this.child = undefined;
    this.#pendingSince = undefined;
  }

  #poll(): void {
    const world = this.#world;
    if (world.clock.now() < this.#downUntil) return;
    // The watchdog reads the store too: while it is unreachable, there is nothing to judge.
    if (!world.server.readable) return;
    this.polls += 1;
    const info = world.server.read(world.key);
    if (this.#pendingSince !== undefined) {
      const settled = info?.holder === this.#pendingIdentity && (info?.expiresInMs ?? 0) > 0;
      // It waits for its new child to take the lease, unless the child already died (SIGCHLD).
      const childDied = this.child !== undefined && !this.child.proc.alive;
      const waitedMs = world.clock.now() - this.#pendingSince - (world.server.unusableMs() - this.#pendingUnusableMs);
      if (!settled && !childDied && waitedMs <= world.scenario.lease.ttlMs) return;
      this.#pendingSince = undefined;
    }
    const dead = info === null || info.holder === null || info.expiresInMs < -world.scenario.watchdog.graceMs;
    if (!dead) return;
    // Killing and spawning start promise work (the keepers'): this step is settled as usual.
    world.clock.settleThisStep();
    const victim = this.child;
    const spurious = victim !== undefined && victim.proc.alive;
    world.metrics.count('respawns');
    world.metrics.respawnDecided();
    if (spurious) world.metrics.count('spuriousRespawns');
    if (spurious && !victim.faulted) world.metrics.spuriousRespawn(victim.identity);
    if (world.trace.enabled) {
      world.trace.emit('watchdog', 'respawn', {
        holder: info?.holder ?? null,
        expiredForMs: info === null ? null : -info.expiresInMs,
        victim: victim?.identity ?? null,
        victimAlive: spurious,
      });
    }
    world.strategy.onWatchdogRespawn?.(victim, world);
    this.replace(victim);
  }

  /** Kills `victim` (if alive) and spawns its successor after the respawn delay. */
  replace(victim: WatchdogChild | undefined): void {
    const world = this.#world;
    if (victim !== undefined && victim.proc.alive) {
      world.strategy.beforeWatchdogKill?.(victim, world);
      victim.proc.kill();
    }
    this.#waitFromNow();
    this.#pendingIdentity = world.nextIdentity();
    this.child = undefined;
    const downUntil = this.#downUntil;
    world.clock.setWorldTimeout(() => {
      // A watchdog that went down meanwhile never spawns (its child process died with it).
      if (this.#downUntil !== downUntil) return;
      this.child = world.spawnWatchdogChild();
      if (this.#pendingSince !== undefined) this.#waitFromNow(); // the child's wait counts from its spawn
    }, this.#respawnRng.uniformMs(world.scenario.watchdog.respawnDelay));
  }

  /** Starts the wait for a new child: one TTL of time in which the store could be used. */
  #waitFromNow(): void {
    this.#pendingSince = this.#world.clock.now();
    this.#pendingUnusableMs = this.#world.server.unusableMs();
  }

  /** A planned restart: graceful terminate, then replace. */
  async restart(victim: WatchdogChild): Promise<void> {
    const world = this.#world;
    world.metrics.count('restarts');
    if (world.trace.enabled) world.trace.emit('watchdog', 'restart', { victim: victim.identity });
    this.#waitFromNow();
    world.strategy.beforeWatchdogKill?.(victim, world);
    // SIGTERM, then SIGKILL after a bounded grace: a frozen victim never answers.
    await Promise.race([victim.leadership?.terminate(), sleep(world.clock, TERMINATE_GRACE_MS)]);
    this.replace(victim);
  }
}
