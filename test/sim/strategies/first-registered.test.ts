import { describe, expect, it } from 'vitest';
import { SimClock } from '../../../sim/sim-clock.js';
import { AgentRegistry } from '../../../sim/strategies/agent-registry.js';
import { World } from '../../../sim/world.js';
import { realIncident } from '../../support/scenario.js';

describe('AgentRegistry', () => {
  it('keeps a live agent, expires a dead one timeout after its last refresh, and keeps a refreshed dead one', async () => {
    const clock = new SimClock();
    const registry = new AgentRegistry(clock, 60_000);
    let aAlive = true;
    registry.register('a', 'orchestrator', () => aAlive);
    registry.register('b', 'orchestrator', () => true);
    registry.register('w', 'worker', () => true);
    await clock.runUntil(100_000);
    expect(registry.firstRegistered('orchestrator')).toBe('a');
    aAlive = false;
    registry.lastSeen('a');
    await clock.runUntil(150_000);
    registry.refresh('a'); // 50 s after it died: still there, and fresh again
    await clock.runUntil(209_000);
    expect(registry.firstRegistered('orchestrator')).toBe('a');
    await clock.runUntil(211_000);
    expect(registry.firstRegistered('orchestrator')).toBe('b');
    expect(registry.firstRegistered('worker')).toBe('w');
    registry.refresh('a'); // expired entries stay gone
    expect(registry.firstRegistered('orchestrator')).toBe('b');
  });
});

function scenario(staleEntries: number, strategies = '[watchdog-loop:first-registered, baseline]') {
  return realIncident({ name: 'fr', seed: 9, duration: '4h', strategies, extra: `registry: { timeout: 10m, staleEntries: ${staleEntries} }` });
}

async function play(staleEntries: number, index = 0, strategies?: string) {
  const s = scenario(staleEntries, strategies);
  const world = new World({ scenario: s, strategy: s.strategies[index]!, run: 0, trace: true });
  return { result: await world.run(), events: world.trace.events };
}

describe('watchdog-loop:first-registered (option 2 as built)', () => {
  it('with a long-dead first entry it refreshes that entry, renews nothing, and respawns exactly as the baseline', async () => {
    const loop = await play(1, 0);
    const baseline = await play(1, 1);
    expect(loop.result.loopRenewals).toBe(0);
    const skips = loop.events.filter((e) => e.kind === 'loop-skip');
    expect(skips.length).toBeGreaterThan(200);
    expect(new Set(skips.map((e) => e.data?.pick))).toEqual(new Set(['stale-1']));
    expect(loop.result.respawns).toBeGreaterThan(20);
    expect(loop.result.respawns).toBe(baseline.result.respawns);
  });

  it('when its pick is the holder it renews the lease after the holder exited: a zombie lease, nobody running', async () => {
    const { result, events } = await play(0, 0);
    expect(result.respawns).toBe(0);
    expect(result.loopRenewals).toBeGreaterThan(200);
    const exit = events.find((e) => e.kind === 'exit' && e.actor === 'orch-1')!;
    expect(events.some((e) => e.kind === 'spawn' && e.actor === 'orch-2')).toBe(false);
    // From the exit on the lease is valid and nobody works: zombie and leaderless in practice.
    expect(result.zombieLeaseMs).toBeGreaterThan(4 * 3_600_000 - exit.t - 1_000);
    expect(result.leaderlessInPracticeMs).toBeGreaterThanOrEqual(result.zombieLeaseMs);
  });
});
