/**
 * Small text helpers for the report's sentences. Every scenario-controlled string (scenario and
 * strategy names, file paths, fault kinds) goes through `text`, `ident`, `scenarioRef` or
 * `strategyRef` before it reaches markdown.
 */
import { formatDurationMs } from '../../src/duration.js';
import type { Bound } from '../scenario/types.js';
import type { TargetResult } from '../targets.js';
import { codeSpan, escapeMarkdown } from './markdown.js';
import { fmtMin, fmtMs, fmtNum } from './numbers.js';
import type { ReportInput } from './report-types.js';

/** The CLI as a user runs it, from a checkout or an installed package. */
export const SIM_COMMAND = 'npx sim';

/** Scenario-controlled text, escaped so nothing in it is read as markup. */
export const text = escapeMarkdown;

/**
 * A scenario-controlled identifier (strategy name, file path): a code span when it has only
 * plain identifier characters, otherwise escaped text.
 */
export function ident(value: string): string {
  return /^[A-Za-z0-9_.:/+-]+$/.test(value) ? codeSpan(value) : text(value);
}

/** `**idle** (`scenarios/idle.yaml`)`. */
export function scenarioRef(input: ReportInput): string {
  return `**${text(input.scenario.name)}** (${ident(input.scenario.file)})`;
}

/** A scenario by name only, bold. */
export function scenarioName(input: ReportInput): string {
  return `**${text(input.scenario.name)}**`;
}

export const strategyRef = ident;

/** A per-hour rate with three decimals, as `sim run` prints it. */
export function rate(value: number): string {
  return fmtNum(value, 3);
}

export function dur(ms: number): string {
  return formatDurationMs(ms);
}

/**
 * The mean time between respawns for a rate per hour (`one every 10.0 min`). The one place this
 * figure is computed, so every section that states it states the same number.
 */
export function respawnInterval(respawnsPerHour: number): string | null {
  return respawnsPerHour > 0 ? `one every ${fmtMin(3_600_000 / respawnsPerHour)}` : null;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** `a`, `a and b`, `a, b and c`. */
export function list(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

export function unique(items: readonly string[]): string[] {
  return items.filter((x, i) => items.indexOf(x) === i);
}

/** A time figure for ordering: `never` is +∞, no data is NaN. */
export function timeValue(value: number | 'never' | null): number {
  return value === null ? NaN : value === 'never' ? Infinity : value;
}

const isTime = (metric: string): boolean => metric.endsWith('Ms') || metric.endsWith('MsPerHour');

/** A target's measured value as the validation table shows it. */
export function formatActual(target: TargetResult): string {
  if (isTime(target.metric)) return fmtMs(target.actual);
  return target.actual === null ? '—' : target.actual === 'never' ? 'never' : String(target.actual);
}

/** `≥ 5 and ≤ 6.5`, times in seconds. */
export function formatBound(metric: string, bound: Bound): string {
  const f = (v: number): string => (isTime(metric) ? fmtMs(v) : String(v));
  const parts: string[] = [];
  if (bound.min !== undefined) parts.push(`≥ ${f(bound.min)}`);
  if (bound.max !== undefined) parts.push(`≤ ${f(bound.max)}`);
  return parts.join(' and ');
}
