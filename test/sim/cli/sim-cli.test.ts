import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../support/run-cli.js';

const SHORT = ['--duration', '3h', '--runs', '2'];

describe('sim run', () => {
  it('prints one table row per strategy and the targets, exit 0 when they hold', async () => {
    const { code, stdout, stderr } = await runCli(['run', 'scenarios/idle.yaml', ...SHORT]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/scenario idle \(scenarios\/idle\.yaml\) · seed 42 · 2 runs × 3h simulated/);
    for (const name of ['baseline', 'sidecar', 'worker', 'watchdog-loop:never-stopped', 'keep-awake']) expect(stdout).toContain(`│ ${name}`);
    expect(stdout).toMatch(/respawnsPerHour\s*│ >= 5 and <= 6\.5\s*│ [0-9.]+\s*│ ok/);
  });

  it('--json prints one document with the documented keys', async () => {
    const { code, stdout } = await runCli(['run', 'scenarios/idle.yaml', ...SHORT, '--json']);
    expect(code).toBe(0);
    const top = JSON.parse(stdout);
    expect(Object.keys(top)).toEqual(['ok', 'scenarios']);
    expect(top.scenarios).toHaveLength(1);
    const doc = top.scenarios[0];
    expect(top.ok).toBe(doc.ok);
    expect(Object.keys(doc)).toEqual(['scenario', 'file', 'seed', 'runs', 'durationHours', 'results', 'targets', 'ok']);
    expect(doc).toMatchObject({ scenario: 'idle', seed: 42, runs: 2, durationHours: 3 });
    const baseline = doc.results.find((r: { strategy: string }) => r.strategy === 'baseline');
    expect(baseline.respawnsPerHour).toBeGreaterThan(4);
    expect(baseline).toHaveProperty('respawnsPerHourP95');
    expect(doc.targets[0]).toEqual({
      strategy: 'baseline',
      metric: 'respawnsPerHour',
      expected: { min: 5, max: 6.5 },
      actual: baseline.respawnsPerHour,
      ok: baseline.respawnsPerHour >= 5 && baseline.respawnsPerHour <= 6.5,
    });
  });

  it('the real mechanics: lease age at respawn, leaderless in practice, session restarts in the table and --json', async () => {
    const args = ['run', 'scenarios/real-incident.yaml', '--duration', '3h', '--runs', '1'];
    const table = await runCli([...args, '--wide']);
    expect(table.stdout).toMatch(/lease age at/);
    // The default table stays within 100 columns with the longest strategy name.
    const compact = (await runCli(args)).stdout.split('\n').filter((line) => /^[┌│├└]/.test(line));
    expect(Math.max(...compact.map((line) => [...line].length))).toBeLessThanOrEqual(100);
    expect(table.stdout).toMatch(/in prac-/);
    const doc = JSON.parse((await runCli([...args, '--json'])).stdout).scenarios[0];
    const row = (name: string) => doc.results.find((r: { strategy: string }) => r.strategy === name);
    const ages = row('baseline').leaseAgeAtRespawnMs;
    expect(Object.keys(ages)).toEqual(['min', 'mean', 'max']);
    expect(ages.min).toBeGreaterThanOrEqual(210_000);
    expect(ages.max).toBeLessThan(271_000);
    expect(row('keep-awake').leaseAgeAtRespawnMs).toBeNull();
    // A loop renewing a dead leader's lease: valid lease, nobody working.
    expect(row('watchdog-loop:never-stopped').leaderlessInPracticeMsPerHour).toBeGreaterThan(2_400_000);
    expect(row('baseline').sessionRestartsPerHour).toBe(0);
  });

  it('exits 1 when a target fails', async () => {
    const { code, stdout } = await runCli(['run', 'test/fixtures/scenarios/unreachable-target.yaml']);
    expect(code).toBe(1);
    expect(stdout).toMatch(/FAIL/);
  });

  it('exits 2 with file:line:column and no stack trace on bad input', async () => {
    const { code, stderr, stdout } = await runCli(['run', 'test/fixtures/scenarios/bad-duration.yaml']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^sim: test\/fixtures\/scenarios\/bad-duration\.yaml:4:\d+: lease\.ttl: expected a duration/);
    expect(stderr).not.toMatch(/\bat .*\.(ts|js):\d+/);
  });

  it('exits 2 on a missing file and on bad overrides', async () => {
    expect((await runCli(['run', 'scenarios/nope.yaml'])).code).toBe(2);
    const bad = await runCli(['run', 'scenarios/idle.yaml', '--duration', '5x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--duration: expected a duration such as 180s/);
    expect((await runCli(['run', 'scenarios/idle.yaml', '--runs', '0'])).code).toBe(2);
    expect((await runCli(['run', 'scenarios/idle.yaml', '--seed', 'x'])).code).toBe(2);
  });

  it('exits 2 on an unknown command or option', async () => {
    expect((await runCli(['fly'])).code).toBe(2);
    expect((await runCli(['run', '--nope', 'scenarios/idle.yaml'])).code).toBe(2);
  });
});

describe('determinism', () => {
  async function runTraced(seed: string): Promise<{ json: string; trace: string }> {
    const dir = await mkdtemp(join(tmpdir(), 'sim-trace-'));
    const file = join(dir, 'trace.jsonl');
    const { stdout } = await runCli(['run', 'scenarios/idle.yaml', ...SHORT, '--json', '--seed', seed, '--trace', file]);
    return { json: stdout, trace: await readFile(file, 'utf8') };
  }

  it('same file and seed give byte-identical JSON and trace', async () => {
    const a = await runTraced('42');
    const b = await runTraced('42');
    expect(a.trace.length).toBeGreaterThan(1000);
    expect(b.json).toBe(a.json);
    expect(b.trace).toBe(a.trace);
  });

  it('another seed gives another trace', async () => {
    const a = await runTraced('42');
    const c = await runTraced('43');
    expect(c.trace).not.toBe(a.trace);
  });

  it('every trace line has simulated time, actor, kind and data', async () => {
    const { trace } = await runTraced('42');
    const lines = trace.trimEnd().split('\n').map((l) => JSON.parse(l));
    for (const line of lines.slice(0, 200)) {
      expect(Object.keys(line)).toEqual(['scenario', 'strategy', 't', 'actor', 'kind', 'data']);
      expect(typeof line.t).toBe('number');
    }
    const kinds = new Set(lines.map((l) => l.kind));
    for (const kind of ['spawn', 'acquire', 'renew', 'session-idle', 'respawn', 'exit']) expect(kinds).toContain(kind);
  });
});

describe('sim gate', () => {
  it('fails, naming the target, on a scenario the baseline cannot meet', async () => {
    const { code, stderr, stdout } = await runCli(['gate', 'test/fixtures/scenarios/unreachable-target.yaml']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/gate: FAIL unreachable-target baseline respawnsPerHour/);
    expect(stdout).toMatch(/0\/1 targets hold/);
  });

  it('passes on the shipped scenarios at reduced length', async () => {
    const { code, stdout } = await runCli(['gate', 'scenarios/idle.yaml', 'scenarios/restart.yaml', '--duration', '4h', '--runs', '2']);
    expect(stdout).toMatch(/targets hold across 2 scenarios/);
    expect(code).toBe(0);
  });
});
