import type { Orchestrator } from '../actors/orchestrator.js';
import type { SimProcess } from '../sim-process.js';
import type { SimWorld } from '../sim-world.js';
import type { Leadership } from './leadership.js';

export type { Leadership } from './leadership.js';

/** What a strategy may use of the run: the world's seams, and spawning an orchestrator (a supervisor does). */
export interface StrategyWorld extends SimWorld {
  spawnOrchestrator(startupMs?: number): Orchestrator;
}

/** What the watchdog spawns and tracks: an orchestrator, or a process that runs orchestrators (a supervisor). */
export interface WatchdogChild {
  readonly identity: string;
  readonly proc: SimProcess;
  /** Set once a fault hit it: replacing it is then not spurious. */
  readonly faulted: boolean;
  markFaulted(): void;
  readonly leadership: Leadership | undefined;
}

/** A heartbeat strategy: plugs into the world once per run and into each orchestrator it spawns. */
export interface Strategy {
  readonly name: string;
  /** Spawns what the watchdog tracks instead of an orchestrator (default: `world.spawnOrchestrator()`). */
  spawnWatchdogChild?(world: StrategyWorld, startupMs?: number): WatchdogChild;
  /** Once per run, before the first orchestrator starts. */
  setupWorld?(world: StrategyWorld): void;
  /** In each new orchestrator, inside its session. */
  startOrchestrator(orchestrator: Orchestrator, world: StrategyWorld): Leadership;
  /** The watchdog is about to kill `orchestrator` (respawn or planned restart). */
  beforeWatchdogKill?(child: WatchdogChild, world: StrategyWorld): void;
  /** The watchdog is about to spawn a successor of `previous` (alive or not), whatever its policy. */
  onWatchdogRespawn?(previous: WatchdogChild | undefined, world: StrategyWorld): void;
  /** Wake-ups spent outside orchestrators (e.g. a loop in the watchdog). */
  worldWakeups?(): number;
}
