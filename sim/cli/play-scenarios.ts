import type { MainIo } from '../../src/cli/io.js';
import type { Logger } from '../../src/logger.js';
import type { RunPool } from '../parallel/pool.js';
import { runScenario, type ScenarioReport } from '../run-scenario.js';
import type { Scenario } from '../scenario/types.js';
import { createProgress } from './progress.js';

export interface PlayOptions {
  /** Where the runs are played: a worker pool, or `undefined` for this thread. */
  readonly pool: RunPool | undefined;
  /** Record the trace of this run index (for every strategy) in the scenarios `traced` picks. */
  readonly traceRun?: number | undefined;
  /** Which scenarios get the trace of `traceRun`. @default every scenario */
  readonly traced?: (scenario: Scenario) => boolean;
  /** The progress bar goes to `io.err` when `showProgress` (a TTY). */
  readonly io: MainIo;
  readonly showProgress: boolean;
  readonly log?: Logger | undefined;
}

/**
 * Plays every scenario and returns the reports in file order; results never depend on where or
 * when a run was played.
 *
 * In this thread, the scenarios play one after another. On a pool, every run of every scenario is
 * queued at once (file order, then strategy, then run), so a thread that is done with one
 * scenario's runs goes on with the next scenario's instead of waiting for the other threads to
 * finish theirs: with one queue per scenario, each scenario ended with threads idle until its last
 * run came in (≈ 7 % of the threads' time over `sim gate`'s 25 scenarios). Tasks queued on the
 * pool before this call (the report's explore checks) go first.
 */
export async function playScenarios(scenarios: readonly Scenario[], options: PlayOptions): Promise<ScenarioReport[]> {
  const { pool, io, log } = options;
  const traceRunOf = (scenario: Scenario): number | undefined => (options.traced === undefined || options.traced(scenario) ? options.traceRun : undefined);
  if (pool === undefined) {
    const reports: ScenarioReport[] = [];
    for (const scenario of scenarios) {
      log?.info({ scenario: scenario.name, seed: scenario.seed, runs: scenario.runs }, 'scenario start');
      const progress = createProgress(io, options.showProgress, scenario.name);
      const report = await runScenario(scenario, { traceRun: traceRunOf(scenario), onRunDone: progress.update });
      progress.done();
      log?.info({ scenario: scenario.name, ok: report.ok }, 'scenario done');
      reports.push(report);
    }
    return reports;
  }
  // One progress bar over every run of every scenario.
  let total = 0;
  for (const scenario of scenarios) total += scenario.runs * scenario.strategies.length;
  const only = scenarios.length === 1 ? scenarios[0] : undefined;
  const progress = createProgress(io, options.showProgress, only === undefined ? `${scenarios.length} scenarios` : only.name);
  let done = 0;
  const onRunDone = (): void => progress.update(++done, total);
  // runScenario queues all of its runs before it first awaits, so this loop queues every run in order.
  const pending = scenarios.map((scenario) => {
    log?.info({ scenario: scenario.name, seed: scenario.seed, runs: scenario.runs }, 'scenario start');
    const report = runScenario(scenario, { traceRun: traceRunOf(scenario), onRunDone, executor: pool.execute });
    report.catch(() => undefined); // a failure is thrown below, in file order; not an unhandled rejection meanwhile
    return report;
  });
  const reports: ScenarioReport[] = [];
  try {
    for (const report of pending) {
      const played = await report;
      log?.info({ scenario: played.scenario, ok: played.ok }, 'scenario done');
      reports.push(played);
    }
  } finally {
    progress.done();
  }
  return reports;
}
