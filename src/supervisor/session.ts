import type { LeaseGrant } from '../store/lease-store.js';

/** How a session ended: its exit code, or the signal that killed it; or why it never started. */
export interface SessionExit {
  readonly code: number | null;
  readonly signal: string | null;
  /** Set when the session could not be started at all (e.g. `ENOENT`); it is never restarted. */
  readonly spawnError?: unknown;
}

/** Signals a supervisor sends to (or forwards to) its session. */
export type SessionSignal = 'SIGTERM' | 'SIGKILL' | 'SIGINT' | 'SIGHUP';

/** One running session, as its supervisor sees it. */
export interface SupervisedSession {
  /** An id for logs (a PID for a real process). */
  readonly id: string;
  /**
   * Settles once the session **and everything it started** are gone (for a process: its whole
   * process group). Never rejects. Until then the supervisor holds back any release of the lease.
   */
  readonly gone: Promise<SessionExit>;
  /** Delivers `signal` to the session (for a process: to its whole group). Must not throw. */
  signal(signal: SessionSignal): void;
}

/** What a new session is started with. */
export interface SessionStart {
  /** The lease the supervisor holds: the same grant (same fencing token) for every restart. */
  readonly lease: LeaseGrant;
  /** 0 for the first session of this supervisor, then 1, 2, ... for each restart. */
  readonly attempt: number;
}

/**
 * The spawning seam: production starts a process (`keeper run`), the simulator a simulated one.
 * When the session cannot start at all (program missing, not executable), `spawn` throws, or
 * its `gone` settles with `spawnError` set (when the failure is only known later).
 */
export interface SessionSpawner {
  spawn(start: SessionStart): SupervisedSession;
}

/** A clean exit: code 0, no signal. An idle session that ends itself exits cleanly. */
export function isCleanExit(exit: SessionExit): boolean {
  return exit.code === 0 && exit.signal === null;
}
