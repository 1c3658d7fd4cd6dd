/** Levels accepted by `--log-level` and `createLogger`; apart from `logger.ts` so a CLI can list them without loading pino. */
export const LOG_LEVELS = ['silent', 'fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
