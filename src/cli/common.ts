/**
 * What the `keeper` and `sim` CLIs share: the exit codes every CLI gives the same meaning, how a
 * user error is told from a bug and printed, duration flags, and the log-level option. Each CLI
 * adds its own codes on top of {@link CLI_EXIT}.
 */
import { CommanderError, Option } from 'commander';
import { parseDurationMs } from '../duration.js';
import { escapeControlKeepLines } from './escape.js';
import { ConfigError, HeartbeatLabError } from '../errors.js';
import { LOG_LEVELS, type LogLevel } from '../log-levels.js';

/** Exit codes with one meaning in every CLI of the project. */
export const CLI_EXIT = {
  ok: 0,
  /** Bad input: unknown option, bad value, broken rule. One line on stderr, no stack. */
  badInput: 2,
} as const;

/** A user error (bad option, bad file): printed as one line, exit {@link CLI_EXIT.badInput}. */
export function isUserError(error: unknown): error is HeartbeatLabError {
  return error instanceof HeartbeatLabError && (error.code === 'E_INPUT' || error.code === 'E_CONFIG');
}

/** Prints a user error as `<program>: <message>` and returns `CLI_EXIT.badInput`; anything else yields `undefined`. */
export function reportUserError(program: string, error: unknown, write: (text: string) => void): number | undefined {
  if (!isUserError(error)) return undefined;
  write(`${program}: ${escapeControlKeepLines(error.message)}\n`);
  return CLI_EXIT.badInput;
}

/** The exit code of a commander parse error: 0 for `--help`/`--version`, else bad input. */
export function commanderExitCode(error: CommanderError): number {
  return error.exitCode === 0 ? CLI_EXIT.ok : CLI_EXIT.badInput;
}

/** Parses a `--flag` duration; a bare number, a zero or garbage is a `ConfigError`. */
export function parseDurationFlag(flag: string, text: string): number {
  const ms = parseDurationMs(text);
  if (ms === undefined) throw new ConfigError(flag, 'must be a duration with a unit, like 250ms, 30s, 5m or 1h30m', text);
  if (ms <= 0) throw new ConfigError(flag, 'must be longer than zero', text);
  return ms;
}

/** `--log-level <level>` limited to pino's levels. */
export function logLevelOption(description: string, defaultLevel: LogLevel): Option {
  return new Option('--log-level <level>', description).choices([...LOG_LEVELS]).default(defaultLevel);
}
