import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, normalize } from 'node:path';
import { formatDurationMs, parseDurationMs } from '../../src/duration.js';
import { EXIT, UsageError } from '../cli/errors.js';
import type { OverrideOptions } from '../cli/overrides.js';
import { checkBudget, parseBudget } from '../cli/guards.js';
import type { MainIo } from '../../src/cli/io.js';
import { playScenarios } from '../cli/play-scenarios.js';
import { loadAll } from '../cli/run-command.js';
import { withRunPool, workerCount } from '../cli/workers.js';
import type { ExploreResult } from '../explore/explore.js';
import type { RunPool } from '../parallel/pool.js';
import type { Scenario, StrategySpec } from '../scenario/types.js';
import { pickIncidents } from './models.js';
import type { BuiltReport, ExploreSummary, ReportInput, ValidationExtras } from './report-types.js';
import { DEFAULT_EXPLORE_RUNS, DEFAULT_REPORT } from './report-defaults.js';

export { DEFAULT_REPORT };

export type { ExploreSummary, ValidationExtras } from './report-types.js';

/** The chart's file name; it is written beside the markdown. */
export const CHART_FILE = 'lease-age.svg';

export interface ReportCommandOptions extends OverrideOptions {
  readonly output?: string;
  readonly check?: boolean;
  /** Schedules `sim explore` checks per explored strategy; 0 leaves exploration out. */
  readonly exploreRuns?: string;
  /** Worker threads that play the runs (see `workerCount`). */
  readonly workers?: string;
  /** Size guard in run-hours (see `guards.ts`). */
  readonly budget?: string;
}

/** Simulated length of each explored schedule in the report (keeps the report's budget fixed). */
export const REPORT_EXPLORE_DURATION_MS = 6 * 3_600_000;

/**
 * The report's exploration budget: for every scenario with faults, its first strategy (the
 * shipped keeper, by convention) and any deliberately broken `naive-worker` canary.
 */
async function exploreForReport(scenarios: readonly Scenario[], runs: number, pool: RunPool | undefined): Promise<ExploreSummary[]> {
  // Every explore() is independent and fixed by its seed: with a pool they all run at once, gathered in order.
  const checks: Array<Promise<ExploreSummary>> = [];
  for (const scenario of scenarios) {
    if (scenario.faults.length === 0) continue;
    const picked = scenario.strategies.filter((s, i) => i === 0 || s.kind === 'naive-worker');
    const bounded = { ...scenario, durationMs: Math.min(scenario.durationMs, REPORT_EXPLORE_DURATION_MS) };
    for (const strategy of picked) {
      const options = { runs, seed: scenario.seed, strategy };
      // fast-check loads in this thread only when the checks run here.
      const check = pool === undefined ? import('../explore/explore.js').then(({ explore }) => explore(bounded, options)) : pool.explore({ scenario: bounded, options });
      checks.push(check.then((result) => exploreSummary(scenario, strategy, bounded.durationMs, result)));
      // In this thread, one after another (as before).
      if (pool === undefined) await checks[checks.length - 1];
    }
  }
  return Promise.all(checks);
}

function exploreSummary(scenario: Scenario, strategy: StrategySpec, durationMs: number, result: ExploreResult): ExploreSummary {
  const v = result.failure?.violation;
  return {
    scenario: scenario.name,
    strategy: strategy.name,
    durationMs,
    runs: result.runs,
    failures: v === undefined ? 0 : 1,
    seed: result.seed,
    ...(v === undefined ? {} : { violation: `${v.check}: ${v.detail}` }),
  };
}

export interface GeneratedReport extends BuiltReport {
  readonly markdownPath: string;
  readonly svgPath: string;
}

/** The overrides as they will be printed in the reproduce commands (already validated by `loadAll`). */
function overrideArgs(options: OverrideOptions): string[] {
  const args: string[] = [];
  if (options.seed !== undefined) args.push('--seed', String(Number(options.seed)));
  if (options.runs !== undefined) args.push('--runs', String(Number(options.runs)));
  if (options.duration !== undefined) args.push('--duration', formatDurationMs(parseDurationMs(options.duration) as number));
  return args;
}

/**
 * Runs every scenario once (tracing run 0 of the models' incidents, the traces the report reads)
 * and builds the report in memory. Input errors (files, overrides, size, output path) are thrown
 * before any run.
 */
export async function generateReport(
  files: readonly string[],
  options: ReportCommandOptions,
  io: MainIo,
  extras?: ValidationExtras,
): Promise<GeneratedReport> {
  const output = normalize(options.output ?? DEFAULT_REPORT);
  if (options.output !== undefined && options.output.trim() === '') throw new UsageError('--output: expected a file path, got ""');
  if (basename(output) === CHART_FILE) throw new UsageError(`--output: ${JSON.stringify(options.output)} is the chart's own name; choose another file name`);
  if (files.length === 0) throw new UsageError('report: no scenario files given and none found in scenarios/');
  const budget = parseBudget(options.budget);
  const scenarios = await loadAll(files, options);
  for (const scenario of scenarios) checkBudget(scenario, budget);
  const exploreRuns = parseExploreRuns(options.exploreRuns);
  const incidents = new Set(pickIncidents(scenarios, (scenario) => scenario).map(({ item }) => item));
  const { inputs, explored, buildReport } = await withRunPool(workerCount(options.workers, scenarios), async (pool) => {
    // With a pool, the explore checks (the longest tasks) are queued first, every run behind them.
    const exploring = exploreRuns === 0 ? undefined : exploreForReport(scenarios, exploreRuns, pool);
    if (pool === undefined) await exploring;
    else exploring?.catch(() => undefined); // a failure is thrown below, after the runs; not an unhandled rejection meanwhile
    const playing = playScenarios(scenarios, { pool, traceRun: 0, traced: (scenario) => incidents.has(scenario), io, showProgress: io.isTTY });
    playing.catch(() => undefined); // thrown below, after the import
    // The report's own modules load while the pool plays the runs.
    const { buildReport: build } = await import('./build-report.js');
    const reports = await playing;
    return { inputs: scenarios.map((scenario, i): ReportInput => ({ scenario, report: reports[i] as ReportInput['report'] })), explored: await exploring, buildReport: build };
  });
  // Without a scenario that has faults there is nothing to explore: the section says so.
  const allExtras: ValidationExtras | undefined = extras ?? (explored === undefined || explored.length === 0 ? undefined : { explore: explored });
  const svgPath = join(dirname(output), CHART_FILE);
  const built = buildReport(inputs, {
    output,
    defaultOutput: output === normalize(DEFAULT_REPORT),
    chartHref: CHART_FILE,
    overrideArgs: overrideArgs(options),
    ...(allExtras === undefined ? {} : { extras: allExtras }),
  });
  return { ...built, markdownPath: output, svgPath };
}

function parseExploreRuns(text: string | undefined): number {
  if (text === undefined) return 0;
  if (!/^\d+$/.test(text)) throw new UsageError(`--explore-runs: expected a whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

async function readOrNull(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
  }
}

/** The command that rewrites what `--check` found stale: the same files, overrides and output. */
function regenerateCommand(files: readonly string[], options: ReportCommandOptions, markdownPath: string): string {
  const args = ['sim report', ...files, ...overrideArgs(options)];
  const exploreRuns = parseExploreRuns(options.exploreRuns);
  if (exploreRuns !== DEFAULT_EXPLORE_RUNS) args.push('--explore-runs', String(exploreRuns));
  if (markdownPath !== normalize(DEFAULT_REPORT)) args.push('-o', markdownPath);
  return args.join(' ');
}

/**
 * `sim report [FILE...]`: writes the markdown report and its chart; with `--check`, writes
 * nothing and exits 1 naming each file that differs from a fresh run.
 */
export async function reportCommand(
  files: readonly string[],
  options: ReportCommandOptions,
  io: MainIo,
  extras?: ValidationExtras,
): Promise<number> {
  const report = await generateReport(files, options, io, extras);
  const outputs: Array<[string, string]> = [
    [report.markdownPath, report.markdown],
    [report.svgPath, report.svg],
  ];
  if (options.check) {
    let stale = 0;
    for (const [path, text] of outputs) {
      const onDisk = await readOrNull(path);
      if (onDisk === text) continue;
      stale += 1;
      io.err(`sim report: ${path} ${onDisk === null ? 'is missing' : 'differs from a fresh run'}\n`);
    }
    if (stale > 0) {
      io.err(`sim report: regenerate with: ${regenerateCommand(files, options, report.markdownPath)}\n`);
      return EXIT.targetFailed;
    }
    io.out(`sim report: ${report.markdownPath} and ${report.svgPath} are up to date\n`);
    return EXIT.ok;
  }
  try {
    await mkdir(dirname(report.markdownPath), { recursive: true });
    for (const [path, text] of outputs) await writeFile(path, text);
  } catch (error) {
    throw new UsageError(`cannot write the report: ${(error as Error).message}`);
  }
  io.out(`sim report: wrote ${report.markdownPath} and ${report.svgPath}\n`);
  return EXIT.ok;
}
