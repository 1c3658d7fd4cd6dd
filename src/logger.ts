import { createRequire } from 'node:module';
import type { DestinationStream, Logger } from 'pino';
import type { LogLevel } from './log-levels.js';

export type { Logger } from 'pino';
export { LOG_LEVELS, type LogLevel } from './log-levels.js';

/** Fields never written in clear, wherever they appear in a log record. */
export const REDACT_PATHS = ['password', '*.password', 'url', '*.url', 'storeUrl', '*.storeUrl', 'auth', '*.auth', 'token.secret'];

let loadedPino: typeof import('pino').pino | undefined;

/**
 * pino, loaded by the first {@link createLogger}: importing the library (an owner that only starts
 * a keeper host) does not pay for it (~1 MiB and a few ms of start-up).
 */
function pino(): typeof import('pino').pino {
  loadedPino ??= (createRequire(import.meta.url)('pino') as typeof import('pino')).pino;
  return loadedPino;
}

/**
 * Structured logs: quiet (`silent`) unless a level is asked for, to stderr by default,
 * secrets redacted. The destination is injectable so tests can read what was logged.
 */
export function createLogger(options: { level?: LogLevel; destination?: DestinationStream; name?: string } = {}): Logger {
  const create = pino();
  return create(
    {
      name: options.name ?? 'heartbeat-lab',
      level: options.level ?? 'silent',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    options.destination ?? create.destination(2),
  );
}
