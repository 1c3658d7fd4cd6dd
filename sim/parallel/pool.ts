import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunExecutor, RunJob, RunOutput } from '../run-scenario.js';
import { MAX_WORKERS } from './worker-bound.js';

/** A pool of worker threads that play simulator runs; `close()` ends the threads. */
export interface RunPool {
  readonly workers: number;
  readonly execute: RunExecutor;
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

/**
 * Starts `workers` worker threads (tinypool, loaded only here). Jobs queue in the pool and each
 * thread plays one run at a time; results do not depend on how many threads there are.
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
    concurrentTasksPerWorker: 1,
    isolateWorkers: false,
    // Idle threads stay until close(): scenarios run one after another on the same pool.
    idleTimeout: Infinity,
  });
  return {
    workers,
    execute: (job: RunJob) => pool.run(job) as Promise<RunOutput>,
    close: () => pool.destroy(),
  };
}

