/** One `keeper run`, from contending for the lease to exit: the command's life bound to the lease's. */
import { spawn, type ChildProcess } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { sleep, type Clock, type TimerHandle } from '../clock.js';
import { formatDurationMs } from '../duration.js';
import type { StepDownReason } from '../keeper/keeper-options.js';
import { LeaseKeeper } from '../keeper/lease-keeper.js';
import type { Logger } from '../logger.js';
import type { OwnerLiveness } from '../owner/owner-liveness.js';
import type { LeaseGrant, LeaseStore } from '../store/lease-store.js';
import { CommandGatedStore } from './command-gated-store.js';
import type { MainIo } from './io.js';
import { EXIT } from './keeper-errors.js';
import { startReaper, type Reaper } from './reaper.js';
import type { ProgressWatch, RunPlan } from './run-plan.js';

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

type Cause = { readonly kind: 'lost'; readonly reason: StepDownReason } | { readonly kind: 'stuck' } | { readonly kind: 'spawn-failed'; readonly code: number };

/** One `keeper run`, from contending to exit. */
export class RunSession {
  readonly #plan: RunPlan;
  readonly #clock: Clock;
  readonly #io: MainIo;
  readonly #log: Logger;
  readonly #keeper: LeaseKeeper;
  readonly #store: CommandGatedStore;
  #phase: 'contending' | 'running' | 'finishing' = 'contending';
  #child: ChildProcess | undefined;
  #pgid: number | undefined;
  #reaper: Reaper | undefined;
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
    this.#reaper = startReaper(child.pid, plan.killGraceMs, this.#log);
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

  async #watchProgress(progress: ProgressWatch): Promise<void> {
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

  #onStuck(progress: ProgressWatch, silentMs: number): void {
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
    this.#reaper?.done();
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
