import { describe, expect, it } from 'vitest';
import { runStrategy } from '../../sim/run-scenario.js';
import { summarize } from '../../sim/summary.js';
import { scenarioFrom } from '../support/scenario.js';

/**
 * The baseline's respawn rate by hand (renewal-cycle arithmetic).
 *
 * A cycle starts when the watchdog decides at poll time P (on its grid: multiples of w).
 * 1. The new orchestrator starts at P + R (R ~ respawn delay) and heartbeats at acquisition and
 *    every h while its session is active.
 * 2. The host idles the session I after it started (I ~ idleAfter); the last heartbeat is the
 *    last multiple of h before I:  L = h · floor(I / h).
 * 3. The watchdog declares it dead at the first poll strictly after P + R + L + ttl + grace.
 *    With D = L + ttl + grace, and P on the grid, the next decision is at
 *    P + w · (floor((R + D) / w) + 1).
 * So a cycle lasts C(I, R) = w · (floor((R + h·floor(I/h) + ttl + grace) / w) + 1), and by the
 * renewal-reward theorem respawns/hour = 3600 s / E[C], with E taken over uniform I and R.
 *
 * For the incident (ttl 180, h 60, w 30, grace 30, I ~ U[300, 480], R ~ U[5, 30]):
 * L is 300, 360 or 420 with equal chance; R + D < 30·k + 30 exactly when R < 30, so
 * C = L + 240 and E[C] = 360 + 240 = 600 s → 6.0 respawns/hour.
 */
function expectedRespawnsPerHour(p: { ttl: number; h: number; w: number; grace: number; idle: readonly [number, number]; respawn: readonly [number, number] }): number {
  const steps = 600;
  let total = 0;
  for (let i = 0; i < steps; i++) {
    const idle = p.idle[0] + ((i + 0.5) / steps) * (p.idle[1] - p.idle[0]);
    const last = p.h * Math.floor(idle / p.h);
    for (let j = 0; j < steps; j++) {
      const r = p.respawn[0] + ((j + 0.5) / steps) * (p.respawn[1] - p.respawn[0]);
      total += p.w * (Math.floor((r + last + p.ttl + p.grace) / p.w) + 1);
    }
  }
  return 3600 / (total / (steps * steps));
}

const CASES = [
  { name: 'incident', ttl: 180, h: 60, w: 30, grace: 30, idle: [300, 480], respawn: [5, 30] },
  { name: 'short ttl, unaligned grid', ttl: 90, h: 25, w: 20, grace: 5, idle: [120, 200], respawn: [1, 15] },
  { name: 'no grace, long idle', ttl: 120, h: 40, w: 15, grace: 0, idle: [600, 1200], respawn: [0, 10] },
  { name: 'long ttl, slow watchdog', ttl: 300, h: 100, w: 60, grace: 60, idle: [300, 480], respawn: [5, 90] },
] as const;

describe('baseline respawn rate: simulator against the hand derivation', () => {
  it('derives 6.0 respawns/hour for the incident’s parameters', () => {
    expect(expectedRespawnsPerHour(CASES[0])).toBeCloseTo(6.0, 2);
  });

  it.each(CASES)('$name: simulated rate within 1% of the derivation', async (c) => {
    const scenario = scenarioFrom(`name: analytic
seed: 2024
duration: 96h
runs: 8
lease: { ttl: ${c.ttl}s }
heartbeat: { interval: ${c.h}s }
session: { idleAfter: ${c.idle[0]}s..${c.idle[1]}s }
watchdog: { interval: ${c.w}s, grace: ${c.grace}s, respawnDelay: ${c.respawn[0]}s..${c.respawn[1]}s }
strategies: [baseline]
`);
    const { results } = await runStrategy(scenario, scenario.strategies[0]!);
    const simulated = summarize('baseline', results).respawnsPerHour;
    const expected = expectedRespawnsPerHour(c);
    console.log(`${c.name}: expected ${expected.toFixed(3)}/h, simulated ${simulated.toFixed(3)}/h`);
    expect(Math.abs(simulated - expected) / expected).toBeLessThan(0.01);
  });
});
