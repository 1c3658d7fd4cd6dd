import type { Bound, TargetSpec } from './scenario/types.js';
import type { StrategySummary } from './summary.js';

export interface TargetResult {
  readonly scenario: string;
  readonly strategy: string;
  readonly metric: string;
  readonly expected: Bound;
  readonly actual: number | 'never' | null;
  readonly ok: boolean;
}

/** Checks each target against its strategy's summary. A missing figure (null) fails; 'never' is +∞. */
export function checkTargets(scenario: string, targets: readonly TargetSpec[], summaries: readonly StrategySummary[]): TargetResult[] {
  return targets.map((target) => {
    const summary = summaries.find((s) => s.strategy === target.strategy);
    const actual = summary === undefined ? null : (summary[target.metric] as number | 'never' | null);
    const value = actual === 'never' ? Infinity : actual;
    const ok =
      value !== null &&
      (target.bound.min === undefined || value >= target.bound.min) &&
      (target.bound.max === undefined || value <= target.bound.max);
    return { scenario, strategy: target.strategy, metric: target.metric, expected: target.bound, actual, ok };
  });
}
