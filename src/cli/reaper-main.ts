/**
 * The reaper: a separate process `keeper run` starts beside its command (see `reaper.ts`), in its
 * own process group, with a pipe from keeper on stdin. EOF without a "done" line means keeper died
 * (even by SIGKILL): it stops the command's process group (SIGTERM, SIGKILL after the grace) and
 * exits, so no command outlives its keeper. Its inputs come in the environment:
 * `HEARTBEAT_LAB_REAPER_PGID` and `HEARTBEAT_LAB_REAPER_GRACE_MS`.
 *
 * Loads nothing but the clock: it must be running before the command can do anything.
 */
import { SystemClock } from '../clock.js';

const POLL_MS = 20;

const pgid = Number(process.env.HEARTBEAT_LAB_REAPER_PGID);
const graceMs = Number(process.env.HEARTBEAT_LAB_REAPER_GRACE_MS);
const clock = new SystemClock();
let done = false;
let ended = false;

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

function onEnd(): void {
  if (ended) return;
  ended = true;
  if (done || !groupAlive()) process.exit(0);
  process.stderr.write(`keeper-reaper: keeper died; stopping the command (process group ${pgid})\n`);
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

process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  if (chunk.includes('done')) done = true;
});
process.stdin.on('end', onEnd);
process.stdin.on('error', onEnd);
