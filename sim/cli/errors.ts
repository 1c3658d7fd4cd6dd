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

/** The simulator's own dependencies: optional dependencies of the package, so a library-only install can leave them out. */
export const SIM_PACKAGES = ['@sinonjs/fake-timers', 'yaml', 'fast-check', 'tinypool'] as const;

/** The simulator package a failed import names, if it is one of {@link SIM_PACKAGES}. */
export function missingSimPackage(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return undefined;
  const text = String(error);
  return SIM_PACKAGES.find((pkg) => text.includes(`'${pkg}'`) || text.includes(`"${pkg}"`) || text.includes(`/node_modules/${pkg}/`));
}

/** Prints a user error without a stack and returns its exit code; rethrows programmer errors. */
export function reportError(error: unknown, write: (text: string) => void): number {
  const code = reportUserError('sim', error, write);
  if (code !== undefined) return code;
  const pkg = missingSimPackage(error);
  if (pkg !== undefined) {
    write(
      `sim: the simulator needs the npm package "${pkg}" (an optional dependency of heartbeat-lab, left out by --omit=optional): ` +
        `npm install ${SIM_PACKAGES.join(' ')}\n`,
    );
    return EXIT.badInput;
  }
  throw error;
}
