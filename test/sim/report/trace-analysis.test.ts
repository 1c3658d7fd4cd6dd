import { describe, expect, it } from 'vitest';
import { fmtClock, fmtMs, fmtNum } from '../../../sim/report/numbers.js';
import { decayCycles, dropCollinear, leaseAgeSamples, leaseAgeStats } from '../../../sim/report/trace-analysis.js';
import type { TraceEvent } from '../../../sim/trace.js';
import { grant } from './trace-events.js';


/** One incident cycle, as the simulator traces it. */
const EVENTS: TraceEvent[] = [
  { t: 0, actor: 'orch-1', kind: 'spawn', data: { pid: 1 } },
  grant(10, 'acquire', 'orch-1', 1),
  grant(60_010, 'renew', 'orch-1', 1),
  grant(120_010, 'renew', 'orch-1', 1),
  { t: 150_000, actor: 'host/orch-1', kind: 'session-idle', data: { cause: 'quiet', effect: 'clear-timers', timersCleared: 1 } },
  grant(150_005, 'renew', 'orch-9', 7, false),
  { t: 360_000, actor: 'watchdog', kind: 'respawn', data: { holder: 'orch-1', expiredForMs: 59_990, victim: 'orch-1', victimAlive: true } },
  { t: 360_000, actor: 'orch-1', kind: 'exit', data: { pid: 1 } },
  { t: 370_000, actor: 'orch-2', kind: 'spawn', data: { pid: 2 } },
  grant(370_012, 'acquire', 'orch-2', 2),
];

describe('decayCycles', () => {
  it('reads one cycle with its timestamps', () => {
    const [cycle, ...rest] = decayCycles(EVENTS, { ttlMs: 180_000, heartbeatMs: 60_000 });
    expect(rest).toEqual([]);
    expect(cycle).toMatchObject({
      victim: 'orch-1',
      successor: 'orch-2',
      renewals: 2,
      lastGrant: { t: 120_010, op: 'renew' },
      idle: { t: 150_000, effect: 'clear-timers', timersCleared: 1 },
      expiryT: 300_010,
      heartbeatDueT: 180_010,
      respawn: { t: 360_000, expiredForMs: 59_990, victimAlive: true },
      exitT: 360_000,
      spawnT: 370_000,
      successorAcquire: { t: 370_012, token: 2 },
    });
  });

  it('skips a respawn without a session idle (a crash)', () => {
    const crash = EVENTS.filter((e) => e.kind !== 'session-idle');
    expect(decayCycles(crash, { ttlMs: 180_000, heartbeatMs: 60_000 })).toEqual([]);
  });
});

describe('lease age', () => {
  it('samples the time since the last successful grant', () => {
    const samples = leaseAgeSamples(EVENTS, 400_000, 50_000);
    expect(samples.map((p) => [p.t, p.ageMs])).toEqual([
      [50_000, 49_990],
      [100_000, 39_990],
      [150_000, 29_990],
      [200_000, 79_990],
      [250_000, 129_990],
      [300_000, 179_990],
      [350_000, 229_990],
      [400_000, 29_988],
    ]);
    expect(dropCollinear(samples).map((p) => p.t)).toEqual([50_000, 150_000, 350_000, 400_000]);
  });

  it('gives exact peaks and TTL crossings', () => {
    expect(leaseAgeStats(EVENTS, 400_000, 180_000)).toEqual({ maxAgeMs: 250_002, grants: 4, overLimit: 1 });
    expect(leaseAgeStats([], 400_000, 180_000)).toBeNull();
  });
});

describe('number formats', () => {
  it('formats simulated instants and durations the same way every time', () => {
    expect(fmtClock(432_049)).toBe('7m12.0s');
    expect(fmtClock(59_960)).toBe('1m00.0s');
    expect(fmtClock(3_723_400)).toBe('1h02m03.4s');
    expect(fmtClock(12_345)).toBe('12.3s');
    expect(fmtMs(359_622)).toBe('359.6s');
    expect(fmtMs('never')).toBe('never');
    expect(fmtMs(null)).toBe('—');
    expect(fmtNum(5.9785, 3)).toBe('5.979');
    expect(fmtNum(-0.0001, 2)).toBe('0.00');
  });
});
