import { CLI_EXIT, reportUserError } from '../../src/cli/common.js';
import { HeartbeatLabError } from '../../src/errors.js';

/** Exit codes of the `sim` CLI. */
export const EXIT = { ok: CLI_EXIT.ok, targetFailed: 1, badInput: CLI_EXIT.badInput, internal: 3 } as const;

/** A user error from a command-line option. */
export class UsageError extends HeartbeatLabError {
  constructor(message: string) {
    super('E_INPUT', message);
  }
}

/** Prints a user error without a stack and returns its exit code; rethrows programmer errors. */
export function reportError(error: unknown, write: (text: string) => void): number {
  const code = reportUserError('sim', error, write);
  if (code === undefined) throw error;
  return code;
}
