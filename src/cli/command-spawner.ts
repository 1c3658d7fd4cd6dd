/** `keeper run`'s sessions: the command as a child process in its own group, with a reaper beside it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { sleep, type Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { SessionExit, SessionSignal, SessionSpawner, SessionStart, SupervisedSession } from '../supervisor/session.js';
import { startReaper, type Reaper } from './reaper.js';
import type { RunPlan } from './run-plan.js';

/** How often the group is probed for stragglers after the command itself exited. */
const GROUP_POLL_MS = 20;

/**
 * Starts the command for each session: detached (its own process group, so signals reach the whole
 * command tree and a terminal's ^C reaches it once, via keeper), with the lease in its environment
 * and a reaper process that stops the group if keeper dies or stops checking in ({@link checkIn}). A session is `gone` only when the
 * whole group is: stragglers left by the command get SIGTERM, then SIGKILL after the kill grace.
 */
export class CommandSpawner implements SessionSpawner {
  readonly #plan: RunPlan;
  readonly #clock: Clock;
  readonly #log: Logger;
  /** The latest check-in deadline (machine clock), handed to each new session's reaper. */
  #deadlineMs: number | undefined;
  #session: CommandSession | undefined;

  constructor(plan: RunPlan, clock: Clock, log: Logger) {
    this.#plan = plan;
    this.#clock = clock;
    this.#log = log;
  }

  /**
   * Keeper renewed: its next renew deadline is `deadlineMs` on the machine clock. The reaper stops
   * the command's group when that instant passes without a later check-in (keeper frozen).
   */
  checkIn(deadlineMs: number): void {
    this.#deadlineMs = deadlineMs;
    this.#session?.reaper?.checkIn(deadlineMs);
  }

  spawn({ lease, attempt }: SessionStart): SupervisedSession {
    const plan = this.#plan;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HEARTBEAT_LAB_TOKEN: String(lease.token),
      HEARTBEAT_LAB_LEASE_KEY: lease.key,
      HEARTBEAT_LAB_HOLDER: lease.holder,
      HEARTBEAT_LAB_RESTARTS: String(attempt),
    };
    delete env.HEARTBEAT_LAB_STORE; // the store URL may carry a password; the command does not need it
    if (plan.progress !== undefined) env.HEARTBEAT_LAB_PROGRESS_FILE = plan.progress.path;
    else delete env.HEARTBEAT_LAB_PROGRESS_FILE;
    const child = spawn(plan.file, [...plan.args], { stdio: 'inherit', detached: true, env });
    const session = new CommandSession(child, plan.killGraceMs, this.#clock, this.#log);
    if (this.#deadlineMs !== undefined) session.reaper?.checkIn(this.#deadlineMs);
    this.#session = session;
    return session;
  }
}

class CommandSession implements SupervisedSession {
  readonly id: string;
  readonly gone: Promise<SessionExit>;
  readonly reaper: Reaper | undefined;
  readonly #child: ChildProcess;
  readonly #pgid: number | undefined;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #killGraceMs: number;

  constructor(child: ChildProcess, killGraceMs: number, clock: Clock, log: Logger) {
    this.#child = child;
    this.#pgid = child.pid;
    this.#clock = clock;
    this.#log = log;
    this.#killGraceMs = killGraceMs;
    this.id = String(child.pid ?? 'not-started');
    const reaper = child.pid === undefined ? undefined : startReaper(child.pid, killGraceMs, log);
    this.reaper = reaper;
    this.gone = new Promise((resolve) => {
      child.once('error', (error) => {
        // Without a PID the program never ran (ENOENT, EACCES); 'exit' will not follow.
        if (child.pid === undefined) resolve({ code: null, signal: null, spawnError: error });
        else log.warn({ err: error }, 'command process error');
      });
      child.once('exit', (code, signal) => {
        void this.#reapGroup().then(() => {
          reaper?.done();
          resolve({ code, signal });
        });
      });
    });
  }

  signal(signal: SessionSignal): void {
    if (this.#pgid === undefined) return;
    try {
      process.kill(-this.#pgid, signal);
    } catch {
      try {
        this.#child.kill(signal);
      } catch {
        // already gone
      }
    }
  }

  /** Stragglers left in the command's process group must not outlive the lease either. */
  async #reapGroup(): Promise<void> {
    if (!this.#groupAlive()) return;
    this.#log.warn({ pgid: this.#pgid }, 'the command exited but left processes in its group: SIGTERM');
    this.signal('SIGTERM');
    const deadline = this.#clock.now() + this.#killGraceMs;
    while (this.#groupAlive() && this.#clock.now() < deadline) await sleep(this.#clock, GROUP_POLL_MS);
    if (!this.#groupAlive()) return;
    this.signal('SIGKILL');
    const killDeadline = this.#clock.now() + 1_000;
    while (this.#groupAlive() && this.#clock.now() < killDeadline) await sleep(this.#clock, GROUP_POLL_MS);
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
