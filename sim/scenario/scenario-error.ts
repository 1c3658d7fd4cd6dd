/**
 * The error a scenario file raises when it cannot be loaded: it always points at
 * `file:line:column` and names the field, what was expected and what was found.
 */

import { HeartbeatLabError } from '../../src/errors.js';

/** Where a problem is in a scenario file (1-based line and column). */
export interface ScenarioErrorLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/**
 * A scenario file is malformed or breaks a rule (code `E_INPUT`).
 *
 * The message reads `file:line:column: path: expected X, got Y`, or
 * `file:line:column: malformed YAML: detail` when the text is not YAML at all.
 */
export class ScenarioError extends HeartbeatLabError {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** Field path such as `session.idleAfter` or `targets.baseline.respawnsPerHour.max`; `''` for a YAML syntax error. */
  readonly path: string;
  /** What the field should have been, e.g. `a duration such as 180s, 5m, 24h`. */
  readonly expected: string;
  /** What was found, e.g. `"5x"`, `a list` or `nothing`. */
  readonly got: string;

  constructor(at: ScenarioErrorLocation, path: string, expected: string, got: string, message?: string) {
    super('E_INPUT', message ?? `${at.file}:${at.line}:${at.column}: ${path}: expected ${expected}, got ${got}`);
    this.file = at.file;
    this.line = at.line;
    this.column = at.column;
    this.path = path;
    this.expected = expected;
    this.got = got;
  }

  /** The text could not be parsed as YAML; `detail` is the parser's own description. */
  static malformed(at: ScenarioErrorLocation, detail: string): ScenarioError {
    const message = `${at.file}:${at.line}:${at.column}: malformed YAML: ${detail}`;
    return new ScenarioError(at, '', 'well-formed YAML', detail, message);
  }
}
