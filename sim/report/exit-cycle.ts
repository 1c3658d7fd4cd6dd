/**
 * The incident as the real system runs it, read from a trace: the idled session's process exits,
 * the watchdog's loop finds its child gone, skips while the lease is still healthy, then spawns a
 * successor at once, which registers and takes the lease some seconds later. Pure functions of
 * the events, like `trace-analysis.ts` for the seed's cycle.
 */
import type { TraceEvent } from '../trace.js';
import { mermaidText } from './markdown.js';
import { fmtClock, fmtMs, fmtT } from './numbers.js';
import { grants, handover, type Grant } from './trace-analysis.js';

export interface ExitCycle {
  readonly victim: string;
  readonly successor: string;
  /** The victim's first acquisition. */
  readonly acquire: Grant;
  /** Successful renewals by the victim before its session ended. */
  readonly renewals: number;
  /** The victim's last successful grant (its acquisition when it never renewed). */
  readonly lastGrant: Grant;
  readonly idle: { readonly t: number; readonly cause: string; readonly effect: string };
  /** When the victim's process ended. */
  readonly exitT: number;
  /** The watchdog's checks that found the child gone but the lease healthy, with the lease's age. */
  readonly skips: ReadonlyArray<{ readonly t: number; readonly leaseAgeMs: number }>;
  /** The check that spawned the successor, with the lease's age then. */
  readonly respawn: { readonly t: number; readonly leaseAgeMs: number };
  readonly spawnT: number;
  readonly successorAcquire: Grant;
}

const numberOr = (value: unknown, fallback: number): number => (typeof value === 'number' ? value : fallback);

/** Every complete exit cycle of the trace (session exit, skips, respawn, new acquisition), in time order. */
export function exitCycles(events: readonly TraceEvent[]): ExitCycle[] {
  const all = grants(events);
  const cycles: ExitCycle[] = [];
  for (let i = 0; i < events.length; i++) {
    const r = events[i] as TraceEvent;
    if (r.actor !== 'watchdog' || r.kind !== 'respawn' || typeof r.data?.previous !== 'string') continue;
    const victim = r.data.previous;
    let idle: TraceEvent | undefined;
    let exit: TraceEvent | undefined;
    for (let j = i - 1; j >= 0 && idle === undefined; j--) {
      const e = events[j] as TraceEvent;
      if (e.kind === 'exit' && e.actor === victim && exit === undefined) exit = e;
      if (e.kind === 'session-idle' && e.actor === `host/${victim}` && e.data?.effect === 'exit') idle = e;
    }
    if (idle === undefined || exit === undefined) continue;
    const lease = handover(events, all, victim, r.t);
    if (lease === undefined) continue;
    const exitT = exit.t;
    const skips = events
      .filter((e) => e.actor === 'watchdog' && e.kind === 'skip-healthy' && e.t >= exitT && e.t < r.t)
      .map((e) => ({ t: e.t, leaseAgeMs: numberOr(e.data?.leaseAgeMs, NaN) }));
    cycles.push({
      ...lease,
      victim,
      idle: { t: idle.t, cause: String(idle.data?.cause ?? ''), effect: String(idle.data?.effect ?? '') },
      exitT,
      skips,
      respawn: { t: r.t, leaseAgeMs: numberOr(r.data?.leaseAgeMs, NaN) },
    });
  }
  return cycles;
}

export interface ExitDiagramParams {
  readonly ttlMs: number;
  readonly heartbeatMs: number;
  readonly graceMs: number;
}

/** The mermaid `sequenceDiagram` of one exit cycle (without the fence). Labels are escaped. */
export function exitSequenceDiagram(cycle: ExitCycle, params: ExitDiagramParams): string {
  const m = mermaidText;
  const healthyMs = params.ttlMs + params.graceMs;
  const lines: string[] = [`V->>S: ${m(`acquire: ok, token ${cycle.acquire.token} (${fmtT(cycle.acquire.t)})`)}`];
  if (cycle.renewals > 1) lines.push(`Note over V,S: ${m(`${cycle.renewals - 1} more heartbeats every ${fmtMs(params.heartbeatMs)} until the last one`)}`);
  if (cycle.lastGrant.op === 'renew') lines.push(`V->>S: ${m(`last heartbeat: renew ok (${fmtT(cycle.lastGrant.t)})`)}`);
  lines.push(`H-xV: ${m(`session idle (${cycle.idle.cause}): the session's process exits (${fmtT(cycle.exitT)})`)}`);
  const [first, ...more] = cycle.skips;
  if (first !== undefined) {
    lines.push(`W->>S: ${m(`check (${fmtT(first.t)}): child gone, lease ${fmtMs(first.leaseAgeMs)} old, healthy (under ${fmtMs(healthyMs)}): skip`)}`);
  }
  if (more.length > 0) {
    const last = more[more.length - 1] as { t: number; leaseAgeMs: number };
    lines.push(`Note over W: ${m(`${more.length} more check(s) skip, the last at ${fmtClock(last.t)} with the lease ${fmtMs(last.leaseAgeMs)} old`)}`);
  }
  lines.push(`W->>S: ${m(`check (${fmtT(cycle.respawn.t)}): child gone, lease ${fmtMs(cycle.respawn.leaseAgeMs)} old, not healthy`)}`);
  lines.push(`W->>N: ${m(`spawn ${cycle.successor} at once (${fmtT(cycle.spawnT)})`)}`);
  lines.push(`N->>S: ${m(`acquire: ok, token ${cycle.successorAcquire.token}, ${fmtMs(cycle.successorAcquire.t - cycle.spawnT)} after the spawn (${fmtT(cycle.successorAcquire.t)})`)}`);
  return [
    'sequenceDiagram',
    `    participant H as ${m('session host')}`,
    `    participant V as ${m(`${cycle.victim} (session heartbeat)`)}`,
    `    participant S as ${m('lease store')}`,
    `    participant W as ${m('watchdog loop')}`,
    `    participant N as ${m(cycle.successor)}`,
    ...lines.map((l) => `    ${l}`),
  ].join('\n');
}
