import { constants } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { SystemClock, type Clock } from '../clock.js';
import { ConfigError, formatValue, HeartbeatLabError, StoreCorruptError, StoreUnavailableError } from '../errors.js';
import { asyncFileIo, type FileIo } from './file-io.js';
import { acquireFileLock, codeOf, fileError, type FileLock, type FileLockOptions, type FileLockStats } from './file-lock.js';
import type {
  AcquireRequest,
  AcquireResult,
  LeaseInfo,
  LeaseStore,
  ReleaseRequest,
  RenewRequest,
  RenewResult,
  TransferRequest,
  TransferResult,
} from './lease-store.js';

/** Options of {@link FileLeaseStore}. */
/**
 * Lease and lock files are created readable and writable by their owner only (0600), whatever
 * the umask: under `umask 000` they would otherwise be world-writable, and anyone could take or
 * corrupt the lease.
 */
export const LEASE_FILE_MODE = 0o600;

export interface FileLeaseStoreOptions {
  /** Supplies `wallNow()` for expiry times and the timers for lock waits. @default new SystemClock() */
  readonly clock?: Clock;
  /** Give up waiting for the cross-process lock after this long (`StoreUnavailableError`). @default 2000 */
  readonly lockTimeoutMs?: number;
  /** A lock file older than this (by mtime) is broken even if its owner seems alive. @default 10000 */
  readonly staleLockMs?: number;
  /**
   * The file-system calls: `asyncFileIo` (threadpool; the caller's event loop never blocks on the
   * disk) or `syncFileIo` (blocking calls, no thread hops: only for a thread that does nothing but
   * keep leases, like the worker and sidecar hosts). @default asyncFileIo
   */
  readonly io?: FileIo;
  /** Uniform [0, 1): jitter of the waits on a lock another process holds. @default Math.random */
  readonly random?: () => number;
}

interface Entry {
  holder: string | null;
  token: number;
  /** Grant version; files written before versions existed read as 0. */
  version: number;
  ttlMs: number;
  expiresAtWallMs: number;
}

type Leases = Map<string, Entry>;

/**
 * What a change did to the file: nothing; only moved an expiry (a renewal); or changed a grant
 * (holder, token or version: acquire, release, transfer).
 */
type Change = false | 'expiry' | 'grant';

/** One change waiting for the next commit. */
interface Pending {
  readonly apply: (leases: Leases, nowWallMs: number) => { changed: Change; result: unknown };
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: unknown) => void;
}

let tempCounter = 0;
/** At most this many changes share one commit (the rest wait for the next). */
const MAX_BATCH = 4096;

/**
 * The embedded default store for one machine: every key lives in one JSON file
 * `{ "version": 1, "leases": { "<key>": { holder, token, version, ttlMs, expiresAtWallMs } } }`
 * (the file format's `version` is 1; a lease's `version` is its grant version, absent in older files).
 *
 * Changes are committed in groups: while one commit is in flight, the changes that arrive queue up
 * and the next commit applies them all, in arrival order, each judged on its own (a renewal of a
 * grant that an earlier change in the same group replaced fails, as it would alone). A commit
 * takes the cross-process lock (`<path>.lock`) once, reads the file once, and — if anything
 * changed — writes it once to a temp file in the same directory, fsynced, renamed over the lease
 * file and, unless only expiries moved, followed by a directory fsync, so readers never see a torn
 * file (see `#write` on why a renewal alone needs no directory fsync). Every change of a
 * group is answered only after that; if any step fails, every change of the group fails with it.
 * Expiry is judged on `clock.wallNow()` because several processes share the file. The file is
 * created only by the first `acquire` (exclusively); a file that cannot be read is reported as
 * `StoreCorruptError` and never overwritten.
 */
export class FileLeaseStore implements LeaseStore {
  readonly kind = 'file';
  /** Absolute path of the lease file. */
  readonly path: string;
  readonly #clock: Clock;
  readonly #lock: FileLockOptions;
  readonly #io: FileIo;
  readonly #stats: FileLockStats = { acquired: 0, retries: 0, staleBroken: 0 };
  /** Changes waiting for the next commit. */
  #queue: Pending[] = [];
  #committing = false;
  #closed = false;

  constructor(path: string, options: FileLeaseStoreOptions = {}) {
    if (typeof path !== 'string' || path === '') throw new ConfigError('path', 'must be a non-empty file path', path);
    this.path = resolve(path);
    this.#clock = options.clock ?? new SystemClock();
    this.#io = options.io ?? asyncFileIo;
    this.#lock = {
      clock: this.#clock,
      io: this.#io,
      random: options.random ?? Math.random,
      timeoutMs: positive('lockTimeoutMs', options.lockTimeoutMs ?? 2000),
      staleMs: positive('staleLockMs', options.staleLockMs ?? 10_000),
      // Temp files of writers killed before their rename are swept with the lock's own litter.
      litterPrefix: this.path,
    };
  }

  /** Lock use so far by this instance: locks taken, waits on a live holder, stale locks broken. */
  get lockStats(): Readonly<FileLockStats> {
    return { ...this.#stats };
  }

  async acquire(request: AcquireRequest): Promise<AcquireResult> {
    checkRequest(request, false);
    return this.#update<AcquireResult>((leases, now) => {
      const entry = leases.get(request.key);
      const live = entry !== undefined && entry.holder !== null && entry.expiresAtWallMs > now;
      if (live && entry.holder !== request.holder) {
        return { changed: false, result: { ok: false, reason: 'held', current: info(request.key, entry, now) } };
      }
      const token = live ? entry.token : (entry?.token ?? 0) + 1;
      const version = (entry?.version ?? 0) + 1;
      leases.set(request.key, { holder: request.holder, token, version, ttlMs: request.ttlMs, expiresAtWallMs: now + request.ttlMs });
      return { changed: 'grant', result: { ok: true, lease: { key: request.key, holder: request.holder, token, version, ttlMs: request.ttlMs } } };
    });
  }

  async renew(request: RenewRequest): Promise<RenewResult> {
    checkRequest(request, true);
    return this.#update<RenewResult>((leases, now) => {
      const entry = leases.get(request.key);
      if (entry === undefined || !isGrant(entry, request)) {
        return { changed: false, result: { ok: false, reason: 'not-holder', current: entry ? info(request.key, entry, now) : null } };
      }
      if (entry.expiresAtWallMs <= now) {
        return { changed: false, result: { ok: false, reason: 'expired', current: info(request.key, entry, now) } };
      }
      entry.ttlMs = request.ttlMs;
      entry.expiresAtWallMs = now + request.ttlMs;
      const lease = { key: request.key, holder: request.holder, token: entry.token, version: entry.version, ttlMs: request.ttlMs };
      return { changed: 'expiry', result: { ok: true, lease } };
    });
  }

  async release(request: ReleaseRequest): Promise<boolean> {
    checkRequest(request, true);
    return this.#update<boolean>((leases, now) => {
      const entry = leases.get(request.key);
      if (entry === undefined || !isGrant(entry, request)) {
        return { changed: false, result: false };
      }
      entry.holder = null;
      entry.expiresAtWallMs = now;
      return { changed: 'grant', result: true };
    });
  }

  async transfer(request: TransferRequest): Promise<TransferResult> {
    checkRequest(request, true);
    checkRecipient(request);
    return this.#update<TransferResult>((leases, now) => {
      const entry = leases.get(request.key);
      if (entry === undefined || !isGrant(entry, request)) {
        return { changed: false, result: { ok: false, reason: 'not-holder', current: entry ? info(request.key, entry, now) : null } };
      }
      if (entry.expiresAtWallMs <= now) {
        return { changed: false, result: { ok: false, reason: 'expired', current: info(request.key, entry, now) } };
      }
      const next = { holder: request.to, token: entry.token + 1, version: entry.version + 1, ttlMs: request.ttlMs, expiresAtWallMs: now + request.ttlMs };
      leases.set(request.key, next);
      const lease = { key: request.key, holder: request.to, token: next.token, version: next.version, ttlMs: request.ttlMs };
      return { changed: 'grant', result: { ok: true, lease } };
    });
  }

  /** Reads without the lock: the file is only ever replaced atomically. `null` if the file or key is absent. */
  async read(key: string): Promise<LeaseInfo | null> {
    this.#assertOpen();
    if (typeof key !== 'string' || key === '') throw inputError('key', 'must be a non-empty string', key);
    const leases = await this.#load();
    if (leases === null) {
      await this.#assertDirectory();
      return null;
    }
    const entry = leases.get(key);
    return entry === undefined ? null : info(key, entry, this.#clock.wallNow());
  }

  /** `await using store = ...`: closes the store on scope exit (leases are not released). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Marks the store closed; the lease file and any leases in it are left as they are. */
  async close(): Promise<void> {
    this.#closed = true;
  }

  /**
   * Queues a read-modify-write for the next commit and starts one unless one is running; the
   * promise settles once the commit that carried it is durable (or failed).
   */
  #update<T>(apply: (leases: Leases, nowWallMs: number) => { changed: Change; result: T }): Promise<T> {
    this.#assertOpen();
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ apply, resolve: resolve as (result: unknown) => void, reject });
      if (!this.#committing) {
        this.#committing = true;
        void this.#commitAll();
      }
    });
  }

  /** Commits queued changes, one group at a time, until none are left. */
  async #commitAll(): Promise<void> {
    try {
      // Changes asked for in the same turn as the first (a burst of keepers) join its group.
      await Promise.resolve();
      while (this.#queue.length > 0) {
        const group = this.#queue.length <= MAX_BATCH ? this.#queue : this.#queue.slice(0, MAX_BATCH);
        this.#queue = this.#queue.length <= MAX_BATCH ? [] : this.#queue.slice(MAX_BATCH);
        await this.#commit(group);
      }
    } finally {
      this.#committing = false;
    }
  }

  /**
   * One commit: (1) take the cross-process lock; (2) read the file; (3) apply each change in
   * order, each with its own result; (4) if any changed something, write the file once (temp,
   * fsync, rename, and a directory fsync if a grant changed); (5) release the lock; (6) answer
   * every change. A failure of
   * (1), (2) or (4) fails every change of the group: none of them is known to be durable.
   */
  async #commit(group: readonly Pending[]): Promise<void> {
    let lock: FileLock;
    try {
      lock = await acquireFileLock(`${this.path}.lock`, this.#lock, this.#stats);
    } catch (error) {
      for (const change of group) change.reject(error);
      return;
    }
    let outcomes: Array<{ result: unknown }>;
    try {
      const existing = await this.#load();
      const leases = existing ?? new Map<string, Entry>();
      const nowWallMs = this.#clock.wallNow();
      const applied = group.map((change) => change.apply(leases, nowWallMs));
      if (applied.some((outcome) => outcome.changed !== false)) {
        const grants = existing === null || applied.some((outcome) => outcome.changed === 'grant');
        await this.#write(leases, existing === null, lock, grants);
      }
      outcomes = applied;
    } catch (error) {
      await lock.release();
      for (const change of group) change.reject(error);
      return;
    }
    await lock.release(); // before answering: once a change is answered, this process holds no lock for it
    group.forEach((change, i) => change.resolve((outcomes[i] as { result: unknown }).result));
  }

  /** The parsed file, `null` when it does not exist; `StoreCorruptError` when it cannot be understood. */
  async #load(): Promise<Leases | null> {
    let text: string;
    try {
      text = await this.#io.readText(this.path);
    } catch (error) {
      if (codeOf(error) === 'ENOENT') return null;
      throw fileError('read lease file', this.path, error);
    }
    return parseLeaseFile(this.path, text);
  }

  /**
   * Replaces the lease file: temp file written and fsynced, the lock checked, renamed over (or
   * linked, when creating), then — when `grants` changed — the directory fsynced, so the new file
   * survives a crash of the machine before anyone is told. A write that only moved expiries
   * (renewals) skips that last fsync: the file is whole either way (its data was fsynced before
   * the rename), and a crash can at most bring back the previous expiries — never an older token,
   * version or holder — while every holder of this one-machine store dies with the machine. The
   * next grant's directory fsync makes those renames durable too.
   */
  async #write(leases: Leases, create: boolean, lock: FileLock, grants: boolean): Promise<void> {
    const text = `${JSON.stringify({ version: 1, leases: Object.fromEntries(leases) }, null, 2)}\n`;
    const temp = `${this.path}.${process.pid}.${++tempCounter}.tmp`;
    let placed = false;
    try {
      await this.#io.writeDurably(temp, text, LEASE_FILE_MODE);
      await lock.assertHeld();
      if (create) await this.#io.link(temp, this.path); // exclusive create: fails if anything appeared meanwhile
      else await this.#io.rename(temp, this.path);
      placed = !create; // a rename consumed the temp; a link left it to remove
    } catch (error) {
      if (error instanceof HeartbeatLabError) throw error;
      if (create && codeOf(error) === 'EEXIST') {
        throw new StoreUnavailableError(`lease file ${this.path} appeared while it was being created (written outside the lock?); retry`, { cause: error });
      }
      throw fileError('write lease file', this.path, error);
    } finally {
      if (!placed) await this.#io.unlink(temp).catch(() => undefined);
    }
    if (grants) await syncDirectory(this.#io, dirname(this.path));
  }

  /**
   * Throws `StorePermissionError` when this process may not create files in the lease file's
   * directory (its temp, lock and lease files all live there): EACCES for permissions, EROFS for
   * a read-only filesystem. A missing directory is left to the first write, which names it.
   */
  async assertWritable(): Promise<void> {
    this.#assertOpen();
    const directory = dirname(this.path);
    try {
      await this.#io.access(directory, constants.W_OK | constants.X_OK);
    } catch (error) {
      if (codeOf(error) === 'ENOENT') return;
      throw fileError('create files in the directory of lease file', this.path, error);
    }
  }

  async #assertDirectory(): Promise<void> {
    const directory = dirname(this.path);
    try {
      await this.#io.mtimeMs(directory);
    } catch (error) {
      throw new StoreUnavailableError(`directory ${directory} of lease file ${this.path} does not exist`, { cause: error });
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error(`FileLeaseStore(${this.path}) is closed; create a new store to use the lease file`);
  }
}

/** Parses and validates the lease file text; throws `StoreCorruptError` naming `path` and the defect. */
function parseLeaseFile(path: string, text: string): Leases {
  const corrupt = (detail: string, cause?: unknown): StoreCorruptError => new StoreCorruptError(path, detail, { cause });
  if (text.trim() === '') throw corrupt(`the file is empty (${text.length} bytes)`);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw corrupt(`not valid JSON (${(error as Error).message}); it may be truncated`, error);
  }
  if (!isObject(data)) throw corrupt(`expected a JSON object at the top level, got ${formatValue(data)}`);
  if (data.version !== 1) throw corrupt(`unsupported version ${formatValue(data.version)} (expected 1)`);
  if (!isObject(data.leases)) throw corrupt(`"leases" must be an object, got ${formatValue(data.leases)}`);
  const leases: Leases = new Map();
  for (const [key, raw] of Object.entries(data.leases)) {
    const at = `leases[${JSON.stringify(key)}]`;
    if (!isObject(raw)) throw corrupt(`${at} must be an object, got ${formatValue(raw)}`);
    const { holder, token, ttlMs, expiresAtWallMs, version = 0 } = raw;
    if (holder !== null && typeof holder !== 'string') throw corrupt(`${at}.holder must be a string or null, got ${formatValue(holder)}`);
    if (!Number.isSafeInteger(token) || (token as number) < 0) throw corrupt(`${at}.token must be a non-negative integer, got ${formatValue(token)}`);
    if (!Number.isSafeInteger(version) || (version as number) < 0) throw corrupt(`${at}.version must be a non-negative integer, got ${formatValue(version)}`);
    if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs < 0) throw corrupt(`${at}.ttlMs must be a non-negative number, got ${formatValue(ttlMs)}`);
    if (typeof expiresAtWallMs !== 'number' || !Number.isFinite(expiresAtWallMs)) {
      throw corrupt(`${at}.expiresAtWallMs must be a finite number, got ${formatValue(expiresAtWallMs)}`);
    }
    leases.set(key, { holder, token: token as number, version: version as number, ttlMs, expiresAtWallMs });
  }
  return leases;
}

function info(key: string, entry: Entry, nowWallMs: number): LeaseInfo {
  return {
    key,
    holder: entry.holder,
    token: entry.token,
    version: entry.version,
    ttlMs: entry.ttlMs,
    expiresInMs: entry.holder === null ? 0 : entry.expiresAtWallMs - nowWallMs,
  };
}

/** The entry is still the grant the request was issued for. */
function isGrant(entry: Entry, request: ReleaseRequest): boolean {
  return entry.holder === request.holder && entry.token === request.token && entry.version === request.version;
}

/** Rejects requests that would write values JSON cannot round-trip (NaN, Infinity) or empty names. */
function checkRequest(request: { key: string; holder: string; ttlMs?: number; token?: number; version?: number }, hasToken: boolean): void {
  if (typeof request.key !== 'string' || request.key === '') throw inputError('key', 'must be a non-empty string', request.key);
  if (typeof request.holder !== 'string' || request.holder === '') throw inputError('holder', 'must be a non-empty string', request.holder);
  if ('ttlMs' in request && !(typeof request.ttlMs === 'number' && Number.isFinite(request.ttlMs) && request.ttlMs > 0)) {
    throw inputError('ttlMs', 'must be a positive finite number', request.ttlMs);
  }
  if (hasToken && !(Number.isSafeInteger(request.token) && (request.token as number) >= 0)) {
    throw inputError('token', 'must be a non-negative integer', request.token);
  }
  if (hasToken && !(Number.isSafeInteger(request.version) && (request.version as number) >= 0)) {
    throw inputError('version', 'must be a non-negative integer (the version of the grant)', request.version);
  }
}

function checkRecipient(request: TransferRequest): void {
  if (typeof request.to !== 'string' || request.to === '') throw inputError('to', 'must be a non-empty identity', request.to);
}

function inputError(field: string, rule: string, value: unknown): HeartbeatLabError {
  return new HeartbeatLabError('E_INPUT', `invalid lease request ${field}: ${rule} (got ${formatValue(value)})`);
}

function positive(option: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new ConfigError(option, 'must be a positive finite number of ms', value);
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** fsync of the directory makes the rename durable; platforms that cannot fsync a directory are skipped. */
async function syncDirectory(io: FileIo, directory: string): Promise<void> {
  try {
    await io.syncDirectory(directory);
  } catch (error) {
    if (!['EISDIR', 'EINVAL', 'EPERM', 'EBADF', 'ENOTSUP'].includes(codeOf(error) ?? '')) {
      throw new StoreUnavailableError(`cannot fsync directory ${directory}: ${codeOf(error) ?? String(error)}`, { cause: error });
    }
  }
}
