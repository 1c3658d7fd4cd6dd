/**
 * Entry point of a simulator pool worker (a `worker_threads` thread started by tinypool): plays one
 * run per task with the same code as the in-process path (`runOne`). Everything crosses the thread
 * boundary by structured clone, which keeps numbers (Infinity included), key order and `undefined`.
 */
import { runOne, type RunJob, type RunOutput } from '../run-scenario.js';

export default function playRun(job: RunJob): Promise<RunOutput> {
  return runOne(job);
}
