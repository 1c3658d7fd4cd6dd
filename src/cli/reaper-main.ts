/**
 * The reaper: a separate process `keeper run` starts beside its command (see `reaper.ts`), in its
 * own process group, with a pipe from keeper on stdin. It stops the command's process group
 * (SIGTERM, SIGKILL after the grace) and exits when either
 * - stdin ends without a "done" line: keeper died (even by SIGKILL); or
 * - keeper stops checking in: after each renewal keeper writes `deadline <ms>`, the renew deadline
 *   of that renewal on the machine's monotonic clock (`CLOCK_MONOTONIC`, the same in every
 *   process). If that instant passes with no later deadline, keeper is frozen (SIGSTOP, a stalled
 *   VM, a blocked event loop): the command is stopped as keeper itself would have at its renew
 *   deadline, so it is dead before the lease can expire on the store.
 * Its inputs come in the environment: `HEARTBEAT_LAB_REAPER_PGID`, `HEARTBEAT_LAB_REAPER_GRACE_MS`.
 *
 * Loads nothing but the clock: it must be running before the command can do anything.
 */
import { formatDurationMs } from '../duration.js';
import { machineNow, SystemClock, type TimerHandle } from '../clock.js';

const POLL_MS = 20;

const pgid = Number(process.env.HEARTBEAT_LAB_REAPER_PGID);
const graceMs = Number(process.env.HEARTBEAT_LAB_REAPER_GRACE_MS);
const clock = new SystemClock();
let done = false;
let stopping = false;
let deadlineTimer: TimerHandle | undefined;
let buffered = '';

/** Whether a process of the group lives (EPERM: it does, owned by someone else). */
function groupAlive(): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as { code?: unknown }).code === 'EPERM';
  }
}

function signalGroup(signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

/** SIGTERM to the group, SIGKILL after the grace, then exit. */
function stopGroup(why: string): void {
  if (stopping) return;
  stopping = true;
  if (deadlineTimer !== undefined) clock.clearTimeout(deadlineTimer);
  if (done || !groupAlive()) process.exit(0);
  process.stderr.write(`keeper-reaper: ${why}; stopping the command (process group ${pgid})\n`);
  signalGroup('SIGTERM');
  const startedAt = clock.now();
  const poll = (): void => {
    if (!groupAlive()) process.exit(0);
    if (clock.now() - startedAt >= graceMs) {
      signalGroup('SIGKILL');
      process.exit(0);
    }
    clock.setTimeout(poll, POLL_MS);
  };
  clock.setTimeout(poll, POLL_MS);
}

/** Keeper checked in: the command may run until `deadlineMs` (machine clock) unless it checks in again. */
function checkIn(deadlineMs: number): void {
  if (stopping || done || !Number.isFinite(deadlineMs)) return;
  if (deadlineTimer !== undefined) clock.clearTimeout(deadlineTimer);
  const fire = (): void => {
    // Timers may fire a little early against the monotonic clock: wait out the remainder.
    const left = deadlineMs - machineNow();
    if (left > 0) deadlineTimer = clock.setTimeout(fire, left);
    else stopGroup(`keeper stopped checking in (no renewal by its renew deadline, ${formatDurationMs(-left)} ago)`);
  };
  deadlineTimer = clock.setTimeout(fire, deadlineMs - machineNow());
}

process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  buffered += chunk;
  const lines = buffered.split('\n');
  buffered = lines.pop() ?? '';
  for (const line of lines) {
    if (line === 'done') {
      done = true;
      if (deadlineTimer !== undefined) clock.clearTimeout(deadlineTimer);
    } else if (line.startsWith('deadline ')) {
      checkIn(Number(line.slice('deadline '.length)));
    }
  }
});
process.stdin.on('end', () => stopGroup('keeper died'));
process.stdin.on('error', () => stopGroup('keeper died'));
