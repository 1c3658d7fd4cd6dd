/**
 * heartbeat-lab/sim: the deterministic simulator as a library. Load a scenario, run it, read
 * the per-strategy summaries and targets; explore fault schedules. Needs the simulator's
 * dependencies (`@sinonjs/fake-timers`, `yaml`, `fast-check`; `tinypool` for worker threads),
 * which npm installs with the package unless it was installed with `--omit=optional`.
 * This file is the whole public surface of the simulator.
 */

export { loadScenarioFile, parseScenario } from './scenario/load-scenario.js';
export type { Bound, FaultSpec, MetricName, Scenario, StrategySpec, TargetSpec } from './scenario/types.js';
export { runScenario, type RunOptions, type ScenarioReport } from './run-scenario.js';
export type { StrategySummary } from './summary.js';
export type { TargetResult } from './targets.js';
export type { TraceEvent } from './trace.js';
export { explore, type ExploreFailure, type ExploreOptions, type ExploreResult } from './explore/explore.js';
export { SimClock, SIM_EPOCH_WALL_MS } from './sim-clock.js';
