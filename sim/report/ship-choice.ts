/**
 * Which configuration ships: the first of `SHIP_CANDIDATES` that the runs support under every
 * model they cover; the last candidate when none is supported (the decision section then says
 * where it falls short).
 */
import { incidentRow, modelIncidents } from './models.js';
import type { ReportInput } from './report-types.js';
import { roleOf, sightings } from './scenario-rows.js';
import { SHIP_CANDIDATES, type ShipChoice } from './seed-options.js';

/** A lease kept for a dead holder below this per hour is a release racing a renewal, not a finding. */
const ZOMBIE_NOISE_MS = 1_000;

/**
 * Supported: the candidate runs on the incident of every model (or, when not there, on another
 * idle-only scenario of the model) with 0 respawns per hour and no zombie lease, never breaks
 * safety, and always fails over after a crash.
 */
export function supported(inputs: readonly ReportInput[], candidate: ShipChoice): boolean {
  const incidents = modelIncidents(inputs);
  const onIncidents = incidents.map((incident) => incidentRow(inputs, incident, candidate.strategy)?.row.summary);
  if (incidents.length === 0 || onIncidents.some((s) => s === undefined || s.respawnsPerHour > 0 || s.zombieLeaseMsPerHour >= ZOMBIE_NOISE_MS)) return false;
  return sightings(inputs, candidate.strategy).every(
    ({ input, row }) => row.summary.safetyViolations === 0 && (roleOf(input.scenario) !== 'crash' || row.summary.failoverMaxMs !== 'never'),
  );
}

export function chooseShipped(inputs: readonly ReportInput[]): ShipChoice {
  return SHIP_CANDIDATES.find((c) => supported(inputs, c)) ?? (SHIP_CANDIDATES[SHIP_CANDIDATES.length - 1] as ShipChoice);
}
