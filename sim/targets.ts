import type { Bound, MetricName, TargetSpec } from './scenario/types.js';
import type { StrategySummary } from './summary.js';

export interface TargetResult {
  readonly scenario: string;
  readonly strategy: string;
  readonly metric: string;
  readonly expected: Bound;
  readonly actual: number | 'never' | null;
  readonly ok: boolean;
}

type Figure = number | 'never' | null;

/** Metrics that are not a plain field of the summary, read through a small function each. */
const DERIVED: Partial<Record<MetricName, (s: StrategySummary) => Figure>> = {
  leaseAgeAtRespawnMinMs: (s) => s.leaseAgeAtRespawnMs?.min ?? null,
  leaseAgeAtRespawnMeanMs: (s) => s.leaseAgeAtRespawnMs?.mean ?? null,
  leaseAgeAtRespawnMaxMs: (s) => s.leaseAgeAtRespawnMs?.max ?? null,
};

/** The figure a target metric names in one strategy's summary. */
export function metricValue(summary: StrategySummary, metric: MetricName): Figure {
  const derived = DERIVED[metric];
  return derived === undefined ? (summary[metric as keyof StrategySummary] as Figure) : derived(summary);
}

/** Checks each target against its strategy's summary. A missing figure (null) fails; 'never' is +∞. */
export function checkTargets(scenario: string, targets: readonly TargetSpec[], summaries: readonly StrategySummary[]): TargetResult[] {
  return targets.map((target) => {
    const summary = summaries.find((s) => s.strategy === target.strategy);
    const actual = summary === undefined ? null : metricValue(summary, target.metric);
    const value = actual === 'never' ? Infinity : actual;
    const ok =
      value !== null &&
      (target.bound.min === undefined || value >= target.bound.min) &&
      (target.bound.max === undefined || value <= target.bound.max);
    return { scenario, strategy: target.strategy, metric: target.metric, expected: target.bound, actual, ok };
  });
}
