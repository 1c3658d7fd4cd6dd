/**
 * Appendices A and B: the runs behind the report, and every figure of every strategy of every
 * scenario, with ✓ / ✗ where a scenario's target holds or fails.
 */
import type { DurationStats, StrategySummary } from '../summary.js';
import { codeSpan, table, type Align } from './markdown.js';
import { fmtInt, fmtMs, fmtNum } from './numbers.js';
import { dur, ident, strategyRef, text } from './prose.js';
import type { ReportInput } from './report-types.js';
import { conditionsText } from './scenario-conditions.js';

interface MetricFormat {
  readonly label: string;
  readonly format: (value: unknown) => string;
}

const asTime = (v: unknown): string => fmtMs(v as number | 'never' | null);
const asRate3 = (v: unknown): string => fmtNum(v as number, 3);
const asRate1 = (v: unknown): string => fmtNum(v as number, 1);
const asInt = (v: unknown): string => fmtInt(v as number);
const asAgeSpread = (v: unknown): string => {
  const ages = v as DurationStats | null;
  return ages === null ? '—' : `${fmtMs(ages.min)}..${fmtMs(ages.max)} (${fmtMs(ages.mean)})`;
};

/** Every figure of {@link StrategySummary}, in table order. Figures added later follow, generically formatted. */
const METRICS: Readonly<Record<string, MetricFormat>> = {
  runs: { label: 'runs', format: asInt },
  respawnsPerHour: { label: 'respawns per hour, mean', format: asRate3 },
  respawnsPerHourP95: { label: 'respawns per hour, p95 of runs', format: asRate3 },
  spuriousRespawnsPerHour: { label: 'spurious respawns per hour (victim alive)', format: asRate3 },
  restartsPerHour: { label: 'planned restarts per hour', format: asRate3 },
  crashes: { label: 'crashes, all runs', format: asInt },
  failoverP50Ms: { label: 'failover after a crash, p50', format: asTime },
  failoverMaxMs: { label: 'failover after a crash, max', format: asTime },
  zombieLeaseMsPerHour: { label: 'zombie lease (dead holder) per hour', format: asTime },
  leaderlessMsPerHour: { label: 'leaderless per hour', format: asTime },
  splitBrains: { label: 'split brains, all runs', format: asInt },
  splitBrainMs: { label: 'split-brain time, all runs', format: asTime },
  leaderActions: { label: 'leader actions, all runs', format: asInt },
  staleActions: { label: 'stale leader actions, all runs', format: asInt },
  storeWritesPerHour: { label: 'store writes per hour', format: asRate1 },
  wakeupsPerHour: { label: 'timer wake-ups per hour', format: asRate1 },
  keepAwakeActionsPerHour: { label: 'keep-awake actions per hour', format: asRate1 },
  minRenewalMarginMs: { label: 'smallest lease time left at a renewal', format: asTime },
  safetyViolations: { label: 'safety violations, all runs', format: asInt },
  livenessViolations: { label: 'liveness violations, all runs', format: asInt },
  leaseAgeAtRespawnMs: { label: 'lease age at a respawn decision, min..max (mean)', format: asAgeSpread },
  leaderlessInPracticeMsPerHour: { label: 'no working leader per hour (zombie lease and start-up included)', format: asTime },
  leaderGapMeanMs: { label: 'stretch without a working leader, mean', format: asTime },
  leaderGapMaxMs: { label: 'stretch without a working leader, max', format: asTime },
  sessionRestartsPerHour: { label: 'sessions restarted in place per hour', format: asRate3 },
  loopRenewalsPerHour: { label: 'lease renewals by a watchdog loop per hour', format: asRate1 },
};

function genericFormat(key: string): MetricFormat {
  return {
    label: key,
    format: (v) => {
      if (v === null || v === undefined) return '—';
      if (v === 'never') return 'never';
      if (typeof v === 'number') return key.endsWith('Ms') || key.includes('MsPer') ? fmtMs(v) : Number.isInteger(v) ? String(v) : fmtNum(v, 3);
      return text(typeof v === 'object' ? JSON.stringify(v) : String(v));
    },
  };
}

/** The summary's figures by name, including figures newer than {@link METRICS}. */
function figuresOf(summary: StrategySummary): Readonly<Record<string, unknown>> {
  return summary as unknown as Readonly<Record<string, unknown>>;
}

function metricKeys(results: readonly StrategySummary[]): string[] {
  const keys = Object.keys(METRICS);
  for (const summary of results) for (const key of Object.keys(summary)) if (key !== 'strategy' && !keys.includes(key)) keys.push(key);
  return keys;
}

function metricTable(input: ReportInput): string {
  const results = input.report.results;
  const head = ['figure', ...results.map((r) => strategyRef(r.strategy))];
  const body = metricKeys(results).map((key) => {
    const f = METRICS[key] ?? genericFormat(key);
    return [
      `${text(f.label)} (${codeSpan(key)})`,
      ...results.map((r) => {
        const targets = input.report.targets.filter((t) => t.strategy === r.strategy && t.metric === key);
        const mark = targets.length === 0 ? '' : targets.every((t) => t.ok) ? ' ✓' : ' ✗';
        return `${f.format(figuresOf(r)[key])}${mark}`;
      }),
    ];
  });
  return table(head, body, ['left', ...results.map((): Align => 'right')]);
}

export function runsAppendix(inputs: readonly ReportInput[]): string {
  return [
    '## Appendix A. Runs behind this report',
    '',
    table(
      ['scenario', 'file', 'seed', 'runs', 'simulated per run', 'traced run', 'strategies'],
      inputs.map((i) => [
        text(i.scenario.name),
        ident(i.scenario.file),
        String(i.scenario.seed),
        String(i.scenario.runs),
        dur(i.scenario.durationMs),
        '0',
        i.scenario.strategies.map((s) => strategyRef(s.name)).join(', '),
      ]),
      ['left', 'left', 'right', 'right', 'right', 'right', 'left'],
    ),
  ].join('\n');
}

export function figuresAppendix(inputs: readonly ReportInput[]): string {
  const out = [
    '## Appendix B. Every figure, per scenario',
    '',
    `Every figure of ${codeSpan('StrategySummary')} for every strategy of every scenario (rates per simulated hour, times in seconds). ✓ / ✗: a target of the scenario holds / fails for that figure ([Appendix C](#appendix-c-targets)).`,
  ];
  for (const input of inputs) {
    out.push('', `### ${text(input.scenario.name)}`, '', `${ident(input.scenario.file)}: ${text(conditionsText(input.scenario))}.`, '', metricTable(input));
  }
  return out.join('\n');
}
