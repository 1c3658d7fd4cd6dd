/**
 * Entry point of a simulator pool worker (a `worker_threads` thread started by tinypool): plays one
 * run per task with the same code as the in-process path (`runOne`). Everything crosses the thread
 * boundary by structured clone, which keeps numbers (Infinity included), key order and `undefined`.
 */
import type { ExploreOptions, ExploreResult } from '../explore/explore.js';
import { runOne, type RunJob, type RunOutput } from '../run-scenario.js';
import type { Scenario } from '../scenario/types.js';

/** One `explore()` call, as plain data. */
export interface ExploreJob {
  readonly scenario: Scenario;
  readonly options: ExploreOptions;
}

export default function playRun(job: RunJob): Promise<RunOutput> {
  return runOne(job);
}

/** `explore()` on this thread (fast-check loads on the first such task only). Deterministic for its seed, so where it runs changes nothing. */
export async function exploreSchedules(job: ExploreJob): Promise<ExploreResult> {
  const { explore } = await import('../explore/explore.js');
  return explore(job.scenario, job.options);
}
