/**
 * A cross-process lock file for one machine, holding an owner record (`pid`, `thread`, `host`, a
 * random `nonce`, `startedAtWallMs`). The lock is a symlink whose target *is* the record: `symlink(2)`
 * creates it with its content in one atomic call and fails if the lock exists, so a lock is never
 * empty — a process killed at any point leaves either no lock or a lock naming its dead pid, which
 * the next taker breaks at once — and taking it, checking it (`readlink`) and reading it cost one
 * call each. (With create-then-write, a SIGKILL in between left an empty lock that only aged out: a
 * 10 s blackout. Earlier versions wrote the record to a temp file and hard-linked it into place:
 * five calls. A regular-file lock such a version left is still read, judged and broken the same way,
 * and both kinds exclude each other, since either is created only where no file exists; such a
 * version reads a symlink lock as absent, so it waits for it but never breaks it.)
 *
 * A lock is stale when its owner is gone (same host, `process.kill(pid, 0)` → ESRCH; or our own pid
 * and thread with a nonce this thread does not hold, i.e. an earlier run that got the same pid) or
 * when its mtime is older than `staleMs`. Removing a lock — stale, or one's own held for `staleMs / 2`
 * or more (a fresher one of ours is just checked and unlinked: {@link removeFreshOwn}) — is
 * serialised per lock *content* by an exclusive break marker `<path>.break-<id>-<level>`, so two breakers of the same
 * stale lock can never both remove it and a late breaker never removes a successor's lock. The
 * lock is renamed away and checked before it is discarded; a displaced successor is linked back.
 * A marker left by a dead breaker is itself stale and skipped by going one level up.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { sleep, type Clock } from '../clock.js';
import { formatDurationMs } from '../duration.js';
import { PERMISSION_CODES, StorePermissionError, StoreUnavailableError } from '../errors.js';
import type { FileIo } from './file-io.js';

/** Seams and timing of {@link acquireFileLock}. */
export interface FileLockOptions {
  readonly clock: Clock;
  /** The file-system calls. */
  readonly io: FileIo;
  /** Uniform [0, 1): jitter of the waits on a held lock. */
  readonly random: () => number;
  /** Give up with `StoreUnavailableError` after this many ms of waiting. */
  readonly timeoutMs: number;
  /** A lock whose mtime is older than this (on `clock.wallNow()`) is stale even if its owner seems alive. */
  readonly staleMs: number;
  /**
   * Files named `<litterPrefix>.<pid>.<x>.tmp|stale` (and break markers of gone locks) are swept
   * by the holder now and then. @default the lock's path
   */
  readonly litterPrefix?: string;
}

/** Counters of lock use, for contention diagnostics. Mutated in place by {@link acquireFileLock}. */
export interface FileLockStats {
  /** Locks taken. */
  acquired: number;
  /** Waits because another live holder had the lock. */
  retries: number;
  /** Stale locks removed. */
  staleBroken: number;
}

/** A held lock. */
export interface FileLock {
  readonly path: string;
  /** Throws `StoreUnavailableError` unless the lock on disk is still this one. Call right before committing. */
  assertHeld(): Promise<void>;
  /** Removes the lock if it is still this one. Never throws. */
  release(): Promise<void>;
}

interface Owner {
  readonly pid: number;
  /** `worker_threads.threadId` of the taker (0: the main thread); absent (0) in earlier versions' records. */
  readonly thread: number;
  readonly host: string;
  readonly nonce: string;
  readonly startedAtWallMs: number;
}

interface Seen {
  readonly text: string;
  readonly stale: string | null;
  readonly owner: Owner | null;
}

const HOST = hostname();
const MAX_BREAK_LEVELS = 8;
/** Litter is swept at most this often per lock path, by whoever holds the lock. */
const SWEEP_EVERY_MS = 1_000;
/** Waits on a held lock: the first about this long, doubling up to {@link MAX_WAIT_MS}, each jittered ×[0.5, 1.5). */
const FIRST_WAIT_MS = 1;
const MAX_WAIT_MS = 32;
/** At most this many leftover files are removed per sweep. */
const SWEEP_MAX_FILES = 64;
/**
 * Nonces of the locks and break markers this thread holds right now. Each worker thread has its
 * own copy of this module, so a lock with our pid taken by another thread is not judged by it.
 */
const held = new Set<string>();
/** Last sweep per lock path (this process's monotonic clock). */
const lastSweep = new Map<string, number>();
let counter = 0;

/**
 * Takes the lock at `path`, breaking stale locks. While a live process holds it, waits on
 * `options.clock` — no polling loop: each wait is a timer, the first ~1 ms, doubling up to 32 ms,
 * jittered by `options.random` so that waiters spread out — and tries again (one `symlink`, and a
 * `readlink` + `lstat` to judge the holder) until `options.timeoutMs` has passed.
 */
export async function acquireFileLock(path: string, options: FileLockOptions, stats?: FileLockStats): Promise<FileLock> {
  const { clock } = options;
  const deadline = clock.now() + options.timeoutMs;
  let delayMs = FIRST_WAIT_MS;
  for (;;) {
    const mine = await tryCreate(path, options);
    if (mine !== null) {
      const takenAt = clock.now();
      if (stats) stats.acquired++;
      await sweepLockLitter(path, mine.text, options);
      return {
        path,
        assertHeld: async () => {
          if ((await readLockQuiet(path, options.io)) !== mine.text) {
            throw new StoreUnavailableError(`lost the lock ${path}: it was broken as stale by another process; nothing was written, retry`);
          }
        },
        release: async () => {
          if (clock.now() - takenAt < options.staleMs / 2) await removeFreshOwn(path, mine.text, options.io).catch(() => false);
          else await removeIf(path, mine.text, options).catch(() => false);
          held.delete(mine.nonce);
        },
      };
    }
    const seen = await inspect(path, options);
    if (seen?.stale != null && (await removeIf(path, seen.text, options))) {
      if (stats) stats.staleBroken++;
      continue;
    }
    if (clock.now() >= deadline) {
      const by = seen?.owner ? `pid ${seen.owner.pid} on ${seen.owner.host}` : 'an unknown owner';
      throw new StoreUnavailableError(
        `could not take the lock ${path} within ${formatDurationMs(options.timeoutMs)}: it is held by ${by}; ` +
          `if no such process is working on the lease file, remove the lock file`,
      );
    }
    if (stats) stats.retries++;
    await sleep(clock, Math.min(delayMs * (0.5 + options.random()), deadline - clock.now()));
    delayMs = Math.min(delayMs * 2, MAX_WAIT_MS);
  }
}

/**
 * Creates `path` exclusively with a fresh owner record, content and all at once (a symlink whose
 * target is the record); `null` when it already exists.
 */
async function tryCreate(path: string, { clock, io }: FileLockOptions): Promise<{ text: string; nonce: string } | null> {
  const owner: Owner = { pid: process.pid, thread: threadId, host: HOST, nonce: randomBytes(8).toString('hex'), startedAtWallMs: clock.wallNow() };
  const text = JSON.stringify(owner);
  held.add(owner.nonce);
  try {
    await io.symlink(text, path);
  } catch (error) {
    held.delete(owner.nonce);
    if (codeOf(error) === 'EEXIST') return null;
    if (codeOf(error) === 'ENOENT') {
      throw new StoreUnavailableError(
        `cannot create ${path}: directory ${dirname(path)} does not exist; create it first (nothing is created outside the lease file's directory)`,
        { cause: error },
      );
    }
    throw fileError('create lock file', path, error);
  }
  return { text, nonce: owner.nonce };
}

/**
 * Run while holding the lock at `path` (content `mine`): removes what killed processes left beside
 * it. Break markers for any other lock content are garbage — that lock is gone for good, since a
 * lock's content (its nonce) never comes back — and temp files and moved-away locks whose pid is
 * dead (or that are older than `staleMs`) will never be used.
 */
async function sweepLockLitter(path: string, mine: string, options: FileLockOptions): Promise<void> {
  const now = options.clock.now();
  if (now - (lastSweep.get(path) ?? -Infinity) < SWEEP_EVERY_MS) return;
  lastSweep.set(path, now);
  const ours = breakId(mine);
  const base = basename(path);
  await sweepDeadTemps(options.litterPrefix ?? path, options, (name) => {
    if (!name.startsWith(`${base}.break-`) || name.endsWith('.tmp')) return false; // a marker's temp: judged by its pid
    const id = name.slice(base.length + '.break-'.length).split('-')[0];
    return id !== ours;
  });
}

/**
 * Removes `<path>.<pid>.<x>.tmp` and `<path>.<pid>.<x>.stale` files (and any name `extra` accepts)
 * in `path`'s directory whose pid is dead on this host or that are older than `staleMs`; at most
 * {@link SWEEP_MAX_FILES} per call. Best effort: errors are ignored. Only call it while holding
 * the lock that guards `path`.
 */
export async function sweepDeadTemps(path: string, options: FileLockOptions, extra: (name: string) => boolean = () => false): Promise<number> {
  const directory = dirname(path);
  const base = basename(path);
  let names: string[];
  try {
    names = await options.io.readdir(directory);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    if (removed >= SWEEP_MAX_FILES || !name.startsWith(`${base}.`)) continue;
    const temp = /\.(\d+)\.[0-9a-z]+\.(?:tmp|stale)$/.exec(name.slice(base.length));
    const pid = temp === null ? undefined : Number(temp[1]);
    const garbage = extra(name) || (temp !== null && (await orphaned(join(directory, name), pid as number, options)));
    if (garbage && (await options.io.unlink(join(directory, name)).then(() => true, () => false))) removed++;
  }
  return removed;
}

/** A temp file nobody will finish: its pid is gone, or it is older than `staleMs`. */
async function orphaned(file: string, pid: number, { clock, io, staleMs }: FileLockOptions): Promise<boolean> {
  if (pid !== process.pid && !pidAlive(pid)) return true;
  try {
    return clock.wallNow() - (await io.mtimeMs(file)) > staleMs;
  } catch {
    return false;
  }
}

function breakId(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/**
 * Reads a lock and judges whether it is stale; `null` if absent. The content is read before the
 * mtime: if the lock is replaced in between, the mtime is the newer lock's, so an age judgement
 * errs towards fresh (and a removal acts only on the content read: see {@link removeIf}).
 */
async function inspect(path: string, { clock, io, staleMs }: FileLockOptions): Promise<Seen | null> {
  let text: string | null;
  let mtimeMs: number;
  try {
    text = await readLock(path, io);
    if (text === null) return null;
    mtimeMs = await io.mtimeMs(path);
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return null;
    throw fileError('read lock file', path, error);
  }
  const owner = parseOwner(text);
  let stale: string | null = null;
  if (clock.wallNow() - mtimeMs > staleMs) stale = `older than ${formatDurationMs(staleMs)}`;
  else if (owner !== null && owner.host === HOST) {
    // Our pid: from this thread, only a nonce we hold is live (else an earlier process with our
    // pid left it); from another thread of ours (a worker host's keeper), only age can tell.
    if (owner.pid === process.pid) stale = owner.thread !== threadId || held.has(owner.nonce) ? null : 'left by an earlier process with our pid';
    else if (!pidAlive(owner.pid)) stale = `owner pid ${owner.pid} is dead`;
  }
  return { text, stale, owner };
}

/** Removes the lock at `path` only if its content is still `text`. Returns whether it did. */
async function removeIf(path: string, text: string, options: FileLockOptions): Promise<boolean> {
  const id = breakId(text);
  const marker = (level: number): string => `${path}.break-${id}-${level}`;
  for (let level = 0; level < MAX_BREAK_LEVELS; level++) {
    const mine = await tryCreate(marker(level), options);
    if (mine === null) {
      const seen = await inspect(marker(level), options);
      if (seen?.stale != null) continue; // a breaker died mid-break: go one level up
      return false; // someone else is removing it right now (or just did)
    }
    try {
      const removed = await renameAwayIf(path, text, options.io);
      // Lower-level markers belong to dead breakers of a lock that is gone now.
      if (removed) for (let lower = 0; lower < level; lower++) await options.io.unlink(marker(lower)).catch(() => undefined);
      return removed;
    } finally {
      await options.io.unlink(marker(level)).catch(() => undefined);
      held.delete(mine.nonce);
    }
  }
  return false;
}

/**
 * Releases a lock of ours taken less than `staleMs / 2` ago: checks it (`readlink`) and unlinks it,
 * two calls instead of the six of {@link removeIf}. Safe because nobody else can be removing it:
 * locks are removed only by breakers that judged them stale, and ours is neither old (by mtime,
 * on the machine's one wall clock) nor ownerless (this process is alive, no other live process
 * has our pid, and our other threads do not judge our locks by pid). A forward step of the wall clock by more than `staleMs / 2` while held voids that,
 * as it voids every age judgement here.
 */
async function removeFreshOwn(path: string, text: string, io: FileIo): Promise<boolean> {
  if ((await readLockQuiet(path, io)) !== text) return false;
  await io.unlink(path);
  return true;
}

async function renameAwayIf(path: string, text: string, io: FileIo): Promise<boolean> {
  if ((await readLockQuiet(path, io)) !== text) return false;
  const grave = `${path}.${process.pid}.${++counter}.stale`;
  try {
    await io.rename(path, grave);
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return false;
    throw fileError('move away stale lock', path, error);
  }
  const moved = await readLockQuiet(grave, io);
  // Only a breaker wrongly judged stale can have slipped a successor in; put it back if we can
  // (`link` of a symlink links the symlink itself).
  if (moved !== text) await io.link(grave, path).catch(() => undefined);
  await io.unlink(grave).catch(() => undefined);
  return moved === text;
}

function parseOwner(text: string): Owner | null {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null) return null;
    const { pid, thread = 0, host, nonce, startedAtWallMs } = value as Record<string, unknown>;
    if (!Number.isSafeInteger(pid) || (pid as number) <= 0 || typeof host !== 'string' || typeof nonce !== 'string') return null;
    if (!Number.isSafeInteger(thread) || (thread as number) < 0) return null;
    return { pid: pid as number, thread: thread as number, host, nonce, startedAtWallMs: Number(startedAtWallMs) };
  } catch {
    return null;
  }
}

/** `process.kill(pid, 0)`: only ESRCH means dead (EPERM is a live process of another user). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return codeOf(error) !== 'ESRCH';
  }
}

/**
 * The owner record of the lock (or break marker) at `path`: a symlink's target, or the content of a
 * regular file (a lock left by an earlier version, which wrote them as files). `null` when absent.
 */
async function readLock(path: string, io: FileIo): Promise<string | null> {
  try {
    return await io.readlink(path);
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return null;
    if (codeOf(error) !== 'EINVAL') throw error;
  }
  try {
    return await io.readText(path);
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return null;
    throw error;
  }
}

async function readLockQuiet(path: string, io: FileIo): Promise<string | null> {
  return readLock(path, io).catch(() => null);
}

/**
 * A failed file operation as a store error: a permission refusal (EACCES, EPERM, EROFS) is a
 * `StorePermissionError`, which callers must not retry as an outage; anything else is a
 * `StoreUnavailableError`.
 */
export function fileError(operation: string, path: string, error: unknown): StorePermissionError | StoreUnavailableError {
  const code = codeOf(error);
  if (code !== undefined && PERMISSION_CODES.has(code)) return new StorePermissionError(operation, path, code, { cause: error });
  return new StoreUnavailableError(`cannot ${operation} ${path}: ${code ?? String(error)}`, { cause: error });
}

/** The `code` of a Node system error, if any. */
export function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
