import { writeFile } from 'node:fs/promises';
import { explore, type ExploreResult } from '../explore/explore.js';
import { EXIT, UsageError } from './errors.js';
import type { Output } from './run-command.js';
import { loadAll } from './run-command.js';

export interface ExploreCommandOptions {
  readonly runs?: string;
  readonly seed?: string;
  readonly path?: string;
  readonly strategy?: string;
  readonly duration?: string;
  readonly out?: string;
  readonly json?: boolean;
}

/** `sim explore FILE`: exit 0 when no schedule breaks a checker, 1 with the minimal one when one does. */
export async function exploreCommand(file: string, options: ExploreCommandOptions, io: Output): Promise<number> {
  const [scenario] = await loadAll([file], { duration: options.duration });
  if (scenario === undefined) throw new UsageError('explore: no scenario');
  const runs = Number(options.runs ?? '100');
  if (!/^\d+$/.test(options.runs ?? '100') || runs < 1) throw new UsageError(`--runs: expected a positive integer, got ${JSON.stringify(options.runs)}`);
  if (options.seed !== undefined && !/^-?\d+$/.test(options.seed)) throw new UsageError(`--seed: expected an integer, got ${JSON.stringify(options.seed)}`);
  const seed = options.seed === undefined ? scenario.seed : Number(options.seed);
  const name = options.strategy ?? scenario.strategies[0]?.name;
  const strategy = scenario.strategies.find((s) => s.name === name);
  if (strategy === undefined) {
    throw new UsageError(`--strategy: expected one of ${scenario.strategies.map((s) => s.name).join(', ')}, got ${JSON.stringify(name)}`);
  }
  if (scenario.faults.length === 0) throw new UsageError(`${file}: explore needs a scenario with faults to generate schedules from`);
  const result = await explore(scenario, { runs, seed, strategy, ...(options.path === undefined ? {} : { path: options.path }) });
  if (result.failure !== undefined && options.out !== undefined) await writeFile(options.out, result.failure.yaml);
  io.out(options.json ? `${JSON.stringify(exploreJson(result), null, 2)}\n` : formatExplore(result, file));
  return result.failure === undefined ? EXIT.ok : EXIT.targetFailed;
}

function exploreJson(result: ExploreResult): object {
  const f = result.failure;
  return {
    scenario: result.scenario,
    strategy: result.strategy,
    seed: result.seed,
    runs: result.runs,
    ok: f === undefined,
    failure: f === undefined ? null : { violation: f.violation, seed: f.seed, path: f.path, shrinks: f.shrinks, yaml: f.yaml },
  };
}

function formatExplore(result: ExploreResult, file: string): string {
  const f = result.failure;
  if (f === undefined) {
    return `explore ${result.scenario} · strategy ${result.strategy} · seed ${result.seed}: ${result.runs} schedules, no safety or liveness violation\n`;
  }
  return [
    `explore ${result.scenario} · strategy ${result.strategy}: violation after ${result.runs} schedules (shrunk ${f.shrinks} times)`,
    `  ${f.violation.check} at t=${f.violation.atMs} ms: ${f.violation.detail}`,
    `  replay: sim explore ${file} --strategy ${result.strategy} --seed ${f.seed} --path ${f.path}`,
    '  minimal schedule (save it and run it with `sim run`):',
    '',
    f.yaml,
  ].join('\n');
}
