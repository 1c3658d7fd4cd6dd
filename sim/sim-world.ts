import type { RunMetrics } from './run-metrics.js';
import type { Rng } from './rng.js';
import type { Scenario } from './scenario/types.js';
import type { SimClock } from './sim-clock.js';
import type { SimProcess } from './sim-process.js';
import type { SimStoreServer } from './sim-store.js';
import type { Trace } from './trace.js';

/** The metrics as actors see them: events recorded through methods; only the world finishes a run. */
export type MetricsRecorder = Omit<RunMetrics, 'finish'>;

/**
 * What actors, strategies and faults may use of one simulated run: its clock, random streams,
 * store server, metrics recorder, trace and process table. Only `world.ts` builds one. Nothing
 * here knows an actor, so no actor imports the world back; each consumer that needs more (spawning
 * orchestrators, the watchdog) declares the narrow extension it uses next to itself.
 */
export interface SimWorld {
  readonly scenario: Scenario;
  /** The lease key the orchestrators contend for. */
  readonly key: string;
  readonly clock: SimClock;
  readonly rng: Rng;
  readonly server: SimStoreServer;
  readonly metrics: MetricsRecorder;
  readonly trace: Trace;
  /** A new process with the next free PID (or `pid`: PID reuse). */
  spawnProcess(name: string, pid?: number): SimProcess;
  /** `kill(pid, 0)`: whether any live process has this PID (it may not be the one you mean). */
  pidAlive(pid: number): boolean;
  /** The live process that has this PID now, if any. */
  processByPid(pid: number): SimProcess | undefined;
}
