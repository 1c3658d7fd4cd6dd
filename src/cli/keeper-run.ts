/**
 * `keeper run`: a drop-in for a watchdog's shell heartbeat loop (`while true; do renew; sleep; done &
 * exec orchestrator`), without its traps:
 *
 * - the lease is renewed by a `LeaseKeeper` that steps down by its renew deadline and judges
 *   validity on the monotonic clock, never on a loop that keeps going after the command died;
 * - keeper is the command's parent: it sees the exit at once, renews nothing after it (the keeper's
 *   owner check says so too), releases the lease and exits with the command's code;
 * - on lease loss the command is stopped (SIGTERM, SIGKILL after --kill-grace) before the store
 *   can hand the lease to a successor;
 * - optional progress watch: a command that stops touching its progress file is stopped too;
 * - signals are forwarded to the command's process group, and a reaper process stops that group
 *   if keeper itself dies, so no command outlives its keeper.
 *
 * - with --restart, the command is restarted in place (same lease, same token) when it exits; the
 *   lease is kept, and renewed, meanwhile, within a bounded restart rate.
 *
 * Before contending it reads the store and checks it may write there (a lease file in a
 * read-only directory exits 2 at once, before the command starts, instead of retrying).
 *
 * The parts: `run-plan.ts` checks the flags into a plan, `run-session.ts` runs the shipped
 * `Supervisor` (src/supervisor: the keeper, releases held back while the command lives, restarts)
 * with `command-spawner.ts` starting the command, and `reaper-main.ts` is the reaper.
 */
import { SystemClock, withTimeout } from '../clock.js';
import { createLogger } from '../logger.js';
import { redactUrl } from '../store/drivers.js';
import type { MainIo } from './io.js';
import { EXIT } from './keeper-errors.js';
import { isStoreFailure, openStore } from './keeper-store.js';
import { planRun, type RunFlags } from './run-plan.js';
import { RunSession } from './run-session.js';

export type { RunFlags, RunPlan } from './run-plan.js';

/** `keeper run`: returns the exit code. User errors are thrown (`ConfigError`) for `main` to print. */
export async function runCommand(command: readonly string[] | undefined, flags: RunFlags, io: MainIo): Promise<number> {
  const plan = planRun(command, flags);
  const log = createLogger({ level: plan.logLevel, name: 'keeper', destination: { write: (line: string) => io.err(line) } });
  const store = await openStore(plan.storeUrl);
  try {
    const clock = new SystemClock();
    try {
      await withTimeout(clock, 'read', Math.max(plan.keeper.requestTimeoutMs, 5_000), store.read(plan.keeper.key));
      await store.assertWritable?.();
    } catch (error) {
      if (!isStoreFailure(error)) throw error;
      io.err(`keeper: cannot use the lease store ${redactUrl(plan.storeUrl)}: ${error.message}\n`);
      // Not allowed to write there is the user's to fix (bad input), not an outage to wait out.
      return error.code === 'E_STORE_PERMISSION' ? EXIT.badInput : EXIT.storeUnavailable;
    }
    return await new RunSession(plan, store, clock, io, log).run();
  } finally {
    await store.close().catch(() => undefined);
  }
}
