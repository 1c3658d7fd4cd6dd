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

/** The task this thread is playing (or the last it played): the next one starts after it. */
let playing: Promise<unknown> = Promise.resolve();

/**
 * Plays tasks one after another on this thread. The pool hands a thread its next task while it
 * still plays one (`TASKS_PER_THREAD` in pool.ts), so that task waits here, never interleaved with
 * the one before: a run plays exactly as it would alone.
 */
export function inTurn<T>(play: () => Promise<T>): Promise<T> {
  const turn = playing.then(play);
  playing = turn.catch(() => undefined);
  return turn;
}

export default function playRun(job: RunJob): Promise<RunOutput> {
  return inTurn(() => runOne(job));
}

/** `explore()` on this thread (fast-check loads on the first such task only). Deterministic for its seed, so where it runs changes nothing. */
export function exploreSchedules(job: ExploreJob): Promise<ExploreResult> {
  return inTurn(async () => {
    const { explore } = await import('../explore/explore.js');
    return explore(job.scenario, job.options);
  });
}
