import { readFileSync } from 'node:fs';
import { ALIVE, type OwnerLiveness, type OwnerStatus } from './owner-liveness.js';

/** What `/proc/<pid>/stat` says about a process: its state letter and start time (clock ticks since boot). */
export interface ProcessStat {
  /** Field 3: `R`, `S`, `D`, `T`, `t`, `Z` (zombie), `X` (dead), ... */
  readonly state: string;
  /** Field 22 `starttime`: when the process started, in clock ticks after boot. */
  readonly startTime: number;
}

/**
 * Reads `/proc/<pid>/stat`; `null` when there is no such process (or no procfs).
 * Field 2 (`comm`) may hold spaces and parentheses, so the fields are split after the *last* `)`.
 */
export function readProcessStat(pid: number): ProcessStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const close = text.lastIndexOf(')');
  if (close === -1) return null;
  // After ") " come fields 3, 4, ...: field n is at index n − 3.
  const fields = text.slice(close + 2).trim().split(/\s+/);
  const state = fields[0];
  const startTime = Number(fields[22 - 3]);
  if (state === undefined || !Number.isSafeInteger(startTime)) return null;
  return { state, startTime };
}

/**
 * The start time of process `pid` (field 22 of `/proc/<pid>/stat`, clock ticks after boot), or
 * `null` when the process does not exist or the platform has no procfs. Together with the PID it
 * names one process incarnation: a reused PID has a different start time.
 */
export function readProcessStartTime(pid: number): number | null {
  return readProcessStat(pid)?.startTime ?? null;
}

/** How a {@link ProcessOwner} looks processes up: the operating system's table, or a simulated one. */
export interface ProcessTable {
  /** `kill(pid, 0)`: whether some process has this PID (EPERM counts as yes). */
  exists(pid: number): boolean;
  /** What `/proc/<pid>/stat` says, `null` when there is no entry. */
  stat(pid: number): ProcessStat | null;
  /** Whether {@link stat} can tell anything (false without procfs: only existence is checked). */
  readonly hasStat: boolean;
}

/** This machine's processes: `kill(pid, 0)` and procfs. */
export const SYSTEM_PROCESSES: ProcessTable = {
  exists(pid) {
    try {
      process.kill(pid, 0);
      return true;
    } catch (error) {
      // EPERM: it exists but belongs to someone else; procfs still tells us who it is.
      return (error as NodeJS.ErrnoException).code !== 'ESRCH';
    }
  },
  stat: readProcessStat,
  hasStat: readProcessStat(process.pid) !== null,
};

/**
 * An owner identified by PID **and** start time. Dead when the PID is gone, when it now names a
 * different process (start time differs: the PID was reused), or when it is a zombie (exited but
 * not yet reaped). A stopped process (SIGSTOP, state `T`) is alive.
 *
 * Poll only (no `watch`): the keeper calls `check()` before every acquire and renew. Without
 * procfs (non-Linux) only existence is checked, via `kill(pid, 0)`.
 */
export class ProcessOwner implements OwnerLiveness {
  /** The owner's PID. */
  readonly pid: number;
  /** The start time captured for it, or `null` when it could not be read. */
  readonly startTime: number | null;
  readonly #processes: ProcessTable;

  /**
   * @param pid the owner's PID.
   * @param startTime its start time as read by {@link readProcessStartTime}; `null` skips the reuse check.
   * @param processes where processes are looked up. @default SYSTEM_PROCESSES
   */
  constructor(pid: number, startTime: number | null, processes: ProcessTable = SYSTEM_PROCESSES) {
    if (!Number.isSafeInteger(pid) || pid <= 0) throw new RangeError(`ProcessOwner: pid must be a positive integer (got ${String(pid)})`);
    this.pid = pid;
    this.startTime = startTime;
    this.#processes = processes;
  }

  /** The process `pid` as it is now: its start time is captured at once. */
  static of(pid: number): ProcessOwner {
    return new ProcessOwner(pid, readProcessStartTime(pid));
  }

  check(): OwnerStatus {
    const pid = this.pid;
    if (!this.#processes.exists(pid)) return dead(`owner process ${pid} is gone`);
    if (!this.#processes.hasStat) return ALIVE;
    const stat = this.#processes.stat(pid);
    if (stat === null) return dead(`owner process ${pid} is gone (no /proc entry)`);
    if (stat.state === 'Z' || stat.state === 'X') return dead(`owner process ${pid} has exited (zombie, not yet reaped)`);
    if (this.startTime !== null && stat.startTime !== this.startTime) {
      return dead(`owner process ${pid} is gone: the PID now names another process (start time ${stat.startTime}, expected ${this.startTime})`);
    }
    return ALIVE;
  }
}

function dead(reason: string): OwnerStatus {
  return { alive: false, reason };
}
