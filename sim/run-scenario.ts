import type { RunResult } from './run-metrics.js';
import type { Scenario, StrategySpec } from './scenario/types.js';
import { summarize, type StrategySummary } from './summary.js';
import { checkTargets, type TargetResult } from './targets.js';
import type { TraceEvent } from './trace.js';
import type { World } from './world.js';

/** One independent run: everything a thread needs to play it (plain data, so it can cross to a worker). */
export interface RunJob {
  readonly scenario: Scenario;
  readonly spec: StrategySpec;
  readonly run: number;
  /** Record this run's trace. */
  readonly traced: boolean;
}

/** What one run gives back (plain data). `trace` is set only for a traced run. */
export interface RunOutput {
  readonly result: RunResult;
  readonly trace?: readonly TraceEvent[];
}

/**
 * Plays runs somewhere else (e.g. a worker pool, see `sim/parallel/`). Runs are independent and
 * each is fixed by its job alone, so where and in which order they run never changes a result;
 * results are always gathered in (strategy, run) order.
 */
export type RunExecutor = (job: RunJob) => Promise<RunOutput>;

export interface RunOptions {
  /** Record the trace of this run index (for every strategy). */
  readonly traceRun?: number;
  /** Called after each run, for progress display. */
  readonly onRunDone?: (done: number, total: number) => void;
  /** Where runs are played; absent: in this thread, one after another. */
  readonly executor?: RunExecutor;
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

let worldModule: Promise<{ World: typeof World }> | undefined;

/**
 * Plays one run in this thread. The simulator (the world, its clock and fake-timers) loads on the
 * first run played here: a `sim run` whose runs all go to a worker pool never loads it in the main
 * thread, so the pool's threads start ≈ 80 ms sooner.
 */
export async function runOne(job: RunJob): Promise<RunOutput> {
  const { World } = await (worldModule ??= import('./world.js'));
  const world = new World({ scenario: job.scenario, strategy: job.spec, run: job.run, trace: job.traced });
  const result = await world.run();
  return job.traced ? { result, trace: world.trace.events } : { result };
}

/** Runs one strategy `scenario.runs` times. Runs are independent; without an executor, sequential. */
export async function runStrategy(
  scenario: Scenario,
  spec: StrategySpec,
  options: RunOptions = {},
  progress: () => void = () => {},
): Promise<{ results: RunResult[]; trace: readonly TraceEvent[] }> {
  const outputs: RunOutput[] = [];
  const executor = options.executor;
  if (executor === undefined) {
    for (let run = 0; run < scenario.runs; run++) {
      outputs.push(await runOne({ scenario, spec, run, traced: options.traceRun === run }));
      progress();
    }
  } else {
    const pending: Array<Promise<RunOutput>> = [];
    for (let run = 0; run < scenario.runs; run++) {
      pending.push(
        executor({ scenario, spec, run, traced: options.traceRun === run }).then((output) => {
          progress();
          return output;
        }),
      );
    }
    outputs.push(...(await Promise.all(pending)));
  }
  let trace: readonly TraceEvent[] = [];
  for (const output of outputs) if (output.trace !== undefined) trace = output.trace;
  return { results: outputs.map((o) => o.result), trace };
}

/** Runs every strategy of the scenario and checks its targets. With an executor, all runs of all strategies are queued at once. */
export async function runScenario(scenario: Scenario, options: RunOptions = {}): Promise<ScenarioReport> {
  const total = scenario.runs * scenario.strategies.length;
  let done = 0;
  const progress = (): void => options.onRunDone?.(++done, total);
  const play = (spec: StrategySpec): Promise<{ results: RunResult[]; trace: readonly TraceEvent[] }> => runStrategy(scenario, spec, options, progress);
  const perStrategy: Array<{ results: RunResult[]; trace: readonly TraceEvent[] }> = [];
  if (options.executor === undefined) {
    for (const spec of scenario.strategies) perStrategy.push(await play(spec));
  } else {
    perStrategy.push(...(await Promise.all(scenario.strategies.map(play))));
  }
  const summaries: StrategySummary[] = [];
  const traces: Array<{ strategy: string; events: readonly TraceEvent[] }> = [];
  scenario.strategies.forEach((spec, i) => {
    const { results, trace } = perStrategy[i] as { results: RunResult[]; trace: readonly TraceEvent[] };
    summaries.push(summarize(spec.name, results));
    if (options.traceRun !== undefined) traces.push({ strategy: spec.name, events: trace });
  });
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
