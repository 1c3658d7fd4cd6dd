import { Command, CommanderError, Option } from 'commander';
import { commanderExitCode, logLevelOption } from './common.js';
import { processIo, type MainIo } from './io.js';
import { EXIT, reportError } from './keeper-errors.js';
import { packageVersion } from './version.js';

export { EXIT } from './keeper-errors.js';

export type { MainIo } from './io.js';
const defaultIo = processIo('stdout');

const EXIT_CODES_HELP = `
Exit codes:
  run     the command's own exit code (128 + signal number if it was killed by a signal), or
          ${EXIT.leaseLost}   the lease was lost while the command ran (it got SIGTERM, then SIGKILL after --kill-grace)
          ${EXIT.stuck}   the command made no progress for --max-progress-silence (stopped the same way)
          ${EXIT.restartLimit}   --restart: the command exited once more than --max-restarts allows (lease released)
          ${EXIT.notFound}  the command was not found, ${EXIT.cannotExecute} it could not be executed
          128+n  keeper got signal n before the command started
  both    ${EXIT.badInput}    bad input (options, store URL, durations, timing rules)
          ${EXIT.storeUnavailable}    the lease store could not be reached or read
          ${EXIT.internal}   internal error
`;

const RUN_HELP = `
The command runs only while this keeper holds the lease; it gets
  HEARTBEAT_LAB_TOKEN       the fencing token (pass it with every write: see src/fencing)
  HEARTBEAT_LAB_LEASE_KEY   the lease key
  HEARTBEAT_LAB_HOLDER      this keeper's holder identity (<id>/<pid>-<nonce>, new per run)
  HEARTBEAT_LAB_PROGRESS_FILE  with --progress-file
It inherits stdin/stdout/stderr and runs in its own process group (POSIX only; it cannot read an
interactive terminal); signals go to the whole group. SIGTERM, SIGINT and SIGHUP to keeper are
forwarded; keeper keeps the lease until the command exits, then releases it and exits with the
command's code. The lease is never released while a process of the command's group lives. If
keeper itself dies (even SIGKILL) or stops checking in (frozen: SIGSTOP, a stalled VM, a blocked
event loop), a small reaper process stops the command's group (SIGTERM, SIGKILL after
--kill-grace): on death at once, on a freeze at the renew deadline of the last renewal, as keeper
itself would have. So no command runs without a keeper, and a frozen keeper's command is dead
before its lease can expire on the store. The command does not read its validity: the reaper
enforces it; fence every write with HEARTBEAT_LAB_TOKEN.

Durations: 250ms, 30s, 5m, 1h30m. Defaults follow the keeper: renew interval ttl/3, renew deadline
ttl*2/3, request timeout min(ttl/10, 10s); --kill-grace defaults to min(10s, the lease's margin
ttl - renew deadline - request timeout - 1% drift) and may not exceed that margin, so a command
stopped at the renew deadline is dead before its lease can expire on the store.
The progress window starts when the command starts: it must show its first progress in time too.

Restarts (--restart): keeper keeps the lease, and renews it, while the command is down, and starts
it again with the same lease and token: on-exit after a clean exit (code 0, e.g. a session that
ends itself when idle), always after any exit. A command keeper stopped (lease lost, stuck, a
forwarded SIGTERM/SIGINT) is never restarted. Each restart waits --restart-delay, doubled after
every command that ran shorter than 2 x --restart-delay-max, up to --restart-delay-max; past
--max-restarts within its window keeper releases the lease and exits ${EXIT.restartLimit}. The command sees
HEARTBEAT_LAB_RESTARTS (0 for the first run). A watchdog watching keeper sees a live process and a
healthy lease the whole time.

Example:
  keeper run --store file:///var/lib/orch/lease.json --id orch-a --ttl 180s -- node orchestrator.js
  keeper run --store file:///var/lib/orch/lease.json --id orch-a --ttl 180s --restart on-exit --max-restarts 30/1h -- node orchestrator.js
${EXIT_CODES_HELP}`;

/** Builds the `keeper` program. Heavy modules load only inside actions, so `--help` is fast. */
export function buildProgram(io: MainIo, setExit: (code: number) => void, command: readonly string[] | undefined, subcommand?: string): Command {
  const current = subcommand === 'run' || subcommand === 'status' ? `keeper ${subcommand}` : 'keeper';
  const program = new Command('keeper')
    .description('Run a command only while holding a leader lease, with fencing tokens; or show who holds the lease')
    .version(packageVersion(), '-V, --version', 'print the version of heartbeat-lab')
    .exitOverride()
    .configureOutput({
      writeOut: io.out,
      writeErr: io.err,
      // One line: "keeper: <what is wrong> (see keeper run --help)".
      outputError: (text, write) => write(`keeper: ${text.replace(/^error: /, '').trim()} (see ${current} --help)\n`),
    })
    .addHelpText('after', EXIT_CODES_HELP);

  program
    .command('run')
    .description('contend for the lease; while leading, run COMMAND with its fencing token; release when it exits')
    .usage('--store URL --id NAME --ttl DURATION [options] -- COMMAND [ARGS...]')
    .addOption(
      new Option('--store <url>', 'lease store: file:///abs/path.json, redis://, postgres://, etcd://host:port (a URL with a password: set HEARTBEAT_LAB_STORE instead, ps shows arguments)')
        .env('HEARTBEAT_LAB_STORE')
        .makeOptionMandatory(),
    )
    .requiredOption('--id <name>', 'name of this contender (shown by status; the holder identity adds pid and a nonce)')
    .requiredOption('--ttl <duration>', 'lease time to live on the store (e.g. 180s)')
    .option('--key <key>', 'lease key', 'orchestrator/leader')
    .addOption(new Option('--renew-interval <duration>', 'time between renewals (default ttl/3)'))
    .addOption(new Option('--renew-deadline <duration>', 'step down (and stop the command) when no renewal succeeded for this long (default ttl*2/3)'))
    .addOption(new Option('--request-timeout <duration>', 'per store request (default min(ttl/10, 10s))'))
    .addOption(new Option('--kill-grace <duration>', 'SIGTERM to SIGKILL delay when keeper stops the command (default min(10s, lease margin))'))
    .option('--progress-file <path>', 'file the command touches or writes to report progress')
    .option('--max-progress-silence <duration>', 'stop the command (exit 76) when --progress-file has not changed for this long')
    .addOption(new Option('--restart <when>', 'restart the command in place, keeping the lease: after a clean exit, or after any exit').choices(['on-exit', 'always']))
    .option('--max-restarts <count/duration>', 'with --restart: at most this many restarts in any sliding window, else release and exit 77 (default 30/1h)')
    .option('--restart-delay <duration>', 'with --restart: delay before a restart, doubled after each short-lived run (default 1s)')
    .option('--restart-delay-max <duration>', 'with --restart: cap of the restart delay (default 30s)')
    .addOption(logLevelOption('pino JSON logs on stderr', 'warn'))
    .addHelpText('after', RUN_HELP)
    .action(async (options, cmd: Command) => {
      warnPasswordInArgv(cmd, options.store, io);
      const { runCommand } = await import('./keeper-run.js');
      setExit(await runCommand(command, options, io));
    });

  program
    .command('status')
    .description('print the lease holder, fencing token and time left (or expired for)')
    .addOption(new Option('--store <url>', 'lease store URL (as for run)').env('HEARTBEAT_LAB_STORE').makeOptionMandatory())
    .option('--key <key>', 'lease key', 'orchestrator/leader')
    .option('--json', 'print one JSON document: { key, state, holder, token, ttlMs, expiresInMs, store }')
    .option('--timeout <duration>', 'give up reading after this long (exit 3)', '5s')
    .addHelpText('after', `\nStates: held, expired (holder remembered, lease over), free (released), never-held.\n${EXIT_CODES_HELP}`)
    .action(async (options, cmd: Command) => {
      warnPasswordInArgv(cmd, options.store, io);
      if (command !== undefined) {
        io.err('keeper: status takes no -- COMMAND (see keeper status --help)\n');
        setExit(EXIT.badInput);
        return;
      }
      const { statusCommand } = await import('./keeper-status.js');
      setExit(await statusCommand(options, io));
    });

  return program;
}

/**
 * A password in `--store` on the command line is readable by every local user (`ps`, /proc):
 * say so, and where it belongs. The same URL from `HEARTBEAT_LAB_STORE` is not warned about.
 */
function warnPasswordInArgv(cmd: Command, url: unknown, io: MainIo): void {
  if (cmd.getOptionValueSource('store') !== 'cli' || typeof url !== 'string') return;
  const userinfo = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)@/i.exec(url)?.[1];
  const hasPassword = (userinfo !== undefined && userinfo.includes(':')) || /[?&](?:password|pass|pwd)=/i.test(url);
  if (!hasPassword) return;
  io.err('keeper: warning: the --store URL carries a password, which every local user can read in the process list; set HEARTBEAT_LAB_STORE=URL in the environment and drop --store\n');
}

/**
 * Entry point: parses argv (`['node', 'keeper', ...]`), runs, and returns the exit code. Never
 * throws for user errors; those are one line on stderr and exit 2 (3 for an unreachable store).
 * Everything after the first `--` is the command of `run`, never parsed as keeper options.
 */
export async function main(argv: readonly string[], io: MainIo = defaultIo): Promise<number> {
  let code: number = EXIT.ok;
  const separator = argv.indexOf('--', 2);
  const own = separator === -1 ? [...argv] : argv.slice(0, separator);
  const command = separator === -1 ? undefined : argv.slice(separator + 1);
  const program = buildProgram(
    io,
    (c) => {
      code = c;
    },
    command,
    own[2],
  );
  try {
    await program.parseAsync(own);
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      return commanderExitCode(error);
    }
    return reportError(error, io.err);
  }
}
