import { writeFile } from 'node:fs/promises';
import type { MainIo } from '../../src/cli/io.js';
import { escapeControl } from '../../src/cli/escape.js';
import type { LogLevel } from '../../src/logger.js';
import type { ScenarioReport } from '../run-scenario.js';
import { loadScenarioFile } from '../scenario/load-scenario.js';
import type { Scenario } from '../scenario/types.js';
import { EXIT, UsageError } from './errors.js';
import { formatReport, formatTargets, reportJson, targetName } from './format.js';
import { checkBudget, checkOutputPath, checkTraceRun, parseBudget } from './guards.js';
import { parseOverrides, type OverrideOptions } from './overrides.js';
import { playScenarios } from './play-scenarios.js';
import { withRunPool, workerCount } from './workers.js';

export interface RunCommandOptions extends OverrideOptions {
  readonly json?: boolean;
  readonly trace?: string;
  readonly traceRun?: string;
  readonly logLevel?: LogLevel;
  /** Worker threads that play the runs; 0: in this thread; absent: see `workerCount`. */
  readonly workers?: string;
  /** Print every column of the run table (default: the columns that fit 100 columns). */
  readonly wide?: boolean;
  /** Size guard in run-hours (see `guards.ts`). */
  readonly budget?: string;
}

/** Loads every file first (all input errors before any run), then applies the overrides. */
export async function loadAll(files: readonly string[], options: OverrideOptions): Promise<Scenario[]> {
  const override = parseOverrides(options);
  const scenarios: Scenario[] = [];
  for (const file of files) scenarios.push(override(await loadScenarioFile(file)));
  return scenarios;
}

/** Every check that needs no run: options, output paths, trace run, size. Throws `UsageError`. */
function checkBeforeRuns(scenarios: readonly Scenario[], options: RunCommandOptions): void {
  const budget = parseBudget(options.budget);
  workerCount(options.workers, scenarios);
  if (options.trace === undefined && options.traceRun !== undefined) throw new UsageError('--trace-run: needs --trace FILE to write the trace to');
  if (options.trace !== undefined) {
    checkOutputPath('--trace', options.trace);
    checkTraceRun(traceRunIndex(options.traceRun), scenarios);
  }
  for (const scenario of scenarios) checkBudget(scenario, budget);
}

function traceRunIndex(text: string | undefined): number {
  if (text === undefined) return 0;
  if (!/^\d+$/.test(text)) throw new UsageError(`--trace-run: expected a run index (0, 1, …), got ${JSON.stringify(text)}`);
  return Number(text);
}

/** Runs scenarios; returns the reports in file order. Results do not depend on `--workers`. */
export async function runAll(scenarios: readonly Scenario[], options: RunCommandOptions, io: MainIo): Promise<ScenarioReport[]> {
  checkBeforeRuns(scenarios, options);
  const level = options.logLevel ?? 'silent';
  // pino loads only when something is to be logged.
  const log = level === 'silent' ? undefined : (await import('../../src/logger.js')).createLogger({ level, name: 'sim' });
  const traceRun = options.trace === undefined ? undefined : traceRunIndex(options.traceRun);
  const reports = await withRunPool(workerCount(options.workers, scenarios), (pool) =>
    playScenarios(scenarios, { pool, traceRun, io, showProgress: !options.json && io.isTTY, log }),
  );
  if (options.trace !== undefined) await writeFile(options.trace, traceLines(reports));
  return reports;
}

function traceLines(reports: readonly ScenarioReport[]): string {
  let out = '';
  for (const report of reports) {
    for (const { strategy, events } of report.traces) {
      for (const e of events) {
        out += `${JSON.stringify({ scenario: report.scenario, strategy, t: e.t, actor: e.actor, kind: e.kind, data: e.data ?? {} })}\n`;
      }
    }
  }
  return out;
}

/** `sim run FILE...`. `--json`: `{ ok, scenarios: [...] }` whatever the number of files. */
export async function runCommand(files: readonly string[], options: RunCommandOptions, io: MainIo): Promise<number> {
  const scenarios = await loadAll(files, options);
  const reports = await runAll(scenarios, options, io);
  if (options.json) {
    io.out(`${JSON.stringify({ ok: reports.every((r) => r.ok), scenarios: reports.map(reportJson) }, null, 2)}\n`);
  } else {
    io.out(`${reports.map((r) => formatReport(r, { wide: options.wide === true })).join('\n\n')}\n`);
  }
  return reports.every((r) => r.ok) ? EXIT.ok : EXIT.targetFailed;
}

/** `sim gate [FILE...]`: every target of every scenario; names each failure. */
export async function gateCommand(files: readonly string[], options: RunCommandOptions, io: MainIo): Promise<number> {
  const scenarios = await loadAll(files, options);
  const reports = await runAll(scenarios, options, io);
  const targets = reports.flatMap((r) => r.targets);
  const failed = targets.filter((t) => !t.ok);
  if (options.json) {
    const named = targets.map((t) => ({ ...t, metric: targetName(t.metric) }));
    io.out(`${JSON.stringify({ ok: failed.length === 0, targets: named, scenarios: reports.map(reportJson) }, null, 2)}\n`);
  } else {
    if (options.wide) io.out(`${formatTargets(targets, true)}\n`);
    // Default: one table per scenario, so it fits 100 columns.
    else for (const r of reports) io.out(`scenario ${escapeControl(r.scenario)} (${escapeControl(r.file)})\n${formatTargets(r.targets, false, true)}\n`);
    io.out(`gate: ${targets.length - failed.length}/${targets.length} targets hold across ${reports.length} scenarios\n`);
    for (const t of failed) {
      io.err(`gate: FAIL ${escapeControl(t.scenario)} ${escapeControl(t.strategy)} ${targetName(t.metric)}: expected ${JSON.stringify(t.expected)}, got ${JSON.stringify(t.actual)}\n`);
    }
  }
  return failed.length === 0 ? EXIT.ok : EXIT.targetFailed;
}
