import { parseDurationMs } from '../../src/duration.js';
import type { Scenario } from '../scenario/types.js';
import { UsageError } from './errors.js';

export interface OverrideOptions {
  readonly seed?: string;
  readonly runs?: string;
  readonly duration?: string;
}

function integer(option: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${option}: expected an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** Validates the command-line overrides once, before any scenario runs. */
export function parseOverrides(options: OverrideOptions): (scenario: Scenario) => Scenario {
  const seed = options.seed === undefined ? undefined : integer('--seed', options.seed, 0, 0xffffffff);
  const runs = options.runs === undefined ? undefined : integer('--runs', options.runs, 1, 100_000);
  let durationMs: number | undefined;
  if (options.duration !== undefined) {
    durationMs = parseDurationMs(options.duration);
    if (durationMs === undefined) {
      throw new UsageError(`--duration: expected a duration such as 180s, 5m, 24h, got ${JSON.stringify(options.duration)}`);
    }
    if (durationMs <= 0) throw new UsageError(`--duration: expected a duration > 0, got ${JSON.stringify(options.duration)}`);
  }
  return (scenario) => ({
    ...scenario,
    seed: seed ?? scenario.seed,
    runs: runs ?? scenario.runs,
    durationMs: durationMs ?? scenario.durationMs,
  });
}
