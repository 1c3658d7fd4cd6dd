import fc from 'fast-check';
import { formatDurationMs } from '../../src/duration.js';
import { HeartbeatLabError } from '../../src/errors.js';
import type { RunResult, Violation } from '../run-metrics.js';
import type { Scenario, StrategySpec } from '../scenario/types.js';
import { scenarioToYaml } from '../scenario/to-yaml.js';
import { World } from '../world.js';
import { scheduleArbitrary, type Schedule } from './schedule-arbitrary.js';

export interface ExploreOptions {
  /** Schedules to generate. */
  readonly runs: number;
  /** fast-check seed; with `path`, replays one failure exactly. */
  readonly seed: number;
  readonly path?: string;
  readonly strategy: StrategySpec;
}

export interface ExploreFailure {
  readonly violation: Violation;
  /** The shrunk schedule as a ready-to-run scenario. */
  readonly yaml: string;
  readonly schedule: Schedule;
  readonly seed: number;
  readonly path: string;
  readonly shrinks: number;
}

export interface ExploreResult {
  readonly scenario: string;
  readonly strategy: string;
  readonly seed: number;
  /** Schedules checked (up to and including the failing one). */
  readonly runs: number;
  readonly failure: ExploreFailure | undefined;
}

/** The scenario one schedule stands for: one run, its faults fixed, only `strategy`. */
export function scheduledScenario(scenario: Scenario, strategy: StrategySpec, schedule: Schedule): Scenario {
  return { ...scenario, seed: schedule.seed, runs: 1, faults: schedule.faults, strategies: [strategy], targets: [] };
}

/** Runs the checkers (safety, then liveness) on one schedule. */
export async function checkSchedule(scenario: Scenario, strategy: StrategySpec, schedule: Schedule): Promise<RunResult> {
  const concrete = scheduledScenario(scenario, strategy, schedule);
  return new World({ scenario: concrete, strategy, run: 0 }).run();
}

/**
 * Generates fault schedules within the scenario's bounds and checks each; on a failure,
 * fast-check shrinks it to a minimal schedule, returned with the seed and path that replay it.
 */
export async function explore(scenario: Scenario, options: ExploreOptions): Promise<ExploreResult> {
  const property = fc.asyncProperty(scheduleArbitrary(scenario), async (schedule) => {
    const result = await checkSchedule(scenario, options.strategy, schedule);
    return result.safetyViolations === 0 && result.livenessViolations === 0;
  });
  let details: Awaited<ReturnType<typeof fc.check<[Schedule]>>>;
  try {
    // fast-check throws at once (not in the promise) for a path that leads nowhere.
    details = await fc.check(property, { numRuns: options.runs, seed: options.seed, ...(options.path === undefined ? {} : { path: options.path }) });
  } catch (error) {
    // A path printed for another scenario, duration, strategy or seed: bad input, not a crash.
    if (options.path === undefined || !/unable to replay/i.test(String((error as Error | null)?.message))) throw error;
    throw new HeartbeatLabError(
      'E_INPUT',
      `path ${options.path} does not replay a schedule of ${scenario.name} (${formatDurationMs(scenario.durationMs)}, strategy ${options.strategy.name}, seed ${options.seed}): ` +
        'a path replays only with the scenario, duration, strategy and seed it was printed with',
      { cause: error },
    );
  }
  const base = { scenario: scenario.name, strategy: options.strategy.name, seed: options.seed, runs: details.numRuns };
  if (!details.failed) return { ...base, failure: undefined };
  const [schedule] = details.counterexample as [Schedule];
  const result = await checkSchedule(scenario, options.strategy, schedule);
  const violation = result.firstViolation;
  // A schedule that failed by throwing, not by a checker, is a bug in the simulator: surface it.
  if (violation === undefined) throw details.errorInstance ?? new Error('explore: a schedule failed without a violation');
  const path = details.counterexamplePath ?? '';
  const minimal = { ...scheduledScenario(scenario, options.strategy, schedule), name: `${scenario.name}-minimal` };
  const yaml = scenarioToYaml(minimal, [
    `Minimal schedule found by: sim explore ${scenario.file} --strategy ${options.strategy.name} --duration ${formatDurationMs(scenario.durationMs)} --seed ${details.seed} --path ${path}`,
    `First violation: ${violation.check} at t=${formatDurationMs(violation.atMs)}: ${violation.detail}`,
  ]);
  return { ...base, failure: { violation, yaml, schedule, seed: details.seed, path, shrinks: details.numShrinks } };
}
