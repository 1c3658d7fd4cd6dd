import { describe, expect, it } from 'vitest';
import { World } from '../../../sim/world.js';
import { incident } from '../../support/scenario.js';

async function traceOf(extra: string, strategies = '[baseline]', durationMs = 3_600_000) {
  const scenario = { ...incident(extra, strategies), durationMs };
  const world = new World({ scenario, strategy: scenario.strategies[0]!, run: 0, trace: true });
  const result = await world.run();
  return { world, result, events: world.trace.events };
}

describe('SessionHost', () => {
  it('idles the first session within idleAfter of its start and clears its timers', async () => {
    const { events } = await traceOf('');
    const idle = events.find((e) => e.kind === 'session-idle');
    expect(idle).toBeDefined();
    expect(idle!.t).toBeGreaterThanOrEqual(300_000);
    expect(idle!.t).toBeLessThanOrEqual(480_000);
    expect(idle!.data).toMatchObject({ effect: 'clear-timers', cause: 'quiet' });
    // The baseline's heartbeat interval was among the cleared timers: no renewal after the idle.
    const renewals = events.filter((e) => e.kind === 'renew' && e.actor === 'orch-1');
    expect(renewals.length).toBeGreaterThanOrEqual(4);
    expect(renewals.filter((e) => e.t > idle!.t)).toEqual([]);
  });

  it('work keeps a session awake: with frequent work it never idles', async () => {
    const scenario = { ...incident(''), durationMs: 3_600_000 };
    const s = { ...scenario, session: { ...scenario.session, workArrivalsPerHour: 600, workDuration: { minMs: 1000, maxMs: 1000 } } };
    const world = new World({ scenario: s, strategy: s.strategies[0]!, run: 0, trace: true });
    const result = await world.run();
    expect(world.trace.events.some((e) => e.kind === 'session-idle')).toBe(false);
    expect(world.trace.events.filter((e) => e.kind === 'leader-action').length).toBeGreaterThan(300);
    expect(result.respawns).toBe(0);
  });

  it('freeze stops the whole process until work arrives', async () => {
    const scenario = { ...incident('', '[worker]'), durationMs: 3_600_000 };
    const s = { ...scenario, session: { ...scenario.session, idleEffect: 'freeze' as const } };
    const world = new World({ scenario: s, strategy: s.strategies[0]!, run: 0, trace: true });
    const result = await world.run();
    const idle = world.trace.events.find((e) => e.kind === 'session-idle');
    expect(idle?.data).toMatchObject({ effect: 'freeze' });
    // The keeper thread froze with the process: its lease ran out and the watchdog respawned.
    expect(result.respawns).toBeGreaterThan(0);
  });

  it('stall blocks the event loop for stallFor, then the session goes on', async () => {
    const scenario = { ...incident(''), durationMs: 3_600_000 };
    const s = {
      ...scenario,
      session: { ...scenario.session, idleEffect: 'stall' as const, stallFor: { minMs: 20_000, maxMs: 20_000 } },
    };
    const world = new World({ scenario: s, strategy: s.strategies[0]!, run: 0, trace: true });
    const result = await world.run();
    const stalls = world.trace.events.filter((e) => e.kind === 'session-stall');
    expect(stalls.length).toBeGreaterThan(3);
    expect(stalls[0]!.data).toMatchObject({ forMs: 20_000 });
    // A 20 s stall delays heartbeats but never past TTL: no respawn.
    expect(result.respawns).toBe(0);
  });

  it('maxLifetime idles a busy session anyway', async () => {
    const scenario = { ...incident('', '[keep-awake]'), durationMs: 3_600_000 };
    const s = { ...scenario, session: { ...scenario.session, maxLifetime: { minMs: 600_000, maxMs: 600_000 } } };
    const world = new World({ scenario: s, strategy: s.strategies[0]!, run: 0, trace: true });
    const result = await world.run();
    const idle = world.trace.events.find((e) => e.kind === 'session-idle');
    expect(idle).toMatchObject({ t: 600_000, data: { cause: 'max-lifetime' } });
    expect(result.respawns).toBeGreaterThan(0);
  });
});
