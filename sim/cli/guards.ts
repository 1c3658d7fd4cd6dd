import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { formatDurationMs } from '../../src/duration.js';
import type { Scenario } from '../scenario/types.js';
import { UsageError } from './errors.js';

/**
 * Checks made before any simulated run, so a bad option costs nothing and loses nothing: output
 * paths whose directory is missing, a trace run beyond the runs, a run far above the size the
 * simulator plays in a few minutes.
 */

/** The directory `file` will be written into exists and is a directory. */
export function checkOutputPath(option: string, file: string): void {
  const dir = dirname(resolve(file));
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) throw new UsageError(`${option}: the directory ${JSON.stringify(dirname(file))} does not exist (create it first), for ${JSON.stringify(file)}`);
}

/** `out` must not be one of the input files (an output would overwrite its own scenario). */
export function checkNotAnInput(option: string, out: string, inputs: readonly string[]): void {
  const target = resolve(out);
  const clash = inputs.find((file) => resolve(file) === target);
  if (clash !== undefined) throw new UsageError(`${option}: ${JSON.stringify(out)} is an input scenario; writing there would overwrite it — choose another file`);
}

/**
 * The size guard. A run's cost grows with strategies × runs × simulated time; the budget is in
 * those units ("run-hours": one strategy simulated for one hour in one run). The shipped
 * scenarios are at most 24 h × 20 runs × 9 strategies = 4 320; the simulator plays about 500
 * run-hours a second on one core, so the default of 50 000 is under two minutes, and a
 * mistyped `--duration 400000h` is refused at once instead of running out of memory.
 */
export const DEFAULT_BUDGET_RUN_HOURS = 50_000;

export function parseBudget(text: string | undefined): number {
  if (text === undefined) return DEFAULT_BUDGET_RUN_HOURS;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) {
    throw new UsageError(`--budget: expected a positive integer number of run-hours, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** Run-hours `scenario` costs with `strategies` strategies. */
export function runHours(scenario: Scenario, strategies = scenario.strategies.length): number {
  return (scenario.durationMs / 3_600_000) * scenario.runs * strategies;
}

export function checkBudget(scenario: Scenario, budget: number, strategies = scenario.strategies.length): void {
  const cost = runHours(scenario, strategies);
  if (Number.isFinite(cost) && cost <= budget) return;
  const shown = Number.isFinite(cost) && cost < 1e15 ? String(Math.ceil(cost)) : cost.toExponential(2);
  const duration = scenario.durationMs < 1e15 ? formatDurationMs(scenario.durationMs) : `${(scenario.durationMs / 3_600_000).toExponential(2)}h`;
  throw new UsageError(
    `scenario ${scenario.name}: ${scenario.runs} runs × ${strategies} strategies × ${duration} is ${shown} simulated run-hours, ` +
      `above the budget of ${budget} (the simulator plays about 500 a second). Shorten --duration or --runs, ` +
      `or raise the budget with --budget ${Number.isFinite(cost) && cost < Number.MAX_SAFE_INTEGER ? Math.ceil(cost) : '<run-hours>'}`,
  );
}

/** `--trace-run`: a run index that exists in every scenario. */
export function checkTraceRun(index: number, scenarios: readonly Scenario[]): void {
  for (const scenario of scenarios) {
    if (index >= scenario.runs) {
      throw new UsageError(`--trace-run: scenario ${scenario.name} has ${scenario.runs} runs (0 to ${scenario.runs - 1}), got ${index}`);
    }
  }
}
