/**
 * The real mechanics' cycle in section 5: one cycle of the real incident's baseline as a
 * sequence diagram, and what run 0 says about all of them (lease age at each respawn decision,
 * time from exit to respawn, how long a new session takes to take the lease).
 */
import { codeBlock } from './markdown.js';
import { exitCycles, exitSequenceDiagram, type ExitCycle } from './exit-cycle.js';
import { fmtMs } from './numbers.js';
import { dur, plural, rate, respawnInterval, scenarioRef, strategyRef } from './prose.js';
import type { ReportInput } from './report-types.js';
import { rowByKey, rowsOf, traceOf, type Row } from './scenario-rows.js';
import { spread } from './trace-analysis.js';

/** The real incident's baseline and the exit cycles of its run 0. */
export interface TracedExitIncident {
  readonly input: ReportInput;
  readonly baseline: Row;
  readonly cycles: readonly ExitCycle[];
}

export function tracedExitIncident(input: ReportInput | undefined): TracedExitIncident | undefined {
  const baseline = input === undefined ? undefined : rowByKey(input, 'baseline');
  if (input === undefined || baseline === undefined) return undefined;
  return { input, baseline, cycles: exitCycles(traceOf(input, baseline.spec.name)) };
}

const span = (values: readonly number[]): string => {
  const s = spread(values);
  return s === null ? '—' : `min ${fmtMs(s.min)}, mean ${fmtMs(s.mean)}, max ${fmtMs(s.max)}`;
};

function figures(incident: TracedExitIncident): string {
  const { cycles } = incident;
  const b = incident.baseline.summary;
  const parts = [
    `Run 0 (${dur(incident.input.scenario.durationMs)}) has ${plural(cycles.length, 'such cycle')}.`,
    `Lease age at each respawn decision: ${span(cycles.map((c) => c.respawn.leaseAgeMs))} in run 0${
      b.leaseAgeAtRespawnMs === null ? '' : `; min ${fmtMs(b.leaseAgeAtRespawnMs.min)}, mean ${fmtMs(b.leaseAgeAtRespawnMs.mean)}, max ${fmtMs(b.leaseAgeAtRespawnMs.max)} over all ${plural(b.runs, 'run')}`
    }.`,
    `From the session's exit to the respawn: ${span(cycles.map((c) => c.respawn.t - c.exitT))}.`,
    `From the spawn to the new lease: ${span(cycles.map((c) => c.successorAcquire.t - c.spawnT))}.`,
  ];
  const every = respawnInterval(b.respawnsPerHour);
  if (every !== null) parts.push(`Over all ${plural(b.runs, 'run')}, ${rate(b.respawnsPerHour)} respawns per hour: ${every} on average, ${rate(b.spuriousRespawnsPerHour)} per hour of them of a live orchestrator.`);
  return parts.join(' ');
}

/** Strategies that reach 0 respawns per hour on the real incident without keeping a dead leader's lease. */
function cleanUnderExit(input: ReportInput): Row[] {
  return rowsOf(input).filter((r) => r.summary.respawnsPerHour === 0 && r.summary.zombieLeaseMsPerHour < 1_000);
}

export function exitCycleSubsection(incident: TracedExitIncident): string {
  const s = incident.input.scenario;
  const out = ['### As the real system runs it', ''];
  const cycle = incident.cycles[0];
  if (cycle === undefined) {
    out.push(`Run 0 of ${strategyRef(incident.baseline.spec.name)} on ${scenarioRef(incident.input)} has no complete cycle (session exit, respawn, new acquisition), so there is no diagram.`);
    return out.join('\n');
  }
  const clean = cleanUnderExit(incident.input);
  out.push(
    `The first cycle of ${strategyRef(incident.baseline.spec.name)} in run 0 of ${scenarioRef(incident.input)}. Nobody kills anything: the session's process ends by itself, and the watchdog's loop, finding its child gone, leaves the lease alone while it is younger than TTL + grace (${fmtMs(s.lease.ttlMs + s.watchdog.graceMs)}) and spawns a successor at the first check after that.`,
    '',
    codeBlock(exitSequenceDiagram(cycle, { ttlMs: s.lease.ttlMs, heartbeatMs: s.heartbeat.intervalMs, graceMs: s.watchdog.graceMs }), 'mermaid'),
    '',
    figures(incident),
    '',
    `Where the heartbeat runs does not change this: whatever renews the lease, the session's process still ends, and either the lease lapses and the watchdog respawns, or something renews it with no orchestrator running (a zombie lease). ${
      clean.length === 0
        ? 'No strategy of this scenario reaches 0 respawns per hour without a zombie lease.'
        : `On this scenario only ${clean.map((r) => strategyRef(r.spec.name)).join(' and ')} ${clean.length === 1 ? 'reaches' : 'reach'} 0 respawns per hour without a zombie lease.`
    }`,
  );
  return out.join('\n');
}
