import { writeFile } from 'node:fs/promises';
import type { MainIo } from '../../src/cli/io.js';
import { escapeControl, escapeControlKeepLines } from '../../src/cli/escape.js';
import { formatDurationMs } from '../../src/duration.js';
import { explore, type ExploreResult } from '../explore/explore.js';
import { EXIT, UsageError } from './errors.js';
import { checkBudget, checkOutputPath, parseBudget } from './guards.js';
import { loadAll } from './run-command.js';

export interface ExploreCommandOptions {
  readonly runs?: string;
  readonly seed?: string;
  readonly path?: string;
  readonly strategy?: string;
  readonly duration?: string;
  readonly out?: string;
  readonly json?: boolean;
  readonly budget?: string;
}

/** A fast-check replay path: run indexes separated by colons (`12:0:3`). */
const REPLAY_PATH = /^\d{1,9}(?::\d{1,9}){0,9999}$/;

/** `sim explore FILE`: exit 0 when no schedule breaks a checker, 1 with the minimal one when one does. */
export async function exploreCommand(file: string, options: ExploreCommandOptions, io: MainIo): Promise<number> {
  const [scenario] = await loadAll([file], { duration: options.duration });
  if (scenario === undefined) throw new UsageError('explore: no scenario');
  const runs = Number(options.runs ?? '100');
  if (!/^\d+$/.test(options.runs ?? '100') || runs < 1 || !Number.isSafeInteger(runs)) throw new UsageError(`--runs: expected a positive integer, got ${JSON.stringify(options.runs)}`);
  if (options.seed !== undefined && !/^-?\d+$/.test(options.seed)) throw new UsageError(`--seed: expected an integer, got ${JSON.stringify(options.seed)}`);
  if (options.path !== undefined && !REPLAY_PATH.test(options.path)) {
    throw new UsageError(`--path: expected the replay path printed with a failure (numbers separated by colons, e.g. 12:0:3), got ${JSON.stringify(options.path)}`);
  }
  if (options.out !== undefined) checkOutputPath('--out', options.out);
  const seed = options.seed === undefined ? scenario.seed : Number(options.seed);
  const name = options.strategy ?? scenario.strategies[0]?.name;
  const strategy = scenario.strategies.find((s) => s.name === name);
  if (strategy === undefined) {
    throw new UsageError(`--strategy: expected one of ${scenario.strategies.map((s) => s.name).join(', ')}, got ${JSON.stringify(name)}`);
  }
  if (scenario.faults.length === 0) throw new UsageError(`${file}: explore needs a scenario with faults to generate schedules from`);
  // Each schedule is one run of one strategy.
  checkBudget({ ...scenario, runs }, parseBudget(options.budget), 1);
  const result = await explore(scenario, { runs, seed, strategy, ...(options.path === undefined ? {} : { path: options.path }) });
  if (result.failure !== undefined && options.out !== undefined) await writeFile(options.out, result.failure.yaml);
  const replay = `sim explore ${file} --strategy ${result.strategy} --duration ${formatDurationMs(scenario.durationMs)}`;
  io.out(options.json ? `${JSON.stringify(exploreJson(result, replay), null, 2)}\n` : formatExplore(result, replay));
  return result.failure === undefined ? EXIT.ok : EXIT.targetFailed;
}

function exploreJson(result: ExploreResult, replay: string): object {
  const f = result.failure;
  return {
    scenario: result.scenario,
    strategy: result.strategy,
    seed: result.seed,
    runs: result.runs,
    ok: f === undefined,
    failure:
      f === undefined
        ? null
        : { violation: f.violation, seed: f.seed, path: f.path, shrinks: f.shrinks, replay: `${replay} --seed ${f.seed} --path ${f.path}`, yaml: f.yaml },
  };
}

function formatExplore(result: ExploreResult, replay: string): string {
  const f = result.failure;
  const name = escapeControl(result.scenario);
  const strategy = escapeControl(result.strategy);
  if (f === undefined) {
    return `explore ${name} · strategy ${strategy} · seed ${result.seed}: ${result.runs} schedules, no safety or liveness violation\n`;
  }
  return [
    `explore ${name} · strategy ${strategy}: violation after ${result.runs} schedules (shrunk ${f.shrinks} times)`,
    `  ${f.violation.check} at t=${formatDurationMs(f.violation.atMs)}: ${escapeControl(f.violation.detail)}`,
    `  replay: ${escapeControl(replay)} --seed ${f.seed} --path ${f.path}`,
    '  minimal schedule (save it and run it with `sim run`):',
    '',
    escapeControlKeepLines(f.yaml),
  ].join('\n');
}
