/** One `keeper run`, from contending for the lease to exit: the command's life bound to the lease's. */
import { stat } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { machineNow, type Clock, type TimerHandle } from '../clock.js';
import { formatDurationMs } from '../duration.js';
import type { ResolvedKeeperTiming, StepDownReason } from '../keeper/keeper-options.js';
import type { Logger } from '../logger.js';
import type { LeaseStore } from '../store/lease-store.js';
import type { SessionExit } from '../supervisor/session.js';
import { Supervisor, type SupervisorOutcome } from '../supervisor/supervisor.js';
import { CommandSpawner } from './command-spawner.js';
import type { MainIo } from './io.js';
import { EXIT } from './keeper-errors.js';
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

/**
 * One `keeper run`: the shipped {@link Supervisor} with the command as its sessions
 * ({@link CommandSpawner}), signals forwarded to it, the progress file watched per session, and
 * each way the supervisor can finish turned into a message and an exit code.
 */
export class RunSession {
  readonly #plan: RunPlan;
  readonly #clock: Clock;
  readonly #io: MainIo;
  readonly #log: Logger;
  readonly #supervisor: Supervisor;
  readonly #spawner: CommandSpawner;
  /** Bumped per session; a progress watch of an older session stops by itself. */
  #sessionSeq = 0;
  #progressTimer: TimerHandle | undefined;
  readonly #signalHandlers = new Map<Forwarded, () => void>();

  constructor(plan: RunPlan, store: LeaseStore, clock: Clock, io: MainIo, log: Logger) {
    this.#plan = plan;
    this.#clock = clock;
    this.#io = io;
    this.#log = log;
    const r = plan.restart;
    this.#spawner = new CommandSpawner(plan, clock, log);
    this.#supervisor = new Supervisor(store, this.#spawner, {
      keeper: plan.keeper, // resolved once by planRun; used as it is
      clock,
      restart: r.policy,
      maxRestarts: r.maxRestarts,
      backoff: { initialMs: r.initialDelayMs, maxMs: r.maxDelayMs },
      killGraceMs: plan.killGraceMs,
    });
  }

  /**
   * @internal The timing its keeper runs on: `plan.keeper` itself, resolved once by `planRun`
   * (tests hold the identity; nothing else of the supervisor shows it).
   */
  get keeperTiming(): ResolvedKeeperTiming {
    return this.#supervisor.keeper.timing;
  }

  async run(): Promise<number> {
    const supervisor = this.#supervisor;
    const keeper = supervisor.keeper;
    keeper.on('new-leader', (holder, token) => this.#log.info({ holder, token }, 'lease holder changed'));
    keeper.on('renewed', (info) => this.#log.debug(info, 'renewed'));
    // The reaper's check-in: the renew deadline of each success, on the machine clock, so a frozen
    // keeper's command is stopped when keeper itself would have stopped it.
    const checkIn = (): void => {
      const left = keeper.validityLeftMs() - (keeper.options.validityMs - keeper.options.renewDeadlineMs);
      if (keeper.state === 'leading') this.#spawner.checkIn(machineNow() + left);
    };
    keeper.on('started-leading', checkIn);
    keeper.on('renewed', checkIn);
    keeper.on('renew-failed', (error) => this.#log.warn({ err: error }, 'lease store request failed'));
    keeper.on('pause', ({ lateMs }) => this.#log.warn({ lateMs }, 'keeper was paused (a timer fired late)'));
    supervisor.on('session-started', (info) => this.#onSessionStarted(info));
    supervisor.on('session-exited', (info) => this.#onSessionExited(info));
    supervisor.on('stopping-session', ({ why, detail }) => {
      if (why === 'lease-lost') this.#onLeaseLost(detail as StepDownReason);
    });
    supervisor.on('killing-session', ({ graceMs }) => this.#io.err(`keeper: the command did not exit within ${formatDurationMs(graceMs)} of SIGTERM — sending SIGKILL\n`));
    supervisor.on('release', ({ released, token, held, error }) => {
      if (error !== undefined) this.#log.warn({ err: error, token, held }, 'release failed; the lease expires on the store by itself');
      else this.#log.info({ released, token, held }, released === true ? 'lease released' : 'lease was no longer ours to release');
    });
    for (const signal of FORWARDED) {
      const handler = (): void => this.#onSignal(signal);
      this.#signalHandlers.set(signal, handler);
      process.on(signal, handler);
    }
    this.#log.info({ key: this.#plan.keeper.key, holder: this.#plan.holder, restart: this.#plan.restart.policy }, 'contending for the lease');
    try {
      const outcome = await supervisor.run();
      this.#stopProgressWatch();
      const code = this.#exitCode(outcome);
      this.#log.info({ code, outcome: outcome.kind }, 'exiting');
      return code;
    } finally {
      for (const [signal, handler] of this.#signalHandlers) process.off(signal, handler);
    }
  }

  #onSessionStarted({ attempt, id, token }: { attempt: number; id: string; token: number }): void {
    this.#log.info({ token, pid: id, command: this.#plan.file, attempt }, attempt === 0 ? 'leading: started the command' : 'restarted the command');
    const seq = ++this.#sessionSeq;
    if (this.#plan.progress !== undefined) void this.#watchProgress(this.#plan.progress, seq);
  }

  #onSessionExited({ exit, restartInMs }: { exit: SessionExit; restartInMs: number | undefined }): void {
    this.#stopProgressWatch();
    this.#sessionSeq += 1;
    this.#log.info({ code: exit.code, signal: exit.signal }, 'the command exited');
    if (restartInMs === undefined) return;
    const { policy, maxRestarts } = this.#plan.restart;
    const used = this.#supervisor.stats().restartsInWindow;
    this.#io.err(
      `keeper: the command exited (${describeExit(exit)}); restarting it in ${formatDurationMs(restartInMs)} with the same lease (--restart ${policy}; restart ${used} of at most ${maxRestarts.count} per ${formatDurationMs(maxRestarts.windowMs)})\n`,
    );
  }

  #onSignal(signal: Forwarded): void {
    const phase = this.#supervisor.phase;
    if (phase === 'running') this.#log.info({ signal }, 'forwarding signal to the command');
    else if (phase !== 'finishing' && phase !== 'done' && signal !== 'SIGHUP') this.#log.info({ signal }, 'signal while no command runs: stopping');
    this.#supervisor.signal(signal);
  }

  #onLeaseLost(reason: StepDownReason): void {
    this.#io.err(
      `keeper: lost the lease ${JSON.stringify(this.#plan.keeper.key)} (${reason}: ${STEP_DOWN_WHY[reason] ?? 'the keeper stepped down'}) — stopping the command (SIGTERM, SIGKILL after ${formatDurationMs(this.#plan.killGraceMs)}), then releasing; will exit ${EXIT.leaseLost}\n`,
    );
  }

  #exitCode(outcome: SupervisorOutcome): number {
    switch (outcome.kind) {
      case 'exited':
        return outcome.exit.code ?? 128 + signalNumber(outcome.exit.signal ?? 'SIGKILL');
      case 'lease-lost':
        return EXIT.leaseLost;
      case 'stuck':
        return EXIT.stuck;
      case 'stopped':
        return 128 + signalNumber(outcome.signal);
      case 'restart-limit': {
        const { count, windowMs } = this.#plan.restart.maxRestarts;
        this.#io.err(
          `keeper: the command exited (${describeExit(outcome.exit)}) after ${outcome.restarts} restarts within ${formatDurationMs(windowMs)} — --max-restarts ${count}/${formatDurationMs(windowMs)} reached: not restarting it; released the lease; exit ${EXIT.restartLimit}\n`,
        );
        return EXIT.restartLimit;
      }
      case 'spawn-failed': {
        const code = (outcome.error as { code?: unknown } | null)?.code;
        const why = code === 'ENOENT' ? 'not found (ENOENT)' : code === 'EACCES' ? 'permission denied (EACCES)' : typeof code === 'string' ? code : String(outcome.error);
        this.#io.err(`keeper: cannot run ${JSON.stringify(this.#plan.file)}: ${why}; releasing the lease\n`);
        return code === 'ENOENT' ? EXIT.notFound : EXIT.cannotExecute;
      }
    }
  }

  async #watchProgress(progress: ProgressWatch, seq: number): Promise<void> {
    // Silence is measured on keeper's monotonic clock between successive stat results; the file's
    // timestamps are only compared for change, never against our clock. Each session gets a
    // fresh window from its start.
    let last = await fileSignature(progress.path);
    let lastChangeAt = this.#clock.now();
    let lastPollAt = lastChangeAt;
    const current = (): boolean => seq === this.#sessionSeq && this.#supervisor.phase === 'running';
    const poll = async (): Promise<void> => {
      this.#progressTimer = undefined;
      if (!current()) return;
      const now = this.#clock.now();
      const signature = await fileSignature(progress.path);
      if (!current()) return;
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
    if (!current()) return;
    this.#progressTimer = this.#clock.setTimeout(() => void poll(), progress.pollMs);
  }

  #stopProgressWatch(): void {
    if (this.#progressTimer !== undefined) this.#clock.clearTimeout(this.#progressTimer);
    this.#progressTimer = undefined;
  }

  #onStuck(progress: ProgressWatch, silentMs: number): void {
    this.#io.err(
      `keeper: the command made no progress for ${formatDurationMs(silentMs)} (${progress.path} unchanged; limit ${formatDurationMs(progress.silenceMs)}) — declared stuck: stopping it (SIGTERM, SIGKILL after ${formatDurationMs(this.#plan.killGraceMs)}) and releasing the lease; will exit ${EXIT.stuck}\n`,
    );
    this.#supervisor.declareStuck(`${progress.path} unchanged for ${formatDurationMs(silentMs)}`);
  }
}

function describeExit(exit: SessionExit): string {
  return exit.signal !== null ? `killed by ${exit.signal}` : `code ${exit.code ?? '?'}`;
}

function signalNumber(signal: string): number {
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
