import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExploreResult } from '../explore/explore.js';
import type { RunExecutor, RunJob, RunOutput } from '../run-scenario.js';
import type { ExploreJob } from './run-worker.js';
import { MAX_WORKERS } from './worker-bound.js';

/** A pool of worker threads that play simulator runs (and `sim explore` checks); `close()` ends the threads. */
export interface RunPool {
  readonly workers: number;
  readonly execute: RunExecutor;
  /** One `explore()` (all its schedules and the shrinking) on a pool thread. */
  readonly explore: (job: ExploreJob) => Promise<ExploreResult>;
  close(): Promise<void>;
}

/**
 * The compiled worker entry (`run-worker.js`): this module's sibling when running compiled, else
 * (sources run by a TypeScript-aware runner such as vitest) the same file under `dist/`.
 */
export function workerPath(moduleUrl: string = import.meta.url): string {
  const here = fileURLToPath(moduleUrl);
  if (here.endsWith('.js')) return join(dirname(here), 'run-worker.js');
  return join(resolve(dirname(here), '..', '..'), 'dist', 'sim', 'parallel', 'run-worker.js');
}

/** Tasks a thread holds at once: the one it plays and the next one. */
export const TASKS_PER_THREAD = 2;

/**
 * Starts `workers` worker threads (tinypool, loaded only here). Jobs queue in the pool and each
 * thread plays one run at a time (holding the next); results do not depend on how many threads there are.
 */
export async function createRunPool(workers: number, filename: string = workerPath()): Promise<RunPool> {
  if (!Number.isSafeInteger(workers) || workers < 1 || workers > MAX_WORKERS) {
    throw new RangeError(`workers must be an integer from 1 to ${MAX_WORKERS}, got ${workers}`);
  }
  const { default: Tinypool } = await import('tinypool');
  const pool = new Tinypool({
    filename,
    runtime: 'worker_threads',
    minThreads: workers,
    maxThreads: workers,
    // A thread holds its next task while it plays one (run-worker.ts plays them one after another):
    // it starts the next run at once instead of waiting for the main thread to answer its "done"
    // with a new task, a round trip that left the threads idle ≈ 10 % of `sim gate` on a busy machine.
    concurrentTasksPerWorker: TASKS_PER_THREAD,
    isolateWorkers: false,
    // Idle threads stay until close(): scenarios run one after another on the same pool.
    idleTimeout: Infinity,
  });
  return {
    workers,
    execute: (job: RunJob) => pool.run(job) as Promise<RunOutput>,
    explore: (job: ExploreJob) => pool.run(job, { name: 'exploreSchedules' }) as Promise<ExploreResult>,
    close: () => pool.destroy(),
  };
}

