import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../../sim/trace.js';
import { World } from '../../../sim/world.js';
import { scenarioFrom } from '../../support/scenario.js';

/**
 * The real watchdog (policy respawn-if-gone) on exact numbers: store latency 0, fixed idle time
 * and start-up, so every instant below is computed by hand from the loop's rules.
 */
function scenario(opts: { idleEffect?: string; onIdle?: string; interval?: string; strategies?: string; extra?: string } = {}) {
  return scenarioFrom(`name: shell
seed: 3
duration: 30m
lease: { ttl: 60s }
heartbeat: { interval: 20s }
session: { idleAfter: 65s, idleEffect: ${opts.idleEffect ?? 'exit'}${opts.onIdle ? `, onIdle: ${opts.onIdle}` : ''} }
watchdog: { policy: respawn-if-gone, interval: ${opts.interval ?? '10s'}, grace: 5s, respawnDelay: 3s, startupDelay: 2s }
store: { latency: 0ms }
strategies: ${opts.strategies ?? '[baseline]'}
${opts.extra ?? ''}`);
}

async function play(s = scenario()) {
  const world = new World({ scenario: s, strategy: s.strategies[0]!, run: 0, trace: true });
  const result = await world.run();
  const events = world.trace.events;
  const of = (kind: string, actor?: string): TraceEvent[] => events.filter((e) => e.kind === kind && (actor === undefined || e.actor === actor));
  return { world, result, events, of };
}

const near = (t: number | undefined, expected: number): void => {
  // fake-timers runs each 0 ms hop 1 ms late; a handful of hops separate the store from the timers.
  expect(t).toBeGreaterThanOrEqual(expected);
  expect(t).toBeLessThanOrEqual(expected + 10);
};

describe('ShellWatchdog (respawn-if-gone)', () => {
  // orch-1 spawns at 0 and first tries to acquire at 3 s; it heartbeats at 3, 23, 43, 63 s and its
  // idle clock starts when it leads (3 s), so its process exits at 68 s. The loop checks at
  // 2 + 10k s (startup sleep, then sleep 10 s each). Healthy while age < ttl + grace = 65 s:
  // the last heartbeat at 63 s is healthy until 128 s, so 122 s skips and 132 s respawns.
  it('checks only after its child is gone, skips a healthy lease, respawns when age >= ttl + grace', async () => {
    const { of } = await play();
    near(of('exit', 'orch-1')[0]?.t, 68_000);
    const skips = of('skip-healthy').filter((e) => e.t < 132_000);
    expect(skips.map((e) => e.t)).toEqual([72_000, 82_000, 92_000, 102_000, 112_000, 122_000]);
    const first = of('respawn')[0]!;
    expect(first.t).toBe(132_000);
    expect(first.data).toMatchObject({ holder: 'orch-1', previous: 'orch-1' });
    expect(first.data?.leaseAgeMs as number).toBeGreaterThan(68_990);
    expect(first.data?.leaseAgeMs as number).toBeLessThanOrEqual(69_000);
  });

  it('spawns at once, sleeps the startup delay, then goes on with its period from there', async () => {
    const { of } = await play();
    expect(of('spawn', 'orch-2')[0]?.t).toBe(132_000);
    // The next check is 2 s + 10 s after the spawn, not on the old 10 s grid.
    expect(of('skip-healthy').find((e) => e.t > 132_000)?.t ?? Infinity).toBeGreaterThan(132_000);
    const secondCycle = of('respawn')[1]!;
    // orch-2 leads from 135 s, heartbeats to 195 s, exits at 200 s; checks at 144 + 10k; the
    // 195 s heartbeat is healthy until 260 s: the check at 264 s respawns.
    near(of('exit', 'orch-2')[0]?.t, 200_000);
    expect(secondCycle.t).toBe(264_000);
  });

  it('the new session first tries to acquire respawnDelay after the spawn and starts its idle clock when it leads', async () => {
    const { of } = await play();
    near(of('acquire', 'orch-2')[0]?.t, 135_000);
    near(of('session-ready', 'orch-2')[0]?.t, 135_000);
    near(of('session-idle', 'host/orch-2')[0]?.t, 200_000);
  });

  it('never judges a live child by its lease: a session that only clears its timers is never respawned', async () => {
    const { result, of } = await play(scenario({ idleEffect: 'clear-timers' }));
    expect(result.respawns).toBe(0);
    expect(of('skip-healthy')).toEqual([]);
    // The lease ran out 60 s after the last heartbeat and nobody took it: leaderless, not zombie.
    expect(result.leaderlessMs).toBeGreaterThan(1_500_000);
    expect(result.zombieLeaseMs).toBe(0);
  });

  it('a released lease is "no leader": it respawns at the first check after the exit', async () => {
    const { of } = await play(scenario({ onIdle: 'release' }));
    near(of('idle-hook-release', 'host/orch-1')[0]?.t, 68_000);
    const release = of('release', 'orch-1')[0];
    expect(release?.data).toMatchObject({ ok: true, holder: null });
    near(of('exit', 'orch-1')[0]?.t, 68_000);
    expect(of('respawn')[0]?.t).toBe(72_000);
    expect(of('respawn')[0]?.data).toMatchObject({ holder: null, leaseAgeMs: null });
  });

  it('without the hook the exit leaves the lease to expire: a zombie lease until the respawn', async () => {
    const { result, world } = await play();
    expect(result.zombieLeaseMs).toBeGreaterThan(0);
    expect(world.watchdog.polls).toBeGreaterThan(100);
  });

  it('a watchdog restart forgets the child and starts over with sleep, then check', async () => {
    const s = scenario({ extra: 'faults:\n  - { kind: watchdog-restart, at: 30s, for: 15s }' });
    const { of } = await play(s);
    // Down from 30 s to 45 s; first check 10 s later: the child is unknown (no PID file) → read
    // the lease, healthy → skip.
    const after = of('skip-healthy').filter((e) => e.t > 30_000);
    expect(after[0]?.t).toBe(55_000);
    expect(after[0]?.data).toMatchObject({ holder: 'orch-1' });
  });

  it('a planned restart terminates, kills and spawns the successor at once; it is a restart, not a respawn', async () => {
    const s = scenario({ idleEffect: 'clear-timers', extra: 'restart: { every: 5m }' });
    const { result, of } = await play(s);
    expect(result.restarts).toBeGreaterThan(0);
    expect(result.respawns).toBe(0);
    for (const restart of of('restart')) {
      const victim = restart.data?.victim as string;
      const exit = of('exit', victim)[0]!;
      // The baseline's terminate resolves at once; the successor is spawned in the same instant.
      expect(exit.t).toBe(restart.t);
      expect(of('spawn').some((e) => e.t === exit.t && e.actor !== victim)).toBe(true);
    }
  });
});
