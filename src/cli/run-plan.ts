/** `keeper run`'s flags, checked and resolved into a {@link RunPlan} before anything is opened or spawned. */
import { randomBytes } from 'node:crypto';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { formatDurationMs } from '../duration.js';
import { ConfigError, HeartbeatLabError } from '../errors.js';
import { resolveKeeperTiming, type ResolvedKeeperTiming } from '../keeper/keeper-options.js';
import type { LogLevel } from '../log-levels.js';
import { DEFAULT_MAX_RESTARTS, parseRestartLimit, type RestartLimit, type RestartPolicy } from '../supervisor/supervisor-options.js';
import { parseDurationFlag } from './common.js';

/** Options of `keeper run` as commander parses them. */
export interface RunFlags {
  readonly store: string;
  readonly id: string;
  readonly ttl: string;
  readonly key: string;
  readonly renewInterval?: string;
  readonly renewDeadline?: string;
  readonly requestTimeout?: string;
  readonly killGrace?: string;
  readonly progressFile?: string;
  readonly maxProgressSilence?: string;
  readonly restart?: string;
  readonly maxRestarts?: string;
  readonly restartDelay?: string;
  readonly restartDelayMax?: string;
  readonly logLevel?: LogLevel;
}

/** Everything `run` needs, checked. */
export interface RunPlan {
  readonly storeUrl: string;
  readonly file: string;
  readonly args: readonly string[];
  readonly name: string;
  /** Holder identity in the store: `<name>/<pid>-<nonce>`, new for every run. */
  readonly holder: string;
  /** Resolved once, here; the supervisor and its keeper use it as it is. */
  readonly keeper: ResolvedKeeperTiming;
  readonly killGraceMs: number;
  readonly progress: ProgressWatch | undefined;
  readonly restart: RestartPlan;
  readonly logLevel: LogLevel;
}

/** `--restart`, `--max-restarts`, `--restart-delay`, `--restart-delay-max`, resolved. */
export interface RestartPlan {
  readonly policy: RestartPolicy;
  readonly maxRestarts: RestartLimit;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

/** `--progress-file` and `--max-progress-silence`, resolved. */
export interface ProgressWatch {
  readonly path: string;
  readonly silenceMs: number;
  readonly pollMs: number;
}

const KEEPER_FLAGS: Readonly<Record<string, string>> = {
  key: '--key',
  identity: '--id',
  ttlMs: '--ttl',
  renewIntervalMs: '--renew-interval',
  renewDeadlineMs: '--renew-deadline',
  requestTimeoutMs: '--request-timeout',
  retryIntervalMs: '--renew-interval (retries every renew-interval/4)',
};

/** Checks every input of `run` before anything is opened or spawned. Throws `ConfigError`. */
export function planRun(command: readonly string[] | undefined, flags: RunFlags): RunPlan {
  const [file, ...args] = command ?? [];
  if (file === undefined || file === '') {
    throw new HeartbeatLabError('E_INPUT', `no command${command === undefined ? ' (missing --)' : ' after --'}: put it last, like keeper run --store URL --id NAME --ttl 180s -- node app.js`);
  }
  if (typeof flags.id !== 'string' || !/^[\w.@:-]+$/.test(flags.id)) {
    throw new ConfigError('--id', 'must be a non-empty name of letters, digits and . _ - @ :', flags.id);
  }
  const holder = `${flags.id}/${process.pid}-${randomBytes(3).toString('hex')}`;
  const keeper = resolveKeeperFlags(flags, holder);
  const killGraceMs = killGrace(flags, keeper);
  const progress = progressWatch(flags);
  const restart = restartPlan(flags);
  if (/^memory:/i.test(flags.store)) {
    throw new ConfigError(
      '--store',
      'memory: is a store inside one process, so two keeper processes would both lead; use file:///abs/path.json on one machine, or redis://, postgres://, etcd:// across machines',
      flags.store,
    );
  }
  return {
    storeUrl: flags.store,
    file,
    args,
    name: flags.id,
    holder,
    keeper,
    killGraceMs,
    progress,
    restart,
    logLevel: flags.logLevel ?? 'warn',
  };
}

/** The keeper's options from the flags; a broken timing rule names the command-line flag. */
function resolveKeeperFlags(flags: RunFlags, holder: string): ResolvedKeeperTiming {
  const ttlMs = parseDurationFlag('--ttl', flags.ttl);
  const optional = (flag: string, text: string | undefined): number | undefined => (text === undefined ? undefined : parseDurationFlag(flag, text));
  try {
    return resolveKeeperTiming({
      key: flags.key,
      identity: holder,
      ttlMs,
      renewIntervalMs: optional('--renew-interval', flags.renewInterval),
      renewDeadlineMs: optional('--renew-deadline', flags.renewDeadline),
      requestTimeoutMs: optional('--request-timeout', flags.requestTimeout),
    });
  } catch (error) {
    if (error instanceof ConfigError && error.option in KEEPER_FLAGS) {
      // Name the command-line flag, keep the rule and the arithmetic.
      const flag = KEEPER_FLAGS[error.option] as string;
      throw new HeartbeatLabError('E_CONFIG', error.message.replace(`invalid option ${error.option}:`, `invalid option ${flag} (${error.option}):`), { cause: error });
    }
    throw error;
  }
}

/**
 * Lease loss: the keeper steps down at the renew deadline; the store cannot hand the lease on
 * before ttl after the last renewal, so the command must be dead within that margin.
 */
function killGrace(flags: RunFlags, keeper: ResolvedKeeperTiming): number {
  const marginMs = Math.floor(keeper.stepDownMarginMs);
  const killGraceMs = flags.killGrace === undefined ? Math.min(10_000, marginMs) : parseDurationFlag('--kill-grace', flags.killGrace);
  if (killGraceMs > marginMs) {
    throw new ConfigError(
      '--kill-grace',
      `must be at most ttl − drift − clock uncertainty − renew deadline − request timeout = ${formatDurationMs(marginMs)}, so a command stopped on lease loss is dead before the lease can pass to a successor`,
      flags.killGrace,
    );
  }
  return killGraceMs;
}

function progressWatch(flags: RunFlags): ProgressWatch | undefined {
  if ((flags.progressFile === undefined) !== (flags.maxProgressSilence === undefined)) {
    throw new ConfigError(
      flags.progressFile === undefined ? '--max-progress-silence' : '--progress-file',
      'needs its partner: give both --progress-file and --max-progress-silence, or neither',
      flags.progressFile ?? flags.maxProgressSilence,
    );
  }
  if (flags.progressFile === undefined || flags.maxProgressSilence === undefined) return undefined;
  if (flags.progressFile === '') throw new ConfigError('--progress-file', 'must be a path', flags.progressFile);
  const silenceMs = parseDurationFlag('--max-progress-silence', flags.maxProgressSilence);
  const path = isAbsolute(flags.progressFile) ? flags.progressFile : resolvePath(flags.progressFile);
  return { path, silenceMs, pollMs: Math.min(1_000, Math.max(10, Math.floor(silenceMs / 5))) };
}

const RESTART_FLAGS = ['on-exit', 'always'] as const;

/** Without `--restart` the command is never restarted, and the other restart flags are refused. */
function restartPlan(flags: RunFlags): RestartPlan {
  if (flags.restart === undefined) {
    const stray = (['maxRestarts', 'restartDelay', 'restartDelayMax'] as const).find((k) => flags[k] !== undefined);
    if (stray !== undefined) {
      const flag = `--${stray.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      throw new ConfigError(flag, 'needs --restart on-exit or --restart always', flags[stray]);
    }
    return { policy: 'never', maxRestarts: DEFAULT_MAX_RESTARTS, initialDelayMs: 1_000, maxDelayMs: 30_000 };
  }
  const policy = RESTART_FLAGS.find((p) => p === flags.restart);
  if (policy === undefined) throw new ConfigError('--restart', `must be one of ${RESTART_FLAGS.join(', ')}`, flags.restart);
  const maxRestarts = flags.maxRestarts === undefined ? DEFAULT_MAX_RESTARTS : parseRestartLimit('--max-restarts', flags.maxRestarts);
  const initialDelayMs = flags.restartDelay === undefined ? 1_000 : parseDurationFlag('--restart-delay', flags.restartDelay);
  const maxDelayMs = flags.restartDelayMax === undefined ? Math.max(30_000, initialDelayMs) : parseDurationFlag('--restart-delay-max', flags.restartDelayMax);
  if (maxDelayMs < initialDelayMs) {
    throw new ConfigError('--restart-delay-max', `must be at least --restart-delay (${formatDurationMs(initialDelayMs)})`, flags.restartDelayMax);
  }
  return { policy, maxRestarts, initialDelayMs, maxDelayMs };
}
