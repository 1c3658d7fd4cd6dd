import Table from 'cli-table3';
import { escapeControl } from '../../src/cli/escape.js';
import { TARGET_METRICS } from '../scenario/load-scenario.js';
import type { ScenarioReport } from '../run-scenario.js';
import type { Bound } from '../scenario/types.js';
import type { DurationStats, StrategySummary } from '../summary.js';
import type { TargetResult } from '../targets.js';

/** Seconds with one decimal, or the literal figure for never/none. */
export function formatMs(value: number | 'never' | null): string {
  if (value === null) return '—';
  if (value === 'never') return 'never';
  return `${(value / 1000).toFixed(1)}s`;
}

/** `min–max (mean)` in seconds, or — when nothing was respawned. */
function formatAges(ages: DurationStats | null): string {
  if (ages === null) return '—';
  return `${(ages.min / 1000).toFixed(0)}–${(ages.max / 1000).toFixed(0)}s\n(${(ages.mean / 1000).toFixed(0)}s)`;
}

const isTimeMetric = (metric: string): boolean => metric.endsWith('Ms') || metric.endsWith('MsPerHour');

function formatFigure(metric: string, value: number | 'never' | null): string {
  if (isTimeMetric(metric)) return formatMs(value);
  return value === null ? '—' : String(value);
}

export function formatBound(metric: string, bound: Bound): string {
  const parts: string[] = [];
  if (bound.min !== undefined) parts.push(`>= ${formatFigure(metric, bound.min)}`);
  if (bound.max !== undefined) parts.push(`<= ${formatFigure(metric, bound.max)}`);
  return parts.join(' and ');
}

/** The name a target metric has in YAML (`leaderlessPerHour`), from the summary field it reads (`leaderlessMsPerHour`). */
export function targetName(metric: string): string {
  return Object.entries(TARGET_METRICS).find(([, t]) => t.metric === metric)?.[0] ?? metric;
}

type Column = readonly [head: string, cell: (s: StrategySummary) => string];

/**
 * The columns of the default table: what decides, in at most 100 terminal columns with strategy
 * names up to {@link COMPACT_NAME} characters (split brains count among the safety violations).
 */
const COMPACT = new Set(['strategy', 'respawns/h\nmean', 'failover\np50', 'failover\nmax', 'zombie\nlease/h', 'leader-\nless/h', 'violations\nsafe/live']);
const COMPACT_NAME = 28;
const COMPACT_TARGET_NAME = 26;

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Every column (`--wide`). */
const COLUMNS: readonly Column[] = [
  ['strategy', (s) => escapeControl(s.strategy)],
  ['respawns/h\nmean', (s) => s.respawnsPerHour.toFixed(2)],
  ['respawns/h\np95', (s) => s.respawnsPerHourP95.toFixed(2)],
  ['spurious\n/h', (s) => s.spuriousRespawnsPerHour.toFixed(2)],
  ['failover\np50', (s) => formatMs(s.failoverP50Ms)],
  ['failover\nmax', (s) => formatMs(s.failoverMaxMs)],
  ['zombie\nlease/h', (s) => formatMs(s.zombieLeaseMsPerHour)],
  ['leader-\nless/h', (s) => formatMs(s.leaderlessMsPerHour)],
  ['in prac-\ntice/h', (s) => formatMs(s.leaderlessInPracticeMsPerHour)],
  ['leader\ngap max', (s) => formatMs(s.leaderGapMaxMs)],
  ['lease age at\nrespawn', (s) => formatAges(s.leaseAgeAtRespawnMs)],
  ['session\nrestarts/h', (s) => s.sessionRestartsPerHour.toFixed(2)],
  ['split\nbrains', (s) => String(s.splitBrains)],
  ['stale\nactions', (s) => `${s.staleActions}/${s.leaderActions}`],
  ['store\nwrites/h', (s) => s.storeWritesPerHour.toFixed(1)],
  ['wake-\nups/h', (s) => s.wakeupsPerHour.toFixed(1)],
  ['keep-\nawake/h', (s) => s.keepAwakeActionsPerHour.toFixed(1)],
  ['min renew\nmargin', (s) => formatMs(s.minRenewalMarginMs)],
  ['violations\nsafe/live', (s) => `${s.safetyViolations}/${s.livenessViolations}`],
];

/** The human table for one scenario: one row per strategy, then its targets. `wide`: every column. */
export function formatReport(report: ScenarioReport, { wide = false }: { wide?: boolean } = {}): string {
  const head = `scenario ${escapeControl(report.scenario)} (${escapeControl(report.file)}) · seed ${report.seed} · ${report.runs} runs × ${report.durationHours}h simulated`;
  const columns = wide ? COLUMNS : COLUMNS.filter(([h]) => COMPACT.has(h));
  const table = new Table({ head: columns.map(([h]) => h), style: { head: [], border: [] } });
  for (const summary of report.results) {
    const row = columns.map(([, cell]) => cell(summary));
    if (!wide) row[0] = shorten(row[0] as string, COMPACT_NAME);
    table.push(row);
  }
  const lines = [head, table.toString()];
  if (report.targets.length > 0) lines.push(formatTargets(report.targets, false, !wide));
  return lines.join('\n');
}

/** The targets table; `compact` shortens strategy names so it fits 100 columns (the FAIL lines name them whole). */
export function formatTargets(targets: readonly TargetResult[], withScenario: boolean, compact = false): string {
  const head = [...(withScenario ? ['scenario'] : []), 'strategy', 'metric', 'expected', 'actual', 'result'];
  const table = new Table({ head, style: { head: [], border: [] } });
  for (const t of targets) {
    table.push([
      ...(withScenario ? [escapeControl(t.scenario)] : []),
      compact ? shorten(escapeControl(t.strategy), COMPACT_TARGET_NAME) : escapeControl(t.strategy),
      targetName(t.metric),
      formatBound(t.metric, t.expected),
      formatFigure(t.metric, t.actual),
      t.ok ? 'ok' : 'FAIL',
    ]);
  }
  return table.toString();
}

/** The machine document for one scenario (no traces). Key order is fixed. */
export function reportJson(report: ScenarioReport): object {
  return {
    scenario: report.scenario,
    file: report.file,
    seed: report.seed,
    runs: report.runs,
    durationHours: report.durationHours,
    results: report.results,
    targets: report.targets.map(({ strategy, metric, expected, actual, ok }) => ({ strategy, metric: targetName(metric), expected, actual, ok })),
    ok: report.ok,
  };
}
