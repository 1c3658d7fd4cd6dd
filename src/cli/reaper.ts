/** Starts the reaper process (`reaper-main.ts`) that stops a command's process group if keeper dies or freezes. */
import { spawn, type ChildProcess } from 'node:child_process';
import { compiledEntryPath } from '../entry-path.js';
import type { Logger } from '../logger.js';

/** The running reaper: `done()` tells it keeper finished on purpose, so it exits without acting. */
export interface Reaper {
  done(): void;
  /**
   * Keeper checks in: the command may run until `deadlineMs` on the machine clock (`machineNow()`);
   * if no later check-in comes by then, the reaper stops the command's group.
   */
  checkIn(deadlineMs: number): void;
}

/**
 * Spawns the reaper for process group `pgid`, detached (its own group, so signals to the command's
 * group or to keeper's do not reach it) and unreferenced. A failure to start is logged, not thrown:
 * the command then runs unprotected against a keeper crash.
 */
export function startReaper(pgid: number, killGraceMs: number, log: Logger, mainPath = compiledEntryPath(import.meta.url, 'reaper-main')): Reaper | undefined {
  let reaper: ChildProcess;
  try {
    reaper = spawn(process.execPath, [mainPath], {
      stdio: ['pipe', 'ignore', 'inherit'],
      detached: true,
      // Only what it needs: never the store URL (HEARTBEAT_LAB_STORE may carry a password) or any other secret of ours.
      env: { HEARTBEAT_LAB_REAPER_PGID: String(pgid), HEARTBEAT_LAB_REAPER_GRACE_MS: String(killGraceMs) },
    });
  } catch (error) {
    log.warn({ err: error }, 'cannot start the reaper process');
    return undefined;
  }
  reaper.on('error', (error) => log.warn({ err: error }, 'reaper process failed; the command is not protected against keeper crashes'));
  reaper.stdin?.on('error', () => undefined);
  reaper.unref();
  let ended = false;
  return {
    done: () => {
      if (!reaper.stdin || ended) return;
      ended = true;
      reaper.stdin.write('done\n');
      reaper.stdin.end();
    },
    checkIn: (deadlineMs) => {
      if (!reaper.stdin || ended) return;
      reaper.stdin.write(`deadline ${deadlineMs}\n`);
    },
  };
}
