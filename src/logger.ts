import { pino, type Logger, type DestinationStream } from 'pino';
import type { LogLevel } from './log-levels.js';

export type { Logger } from 'pino';
export { LOG_LEVELS, type LogLevel } from './log-levels.js';

/** Fields never written in clear, wherever they appear in a log record. */
export const REDACT_PATHS = ['password', '*.password', 'url', '*.url', 'storeUrl', '*.storeUrl', 'auth', '*.auth', 'token.secret'];

/**
 * Structured logs: quiet (`silent`) unless a level is asked for, to stderr by default,
 * secrets redacted. The destination is injectable so tests can read what was logged.
 */
export function createLogger(options: { level?: LogLevel; destination?: DestinationStream; name?: string } = {}): Logger {
  return pino(
    {
      name: options.name ?? 'heartbeat-lab',
      level: options.level ?? 'silent',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    options.destination ?? pino.destination(2),
  );
}
