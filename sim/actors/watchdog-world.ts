import type { Strategy, StrategyWorld, WatchdogChild } from '../strategies/strategy.js';

/** What a watchdog may use of the run: the strategy's seams, its hooks, and spawning its child. */
export interface WatchdogWorld extends StrategyWorld {
  readonly strategy: Strategy;
  /** Spawns what the watchdog tracks: an orchestrator, or what the strategy runs instead. */
  spawnWatchdogChild(startupMs?: number): WatchdogChild;
  /** Identity the next spawned orchestrator will have. */
  nextIdentity(): string;
}

/** What the world and the faults need of a watchdog, whichever policy it follows. */
export interface WatchdogActor {
  /** The orchestrator it spawned and tracks (its PID file); forgotten when the watchdog restarts. */
  child: WatchdogChild | undefined;
  /** Checks made (a check while the store is unreachable counts only for respawn-if-gone). */
  readonly polls: number;
  /** Spawns the first orchestrator and starts the loop. */
  start(): void;
  /** The watchdog process is down for `forMs` and comes back knowing nothing of its old child. */
  restartFor(forMs: number): void;
  /** A planned restart of `victim`: graceful terminate, then kill and replace. */
  restart(victim: WatchdogChild): Promise<void>;
}
