import { availableParallelism } from 'node:os';
import type { RunPool } from '../parallel/pool.js';
import { MAX_WORKERS } from '../parallel/worker-bound.js';
import type { Scenario } from '../scenario/types.js';
import { UsageError } from './errors.js';
import { runHours } from './guards.js';

/**
 * Simulated run-hours from which a default run uses a worker pool. Each pool thread loads the
 * simulator and warms its own JIT (≈ 1 s of CPU), and the simulator plays ≈ 2 000–3 000 run-hours
 * per warm CPU second. Measured on the 2-core machine (load ≈ 2): one scenario of 2 880–4 800
 * run-hours (idle, crash, real-incident) took the same wall time or longer with 2 threads
 * (idle.yaml 2.03–2.12 s vs 1.96–2.12 s in one thread) for ≈ 1 s more CPU; `sim gate`
 * (44 880 run-hours) took 13.7 s with 2 threads vs 17.9 s in one.
 */
export const POOL_MIN_RUN_HOURS = 10_000;

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
