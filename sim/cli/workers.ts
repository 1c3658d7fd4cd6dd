import { availableParallelism } from 'node:os';
import type { RunPool } from '../parallel/pool.js';
import { MAX_WORKERS } from '../parallel/worker-bound.js';
import type { Scenario } from '../scenario/types.js';
import { UsageError } from './errors.js';
import { runHours } from './guards.js';

/**
 * Simulated run-hours from which a default run uses a worker pool. Starting the pool (threads,
 * each loading the simulator) cost ≈ 0.3 s of wall time on the 2-core bench machine, and the
 * simulator plays ≈ 1 000–1 500 run-hours per CPU second; below this the pool costs more than it saves.
 */
export const POOL_MIN_RUN_HOURS = 1_000;

/** The `--workers` help text (run, gate, report). */
export const WORKERS_HELP =
  `play the independent runs on n worker threads (0: in this thread). Default: one per CPU when the scenarios ` +
  `total at least ${POOL_MIN_RUN_HOURS} simulated run-hours (runs × strategies × hours), else 0; results do not change`;

/**
 * Worker threads for `--workers` (a count from 0 to `MAX_WORKERS`), or the default when absent: one per
 * CPU (capped at the number of runs) when the work is big enough to pay for the pool, else 0.
 * Results never depend on it (see `sim/parallel/`).
 */
export function workerCount(text: string | undefined, scenarios: readonly Scenario[], cpus: number = availableParallelism()): number {
  if (text === undefined) return defaultWorkers(scenarios, cpus);
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value > MAX_WORKERS) {
    throw new UsageError(`--workers: expected an integer from 0 to ${MAX_WORKERS}, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** The default of {@link workerCount}. */
export function defaultWorkers(scenarios: readonly Scenario[], cpus: number): number {
  let hours = 0;
  let runs = 0;
  for (const scenario of scenarios) {
    hours += runHours(scenario);
    runs += scenario.runs * scenario.strategies.length;
  }
  if (cpus < 2 || !(hours >= POOL_MIN_RUN_HOURS)) return 0;
  return Math.min(cpus, runs, MAX_WORKERS);
}

/** Runs `body` with a pool of `workers` threads (none for 0: `body` gets `undefined`) and closes the pool after. */
export async function withRunPool<T>(workers: number, body: (pool: RunPool | undefined) => Promise<T>): Promise<T> {
  if (workers === 0) return body(undefined);
  // The pool module (and tinypool) load only when used.
  const pool = await (await import('../parallel/pool.js')).createRunPool(workers);
  try {
    return await body(pool);
  } finally {
    await pool.close();
  }
}
