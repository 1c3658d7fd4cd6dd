import type { Orchestrator } from '../actors/orchestrator.js';
import type { SimProcess, SimThread } from '../sim-process.js';
import type { World } from '../world.js';

/** How one orchestrator incarnation holds leadership under a strategy. */
export interface Leadership {
  /** The fencing token the orchestrator would attach to a leader action now, or null when it would not act. */
  leaderToken(): number | null;
  /** Graceful shutdown (the watchdog restarts on purpose): the strategy may release its lease. */
  terminate(): Promise<void>;
  /** Timer wake-ups spent on keeping the lease (heartbeats, keeper ticks, keep-awake pings). */
  wakeups(): number;
  /** The orchestrator tells its keeper how much work waits and whether it just finished one (progress check). */
  reportWork?(pending: number, progressed: boolean): void;
  /** Where the lease is kept, for faults aimed at the keeper: its thread and its store client's name. */
  readonly keeper?: { readonly thread: SimThread; readonly client: string };
}

/** What the watchdog spawns and tracks: an orchestrator, or a process that runs orchestrators (a supervisor). */
export interface WatchdogChild {
  readonly identity: string;
  readonly proc: SimProcess;
  faulted: boolean;
  readonly leadership: Leadership | undefined;
}

/** A heartbeat strategy: plugs into the world once per run and into each orchestrator it spawns. */
export interface Strategy {
  readonly name: string;
  /** Spawns what the watchdog tracks instead of an orchestrator (default: `world.spawnOrchestrator()`). */
  spawnWatchdogChild?(world: World, startupMs?: number): WatchdogChild;
  /** Once per run, before the first orchestrator starts. */
  setupWorld?(world: World): void;
  /** In each new orchestrator, inside its session. */
  startOrchestrator(orchestrator: Orchestrator, world: World): Leadership;
  /** The watchdog is about to kill `orchestrator` (respawn or planned restart). */
  beforeWatchdogKill?(child: WatchdogChild, world: World): void;
  /** The watchdog is about to spawn a successor of `previous` (alive or not), whatever its policy. */
  onWatchdogRespawn?(previous: WatchdogChild | undefined, world: World): void;
  /** Wake-ups spent outside orchestrators (e.g. a loop in the watchdog). */
  worldWakeups?(): number;
}
