/**
 * The mermaid `sequenceDiagram` of one decay cycle, with the simulated timestamps of the trace.
 */
import { mermaidText } from './markdown.js';
import { fmtClock, fmtMs, fmtT } from './numbers.js';
import type { DecayCycle } from './trace-analysis.js';

export interface DiagramParams {
  readonly ttlMs: number;
  readonly heartbeatMs: number;
  readonly graceMs: number;
}

/** Steps of the cycle, in the order the diagram shows them (by time; ties keep this order). */
export type DecayStep =
  | 'acquire'
  | 'heartbeats'
  | 'last-heartbeat'
  | 'session-idle'
  | 'heartbeat-missed'
  | 'lease-expiry'
  | 'declared-dead'
  | 'kill'
  | 'respawn'
  | 'new-acquisition';

interface Line {
  readonly t: number;
  readonly step: DecayStep;
  readonly text: string;
}

/** The diagram source (without the markdown fence). Participants are fixed ids; labels are escaped. */
export function decaySequenceDiagram(cycle: DecayCycle, params: DiagramParams): string {
  const v = 'V';
  const n = 'N';
  const lines: Line[] = [];
  const add = (t: number, step: DecayStep, text: string): void => {
    lines.push({ t, step, text });
  };
  const m = mermaidText;
  add(cycle.acquire.t, 'acquire', `${v}->>S: ${m(`acquire: ok, token ${cycle.acquire.token}, expires in ${fmtMs(params.ttlMs)} (${fmtT(cycle.acquire.t)})`)}`);
  if (cycle.renewals > 1) {
    add(
      cycle.acquire.t,
      'heartbeats',
      `Note over ${v},S: ${m(`${cycle.renewals - 1} more heartbeats every ${fmtMs(params.heartbeatMs)} until the last one`)}`,
    );
  }
  if (cycle.lastGrant.op === 'renew') {
    add(cycle.lastGrant.t, 'last-heartbeat', `${v}->>S: ${m(`last heartbeat: renew ok, token ${cycle.lastGrant.token} (${fmtT(cycle.lastGrant.t)})`)}`);
  }
  const cleared = cycle.idle.timersCleared === null ? '' : `, ${cycle.idle.timersCleared} timer(s) cleared`;
  add(cycle.idle.t, 'session-idle', `H->>${v}: ${m(`session idle (${cycle.idle.cause}, ${cycle.idle.effect}${cleared}) (${fmtT(cycle.idle.t)})`)}`);
  if (cycle.heartbeatDueT > cycle.idle.t) {
    add(cycle.heartbeatDueT, 'heartbeat-missed', `Note over ${v}: ${m(`next heartbeat due ${fmtT(cycle.heartbeatDueT)} never fires`)}`);
  }
  add(
    cycle.expiryT,
    'lease-expiry',
    `Note over S: ${m(`${fmtT(cycle.expiryT)} lease expires (last renewal ${fmtClock(cycle.lastGrant.t)} + TTL ${fmtMs(params.ttlMs)})`)}`,
  );
  const expired = cycle.respawn.expiredForMs === null ? 'no lease' : `expired ${fmtMs(cycle.respawn.expiredForMs)} ago`;
  add(cycle.respawn.t, 'declared-dead', `W->>S: ${m(`poll (${fmtT(cycle.respawn.t)}): ${expired}, more than grace ${fmtMs(params.graceMs)}, leader declared dead`)}`);
  const alive = cycle.respawn.victimAlive ? 'alive and idle: a spurious respawn' : 'already dead';
  add(cycle.exitT ?? cycle.respawn.t, 'kill', `W-x${v}: ${m(`kill ${cycle.victim} (${alive}) (${fmtT(cycle.exitT ?? cycle.respawn.t)})`)}`);
  add(cycle.spawnT, 'respawn', `W->>${n}: ${m(`respawn: spawn ${cycle.successor}, ${fmtMs(cycle.spawnT - cycle.respawn.t)} after the kill (${fmtT(cycle.spawnT)})`)}`);
  add(
    cycle.successorAcquire.t,
    'new-acquisition',
    `${n}->>S: ${m(`acquire: ok, token ${cycle.successorAcquire.token} (${fmtT(cycle.successorAcquire.t)}), leaderless for ${fmtMs(cycle.successorAcquire.t - cycle.expiryT)} after expiry`)}`,
  );
  const ordered = lines.map((line, i) => ({ line, i })).sort((a, b) => a.line.t - b.line.t || a.i - b.i);
  return [
    'sequenceDiagram',
    `    participant H as ${m('session host')}`,
    `    participant ${v} as ${m(`${cycle.victim} (session heartbeat)`)}`,
    `    participant S as ${m('lease store')}`,
    `    participant W as ${m('watchdog')}`,
    `    participant ${n} as ${m(cycle.successor)}`,
    ...ordered.map(({ line }) => `    ${line.text}`),
  ].join('\n');
}
