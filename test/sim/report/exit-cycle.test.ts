import { describe, expect, it } from 'vitest';
import { exitCycles, exitSequenceDiagram } from '../../../sim/report/exit-cycle.js';
import type { TraceEvent } from '../../../sim/trace.js';
import { grant } from './trace-events.js';


/** One cycle of the real mechanics, as the simulator traces it (`respawn-if-gone`, `idleEffect: exit`). */
const EVENTS: TraceEvent[] = [
  { t: 0, actor: 'orch-1', kind: 'spawn', data: { pid: 1 } },
  grant(11_391, 'acquire', 'orch-1', 1),
  grant(71_417, 'renew', 'orch-1', 1),
  grant(131_429, 'renew', 'orch-1', 1),
  { t: 173_677, actor: 'host/orch-1', kind: 'session-idle', data: { cause: 'quiet', effect: 'exit', timersCleared: 1 } },
  { t: 173_677, actor: 'orch-1', kind: 'exit', data: { pid: 1 } },
  { t: 185_000, actor: 'watchdog', kind: 'skip-healthy', data: { holder: 'orch-1', leaseAgeMs: 53_571 } },
  { t: 245_000, actor: 'watchdog', kind: 'skip-healthy', data: { holder: 'orch-1', leaseAgeMs: 113_571 } },
  { t: 305_000, actor: 'watchdog', kind: 'skip-healthy', data: { holder: 'orch-1', leaseAgeMs: 173_571 } },
  { t: 365_000, actor: 'watchdog', kind: 'respawn', data: { holder: 'orch-1', leaseAgeMs: 233_571, previous: 'orch-1' } },
  { t: 365_000, actor: 'orch-2', kind: 'spawn', data: { pid: 2 } },
  grant(383_302, 'acquire', 'orch-2', 2),
];

describe('exitCycles', () => {
  it('reads the exit, the healthy-lease skips, the respawn and the new lease', () => {
    const [cycle, ...rest] = exitCycles(EVENTS);
    expect(rest).toEqual([]);
    expect(cycle).toMatchObject({
      victim: 'orch-1',
      successor: 'orch-2',
      renewals: 2,
      lastGrant: { t: 131_429, op: 'renew' },
      idle: { t: 173_677, effect: 'exit' },
      exitT: 173_677,
      respawn: { t: 365_000, leaseAgeMs: 233_571 },
      spawnT: 365_000,
      successorAcquire: { t: 383_302, token: 2 },
    });
    expect(cycle?.skips.map((s) => s.leaseAgeMs)).toEqual([53_571, 113_571, 173_571]);
  });

  it('leaves out a respawn after a session that did not exit (the seed: the watchdog killed it)', () => {
    const seed = EVENTS.map((e) => (e.kind === 'session-idle' ? { ...e, data: { ...e.data, effect: 'clear-timers' } } : e));
    expect(exitCycles(seed)).toEqual([]);
  });

  it('draws the cycle in order, with the lease age at each check', () => {
    const [cycle] = exitCycles(EVENTS);
    const lines = exitSequenceDiagram(cycle as NonNullable<typeof cycle>, { ttlMs: 180_000, heartbeatMs: 60_000, graceMs: 30_000 }).split('\n');
    const order = [/process exits \(t=2m53\.7s\)/, /lease 53\.6s old, healthy \(under 210\.0s\): skip/, /2 more check\(s\) skip/, /lease 233\.6s old, not healthy/, /spawn orch-2 at once/, /18\.3s after the spawn/];
    const at = order.map((re) => lines.findIndex((l) => re.test(l)));
    expect(at.every((i) => i > 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  });
});
