/**
 * `keeper run`: a drop-in for a watchdog's shell heartbeat loop (`while true; do renew; sleep; done &
 * exec orchestrator`), without its traps:
 *
 * - the lease is renewed by a `LeaseKeeper` that steps down by its renew deadline and judges
 *   validity on the monotonic clock, never on a loop that keeps going after the command died;
 * - keeper is the command's parent: it sees the exit at once, renews nothing after it (the keeper's
 *   owner check says so too), releases the lease and exits with the command's code;
 * - on lease loss the command is stopped (SIGTERM, SIGKILL after --kill-grace) before the store
 *   can hand the lease to a successor;
 * - optional progress watch: a command that stops touching its progress file is stopped too;
 * - signals are forwarded to the command's process group, and a reaper process stops that group
 *   if keeper itself dies, so no command outlives its keeper.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { SystemClock, sleep, type Clock, type TimerHandle } from '../clock.js';
import { formatDurationMs, parseDurationMs } from '../duration.js';
import { ConfigError, HeartbeatLabError, StoreTimeoutError } from '../errors.js';
import { resolveKeeperOptions, type ResolvedKeeperOptions, type StepDownReason } from '../keeper/keeper-options.js';
import { LeaseKeeper } from '../keeper/lease-keeper.js';
import { createLogger, type Logger, type LogLevel } from '../logger.js';
import type { OwnerLiveness } from '../owner/owner-liveness.js';
import type { LeaseGrant, LeaseInfo, LeaseStore } from '../store/lease-store.js';
import { openLeaseStore, redactUrl } from '../store/open-store.js';
import { EXIT, type MainIo } from './keeper-main.js';

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
  readonly keeper: ResolvedKeeperOptions;
  readonly killGraceMs: number;
  readonly progress: { readonly path: string; readonly silenceMs: number; readonly pollMs: number } | undefined;
  readonly logLevel: LogLevel;
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

/** Parses a `--flag` duration; a bare number, a zero or garbage is a `ConfigError`. */
export function parseDurationFlag(flag: string, text: string): number {
  const ms = parseDurationMs(text);
  if (ms === undefined || ms <= 0) throw new ConfigError(flag, 'must be a duration with a unit, like 250ms, 30s, 5m or 1h30m', text);
  return ms;
}

/** Checks every input of `run` before anything is opened or spawned. Throws `ConfigError`. */
export function planRun(command: readonly string[] | undefined, flags: RunFlags): RunPlan {
  const [file, ...args] = command ?? [];
  if (file === undefined || file === '') {
    throw new HeartbeatLabError('E_INPUT', `no command${command === undefined ? ' (missing --)' : ' after --'}: put it last, like keeper run --store URL --id NAME --ttl 180s -- node app.js`);
  }
  if (typeof flags.id !== 'string' || !/^[\w.@:-]+$/.test(flags.id)) {
    throw new ConfigError('--id', 'must be a non-empty name of letters, digits and . _ - @ :', flags.id);
  }
  const ttlMs = parseDurationFlag('--ttl', flags.ttl);
  const optional = (flag: string, text: string | undefined): number | undefined => (text === undefined ? undefined : parseDurationFlag(flag, text));
  const holder = `${flags.id}/${process.pid}-${randomBytes(3).toString('hex')}`;
  let keeper: ResolvedKeeperOptions;
  try {
    keeper = resolveKeeperOptions({
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
  // Lease loss: the keeper steps down at the renew deadline; the store cannot hand the lease on
  // before ttl after the last renewal, so the command must be dead within that margin.
  const marginMs = Math.floor(keeper.ttlMs - keeper.renewDeadlineMs - keeper.requestTimeoutMs - keeper.driftMarginMs);
  const killGraceMs = flags.killGrace === undefined ? Math.min(10_000, marginMs) : parseDurationFlag('--kill-grace', flags.killGrace);
  if (killGraceMs > marginMs) {
    throw new ConfigError(
      '--kill-grace',
      `must be at most ttl − renew deadline − request timeout − drift = ${formatDurationMs(marginMs)}, so a command stopped on lease loss is dead before the lease can pass to a successor`,
      flags.killGrace,
    );
  }
  if ((flags.progressFile === undefined) !== (flags.maxProgressSilence === undefined)) {
    throw new ConfigError(
      flags.progressFile === undefined ? '--max-progress-silence' : '--progress-file',
      'needs its partner: give both --progress-file and --max-progress-silence, or neither',
      flags.progressFile ?? flags.maxProgressSilence,
    );
  }
  let progress: RunPlan['progress'];
  if (flags.progressFile !== undefined && flags.maxProgressSilence !== undefined) {
    if (flags.progressFile === '') throw new ConfigError('--progress-file', 'must be a path', flags.progressFile);
    const silenceMs = parseDurationFlag('--max-progress-silence', flags.maxProgressSilence);
    const path = isAbsolute(flags.progressFile) ? flags.progressFile : resolvePath(flags.progressFile);
    progress = { path, silenceMs, pollMs: Math.min(1_000, Math.max(10, Math.floor(silenceMs / 5))) };
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
    logLevel: flags.logLevel ?? 'warn',
  };
}

/** `keeper run`: returns the exit code. User errors are thrown (`ConfigError`) for `main` to print. */
export async function runCommand(command: readonly string[] | undefined, flags: RunFlags, io: MainIo): Promise<number> {
  const plan = planRun(command, flags);
  const log = createLogger({ level: plan.logLevel, name: 'keeper', destination: { write: (line: string) => io.err(line) } });
  const store = await openStore(plan.storeUrl);
  try {
    const clock = new SystemClock();
    try {
      await withTimeout(clock, 'read', Math.max(plan.keeper.requestTimeoutMs, 5_000), store.read(plan.keeper.key));
    } catch (error) {
      if (!(error instanceof HeartbeatLabError) || error.code === 'E_CONFIG' || error.code === 'E_INPUT') throw error;
      io.err(`keeper: cannot use the lease store ${redactUrl(plan.storeUrl)}: ${error.message}\n`);
      return EXIT.storeUnavailable;
    }
    return await new RunSession(plan, store, clock, io, log).run();
  } finally {
    await store.close().catch(() => undefined);
  }
}

/** `openLeaseStore`, with its `ConfigError`s (unknown scheme, missing driver) naming the `--store` flag. */
export async function openStore(url: string): Promise<LeaseStore> {
  try {
    return await openLeaseStore(url);
  } catch (error) {
    if (error instanceof ConfigError && error.option === 'store') {
      throw new HeartbeatLabError('E_CONFIG', error.message.replace('invalid option store:', 'invalid option --store:'), { cause: error });
    }
    throw error;
  }
}

/** Prints a user error as one line and returns its exit code; anything else is an internal error with its stack. */
export function reportError(error: unknown, write: (text: string) => void): number {
  if (error instanceof HeartbeatLabError) {
    if (error.code === 'E_CONFIG' || error.code === 'E_INPUT') {
      write(`keeper: ${error.message}\n`);
      return EXIT.badInput;
    }
    if (error.code.startsWith('E_STORE')) {
      write(`keeper: lease store error: ${error.message}\n`);
      return EXIT.storeUnavailable;
    }
  }
  write(`keeper: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return EXIT.internal;
}

/** Rejects with `StoreTimeoutError` when `promise` does not settle within `timeoutMs`. */
export function withTimeout<T>(clock: Clock, operation: string, timeoutMs: number, promise: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const handle = clock.setTimeout(() => reject(new StoreTimeoutError(operation, timeoutMs)), timeoutMs);
    promise.then(
      (value) => {
        clock.clearTimeout(handle);
        resolve(value);
      },
      (error: unknown) => {
        clock.clearTimeout(handle);
        reject(error);
      },
    );
  });
}

const FORWARDED = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
type Forwarded = (typeof FORWARDED)[number];

const STEP_DOWN_WHY: Readonly<Partial<Record<StepDownReason, string>>> = {
  'renew-deadline': 'no renewal succeeded within the renew deadline',
  lost: 'the store reports another holder or an expired lease',
  paused: "keeper was paused past the lease's local validity",
  'owner-dead': 'the command is gone',
  stopped: 'keeper stopped',
  handoff: 'handed off',
};

/**
 * Runs in its own process group with a pipe from keeper on stdin. EOF without a "done" line means
 * keeper died: it stops the command's process group (SIGTERM, SIGKILL after the grace) and exits.
 */
const REAPER = `
const pgid = Number(process.env.HEARTBEAT_LAB_REAPER_PGID);
const graceMs = Number(process.env.HEARTBEAT_LAB_REAPER_GRACE_MS);
let done = false;
const alive = () => { try { process.kill(-pgid, 0); return true; } catch (e) { return e.code === 'EPERM'; } };
let ended = false;
const onEnd = () => {
  if (ended) return;
  ended = true;
  if (done || !alive()) process.exit(0);
  process.stderr.write('keeper-reaper: keeper died; stopping the command (process group ' + pgid + ')\\n');
  try { process.kill(-pgid, 'SIGTERM'); } catch {}
  const t0 = performance.now();
  setInterval(() => {
    if (!alive()) process.exit(0);
    if (performance.now() - t0 >= graceMs) { try { process.kill(-pgid, 'SIGKILL'); } catch {} process.exit(0); }
  }, 20);
};
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { if (chunk.includes('done')) done = true; });
process.stdin.on('end', onEnd);
process.stdin.on('error', onEnd);
`;

/**
 * The keeper's store, with releases held back while the command lives, and a final release once
 * it is gone. `LeaseKeeper` may release when it steps down (after a pause); here that would let a
 * successor start while the old command is still within its kill grace, so such a release waits
 * until the command's group is gone. It is conditional on holder and token, so a late one cannot
 * free someone else's lease.
 */
class CommandGatedStore implements LeaseStore {
  readonly kind: string;
  readonly #store: LeaseStore;
  readonly #log: Logger;
  readonly #inFlight = new Set<Promise<unknown>>();
  #open!: () => void;
  readonly #opened = new Promise<void>((resolve) => {
    this.#open = resolve;
  });
  #commandAlive = false;
  /** The last lease the store granted us, and whether a release of it landed. */
  #lastGrant: LeaseGrant | undefined;
  #released = false;

  constructor(store: LeaseStore, log: Logger) {
    this.#store = store;
    this.#log = log;
    this.kind = store.kind;
  }

  commandStarted(): void {
    this.#commandAlive = true;
  }

  /** The command and every process of its group are gone: held releases go out now. */
  commandGone(): void {
    this.#commandAlive = false;
    this.#open();
  }

  acquire(request: Parameters<LeaseStore['acquire']>[0]): ReturnType<LeaseStore['acquire']> {
    return this.#track(this.#store.acquire(request));
  }

  renew(request: Parameters<LeaseStore['renew']>[0]): ReturnType<LeaseStore['renew']> {
    return this.#track(this.#store.renew(request));
  }

  release(request: Parameters<LeaseStore['release']>[0]): Promise<boolean> {
    const held = this.#commandAlive;
    const release = held ? this.#opened.then(() => this.#store.release(request)) : this.#store.release(request);
    this.#inFlight.add(release);
    void release
      .then(
        (released) => {
          if (released && request.token === this.#lastGrant?.token) this.#released = true;
          this.#log.info({ released, token: request.token, held }, released ? 'lease released' : 'lease was no longer ours to release');
        },
        (error: unknown) => this.#log.warn({ err: error, token: request.token, held }, 'release failed; the lease expires on the store by itself'),
      )
      .finally(() => this.#inFlight.delete(release));
    return release;
  }

  read(key: string): Promise<LeaseInfo | null> {
    return this.#store.read(key);
  }

  /**
   * After the command is gone: lets requests still on their way land (bounded; a renewal sent
   * before the step-down may still extend the lease), then releases the last grant unless that
   * already happened. Nobody acts on the lease any more, so freeing it now only speeds up failover.
   */
  async finalRelease(clock: Clock, timeoutMs: number): Promise<void> {
    if (this.#inFlight.size > 0) await withTimeout(clock, 'settle', timeoutMs, Promise.allSettled([...this.#inFlight])).catch(() => undefined);
    const grant = this.#lastGrant;
    if (grant === undefined || this.#released) return;
    await withTimeout(clock, 'release', timeoutMs, this.release(grant)).catch(() => undefined);
  }

  close(): Promise<void> {
    return this.#store.close();
  }

  #track<R extends { ok: boolean; lease?: LeaseGrant }>(promise: Promise<R>): Promise<R> {
    this.#inFlight.add(promise);
    void promise
      .then((result) => {
        if (result.ok && result.lease !== undefined) {
          this.#lastGrant = result.lease;
          this.#released = false;
        }
      }, () => undefined)
      .finally(() => this.#inFlight.delete(promise));
    return promise;
  }
}

type Cause = { readonly kind: 'lost'; readonly reason: StepDownReason } | { readonly kind: 'stuck' } | { readonly kind: 'spawn-failed'; readonly code: number };

/** One `keeper run`, from contending to exit. */
class RunSession {
  readonly #plan: RunPlan;
  readonly #clock: Clock;
  readonly #io: MainIo;
  readonly #log: Logger;
  readonly #keeper: LeaseKeeper;
  readonly #store: CommandGatedStore;
  #phase: 'contending' | 'running' | 'finishing' = 'contending';
  #child: ChildProcess | undefined;
  #pgid: number | undefined;
  #reaper: ChildProcess | undefined;
  #childGone = false;
  #cause: Cause | undefined;
  #terminating = false;
  #killTimer: TimerHandle | undefined;
  #progressTimer: TimerHandle | undefined;
  #finish!: (code: number) => void;
  readonly #signalHandlers = new Map<Forwarded, () => void>();

  constructor(plan: RunPlan, store: LeaseStore, clock: Clock, io: MainIo, log: Logger) {
    this.#plan = plan;
    this.#clock = clock;
    this.#io = io;
    this.#log = log;
    // Belt and braces: the keeper asks before every renewal whether the command still lives.
    const owner: OwnerLiveness = {
      check: () => (this.#childGone ? { alive: false, reason: 'the command exited' } : { alive: true }),
    };
    const k = plan.keeper;
    this.#store = new CommandGatedStore(store, log);
    this.#keeper = new LeaseKeeper(this.#store, {
      key: k.key,
      identity: k.identity,
      ttlMs: k.ttlMs,
      renewIntervalMs: k.renewIntervalMs,
      renewDeadlineMs: k.renewDeadlineMs,
      requestTimeoutMs: k.requestTimeoutMs,
      clock,
      owner,
    });
  }

  async run(): Promise<number> {
    const finished = new Promise<number>((resolve) => {
      this.#finish = resolve;
    });
    const keeper = this.#keeper;
    keeper.on('started-leading', (lease) => this.#onStartedLeading(lease));
    keeper.on('stopped-leading', (reason) => this.#onStepDown(reason));
    keeper.on('new-leader', (holder, token) => this.#log.info({ holder, token }, 'lease holder changed'));
    keeper.on('renewed', (info) => this.#log.debug(info, 'renewed'));
    keeper.on('renew-failed', (error) => this.#log.warn({ err: error }, 'lease store request failed'));
    keeper.on('pause', ({ lateMs }) => this.#log.warn({ lateMs }, 'keeper was paused (a timer fired late)'));
    for (const signal of FORWARDED) {
      const handler = (): void => this.#onSignal(signal);
      this.#signalHandlers.set(signal, handler);
      process.on(signal, handler);
    }
    this.#log.info({ key: this.#plan.keeper.key, holder: this.#plan.holder }, 'contending for the lease');
    keeper.start();
    try {
      return await finished;
    } finally {
      for (const [signal, handler] of this.#signalHandlers) process.off(signal, handler);
    }
  }

  #onStartedLeading(lease: LeaseGrant): void {
    if (this.#phase !== 'contending') return;
    this.#phase = 'running';
    const plan = this.#plan;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HEARTBEAT_LAB_TOKEN: String(lease.token),
      HEARTBEAT_LAB_LEASE_KEY: lease.key,
      HEARTBEAT_LAB_HOLDER: lease.holder,
    };
    delete env.HEARTBEAT_LAB_STORE; // the store URL may carry a password; the command does not need it
    if (plan.progress !== undefined) env.HEARTBEAT_LAB_PROGRESS_FILE = plan.progress.path;
    else delete env.HEARTBEAT_LAB_PROGRESS_FILE;
    let child: ChildProcess;
    try {
      // Own process group: signals reach the whole command tree, and a terminal's ^C reaches it once (via us).
      child = spawn(plan.file, [...plan.args], { stdio: 'inherit', detached: true, env });
    } catch (error) {
      this.#onSpawnError(error);
      return;
    }
    this.#child = child;
    if (child.pid !== undefined) this.#store.commandStarted();
    child.once('error', (error) => {
      if (child.pid === undefined) this.#onSpawnError(error);
      else this.#log.warn({ err: error }, 'command process error');
    });
    child.once('exit', (code, signal) => void this.#onChildExit(code, signal));
    if (child.pid === undefined) return; // 'error' follows
    this.#pgid = child.pid;
    this.#startReaper(child.pid);
    this.#log.info({ token: lease.token, pid: child.pid, command: plan.file }, 'leading: started the command');
    if (plan.progress !== undefined) void this.#watchProgress(plan.progress);
  }

  #onSpawnError(error: unknown): void {
    if (this.#cause !== undefined || this.#childGone) return;
    const code = (error as { code?: unknown } | null)?.code;
    const exit = code === 'ENOENT' ? EXIT.notFound : EXIT.cannotExecute;
    this.#cause = { kind: 'spawn-failed', code: exit };
    const why = code === 'ENOENT' ? 'not found (ENOENT)' : code === 'EACCES' ? 'permission denied (EACCES)' : typeof code === 'string' ? code : String(error);
    this.#io.err(`keeper: cannot run ${JSON.stringify(this.#plan.file)}: ${why}; releasing the lease\n`);
    this.#childGone = true;
    this.#store.commandGone();
    void this.#end(exit);
  }

  #startReaper(pgid: number): void {
    try {
      const reaper = spawn(process.execPath, ['-e', REAPER], {
        stdio: ['pipe', 'ignore', 'inherit'],
        detached: true,
        env: { ...process.env, HEARTBEAT_LAB_REAPER_PGID: String(pgid), HEARTBEAT_LAB_REAPER_GRACE_MS: String(this.#plan.killGraceMs) },
      });
      reaper.on('error', (error) => this.#log.warn({ err: error }, 'reaper process failed; the command is not protected against keeper crashes'));
      reaper.stdin?.on('error', () => undefined);
      reaper.unref();
      this.#reaper = reaper;
    } catch (error) {
      this.#log.warn({ err: error }, 'cannot start the reaper process');
    }
  }

  #onSignal(signal: Forwarded): void {
    if (this.#phase === 'running' && !this.#childGone) {
      this.#log.info({ signal }, 'forwarding signal to the command');
      this.#signalGroup(signal);
      return;
    }
    if (this.#phase === 'contending') {
      if (signal === 'SIGHUP') return; // nothing to reload yet
      this.#log.info({ signal }, 'signal before leading: stopping');
      this.#phase = 'finishing';
      void this.#end(128 + signalNumber(signal));
    }
  }

  #onStepDown(reason: StepDownReason): void {
    if (this.#phase === 'contending') return;
    // Never contend again: once its command started, this run ends with it.
    void this.#keeper.stop(reason);
    if (this.#childGone || this.#phase !== 'running' || this.#cause !== undefined) return; // our own stop, or already stopping
    this.#cause = { kind: 'lost', reason };
    this.#io.err(
      `keeper: lost the lease ${JSON.stringify(this.#plan.keeper.key)} (${reason}: ${STEP_DOWN_WHY[reason] ?? 'the keeper stepped down'}) — stopping the command (SIGTERM, SIGKILL after ${formatDurationMs(this.#plan.killGraceMs)}), then releasing; will exit ${EXIT.leaseLost}\n`,
    );
    this.#terminate();
  }

  /** SIGTERM to the command's group now, SIGKILL after the kill grace. */
  #terminate(): void {
    if (this.#terminating || this.#childGone) return;
    this.#terminating = true;
    this.#signalGroup('SIGTERM');
    this.#killTimer = this.#clock.setTimeout(() => {
      if (this.#childGone) return;
      this.#io.err(`keeper: the command did not exit within ${formatDurationMs(this.#plan.killGraceMs)} of SIGTERM — sending SIGKILL\n`);
      this.#signalGroup('SIGKILL');
    }, this.#plan.killGraceMs);
  }

  async #watchProgress(progress: NonNullable<RunPlan['progress']>): Promise<void> {
    // Silence is measured on keeper's monotonic clock between successive stat results; the file's
    // timestamps are only compared for change, never against our clock.
    let last = await fileSignature(progress.path);
    let lastChangeAt = this.#clock.now();
    let lastPollAt = lastChangeAt;
    const poll = async (): Promise<void> => {
      this.#progressTimer = undefined;
      if (this.#phase !== 'running' || this.#cause !== undefined) return;
      const now = this.#clock.now();
      const signature = await fileSignature(progress.path);
      if (signature !== last) {
        last = signature;
        lastChangeAt = now;
      } else if (now - lastPollAt > progress.pollMs * 4 + 250) {
        // Keeper itself was paused: what happened meanwhile is unknown, so the window restarts.
        lastChangeAt = now;
      } else if (now - lastChangeAt >= progress.silenceMs) {
        this.#onStuck(progress, now - lastChangeAt);
        return;
      }
      lastPollAt = now;
      this.#progressTimer = this.#clock.setTimeout(() => void poll(), progress.pollMs);
    };
    if (this.#phase !== 'running') return;
    this.#progressTimer = this.#clock.setTimeout(() => void poll(), progress.pollMs);
  }

  #onStuck(progress: NonNullable<RunPlan['progress']>, silentMs: number): void {
    if (this.#cause !== undefined || this.#phase !== 'running') return;
    this.#cause = { kind: 'stuck' };
    this.#io.err(
      `keeper: the command made no progress for ${formatDurationMs(silentMs)} (${progress.path} unchanged; limit ${formatDurationMs(progress.silenceMs)}) — declared stuck: stopping it (SIGTERM, SIGKILL after ${formatDurationMs(this.#plan.killGraceMs)}) and releasing the lease; will exit ${EXIT.stuck}\n`,
    );
    this.#terminate();
  }

  async #onChildExit(code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    if (this.#childGone && this.#cause?.kind === 'spawn-failed') return;
    this.#clearTimers();
    const childCode = code ?? 128 + signalNumber(signal ?? 'SIGKILL');
    this.#log.info({ code, signal }, 'the command exited');
    this.#phase = 'finishing';
    await this.#reapGroup();
    this.#childGone = true; // from here on the owner check fails: no renewal for a dead command
    this.#store.commandGone();
    const cause = this.#cause;
    const exit = cause === undefined ? childCode : cause.kind === 'lost' ? EXIT.leaseLost : cause.kind === 'stuck' ? EXIT.stuck : cause.code;
    await this.#end(exit);
  }

  /** Stragglers left in the command's process group must not outlive the lease either. */
  async #reapGroup(): Promise<void> {
    if (!this.#groupAlive()) return;
    this.#log.warn({ pgid: this.#pgid }, 'the command exited but left processes in its group: SIGTERM');
    this.#signalGroup('SIGTERM');
    const deadline = this.#clock.now() + this.#plan.killGraceMs;
    while (this.#groupAlive() && this.#clock.now() < deadline) await sleep(this.#clock, 20);
    if (!this.#groupAlive()) return;
    this.#signalGroup('SIGKILL');
    const killDeadline = this.#clock.now() + 1_000;
    while (this.#groupAlive() && this.#clock.now() < killDeadline) await sleep(this.#clock, 20);
  }

  /** Releases the lease (if still held), tells the reaper all is well, and finishes with `code`. */
  async #end(code: number): Promise<void> {
    this.#phase = 'finishing';
    this.#clearTimers();
    await this.#keeper.stop(this.#childGone ? 'owner-dead' : 'stopped');
    await this.#store.finalRelease(this.#clock, Math.max(1_000, this.#plan.keeper.requestTimeoutMs));
    const reaper = this.#reaper;
    if (reaper?.stdin) {
      reaper.stdin.write('done\n');
      reaper.stdin.end();
    }
    this.#log.info({ code }, 'exiting');
    this.#finish(code);
  }

  #clearTimers(): void {
    if (this.#killTimer !== undefined) this.#clock.clearTimeout(this.#killTimer);
    if (this.#progressTimer !== undefined) this.#clock.clearTimeout(this.#progressTimer);
    this.#killTimer = undefined;
    this.#progressTimer = undefined;
  }

  #signalGroup(signal: NodeJS.Signals): void {
    const pgid = this.#pgid;
    if (pgid === undefined) return;
    try {
      process.kill(-pgid, signal);
    } catch {
      try {
        this.#child?.kill(signal);
      } catch {
        // already gone
      }
    }
  }

  #groupAlive(): boolean {
    if (this.#pgid === undefined) return false;
    try {
      process.kill(-this.#pgid, 0);
      return true;
    } catch (error) {
      return (error as { code?: unknown }).code === 'EPERM';
    }
  }
}

function signalNumber(signal: NodeJS.Signals): number {
  return (osConstants.signals as Record<string, number | undefined>)[signal] ?? 0;
}

/** What changes when a file is touched or written: inode, mtime and ctime (ns), size. */
async function fileSignature(path: string): Promise<string> {
  try {
    const s = await stat(path, { bigint: true });
    return `${s.ino}:${s.mtimeNs}:${s.ctimeNs}:${s.size}`;
  } catch (error) {
    return `missing:${(error as { code?: unknown }).code ?? 'error'}`;
  }
}
