import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { commanderExitCode, logLevelOption } from '../../src/cli/common.js';
import { processIo, type MainIo } from '../../src/cli/io.js';
import { packageVersion } from '../../src/cli/version.js';
import { EXIT, UsageError } from './errors.js';
import { DEFAULT_EXPLORE_RUNS, DEFAULT_REPORT } from '../report/report-defaults.js';
import { WORKERS_HELP } from './workers.js';

/** Same as `DEFAULT_BUDGET_RUN_HOURS` in guards.ts (not imported, so `--help` stays light). */
const DEFAULT_BUDGET = 50_000;

/** Every `*.yaml` in `scenarios/` (relative to the working directory), sorted; a `UsageError` when there is none. */
export function defaultScenarioFiles(dir = 'scenarios'): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    throw new UsageError(
      `no ${dir}/ directory here (${process.cwd()}): name the scenario files, e.g. sim gate scenarios/idle.yaml — ` +
        `an installed heartbeat-lab has its own in node_modules/heartbeat-lab/scenarios/`,
    );
  }
  const files = names.filter((f) => f.endsWith('.yaml') && !f.startsWith('_')).sort();
  if (files.length === 0) throw new UsageError(`no *.yaml scenario in ${dir}/: name the scenario files`);
  return files.map((f) => join(dir, f));
}

export type { MainIo } from '../../src/cli/io.js';
/** The progress bar goes to stderr, so that is the stream whose terminal matters. */
const defaultIo = processIo('stderr');

function addRunOptions(command: Command): Command {
  return command
    .option('--json', 'print one JSON document instead of tables')
    .option('--seed <n>', 'override the scenario seed')
    .option('--runs <n>', 'override the number of independent runs')
    .option('--duration <d>', 'override the simulated duration (e.g. 6h)')
    .option('--trace <file>', 'write the event trace of one run (JSON lines)')
    .option('--trace-run <n>', 'which run to trace (default: 0)')
    .option('--workers <n>', WORKERS_HELP)
    .option('--wide', 'print every column of the run table (default: the columns that fit 100 columns)')
    .option('--budget <run-hours>', `refuse a scenario above this many simulated run-hours (runs × strategies × hours; default ${DEFAULT_BUDGET})`)
    .addOption(logLevelOption('pino log level on stderr', 'silent'));
}

/** Builds the `sim` program. Heavy modules load only inside actions, so `--help` is fast. */
export function buildProgram(io: MainIo, setExit: (code: number) => void, subcommand?: string): Command {
  const program: Command = new Command('sim')
    .description('Deterministic simulator of the orchestrator leader-lease heartbeat decay and its fixes')
    .version(packageVersion(), '-V, --version', 'print the version of heartbeat-lab')
    .exitOverride()
    .configureOutput({
      writeOut: io.out,
      writeErr: io.err,
      // One line, like every other refusal: "sim: <what is wrong> (see sim run --help)".
      outputError: (text, write) => {
        const current = program.commands.some((c) => c.name() === subcommand) ? `sim ${subcommand}` : 'sim';
        write(`sim: ${text.replace(/^error: /, '').trim()} (see ${current} --help)\n`);
      },
    });

  addRunOptions(
    program
      .command('run')
      .description('run scenarios and print one row per strategy; exit 1 when a target fails, 2 on bad input')
      .argument('<file...>', 'scenario YAML files'),
  ).action(async (files: string[], options) => {
    const { runCommand } = await import('./run-command.js');
    setExit(await runCommand(files, options, io));
  });

  addRunOptions(
    program
      .command('gate')
      .description('CI gate: run scenarios (default: every scenarios/*.yaml) and exit 1 naming each failed target')
      .argument('[file...]', 'scenario YAML files'),
  ).action(async (files: string[], options) => {
    const { gateCommand } = await import('./run-command.js');
    setExit(await gateCommand(files.length > 0 ? files : defaultScenarioFiles(), options, io));
  });

  program
    .command('explore')
    .description('generate fault schedules within the scenario bounds, check safety and liveness, shrink a failure (exit 1)')
    .argument('<file>', 'scenario YAML file with faults')
    .option('--runs <n>', 'schedules to generate', '100')
    .option('--seed <n>', 'fast-check seed (default: the scenario seed)')
    .option('--path <path>', 'replay one failure: the path printed with it')
    .option('--strategy <name>', 'strategy to check (default: the first in the file)')
    .option('--duration <d>', 'override the simulated duration of each schedule')
    .option('--out <file>', 'also write the minimal failing scenario here')
    .option('--json', 'print one JSON document')
    .option('--budget <run-hours>', `refuse above this many simulated run-hours (schedules × hours; default ${DEFAULT_BUDGET})`)
    .action(async (file: string, options) => {
      const { exploreCommand } = await import('./explore-command.js');
      setExit(await exploreCommand(file, options, io));
    });

  program
    .command('report')
    .description('write the root-cause report (markdown + SVG chart beside it) from simulator runs; --check exits 1 when the files on disk differ')
    .argument('[file...]', 'scenario YAML files (default: every scenarios/*.yaml)')
    .option('-o, --output <file>', 'markdown file to write; the chart lease-age.svg goes beside it', DEFAULT_REPORT)
    .option('--check', 'write nothing; exit 1 naming each file that differs from a fresh run')
    .option('--seed <n>', 'override the scenario seed')
    .option('--runs <n>', 'override the number of independent runs')
    .option('--duration <d>', 'override the simulated duration (e.g. 6h)')
    .option('--explore-runs <n>', 'schedules sim explore checks per explored strategy (0: none)', String(DEFAULT_EXPLORE_RUNS))
    .option('--workers <n>', WORKERS_HELP)
    .option('--budget <run-hours>', `refuse a scenario above this many simulated run-hours (runs × strategies × hours; default ${DEFAULT_BUDGET})`)
    .action(async (files: string[], options) => {
      const inputs = files.length > 0 ? files : defaultScenarioFiles();
      // Before any run: the report and its chart go beside each other, never onto an input (the
      // scenarios' size is checked by reportCommand, which loads them once).
      if (options.check !== true) {
        const { checkNotAnInput } = await import('./guards.js');
        const { join: joinPath, dirname } = await import('node:path');
        checkNotAnInput('--output', options.output, inputs);
        checkNotAnInput('--output', joinPath(dirname(options.output), 'lease-age.svg'), inputs);
      }
      const { reportCommand } = await import('../report/report-command.js');
      setExit(await reportCommand(inputs, options, io));
    });

  return program;
}

/** Entry point: parses argv, runs, and returns the exit code (never throws for user errors). */
export async function main(argv: readonly string[], io: MainIo = defaultIo): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(
    io,
    (c) => {
      code = c;
    },
    argv[2],
  );
  try {
    await program.parseAsync([...argv]);
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      return commanderExitCode(error);
    }
    const { reportError } = await import('./errors.js');
    return reportError(error, io.err);
  }
}
