import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { generateReport } from '../../../sim/report/report-command.js';
import { defaultWorkers, POOL_MIN_RUN_HOURS, workerCount } from '../../../sim/cli/workers.js';
import type { Scenario } from '../../../sim/scenario/types.js';
import { runCli } from '../../support/run-cli.js';

/** Only the fields the worker default reads. */
function sized(runs: number, strategies: number, hours: number): Scenario {
  return { runs, durationMs: hours * 3_600_000, strategies: Array.from({ length: strategies }, () => ({})) } as unknown as Scenario;
}

describe('--workers default: a pool only when the work pays for it', () => {
  it('stays in this thread below the threshold, uses one thread per CPU above it', () => {
    const small = sized(2, 4, 3); // 24 run-hours
    const big = sized(20, 8, 72); // 11 520 run-hours
    const single = sized(20, 10, 24); // 4 800 run-hours: idle.yaml's size
    expect(defaultWorkers([small], 2)).toBe(0);
    expect(defaultWorkers([big], 2)).toBe(2);
    expect(defaultWorkers([big], 8)).toBe(8);
    expect(defaultWorkers([single], 2)).toBe(0);
    // Several small scenarios add up (gate, report).
    expect(defaultWorkers(Array.from({ length: Math.ceil(POOL_MIN_RUN_HOURS / 24) }, () => small), 2)).toBe(2);
  });

  it('never starts more threads than runs, nor a pool on one CPU', () => {
    expect(defaultWorkers([sized(1, 2, 10_000)], 16)).toBe(2);
    expect(defaultWorkers([sized(20, 8, 72)], 1)).toBe(0);
  });

  it('an explicit count wins, 0 included; anything else is a usage error', () => {
    const big = [sized(20, 8, 72)];
    expect(workerCount('0', big, 2)).toBe(0);
    expect(workerCount('3', big, 2)).toBe(3);
    expect(workerCount(undefined, big, 2)).toBe(2);
    for (const bad of ['-1', '1.5', 'two', '257', '']) expect(() => workerCount(bad, big, 2)).toThrow(/--workers: expected an integer from 0 to 256/);
  });
});

describe('output does not depend on the worker count (pool threads run dist/: build first)', () => {
  const SHORT = ['--duration', '2h', '--runs', '3'];

  it('sim run --json and --trace: in this thread, 1 and 2 workers, and the default', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sim-workers-'));
    const outputs: string[] = [];
    const traces: string[] = [];
    for (const workers of [['--workers', '0'], ['--workers', '1'], ['--workers', '2'], []]) {
      const trace = join(dir, `trace-${outputs.length}.jsonl`);
      const { code, stdout, stderr } = await runCli(['run', 'scenarios/crash.yaml', 'scenarios/idle.yaml', ...SHORT, '--json', '--trace', trace, '--trace-run', '1', ...workers]);
      expect(stderr).toBe('');
      expect([0, 1]).toContain(code);
      outputs.push(stdout);
      traces.push(await readFile(trace, 'utf8'));
    }
    expect(traces[0]).not.toBe('');
    for (let i = 1; i < outputs.length; i++) {
      expect(outputs[i]).toBe(outputs[0]);
      expect(traces[i]).toBe(traces[0]);
    }
  });

  it('sim gate: the same tables and exit code with 0 and 2 workers', async () => {
    const one = await runCli(['gate', 'scenarios/idle.yaml', 'scenarios/freeze.yaml', ...SHORT, '--workers', '0']);
    const two = await runCli(['gate', 'scenarios/idle.yaml', 'scenarios/freeze.yaml', ...SHORT, '--workers', '2']);
    expect(two).toEqual(one);
  });

  it('sim report: the same markdown and chart with 0 and 2 workers, explore checks included', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sim-workers-report-'));
    const quiet = { out: () => {}, err: () => {}, isTTY: false };
    const files = ['scenarios/idle.yaml', 'scenarios/chaos-partition.yaml'];
    const options = { duration: '1h', runs: '2', exploreRuns: '3', output: join(dir, 'root-cause.md') };
    const inThread = await generateReport(files, { ...options, workers: '0' }, quiet);
    const pooled = await generateReport(files, { ...options, workers: '2' }, quiet);
    expect(inThread.markdown).toContain('chaos-partition');
    expect(pooled.markdown).toBe(inThread.markdown);
    expect(pooled.svg).toBe(inThread.svg);
  });
});

describe('a pooled sim run leaves the simulator to the pool threads (dist/: build first)', () => {
  /** Preloaded into `node bin/sim.js`: says on stderr, at exit, whether the main thread loaded fake-timers. */
  const PROBE =
    'data:text/javascript,import{createRequire}from"node:module";const c=createRequire("/").cache;' +
    'process.on("exit",()=>process.stderr.write("fake-timers loaded: "+Object.keys(c).some((k)=>k.includes("fake-timers"))))';

  it('loads fake-timers in the main thread only when the runs play there', async () => {
    const loaded = async (workers: string): Promise<string> => {
      const { stderr } = await promisify(execFile)(process.execPath, ['--import', PROBE, 'bin/sim.js', 'run', 'bench/fixtures/tiny.yaml', '--json', '--workers', workers]);
      return stderr;
    };
    expect(await loaded('0')).toBe('fake-timers loaded: true');
    expect(await loaded('1')).toBe('fake-timers loaded: false');
  });
});
