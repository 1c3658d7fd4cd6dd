import { describe, expect, it } from 'vitest';
import type { ScenarioReport } from '../../../sim/run-scenario.js';
import { modelIncidents } from '../../../sim/report/models.js';
import type { ReportInput } from '../../../sim/report/report-types.js';
import { chooseShipped, supported } from '../../../sim/report/ship-choice.js';
import { summarize, type StrategySummary } from '../../../sim/summary.js';
import { incident } from '../../support/scenario.js';

/** A scenario of the incident whose strategies measured the given figures (the rest zero). */
function input(name: string, figures: Record<string, Partial<StrategySummary>>, extra = ''): ReportInput {
  const names = Object.keys(figures);
  const scenario = { ...incident(extra, `[${names.map((n) => (n === 'baseline' ? n : `{ kind: sidecar, name: ${n} }`)).join(', ')}]`), name };
  const results = names.map((n) => ({ ...summarize(n, []), respawnsPerHour: 0, zombieLeaseMsPerHour: 0, safetyViolations: 0, failoverMaxMs: null, ...figures[n] }));
  const report: ScenarioReport = { scenario: name, file: `${name}.yaml`, seed: 1, runs: 1, durationHours: 2, results, targets: [], ok: true, traces: [] };
  return { scenario, report };
}

describe('what ships', () => {
  it('is the first candidate the runs support', () => {
    const inputs = [input('idle', { baseline: { respawnsPerHour: 6 }, sidecar: {}, supervisor: {} })];
    expect(chooseShipped(inputs).strategy).toBe('supervisor');
  });

  it('passes over a candidate that still respawns, or keeps a dead leader\'s lease', () => {
    expect(chooseShipped([input('idle', { baseline: { respawnsPerHour: 6 }, sidecar: {}, supervisor: { respawnsPerHour: 0.5 } })]).strategy).toBe('sidecar');
    expect(chooseShipped([input('idle', { baseline: { respawnsPerHour: 6 }, sidecar: {}, supervisor: { zombieLeaseMsPerHour: 60_000 } })]).strategy).toBe('sidecar');
  });

  it('passes over a candidate that breaks safety or never fails over after a crash anywhere', () => {
    const idle = input('idle', { baseline: { respawnsPerHour: 6 }, sidecar: {}, supervisor: {} });
    const crash = input('crash', { baseline: {}, supervisor: { failoverMaxMs: 'never' } }, 'crash: { every: 2h }');
    expect(chooseShipped([idle, crash]).strategy).toBe('sidecar');
    const split = input('crash', { baseline: {}, supervisor: { safetyViolations: 1 } }, 'crash: { every: 2h }');
    expect(chooseShipped([idle, split]).strategy).toBe('sidecar');
  });

  it('reads a candidate that the incident does not run from another idle-only scenario of the model', () => {
    const idle = input('idle', { baseline: { respawnsPerHour: 6 }, sidecar: { respawnsPerHour: 0 }, worker: {} });
    const quiet = input('supervisor-seed', { baseline: { respawnsPerHour: 5 }, supervisor: {} });
    expect(chooseShipped([idle, quiet]).strategy).toBe('supervisor');
    const still = input('supervisor-seed', { baseline: { respawnsPerHour: 5 }, supervisor: { respawnsPerHour: 2 } });
    expect(chooseShipped([idle, still]).strategy).toBe('sidecar');
  });

  it('falls back to the last candidate, and says the runs do not support it', () => {
    const inputs = [input('idle', { baseline: { respawnsPerHour: 6 }, sidecar: { respawnsPerHour: 8 } })];
    const choice = chooseShipped(inputs);
    expect(choice.strategy).toBe('sidecar');
    expect(supported(inputs, choice)).toBe(false);
  });
});

describe('the incident of each model', () => {
  it('is the plain scenario that runs the most strategies, the shortest name on a tie', () => {
    const a = input('idle-30s', { baseline: {}, sidecar: {} });
    const b = input('idle', { baseline: {}, sidecar: {} });
    const c = input('idle-small', { baseline: {} });
    const crash = input('crash', { baseline: {}, sidecar: {}, worker: {} }, 'crash: { every: 2h }');
    expect(modelIncidents([a, c, crash, b]).map((i) => [i.model.id, i.input.scenario.name])).toEqual([['seed', 'idle']]);
  });
});
