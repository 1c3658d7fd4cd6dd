import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

/** Levels accepted by `--log-level` and `createLogger`. */
export const LOG_LEVELS = ['silent', 'fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

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
