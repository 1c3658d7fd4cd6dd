/**
 * Section 5: the mechanism, step by step, from the baseline's trace of run 0 (one decay cycle as
 * a sequence diagram and a table), then the root cause in plain words.
 */
import { codeBlock, codeSpan, table } from './markdown.js';
import { decaySequenceDiagram } from './mermaid.js';
import { fmtClock, fmtMs, fmtRange } from './numbers.js';
import { exitCycleSubsection, type TracedExitIncident } from './exit-cycle-section.js';
import { dur, plural, rate, respawnInterval, scenarioName, scenarioRef, strategyRef, text } from './prose.js';
import type { ReportInput } from './report-types.js';
import { idleEffectText } from './scenario-conditions.js';
import { rowByKey, traceOf, type Row } from './scenario-rows.js';
import { decayCycles, spread, type DecayCycle } from './trace-analysis.js';

/** The scenario whose baseline trace shows the incident, with its decay cycles. */
export interface TracedIncident {
  readonly input: ReportInput;
  readonly baseline: Row;
  readonly cycles: readonly DecayCycle[];
}

/** The traced incident: the given incident scenario's baseline and the decay cycles of its run 0. */
export function tracedIncident(input: ReportInput | undefined): TracedIncident | undefined {
  if (input === undefined) return undefined;
  const baseline = rowByKey(input, 'baseline');
  if (baseline === undefined) return undefined;
  const s = input.scenario;
  const cycles = decayCycles(traceOf(input, baseline.spec.name), { ttlMs: s.lease.ttlMs, heartbeatMs: s.heartbeat.intervalMs });
  return { input, baseline, cycles };
}

function cycleTable(incident: TracedIncident, cycle: DecayCycle): string {
  const s = incident.input.scenario;
  const idle = `${cycle.idle.effect}${cycle.idle.timersCleared === null ? '' : `, ${plural(cycle.idle.timersCleared, 'timer')} cleared`}`;
  const verdict = cycle.respawn.expiredForMs === null ? 'no lease' : `expired for ${fmtMs(cycle.respawn.expiredForMs)} > grace ${fmtMs(s.watchdog.graceMs)}; victim ${cycle.respawn.victimAlive ? 'alive' : 'dead'}`;
  const steps: Array<[string, number, string]> = [
    [`${text(cycle.victim)} acquires the lease`, cycle.acquire.t, `token ${cycle.acquire.token}`],
    [`last heartbeat (renewal ${cycle.renewals} of ${cycle.renewals})`, cycle.lastGrant.t, `${fmtMs(cycle.idle.t - cycle.lastGrant.t)} before the session idles`],
    ['the host idles the session', cycle.idle.t, text(idle)],
    ['the lease expires', cycle.expiryT, `last renewal + TTL ${fmtMs(s.lease.ttlMs)}`],
    ['the watchdog declares the leader dead and kills it', cycle.respawn.t, verdict],
    [`${text(cycle.successor)} is spawned`, cycle.spawnT, `respawn delay ${fmtMs(cycle.spawnT - cycle.respawn.t)}`],
    [`${text(cycle.successor)} acquires the lease`, cycle.successorAcquire.t, `token ${cycle.successorAcquire.token}; ${fmtMs(cycle.successorAcquire.t - cycle.expiryT)} without a lease`],
  ];
  return table(['step', 'simulated time', 'detail'], steps.map(([a, t, c]) => [a, fmtClock(t), c]), ['left', 'right', 'left']);
}

function cycleFigures(incident: TracedIncident): string {
  const { cycles } = incident;
  const b = incident.baseline.summary;
  const idleToRespawn = spread(cycles.map((c) => c.respawn.t - c.idle.t));
  const gap = spread(cycles.map((c) => c.successorAcquire.t - c.expiryT));
  const alive = cycles.filter((c) => c.respawn.victimAlive).length;
  const parts = [`Run 0 (${dur(incident.input.scenario.durationMs)}) has ${plural(cycles.length, 'such cycle')}; in ${alive} of them the killed orchestrator was alive.`];
  if (idleToRespawn !== null) parts.push(`From session idle to respawn: min ${fmtMs(idleToRespawn.min)}, mean ${fmtMs(idleToRespawn.mean)}, max ${fmtMs(idleToRespawn.max)}.`);
  if (gap !== null) parts.push(`Without a lease after expiry: min ${fmtMs(gap.min)}, mean ${fmtMs(gap.mean)}, max ${fmtMs(gap.max)}.`);
  const every = respawnInterval(b.respawnsPerHour);
  if (every !== null) parts.push(`Over all ${plural(b.runs, 'run')}, ${rate(b.respawnsPerHour)} respawns per hour: ${every} on average.`);
  return parts.join(' ');
}

function plainWords(incident: TracedIncident, real: TracedExitIncident | undefined): string {
  const s = incident.input.scenario;
  const b = incident.baseline.summary;
  const out = ['### The root cause in plain words', ''];
  if (real === undefined) {
    out.push(
      `The heartbeat is registered **inside the session**, so its lifetime is the session's activity. When the host idles the session it ${idleEffectText(s)}, and the heartbeat goes with it. The orchestrator is still alive and still believes it leads, but ${dur(s.lease.ttlMs)} after its last renewal the lease expires, and the watchdog's next poll past the ${dur(s.watchdog.graceMs)} grace kills it and spawns a new one ${fmtRange(s.watchdog.respawnDelay, dur)} later. The new one acquires the lease, has no work, is idled, and the cycle starts again: ${rate(b.respawnsPerHour)} times per hour.`,
      '',
      "The lease, the store and the watchdog each do their job. The fault is where the heartbeat lives: what it must prove is that the **process** is alive and able to lead, and an idle leader is the normal case. The fix is to renew from something whose lifetime is the orchestrator process's: not shorter (the session), not longer (the watchdog).",
    );
    return out.join('\n');
  }
  const r = real.baseline.summary;
  out.push(
    `The heartbeat is registered **inside the session**, and the session does not outlive its idleness. In the seed's account the process lives on without its timer and the watchdog kills it (${rate(b.respawnsPerHour)} respawns per hour on ${scenarioName(incident.input)}); in the real code the process itself ends and the watchdog, finding its child gone, spawns another once the lease is no longer healthy (${rate(r.respawnsPerHour)} per hour on ${scenarioName(real.input)}). Either way the lease's renewals stop with the session, and a new orchestrator has to start, register and take the lease again.`,
    '',
    'Under the seed\'s account it is enough to move the heartbeat out of the session, into something that lives as long as the orchestrator process. Under the real mechanics it is not: the orchestrator process is the session, and it ends. What removes the respawns there is a process that stays alive for the watchdog and holds the lease while the session is restarted under it, or a session that never idles.',
  );
  return out.join('\n');
}

export function mechanismSection(incident: TracedIncident | undefined, real: TracedExitIncident | undefined): string {
  const out = ['## 5. The mechanism, step by step', ''];
  if (real !== undefined) out.push(exitCycleSubsection(real), '', "### As the seed describes it", '');
  const cycle = incident?.cycles.find((c) => c.respawn.victimAlive) ?? incident?.cycles[0];
  if (incident === undefined || cycle === undefined) {
    out.push("No scenario given has a baseline trace with a complete decay cycle as the seed describes it (session idle, lease expiry, kill, new acquisition), so there is no diagram of it.");
    return out.join('\n');
  }
  const s = incident.input.scenario;
  out.push(
    `One decay cycle of ${strategyRef(incident.baseline.spec.name)}, as it happened in run 0 of ${scenarioRef(incident.input)}: the first cycle in the trace whose victim was alive. Times are simulated (${codeSpan('t')} since the start of the run); a store request lands a few milliseconds after it is sent.`,
    '',
    codeBlock(decaySequenceDiagram(cycle, { ttlMs: s.lease.ttlMs, heartbeatMs: s.heartbeat.intervalMs, graceMs: s.watchdog.graceMs }), 'mermaid'),
    '',
    cycleTable(incident, cycle),
    '',
    cycleFigures(incident),
    '',
    plainWords(incident, real),
  );
  return out.join('\n');
}
