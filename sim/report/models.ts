/**
 * The two models of the system the report compares the options under, as data: the seed's
 * description of the incident and the real system's mechanics (issue 11). A scenario belongs to
 * the model its session and watchdog settings describe; adding a model is one more entry here.
 */
import type { Scenario } from '../scenario/types.js';
import type { ReportInput } from './report-types.js';
import { roleOf, rowByName, strategyKey, type Row } from './scenario-rows.js';

export type ModelId = 'seed' | 'real';

export interface MechanicsModel {
  readonly id: ModelId;
  /** As a sentence names it: "the seed's description". */
  readonly name: string;
  /** As a table column names it. */
  readonly column: string;
  /** One word, for `seed / real` cells. */
  readonly short: string;
  /** Whether a scenario's session and watchdog behave as this model says. */
  readonly describes: (scenario: Scenario) => boolean;
}

/**
 * The real mechanics' markers: the idled session's process exits (`session.idleEffect: exit`)
 * or the watchdog acts only when its child is gone (`watchdog.policy: respawn-if-gone`).
 */
function runsRealMechanics(scenario: Scenario): boolean {
  return scenario.session.idleEffect === 'exit' || scenario.watchdog.policy === 'respawn-if-gone';
}

export const MODELS: readonly MechanicsModel[] = [
  {
    id: 'seed',
    name: "the seed's description",
    column: "seed's model",
    short: 'seed',
    describes: (scenario) => !runsRealMechanics(scenario),
  },
  {
    id: 'real',
    name: 'the real mechanics',
    column: 'real mechanics',
    short: 'real',
    describes: runsRealMechanics,
  },
];

/** One model with the scenario that shows its incident (a baseline, sessions that idle, no faults). */
export interface ModelIncident {
  readonly model: MechanicsModel;
  readonly input: ReportInput;
}

/**
 * Whether `scenario` can show `model`'s incident: a scenario of the model where sessions idle and
 * nothing else happens (no faults, crashes, restarts), with a baseline. Read from the scenario
 * alone, so it is known before any run.
 */
function showsIncident(model: MechanicsModel, scenario: Scenario): boolean {
  return model.describes(scenario) && roleOf(scenario) === 'incident' && scenario.strategies.some((spec) => strategyKey(spec) === 'baseline');
}

/**
 * The incident scenario of each model that has one, in model order, among `items` (scenarios, or
 * anything that holds one): the one that runs the most strategies, and on a tie the one with the
 * shortest name (the plain version of its variants). Decided from the scenarios alone, so
 * `sim report` knows before any run which traces it will read (see `modelIncidents`).
 */
export function pickIncidents<T>(items: readonly T[], scenarioOf: (item: T) => Scenario): Array<{ readonly model: MechanicsModel; readonly item: T }> {
  const out: Array<{ model: MechanicsModel; item: T }> = [];
  for (const model of MODELS) {
    let best: T | undefined;
    for (const item of items) {
      const scenario = scenarioOf(item);
      if (!showsIncident(model, scenario)) continue;
      const more = best === undefined ? 1 : scenario.strategies.length - scenarioOf(best).strategies.length;
      if (best === undefined || more > 0 || (more === 0 && scenario.name.length < scenarioOf(best).name.length)) best = item;
    }
    if (best !== undefined) out.push({ model, item: best });
  }
  return out;
}

/** The incident of each model that has one (see `pickIncidents`); the report reads run 0's trace of these. */
export function modelIncidents(inputs: readonly ReportInput[]): ModelIncident[] {
  return pickIncidents(inputs, (input) => input.scenario).map(({ model, item }) => ({ model, input: item }));
}

/** The model a scenario belongs to. */
export function modelOf(scenario: Scenario): MechanicsModel {
  return MODELS.find((m) => m.describes(scenario)) as MechanicsModel;
}

/** A strategy's row on a model's incident, and whether it came from another scenario of the model. */
export interface IncidentRow {
  readonly input: ReportInput;
  readonly row: Row;
  /** true when the strategy does not run on the model's incident and the row is from another idle-only scenario of the model. */
  readonly elsewhere: boolean;
}

/**
 * The strategy's row on the model's incident; when it does not run there, on the first other
 * scenario of the same model where sessions only idle (no faults, no crashes) and a baseline runs.
 */
export function incidentRow(inputs: readonly ReportInput[], incident: ModelIncident, name: string): IncidentRow | undefined {
  const own = rowByName(incident.input, name);
  if (own !== undefined) return { input: incident.input, row: own, elsewhere: false };
  for (const input of inputs) {
    if (!showsIncident(incident.model, input.scenario)) continue;
    const row = rowByName(input, name);
    if (row !== undefined) return { input, row, elsewhere: true };
  }
  return undefined;
}
