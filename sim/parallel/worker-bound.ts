/**
 * Most worker threads the simulator plays runs on: one bound for `sim run --workers` (checked in
 * `sim/cli/run-command.ts` before anything runs) and for the pool itself (`pool.ts`). A module of
 * its own so the CLI can check the flag without loading the pool.
 */
export const MAX_WORKERS = 256;
