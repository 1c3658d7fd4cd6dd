import type { WatchdogPolicy } from '../scenario/types.js';
import type { World } from '../world.js';
import type { WatchdogChild } from '../strategies/strategy.js';
import { ShellWatchdog } from './shell-watchdog.js';
import { Watchdog } from './watchdog.js';

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

/** One small constructor per policy. */
export const WATCHDOGS: Readonly<Record<WatchdogPolicy, (world: World) => WatchdogActor>> = {
  'kill-if-stale': (world) => new Watchdog(world),
  'respawn-if-gone': (world) => new ShellWatchdog(world),
};
