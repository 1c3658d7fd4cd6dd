import { HeartbeatLabError } from '../../src/errors.js';

/** Exit codes of the `sim` CLI. */
export const EXIT = { ok: 0, targetFailed: 1, badInput: 2, internal: 3 } as const;

/** A user error from a command-line option. */
export class UsageError extends HeartbeatLabError {
  constructor(message: string) {
    super('E_INPUT', message);
  }
}

/** Prints a user error without a stack and returns its exit code; rethrows programmer errors. */
export function reportError(error: unknown, write: (text: string) => void): number {
  if (error instanceof HeartbeatLabError && (error.code === 'E_INPUT' || error.code === 'E_CONFIG')) {
    write(`sim: ${error.message}\n`);
    return EXIT.badInput;
  }
  throw error;
}
