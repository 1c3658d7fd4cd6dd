import { describe, expect, it } from 'vitest';
import { World } from '../../../sim/world.js';
import type { TraceEvent } from '../../../sim/trace.js';
import { scenarioFrom } from '../../support/scenario.js';

/** One 1-hour run with one fault at 20 min (unless `fault` says otherwise). */
async function run(fault: string, strategy = 'sidecar', watchdog = '{ interval: 30s, grace: 30s, respawnDelay: 5s }') {
  const s = scenarioFrom(`name: f
seed: 3
duration: 1h
lease: { ttl: 180s }
heartbeat: { interval: 60s }
session: { idleAfter: 5m..8m, workload: { arrivalsPerHour: 120, duration: 1s } }
watchdog: ${watchdog}
faults:
  - ${fault}
strategies: [${strategy}]
`);
  const world = new World({ scenario: s, strategy: s.strategies[0]!, run: 0, trace: true });
  const result = await world.run();
  const events = world.trace.events;
  const find = (pred: (e: TraceEvent) => boolean) => events.filter(pred);
  return { world, result, events, find };
}

const AT = 1_200_000;

describe('fault library', () => {
  it('orchestrator-crash kills the orchestrator; the sidecar releases and a successor leads', async () => {
    const { result, find } = await run('{ kind: orchestrator-crash, at: 20m }');
    expect(result.crashes).toBe(1);
    expect(find((e) => e.actor === 'orch-1' && e.kind === 'exit')[0]?.t).toBe(AT);
    expect(find((e) => e.actor === 'orch-1/sidecar' && e.kind === 'release' && e.data?.ok === true)[0]!.t).toBeGreaterThanOrEqual(AT);
    expect(result.failoversMs[0]).toBeLessThan(60_000);
  });

  it('orchestrator-freeze longer than the TTL costs a worker-thread keeper its lease, not a sidecar', async () => {
    const worker = await run('{ kind: orchestrator-freeze, at: 20m, for: 5m }', 'worker');
    expect(worker.find((e) => e.kind === 'respawn').length).toBeGreaterThan(0);
    const sidecar = await run('{ kind: orchestrator-freeze, at: 20m, for: 5m }', 'sidecar');
    expect(sidecar.result.respawns).toBe(0);
    expect(sidecar.find((e) => e.kind === 'renew' && e.t > AT && e.t < AT + 300_000).length).toBeGreaterThan(2);
  });

  it('keeper-crash kills only the keeper: the lease expires, the orchestrator stops leading', async () => {
    const { find, result } = await run('{ kind: keeper-crash, at: 20m }');
    expect(find((e) => e.actor === 'orch-1-sidecar' && e.kind === 'exit')[0]?.t).toBe(AT);
    expect(find((e) => e.actor === 'orch-1' && e.kind === 'not-leading')[0]?.t).toBe(AT);
    expect(result.safetyViolations).toBe(0);
    expect(find((e) => e.kind === 'respawn').length).toBeGreaterThan(0);
  });

  it('a keeper stall longer than the TTL makes the keeper step down when it wakes', async () => {
    // A patient watchdog (grace 10 min) lets the stalled keeper wake up rather than be killed.
    const { find, result } = await run('{ kind: stall, target: keeper, at: 20m, for: 4m }', 'worker', '{ interval: 30s, grace: 10m }');
    const pause = find((e) => e.kind === 'pause')[0];
    // Queued callbacks run one fake-timer tick (1 ms) after the thread resumes.
    expect(pause!.t - (AT + 240_000)).toBeGreaterThanOrEqual(0);
    expect(pause!.t - (AT + 240_000)).toBeLessThan(10);
    expect((pause?.data?.lateMs as number) ?? 0).toBeGreaterThan(60_000);
    expect(find((e) => e.kind === 'step-down' && e.t >= AT + 240_000).length).toBeGreaterThan(0);
    expect(result.safetyViolations).toBe(0);
  });

  it('a forward clock jump on the keeper is taken as a pause: it steps down rather than trusting the lease', async () => {
    const { find } = await run('{ kind: clock-jump, target: keeper, at: 20m, by: 10m }', 'worker');
    const stepDown = find((e) => e.kind === 'step-down' && e.t >= AT)[0];
    expect(stepDown).toBeDefined();
    expect(stepDown!.t - AT).toBeLessThan(70_000);
  });

  it('clock drift changes how fast the target’s timers run', async () => {
    const fast = await run('{ kind: clock-drift, target: keeper, at: 0s, rate: 1.5 }', 'worker');
    const exact = await run('{ kind: store-latency, at: 0s, latency: 0s }', 'worker');
    const renewals = (r: typeof fast) => r.find((e) => e.kind === 'renew').length;
    expect(renewals(fast)).toBeGreaterThan(renewals(exact) * 1.3);
  });

  it('store-latency delays every request by the added latency', async () => {
    const { find } = await run('{ kind: store-latency, at: 20m, for: 10m, latency: 5s }', 'worker');
    const during = find((e) => e.kind === 'renew' && e.t > AT && e.t < AT + 600_000);
    // Renewals are sent on a ~60 s grid from acquisition; with 5 s one way they land ≥ 5 s later.
    expect(during.length).toBeGreaterThan(0);
    const chaos = find((e) => e.kind === 'store-latency')[0];
    expect(chaos?.t).toBe(AT);
  });

  it('store-outage longer than the renew deadline makes the leader step down before its lease can expire', async () => {
    const { find, result } = await run('{ kind: store-outage, at: 20m, for: 4m }', 'worker');
    const stepDown = find((e) => e.kind === 'step-down' && e.t > AT)[0];
    expect(stepDown?.data).toEqual({ reason: 'renew-deadline' });
    const lastRenew = find((e) => e.kind === 'renew' && e.t <= AT).at(-1)!;
    expect(stepDown!.t).toBeLessThan(lastRenew.t + 180_000);
    expect(result.safetyViolations).toBe(0);
  });

  it('a partition of the keeper makes it step down; the store never saw a second holder meanwhile', async () => {
    const { find, result } = await run('{ kind: partition, target: keeper, at: 20m, for: 5m }', 'sidecar');
    expect(find((e) => e.kind === 'step-down' && e.t > AT)[0]?.data).toEqual({ reason: 'renew-deadline' });
    expect(result.splitBrains).toBe(0);
  });

  it('watchdog-restart orphans the running orchestrator', async () => {
    const { find } = await run('{ kind: watchdog-restart, at: 20m, for: 30s }', 'sidecar');
    expect(find((e) => e.kind === 'watchdog-down')[0]?.data).toMatchObject({ orphan: 'orch-1', forMs: 30_000 });
  });

  it('pid-reuse gives the dead orchestrator’s PID to an unrelated process; PID + start time is not fooled', async () => {
    const { find, result } = await run('{ kind: pid-reuse, at: 20m, for: 20m }', 'sidecar');
    const orchPid = find((e) => e.actor === 'orch-1' && e.kind === 'spawn')[0]?.data?.pid;
    expect(find((e) => e.actor === 'unrelated' && e.kind === 'spawn')[0]?.data?.pid).toBe(orchPid);
    expect(result.failoversMs[0]).toBeLessThan(60_000);
    const pidOnly = await run('{ kind: pid-reuse, at: 20m, for: 20m }', 'watchdog-loop:pid-checked');
    expect(pidOnly.result.zombieLeaseMs).toBeGreaterThan(600_000);
  });

  it('lease-corrupt fails every request without writing anything', async () => {
    const { find } = await run('{ kind: lease-corrupt, at: 20m, for: 4m }', 'worker');
    const writes = find((e) => ['acquire', 'renew', 'release'].includes(e.kind) && e.t > AT && e.t < AT + 240_000);
    expect(writes).toEqual([]);
    expect(find((e) => e.kind === 'step-down' && e.t > AT)[0]?.data).toEqual({ reason: 'renew-deadline' });
  });

  it('probability 0 never fires; repeating faults fire every period', async () => {
    const never = await run('{ kind: orchestrator-crash, every: 10m, probability: 0 }');
    expect(never.result.crashes).toBe(0);
    const every = await run('{ kind: store-latency, every: 10m, latency: 1s }');
    expect(every.find((e) => e.kind === 'store-latency').map((e) => e.t)).toEqual([600_000, 1_200_000, 1_800_000, 2_400_000, 3_000_000, 3_600_000]);
  });
});
