import type { RunResult } from './run-metrics.js';
import type { Scenario, StrategySpec } from './scenario/types.js';
import { summarize, type StrategySummary } from './summary.js';
import { checkTargets, type TargetResult } from './targets.js';
import type { TraceEvent } from './trace.js';
import { World } from './world.js';

export interface RunOptions {
  /** Record the trace of this run index (for every strategy). */
  readonly traceRun?: number;
  /** Called after each run, for progress display. */
  readonly onRunDone?: (done: number, total: number) => void;
}

export interface ScenarioReport {
  readonly scenario: string;
  readonly file: string;
  readonly seed: number;
  readonly runs: number;
  readonly durationHours: number;
  readonly results: readonly StrategySummary[];
  readonly targets: readonly TargetResult[];
  readonly ok: boolean;
  /** Trace of the traced run, per strategy, in strategy order. */
  readonly traces: ReadonlyArray<{ strategy: string; events: readonly TraceEvent[] }>;
}

/** Runs one strategy `scenario.runs` times. Runs are sequential and independent. */
export async function runStrategy(
  scenario: Scenario,
  spec: StrategySpec,
  options: RunOptions = {},
  progress: () => void = () => {},
): Promise<{ results: RunResult[]; trace: readonly TraceEvent[] }> {
  const results: RunResult[] = [];
  let trace: readonly TraceEvent[] = [];
  for (let run = 0; run < scenario.runs; run++) {
    const traced = options.traceRun === run;
    const world = new World({ scenario, strategy: spec, run, trace: traced });
    results.push(await world.run());
    if (traced) trace = world.trace.events;
    progress();
  }
  return { results, trace };
}

/** Runs every strategy of the scenario and checks its targets. */
export async function runScenario(scenario: Scenario, options: RunOptions = {}): Promise<ScenarioReport> {
  const total = scenario.runs * scenario.strategies.length;
  let done = 0;
  const summaries: StrategySummary[] = [];
  const traces: Array<{ strategy: string; events: readonly TraceEvent[] }> = [];
  for (const spec of scenario.strategies) {
    const { results, trace } = await runStrategy(scenario, spec, options, () => options.onRunDone?.(++done, total));
    summaries.push(summarize(spec.name, results));
    if (options.traceRun !== undefined) traces.push({ strategy: spec.name, events: trace });
  }
  const targets = checkTargets(scenario.name, scenario.targets, summaries);
  return {
    scenario: scenario.name,
    file: scenario.file,
    seed: scenario.seed,
    runs: scenario.runs,
    durationHours: scenario.durationMs / 3_600_000,
    results: summaries,
    targets,
    ok: targets.every((t) => t.ok),
    traces,
  };
}
