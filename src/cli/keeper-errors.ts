/**
 * The `keeper` CLI's exit codes and error reporting, shared by `keeper-main`, `keeper run` and
 * `keeper status`, so none of them imports another.
 */
import { HeartbeatLabError } from '../errors.js';
import { CLI_EXIT, reportUserError } from './common.js';

/**
 * Exit codes of the `keeper` CLI. `run` otherwise exits with its command's own code (128 + the
 * signal number when the command was killed by a signal), so these few are reserved.
 */
export const EXIT = {
  ok: CLI_EXIT.ok,
  /**
   * Bad input: unknown option or store scheme, bad duration, missing `-- COMMAND`, broken timing
   * rules; and a lease store this user may not write (run: a lease file in a read-only directory).
   */
  badInput: CLI_EXIT.badInput,
  /** The lease store could not be reached or read (status, or run before contending). */
  storeUnavailable: 3,
  /** Internal error (a bug): reported with its stack. */
  internal: 70,
  /** run: the lease was lost while the command ran; the command was stopped. */
  leaseLost: 75,
  /** run: the command made no progress for --max-progress-silence; it was stopped. */
  stuck: 76,
  /** run --restart: the command exited once more than --max-restarts allows; the lease was released. */
  restartLimit: 77,
  /** run: the command could not be executed (permission, not a program). */
  cannotExecute: 126,
  /** run: the command was not found. */
  notFound: 127,
} as const;

/** Prints a user error as one line and returns its exit code; anything else is an internal error with its stack. */
export function reportError(error: unknown, write: (text: string) => void): number {
  const userExit = reportUserError('keeper', error, write);
  if (userExit !== undefined) return userExit;
  if (error instanceof HeartbeatLabError && error.code === 'E_STORE_PERMISSION') {
    write(`keeper: lease store error: ${error.message}\n`);
    return EXIT.badInput;
  }
  if (error instanceof HeartbeatLabError && error.code.startsWith('E_STORE')) {
    write(`keeper: lease store error: ${error.message}\n`);
    return EXIT.storeUnavailable;
  }
  write(`keeper: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return EXIT.internal;
}
