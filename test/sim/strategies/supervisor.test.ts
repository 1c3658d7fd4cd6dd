/**
 * The supervisor strategy: the shipped `Supervisor` under simulated time, as the watchdog's child
 * with orchestrator sessions as its children. Checked on traces of single runs.
 */
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../../sim/trace.js';
import { World } from '../../../sim/world.js';
import { incident, realIncident, scenarioFrom } from '../../support/scenario.js';
import type { Scenario } from '../../../sim/scenario/types.js';

async function play(extra: string | Scenario, strategies = ''): Promise<{ world: World; events: readonly TraceEvent[]; result: Awaited<ReturnType<World['run']>> }> {
  const scenario = typeof extra === 'string' ? incident(extra, strategies) : extra;
  const world = new World({ scenario, strategy: scenario.strategies[0]!, run: 0, trace: true });
  const result = await world.run();
  return { world, events: world.trace.events, result };
}

const of = (events: readonly TraceEvent[], kind: string): TraceEvent[] => events.filter((e) => e.kind === kind);

describe('supervisor strategy', () => {
  it('restart: always — crashed sessions are restarted in place with the same token; the watchdog never respawns', async () => {
    const { events, result } = await play('crash: { every: 20m }', '[{ kind: supervisor, restart: always }]');
    const acquires = of(events, 'acquire').filter((e) => e.data?.ok === true);
    expect(acquires.map((e) => e.actor)).toEqual(['sup-1']);
    expect(result.respawns).toBe(0);
    expect(result.crashes).toBeGreaterThan(2);
    expect(result.sessionRestarts).toBe(of(events, 'session-exited').length);
    expect(result.sessionRestarts).toBeGreaterThanOrEqual(result.crashes);
    expect(result.leaderActions).toBe(0); // no work in this scenario
    expect(result.safetyViolations).toBe(0);
  });

  it('restart: on-exit — a crash ends the supervisor (lease released), and the watchdog respawns it', async () => {
    const { events, result } = await play('crash: { every: 20m }', '[{ kind: supervisor, restart: on-exit }]');
    expect(result.sessionRestarts).toBe(0);
    const finished = of(events, 'supervisor-finished');
    expect(finished.length).toBeGreaterThan(0);
    expect(finished[0]?.data).toEqual({ outcome: 'exited', exit: 137 }); // the session's SIGKILL, as keeper run reports it
    const releases = of(events, 'release').filter((e) => e.data?.ok === true);
    expect(releases.length).toBeGreaterThanOrEqual(finished.length);
    expect(result.respawns).toBeGreaterThanOrEqual(finished.length - 1);
    expect(result.safetyViolations).toBe(0);
  });

  it('the supervisor process dies: its session is reaped, and a new supervisor leads with a higher token', async () => {
    const { events, result } = await play('faults: [{ kind: keeper-crash, at: 30m }]', '[{ kind: supervisor, restart: always }]');
    const exits = of(events, 'exit').filter((e) => e.actor.startsWith('orch-') || e.actor.startsWith('sup-'));
    const supDeath = exits.find((e) => e.actor === 'sup-1');
    expect(supDeath?.t).toBe(30 * 60_000);
    // The session of sup-1 dies with it (the reaper), not later.
    expect(exits.find((e) => e.actor === 'orch-1')?.t).toBe(30 * 60_000);
    const acquires = of(events, 'acquire').filter((e) => e.data?.ok === true);
    expect(acquires.map((e) => [e.actor, e.data?.token])).toEqual([['sup-1', 1], ['sup-2', 2]]);
    expect(result.respawns).toBe(1);
    expect(result.splitBrains).toBe(0);
  });

  it('a wedged session is caught by the progress check: the supervisor stops it and exits, and the watchdog replaces it', async () => {
    const scenario = scenarioFrom(`name: t
seed: 1
duration: 2h
runs: 1
lease: { ttl: 180s }
heartbeat: { interval: 60s }
session: { idleAfter: 5m..8m, idleEffect: clear-timers, workload: { arrivalsPerHour: 60, duration: 1s..10s } }
watchdog: { interval: 30s, grace: 30s, respawnDelay: 5s..30s }
faults: [{ kind: wedge, at: 30m }]
strategies: [{ kind: supervisor, restart: always, maxProgressSilence: 2m }]`);
    const { events, result } = await play(scenario);
    const finished = of(events, 'supervisor-finished');
    expect(finished[0]?.data).toEqual({ outcome: 'stuck', exit: 76 });
    expect(of(events, 'stopping-session')[0]?.data).toMatchObject({ why: 'stuck' });
    expect(result.respawns).toBe(1);
    expect(result.safetyViolations).toBe(0);
  });
});

/** The real mechanics (scenarios/real-incident.yaml): sessions exit when idle; the shell watchdog respawns only what is gone. */
function realMechanics(strategies: string, session?: string): Scenario {
  return realIncident({ seed: 3, duration: '6h', strategies, ...(session === undefined ? {} : { session }) });
}

describe('supervisor strategy under the real mechanics (idle exit, respawn-if-gone)', () => {
  it('idle sessions exit cleanly and are restarted in place: one acquire, no respawn, gaps bounded by start-up + backoff', async () => {
    const { events, result } = await play(realMechanics('[supervisor]'));
    expect(of(events, 'acquire').filter((e) => e.data?.ok === true).map((e) => e.actor)).toEqual(['sup-1']);
    const exits = of(events, 'session-exited');
    expect(exits.length).toBeGreaterThan(30); // 6 h of 5-8 min sessions
    for (const e of exits) expect(e.data).toMatchObject({ code: 0, signal: null, restartInMs: 1_000 });
    expect(result.respawns).toBe(0);
    expect(result.sessionRestarts).toBe(exits.length);
    // The leader does no work only while a session starts again: at most 35 s start-up + 1 s backoff.
    expect(result.leaderGaps.maxMs).toBeLessThanOrEqual(36_000);
    expect(result.leaderGaps.count).toBe(exits.length);
    expect(result.safetyViolations + result.livenessViolations).toBe(0);
  });

  it('the restart budget spent: the supervisor releases and exits 77, and the watchdog respawns it at once', async () => {
    const { events, result } = await play(realMechanics('[{ kind: supervisor, maxRestarts: 3/1h }]'));
    const finished = of(events, 'supervisor-finished');
    expect(finished.length).toBeGreaterThan(0);
    for (const f of finished) expect(f.data).toEqual({ outcome: 'restart-limit', exit: 77 });
    expect(result.respawns).toBe(finished.length);
    // Released, so the watchdog respawns at its next check: the lease is never older than ttl + grace then.
    for (const r of of(events, 'respawn')) expect(r.data?.holder).toBeNull();
  });

  it('keep-awake reaches 0 too, at the cost of an action per minute; a host that ends sessions at a maximum lifetime defeats it, not the supervisor', async () => {
    const lifetime = 'session: { idleAfter: 5m..8m, idleEffect: exit, maxLifetime: 1h..2h }';
    const plain = (await play(realMechanics('[keep-awake]'))).result;
    expect(plain.respawns).toBe(0);
    expect(plain.keepAwakeActions).toBeGreaterThan(300);
    const awake = (await play(realMechanics('[keep-awake]', lifetime))).result;
    const supervised = (await play(realMechanics('[supervisor]', lifetime))).result;
    expect(awake.respawns).toBeGreaterThan(0);
    expect(supervised.respawns).toBe(0);
    expect(supervised.keepAwakeActions).toBe(0);
  });
});

describe('the reaper of a frozen supervisor (as src/cli/reaper-main.ts)', () => {
  it('a machine stall past the renew deadline: the session is stopped before the lease can pass on, no split brain', async () => {
    // The stall blocks the session and the supervisor for 4 min; the seed's watchdog kills the
    // stale supervisor and a new one takes the expired lease. The reaper stopped the old session at
    // the renew deadline of the last check-in (SIGKILL after the 10 s kill grace), before that.
    const { events, result } = await play('faults: [{ kind: stall, target: machine, at: 30m, for: 4m }]', '[supervisor]');
    const silent = of(events, 'keeper-silent');
    expect(silent.length).toBe(1);
    const stallAt = 30 * 60_000;
    expect(silent[0]?.t).toBeGreaterThan(stallAt);
    expect(silent[0]?.t).toBeLessThanOrEqual(stallAt + 120_000);
    const firstSessionEnd = of(events, 'exit').find((e) => e.actor === 'orch-1');
    const successor = of(events, 'acquire').find((e) => e.data?.ok === true && e.actor !== 'sup-1');
    expect(successor).toBeDefined();
    expect(firstSessionEnd?.t).toBeLessThan(successor?.t ?? 0);
    expect(result.splitBrains).toBe(0);
    expect(result.staleActions).toBe(0);
  });
});

