/**
 * The two models of the system the report compares the options under, as data: the seed's
 * description of the incident and the real system's mechanics (issue 11). A scenario belongs to
 * the model its session and watchdog settings describe; adding a model is one more entry here.
 */
import type { Scenario } from '../scenario/types.js';
import type { ReportInput } from './report-types.js';
import { roleOf, rowByKey, rowByName, type Row } from './scenario-rows.js';

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
 * The incident scenario of each model that has one, in model order: a scenario of the model
 * where sessions idle and nothing else happens, with a baseline; the one that runs the most
 * strategies, and on a tie the one with the shortest name (the plain version of its variants).
 */
export function modelIncidents(inputs: readonly ReportInput[]): ModelIncident[] {
  const out: ModelIncident[] = [];
  for (const model of MODELS) {
    let best: ReportInput | undefined;
    for (const input of inputs) {
      if (!model.describes(input.scenario) || roleOf(input.scenario) !== 'incident' || rowByKey(input, 'baseline') === undefined) continue;
      const more = best === undefined ? 1 : input.scenario.strategies.length - best.scenario.strategies.length;
      if (best === undefined || more > 0 || (more === 0 && input.scenario.name.length < best.scenario.name.length)) best = input;
    }
    if (best !== undefined) out.push({ model, input: best });
  }
  return out;
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
    if (!incident.model.describes(input.scenario) || roleOf(input.scenario) !== 'incident' || rowByKey(input, 'baseline') === undefined) continue;
    const row = rowByName(input, name);
    if (row !== undefined) return { input, row, elsewhere: true };
  }
  return undefined;
}
