import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { explore, checkSchedule } from '../../../sim/explore/explore.js';
import { scheduleArbitrary } from '../../../sim/explore/schedule-arbitrary.js';
import { loadScenarioFile, parseScenario } from '../../../sim/scenario/load-scenario.js';
import type { Scenario, StrategySpec } from '../../../sim/scenario/types.js';

/** Fixed budget per CI run: schedules × simulated hours. */
const BUDGET = { runs: 60, durationMs: 4 * 3_600_000 };

async function partition(): Promise<Scenario> {
  const s = await loadScenarioFile('scenarios/chaos-partition.yaml');
  return { ...s, durationMs: BUDGET.durationMs };
}

function strategy(s: Scenario, name: string): StrategySpec {
  const found = s.strategies.find((x) => x.name === name);
  if (found === undefined) throw new Error(`no strategy ${name}`);
  return found;
}

describe('sim explore', () => {
  it('finds a split-brain in the broken keeper and shrinks it to a replayable minimal scenario', async () => {
    const s = await partition();
    const result = await explore(s, { runs: BUDGET.runs, seed: 107, strategy: strategy(s, 'naive-worker') });
    expect(result.failure).toBeDefined();
    const failure = result.failure!;
    expect(['split-brain', 'stale-action']).toContain(failure.violation.check);
    expect(failure.shrinks).toBeGreaterThan(0);
    // The printed scenario is valid input and replays the same violation.
    const replayed = parseScenario(failure.yaml, 'minimal.yaml');
    expect(replayed.faults.length).toBeLessThanOrEqual(failure.schedule.faults.length);
    const rerun = await checkSchedule(replayed, replayed.strategies[0]!, { seed: replayed.seed, faults: replayed.faults });
    expect(rerun.safetyViolations).toBeGreaterThan(0);
    // Replaying with the printed seed and path finds the same minimal schedule.
    const again = await explore(s, { runs: BUDGET.runs, seed: failure.seed, path: failure.path, strategy: strategy(s, 'naive-worker') });
    expect(again.failure?.yaml).toBe(failure.yaml);
    // The command in the scenario's comment is that replay: with the duration explored, not the file's.
    expect(failure.yaml).toContain(`sim explore scenarios/chaos-partition.yaml --strategy naive-worker --duration 4h --seed ${failure.seed} --path ${failure.path}\n`);
    // A path that leads nowhere here is bad input (exit 2 in the CLI), not a crash inside fast-check.
    const lost = explore(s, { runs: BUDGET.runs, seed: failure.seed, path: `${failure.path}:99:99:99`, strategy: strategy(s, 'naive-worker') });
    await expect(lost).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringMatching(/^path [\d:]+ does not replay a schedule of chaos-partition \(4h, strategy naive-worker, seed 107\)/) });
  });

  it('finds no violation of the shipped keeper (sidecar) in the same budget', async () => {
    const s = await partition();
    const result = await explore(s, { runs: BUDGET.runs, seed: 107, strategy: strategy(s, 'sidecar') });
    expect(result.runs).toBe(BUDGET.runs);
    expect(result.failure).toBeUndefined();
  });

  it('property: the worker-thread keeper stays safe under mixed chaos schedules', async () => {
    const s = { ...(await loadScenarioFile('scenarios/chaos-mixed.yaml')), durationMs: BUDGET.durationMs };
    const worker = strategy(s, 'worker');
    // fc.assert prints the seed and the path that replay a failure.
    await fc.assert(
      fc.asyncProperty(scheduleArbitrary(s), async (schedule) => {
        const result = await checkSchedule(s, worker, schedule);
        expect(result.safetyViolations).toBe(0);
      }),
      { numRuns: 40, seed: 20261125 },
    );
  });

  it('generates schedules inside the scenario’s bounds', () => {
    const s = parseScenario(
      `name: b
seed: 1
duration: 2h
lease: { ttl: 180s }
heartbeat: { interval: 60s }
session: { idleAfter: 5m..8m }
watchdog: { interval: 30s }
faults:
  - { kind: stall, every: 30m, for: 10s..20s }
  - { kind: store-outage, at: 1h..90m, for: 1m }
strategies: [sidecar]
`,
      'b.yaml',
    );
    fc.assert(
      fc.property(scheduleArbitrary(s), (schedule) => {
        const stalls = schedule.faults.filter((f) => f.kind === 'stall');
        const outages = schedule.faults.filter((f) => f.kind === 'store-outage');
        expect(stalls.length).toBeLessThanOrEqual(4);
        expect(outages.length).toBeLessThanOrEqual(1);
        for (const f of stalls) expect(f.for.minMs).toBeGreaterThanOrEqual(10_000);
        for (const f of stalls) expect(f.for.maxMs).toBeLessThanOrEqual(20_000);
        for (const f of outages) expect(f.at!.minMs).toBeGreaterThanOrEqual(3_600_000);
        for (const f of outages) expect(f.at!.minMs).toBeLessThanOrEqual(5_400_000);
      }),
      { numRuns: 200, seed: 1 },
    );
  });
});
