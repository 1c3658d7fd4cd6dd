/**
 * Lookups over the runs: which strategy rows a scenario has, what a scenario exercises, and the
 * traces of run 0.
 */
import { loopVariant, type Scenario, type StrategySpec } from '../scenario/types.js';
import type { StrategySummary } from '../summary.js';
import type { TraceEvent } from '../trace.js';
import type { ReportInput } from './report-types.js';

/** One strategy of one scenario: how it was specified and what its runs measured. */
export interface Row {
  readonly spec: StrategySpec;
  readonly summary: StrategySummary;
}

/** A strategy row together with the scenario it ran in. */
export interface Sighting {
  readonly input: ReportInput;
  readonly row: Row;
}

/**
 * What a scenario exercises: `chaos` (injected faults), `crash`, `restart`, `freeze`, `stall`,
 * or `incident` (nothing but sessions that idle).
 */
export type Role = 'incident' | 'crash' | 'restart' | 'freeze' | 'stall' | 'chaos';

export function roleOf(scenario: Scenario): Role {
  if (scenario.faults.length > 0) return 'chaos';
  if (scenario.crash !== undefined) return 'crash';
  if (scenario.restart !== undefined) return 'restart';
  if (scenario.session.idleEffect === 'freeze') return 'freeze';
  if (scenario.session.idleEffect === 'stall') return 'stall';
  return 'incident';
}

/** Strategy identity independent of its display name: `kind` or `kind:variant`. */
export function strategyKey(spec: StrategySpec): string {
  return spec.kind === 'watchdog-loop' ? `watchdog-loop:${loopVariant(spec)}` : spec.kind;
}

/** The scenario's rows in the order it lists its strategies. */
export function rowsOf(input: ReportInput): Row[] {
  const out: Row[] = [];
  for (const summary of input.report.results) {
    const spec = input.scenario.strategies.find((s) => s.name === summary.strategy);
    if (spec !== undefined) out.push({ spec, summary });
  }
  return out;
}

/** The first row whose strategy has this key (`kind` or `kind:variant`). */
export function rowByKey(input: ReportInput, key: string): Row | undefined {
  return rowsOf(input).find((r) => strategyKey(r.spec) === key);
}

/** The row of this exact strategy name. */
export function rowByName(input: ReportInput, name: string): Row | undefined {
  return rowsOf(input).find((r) => r.spec.name === name);
}

/** Every scenario that runs the strategy of this name. */
export function sightings(inputs: readonly ReportInput[], name: string): Sighting[] {
  return inputs.flatMap((input) => {
    const row = rowByName(input, name);
    return row === undefined ? [] : [{ input, row }];
  });
}

/** The trace of run 0 of one strategy (empty when it was not traced). */
export function traceOf(input: ReportInput, strategy: string): readonly TraceEvent[] {
  return input.report.traces.find((t) => t.strategy === strategy)?.events ?? [];
}

/** Every strategy of the inputs, once per name, in order of first appearance. */
export function strategiesOf(inputs: readonly ReportInput[]): StrategySpec[] {
  const out: StrategySpec[] = [];
  for (const input of inputs) for (const spec of input.scenario.strategies) if (!out.some((s) => s.name === spec.name)) out.push(spec);
  return out;
}
