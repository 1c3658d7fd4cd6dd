/**
 * The `sim` CLI's contracts from the user's side: bad paths and options are refused with exit 2
 * and one line before any simulated run (a long run stands in for "work": if a check came after
 * it, the test would time out), one `--json` shape, YAML metric names, a size guard, a table
 * that fits 100 columns, and no raw control characters on the terminal.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main as keeperMain } from '../../../src/cli/keeper-main.js';
import { DEFAULT_BUDGET_RUN_HOURS, runHours } from '../../../sim/cli/guards.js';
import { defaultScenarioFiles } from '../../../sim/cli/main.js';
import { loadScenarioFile } from '../../../sim/scenario/load-scenario.js';
import { runCli, runMain } from '../../support/run-cli.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const SHORT = ['--duration', '2h', '--runs', '2'];
/** A run that would take minutes: it must never start in a test that expects a refusal. */
const LONG = ['--duration', '2000h', '--budget', '100000000'];
const NO_STACK = /\n\s+at .*:\d+/;

const made: string[] = [];
afterEach(async () => {
  process.chdir(ROOT);
  for (const dir of made.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sim-contracts-'));
  made.push(dir);
  return dir;
}

function refused(result: { code: number; stdout: string; stderr: string }, message: RegExp): void {
  expect(result.stderr).toMatch(message);
  expect(result.stderr).not.toMatch(NO_STACK);
  expect(result.stdout).toBe('');
  expect(result.code).toBe(2);
}

describe('outside the repository', () => {
  it('gate and report without files exit 2 naming what to pass, not an ENOENT stack', async () => {
    process.chdir(await tempDir());
    refused(await runCli(['gate']), /^sim: no scenarios\/ directory here .*name the scenario files/);
    refused(await runCli(['report']), /^sim: no scenarios\/ directory here/);
  });
});

describe('mistakes in options', () => {
  it('read like every other refusal: one "sim:" line (the parser\'s own name the subcommand\'s help), exit 2', async () => {
    refused(await runCli(['run', '--bogus', 'scenarios/idle.yaml']), /^sim: unknown option '--bogus' \(see sim run --help\)\n$/);
    refused(await runCli(['gate', '--log-level', 'loud']), /^sim: option '--log-level <level>' argument 'loud' is invalid\..* \(see sim gate --help\)\n$/);
    refused(await runCli(['run']), /^sim: missing required argument 'file' \(see sim run --help\)\n$/);
    refused(await runCli(['nosuch']), /^sim: unknown command 'nosuch' \(see sim --help\)\n$/);
    refused(await runCli(['run', 'scenarios/idle.yaml', '--duration', '0s']), /^sim: --duration: expected a duration > 0, got "0s"\n$/);
    refused(await runCli(['run', 'scenarios/idle.yaml', '--duration', 'soon']), /^sim: --duration: expected a duration such as 180s, 5m, 24h, got "soon"\n$/);
  });
});

describe('output paths are checked before any run', () => {
  it('--trace into a missing directory', async () => {
    const missing = join(await tempDir(), 'nope', 'trace.jsonl');
    refused(await runCli(['run', 'scenarios/idle.yaml', ...LONG, '--trace', missing]), /^sim: --trace: the directory .*nope" does not exist/);
  });

  it('explore --out into a missing directory', async () => {
    const missing = join(await tempDir(), 'nope', 'min.yaml');
    refused(
      await runCli(['explore', 'scenarios/chaos-partition.yaml', '--runs', '100000', ...LONG, '--out', missing]),
      /^sim: --out: the directory .*nope" does not exist/,
    );
  });

  it('report -o onto an input scenario is refused and the scenario is untouched', async () => {
    const dir = await tempDir();
    const file = join(dir, 'mine.yaml');
    const text = await readFile('test/fixtures/scenarios/unreachable-target.yaml', 'utf8');
    await writeFile(file, text);
    refused(await runCli(['report', file, '-o', file, '--duration', '2000h']), /^sim: --output: .*mine\.yaml" is an input scenario/);
    expect(await readFile(file, 'utf8')).toBe(text);
    // The chart beside the markdown may not land on an input either.
    const chart = join(dir, 'lease-age.svg');
    await writeFile(chart, text);
    refused(await runCli(['report', chart, '-o', join(dir, 'report.md'), '--duration', '2000h']), /lease-age\.svg" is an input scenario/);
  });
});

describe('sim explore', () => {
  it('refuses a malformed --path', async () => {
    refused(await runCli(['explore', 'scenarios/chaos-partition.yaml', '--path', 'zz:!!']), /^sim: --path: expected the replay path .*"zz:!!"/);
  });

  it('prints a replay line with --duration that replays the same violation', async () => {
    const args = ['explore', 'scenarios/chaos-partition.yaml', '--strategy', 'naive-worker', '--duration', '6h', '--runs', '30'];
    const found = await runCli([...args, '--json']);
    expect(found.code).toBe(1);
    const doc = JSON.parse(found.stdout) as { failure: { replay: string; violation: { check: string; atMs: number } } };
    expect(doc.failure.replay).toMatch(/^sim explore scenarios\/chaos-partition\.yaml --strategy naive-worker --duration 6h --seed -?\d+ --path [\d:]+$/);
    const human = await runCli(args);
    expect(human.stdout).toContain(`  replay: ${doc.failure.replay}\n`);
    const replayed = await runCli([...doc.failure.replay.split(' ').slice(1), '--json']);
    expect(replayed.code).toBe(1);
    const again = JSON.parse(replayed.stdout) as typeof doc;
    expect(again.failure.violation).toEqual(doc.failure.violation);
  });
});

describe('--json and metric names', () => {
  it('has one shape for one file and for two', async () => {
    const one = JSON.parse((await runCli(['run', 'scenarios/idle.yaml', ...SHORT, '--json'])).stdout) as object;
    const two = JSON.parse((await runCli(['run', 'scenarios/idle.yaml', 'scenarios/restart.yaml', ...SHORT, '--json'])).stdout) as {
      scenarios: Array<{ scenario: string }>;
    };
    expect(Object.keys(one)).toEqual(Object.keys(two));
    expect(two.scenarios.map((s) => s.scenario)).toEqual(['idle', 'restart']);
  });

  it('names target metrics as the YAML does (leaderlessPerHour, not leaderlessMsPerHour)', async () => {
    const json = await runCli(['run', 'scenarios/idle.yaml', ...SHORT, '--json']);
    const metrics = (JSON.parse(json.stdout) as { scenarios: Array<{ targets: Array<{ metric: string }> }> }).scenarios[0]?.targets.map((t) => t.metric);
    expect(metrics).toContain('leaderlessPerHour');
    const gate = await runCli(['gate', 'scenarios/idle.yaml', ...SHORT, '--json']);
    const human = await runCli(['run', 'scenarios/idle.yaml', ...SHORT]);
    const gateTargets = (JSON.parse(gate.stdout) as { targets: Array<{ metric: string }> }).targets.map((t) => t.metric);
    for (const text of [JSON.stringify(metrics), JSON.stringify(gateTargets), human.stdout]) {
      expect(text).not.toMatch(/MsPerHour|failoverMaxMs|failoverP50Ms|minRenewalMarginMs/);
    }
    expect(human.stdout).toMatch(/│ leaderlessPerHour/);
  });
});

describe('--trace-run', () => {
  it('beyond the runs is refused before running', async () => {
    const file = join(await tempDir(), 'trace.jsonl');
    refused(await runCli(['run', 'scenarios/idle.yaml', '--runs', '2', '--duration', '2000h', '--budget', '100000000', '--trace', file, '--trace-run', '99']), /^sim: --trace-run: scenario idle has 2 runs \(0 to 1\), got 99/);
    expect(existsSync(file)).toBe(false);
    refused(await runCli(['run', 'scenarios/idle.yaml', ...SHORT, '--trace-run', '1']), /^sim: --trace-run: needs --trace/);
  });
});

describe('the size guard', () => {
  it('refuses a run far above the budget at once, saying how to override', async () => {
    const strategies = (await loadScenarioFile('scenarios/idle.yaml')).strategies.length;
    const huge = 20 * strategies * 400_000;
    refused(
      await runCli(['run', 'scenarios/idle.yaml', '--duration', '400000h']),
      new RegExp(`^sim: scenario idle: 20 runs × ${strategies} strategies × 400000h is ${huge} simulated run-hours, above the budget of 50000 .* --budget ${huge}$`, 'm'),
    );
    refused(await runCli(['run', 'scenarios/idle.yaml', '--duration', `${'9'.repeat(300)}h`]), /above the budget of 50000/);
    refused(await runCli(['explore', 'scenarios/chaos-partition.yaml', '--runs', '100000']), /100000 runs × 1 strategies × 12h is 1200000 simulated run-hours/);
    refused(await runCli(['run', 'scenarios/idle.yaml', ...SHORT, '--budget', '0']), /^sim: --budget: expected a positive integer/);
    refused(await runCli(['report', 'scenarios/idle.yaml', '-o', join(tmpdir(), 'r.md'), '--duration', '400000h']), /above the budget of 50000/);
  });

  it('--budget lets a run through, and every shipped scenario fits the default', async () => {
    // 2 runs × every strategy of idle.yaml × 2 h.
    const cost = 2 * (await loadScenarioFile('scenarios/idle.yaml')).strategies.length * 2;
    refused(await runCli(['run', 'scenarios/idle.yaml', ...SHORT, '--budget', String(cost - 1)]), new RegExp(`is ${cost} simulated run-hours, above the budget of ${cost - 1}`));
    expect((await runCli(['run', 'scenarios/idle.yaml', ...SHORT, '--budget', String(cost)])).code).toBe(0);
    for (const file of defaultScenarioFiles()) {
      expect(runHours(await loadScenarioFile(file)), file).toBeLessThanOrEqual(DEFAULT_BUDGET_RUN_HOURS);
    }
  });
});

describe('the table', () => {
  it('fits 100 columns by default for every shipped scenario; --wide shows every column', async () => {
    for (const file of defaultScenarioFiles()) {
      const { stdout } = await runCli(['run', file, '--duration', '1h', '--runs', '1']);
      const table = stdout.split('\n').filter((line) => /^[┌│├└]/.test(line));
      expect(table.length, `${file} printed no table`).toBeGreaterThan(0);
      expect(Math.max(...table.map((line) => [...line].length)), file).toBeLessThanOrEqual(100);
      const gate = await runCli(['gate', file, '--duration', '1h', '--runs', '1']);
      const gateTables = gate.stdout.split('\n').filter((line) => /^[┌│├└]/.test(line));
      expect(Math.max(...gateTables.map((line) => [...line].length)), file).toBeLessThanOrEqual(100);
    }
    const wide = await runCli(['run', 'scenarios/idle.yaml', '--duration', '1h', '--runs', '1', '--wide']);
    for (const column of ['store', 'wake-', 'keep-', 'min renew', 'split']) expect(wide.stdout).toContain(`│ ${column}`);
  });

  it('writes control characters in names as visible escapes', async () => {
    const dir = await tempDir();
    const file = join(dir, 'evil.yaml');
    const text = (await readFile('test/fixtures/scenarios/unreachable-target.yaml', 'utf8'))
      .replace('name: unreachable-target', 'name: "evil\\e]0;owned\\a\\e[2J"')
      .replace('strategies: [baseline]', 'strategies: [baseline, { kind: sidecar, name: "side\\e[31mcar" }]');
    await writeFile(file, text);
    for (const args of [['run', file], ['gate', file], ['run', file, '--wide']]) {
      const { stdout, stderr } = await runCli([...args, ...SHORT]);
      expect(stdout + stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
      expect(stdout).toContain('evil\\x1b]0;owned\\x07\\x1b[2J');
      if (args[0] === 'run') expect(stdout).toContain('side\\x1b[31mcar');
    }
  });
});

describe('--version', () => {
  it('prints the package version on both CLIs', async () => {
    const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(await runCli(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    expect(await runMain(keeperMain, 'keeper', ['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });
});
