import { describe, expect, it } from 'vitest';
import { playScenarios } from '../../../sim/cli/play-scenarios.js';
import { loadAll } from '../../../sim/cli/run-command.js';
import type { RunPool } from '../../../sim/parallel/pool.js';
import { runOne, type RunJob, type RunOutput } from '../../../sim/run-scenario.js';

const quiet = { out: () => {}, err: () => {}, isTTY: false };

/**
 * A pool that plays in this thread, in the worst order for a result that leaks its schedule:
 * it waits until nothing more is queued (a macrotask turn), plays the queued runs last-queued
 * first, and hands the outputs back in that reversed order too. `batches` is how many runs were
 * queued before each first play: one batch holding every run means no scenario waited for another.
 */
function reversingPool(): { pool: RunPool; batches: number[] } {
  const batches: number[] = [];
  const held: Array<{ job: RunJob; resolve: (output: RunOutput) => void; reject: (error: unknown) => void }> = [];
  let flushing = false;
  const flush = async (): Promise<void> => {
    const batch = held.splice(0).reverse();
    batches.push(batch.length);
    const outputs: RunOutput[] = [];
    for (const task of batch) outputs.push(await runOne(task.job));
    batch.forEach((task, i) => task.resolve(outputs[i] as RunOutput));
    flushing = false;
    if (held.length > 0) schedule();
  };
  const schedule = (): void => {
    if (flushing) return;
    flushing = true;
    setImmediate(() => void flush());
  };
  const pool: RunPool = {
    workers: 1,
    execute: (job) =>
      new Promise((resolve, reject) => {
        held.push({ job, resolve, reject });
        schedule();
      }),
    explore: () => Promise.reject(new Error('not used')),
    close: async () => {},
  };
  return { pool, batches };
}

describe('playScenarios: one queue for every run of every scenario', () => {
  const files = ['scenarios/idle.yaml', 'scenarios/crash.yaml', 'scenarios/freeze.yaml'];
  const overrides = { duration: '1h', runs: '2' };

  it('queues every run before the first plays, and gives the same reports as in this thread, whatever the order runs end in', async () => {
    const scenarios = await loadAll(files, overrides);
    const traced = (scenario: { name: string }): boolean => scenario.name !== 'crash';
    const inThread = await playScenarios(scenarios, { pool: undefined, traceRun: 1, traced, io: quiet, showProgress: false });
    const { pool, batches } = reversingPool();
    const pooled = await playScenarios(scenarios, { pool, traceRun: 1, traced, io: quiet, showProgress: false });
    const total = scenarios.reduce((sum, s) => sum + s.runs * s.strategies.length, 0);
    expect(batches).toEqual([total]);
    expect(JSON.stringify(pooled)).toBe(JSON.stringify(inThread));
    expect(pooled.map((r) => r.scenario)).toEqual(['idle', 'crash', 'freeze']);
    // Only the picked scenarios carry the trace, one per strategy.
    expect(pooled.map((r) => r.traces.length)).toEqual([scenarios[0]?.strategies.length, 0, scenarios[2]?.strategies.length]);
    expect(pooled[0]?.traces[0]?.events.length).toBeGreaterThan(0);
  });

  it('a failing run rejects the play (and leaves no unhandled rejection behind)', async () => {
    const scenarios = await loadAll(files, overrides);
    const { pool } = reversingPool();
    const failing: RunPool = { ...pool, execute: (job) => (job.scenario.name === 'freeze' && job.run === 1 ? Promise.reject(new Error('run failed')) : pool.execute(job)) };
    await expect(playScenarios(scenarios, { pool: failing, io: quiet, showProgress: false })).rejects.toThrow('run failed');
  });
});
