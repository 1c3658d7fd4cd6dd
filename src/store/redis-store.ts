import { createRequire } from 'node:module';
import type { Redis, RedisOptions } from 'ioredis';
import { SystemClock, type Clock, type TimerHandle } from '../clock.js';
import { formatDurationMs } from '../duration.js';
import { ConfigError, HeartbeatLabError, StoreCorruptError, StoreNotDurableError, StoreUnavailableError } from '../errors.js';
import type {
  AcquireRequest,
  AcquireResult,
  LeaseGrant,
  LeaseInfo,
  LeaseStore,
  ReleaseRequest,
  RenewRequest,
  RenewResult,
  TransferRequest,
  TransferResult,
} from './lease-store.js';
import { asDriver, type RedisClient } from './driver-clients.js';
import { importDriver } from './drivers.js';
import { SCRIPTS, type Reply, type ScriptName } from './redis-scripts.js';

/** Options of {@link RedisLeaseStore}. */
export interface RedisLeaseStoreOptions {
  /** Prepended to every key this store writes. @default 'heartbeat-lab:' */
  readonly keyPrefix?: string;
  /** How long an operation waits for a (re)connection before failing with `StoreUnavailableError`. @default 1000 */
  readonly connectTimeoutMs?: number;
  /** How long a script may run before the call fails (used by {@link RedisLeaseStore.connect}). @default 2000 */
  readonly commandTimeoutMs?: number;
  /** Quit the client on `close()`. {@link RedisLeaseStore.connect} sets it. @default false */
  readonly closeClient?: boolean;
  /** Timers for the connection wait. @default new SystemClock({ unref: true }) */
  readonly clock?: Clock;
  /**
   * What to do when the server would forget the lease and its fencing token on a restart: with
   * `appendonly no` a restarted Redis reissues tokens it already gave out (a Jepsen-style run saw
   * token 1 issued twice and 86 writes accepted from the old holder). Checked with
   * `CONFIG GET appendonly` on every (re)connection, before the first operation on it.
   * - `'require'`: refuse every operation with `StoreNotDurableError` until the server runs with
   *   `appendonly yes`; also when `CONFIG` is not permitted and persistence cannot be checked.
   * - `'warn'`: go on, after a process warning (`HEARTBEAT_LAB_VOLATILE_STORE`) that says so.
   * With `redis://…?durability=warn` in a store URL, {@link RedisLeaseStore.connect} sets `'warn'`.
   * @default 'require'
   */
  readonly durability?: 'require' | 'warn';
}

/**
 * Lease store on Redis (ioredis). Each operation is one Lua script, so it is atomic, and TTLs are
 * judged on the server's clock (`TIME`). The fencing token lives in a separate counter key that
 * never expires, so tokens keep increasing across expiry and — with AOF/RDB persistence — restarts.
 * Expired leases are remembered (negative `expiresInMs`) until someone acquires the key.
 */
export class RedisLeaseStore implements LeaseStore {
  readonly kind = 'redis';
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #connectTimeoutMs: number;
  readonly #closeClient: boolean;
  readonly #clock: Clock;
  readonly #durability: 'require' | 'warn';
  /** The persistence check of the current connection; reset on every reconnection. */
  #durable: Promise<void> | undefined;
  /** The wait for the connection in progress, shared by every call that arrives meanwhile. */
  #connecting: Promise<void> | undefined;
  #lastError: unknown;
  #closed = false;

  /** Wraps an existing client; the store adds its scripts to it with `defineCommand`. */
  constructor(client: RedisClient, options: RedisLeaseStoreOptions = {}) {
    this.#redis = asDriver<Redis>(client);
    this.#prefix = options.keyPrefix ?? 'heartbeat-lab:';
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 1_000;
    this.#closeClient = options.closeClient ?? false;
    this.#clock = options.clock ?? new SystemClock({ unref: true });
    this.#durability = options.durability ?? 'require';
    if (this.#durability !== 'require' && this.#durability !== 'warn') {
      throw new ConfigError('durability', "must be 'require' or 'warn'", this.#durability);
    }
    for (const [name, lua] of Object.entries(SCRIPTS)) {
      if (!(name in client)) client.defineCommand(name, { numberOfKeys: 2, lua });
    }
    this.#redis.on('error', (error: unknown) => {
      this.#lastError = error;
    });
    // A restarted server may have come back with another configuration: check it again.
    this.#redis.on('ready', () => {
      this.#durable = undefined;
    });
  }

  /**
   * Connects to `url` (`redis://[user:password@]host:port/db` or `rediss://` for TLS), or to
   * `REDIS_URL`, or to `redis://127.0.0.1:6379`. Loads `ioredis` on first use. A `durability=warn`
   * query parameter sets the {@link RedisLeaseStoreOptions.durability} option.
   */
  static async connect(url?: string, options: RedisLeaseStoreOptions = {}): Promise<RedisLeaseStore> {
    const { target, durability } = durabilityParam(url ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    const { Redis: RedisClient } = await loadIoredis(target);
    const connectTimeoutMs = options.connectTimeoutMs ?? 1_000;
    const clientOptions: RedisOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      connectTimeout: connectTimeoutMs,
      commandTimeout: options.commandTimeoutMs ?? 2_000,
      retryStrategy: (attempt: number) => Math.min(50 * 2 ** attempt, 1_000),
    };
    return new RedisLeaseStore(new RedisClient(target, clientOptions), { closeClient: true, ...durability, ...options });
  }

  async acquire(request: AcquireRequest): Promise<AcquireResult> {
    const reply = await this.#run('heartbeatLabAcquire', request.key, [request.holder, ttlArg(request.ttlMs)]);
    if (reply[0] === 'ok') return { ok: true, lease: grantOf(request.key, reply) };
    return { ok: false, reason: 'held', current: infoOf(request.key, reply) as LeaseInfo };
  }

  async renew(request: RenewRequest): Promise<RenewResult> {
    const args = [request.holder, String(request.token), ttlArg(request.ttlMs), String(request.version)];
    const reply = await this.#run('heartbeatLabRenew', request.key, args);
    if (reply[0] === 'ok') return { ok: true, lease: grantOf(request.key, reply) };
    const reason = reply[0] === 'expired' ? 'expired' : 'not-holder';
    return { ok: false, reason, current: infoOf(request.key, reply) };
  }

  async release(request: ReleaseRequest): Promise<boolean> {
    const reply = await this.#run('heartbeatLabRelease', request.key, [request.holder, String(request.token), String(request.version)]);
    return reply[0] === 'ok';
  }

  async transfer(request: TransferRequest): Promise<TransferResult> {
    if (typeof request.to !== 'string' || request.to === '') throw new ConfigError('to', 'must be a non-empty identity', request.to);
    const args = [request.holder, String(request.token), ttlArg(request.ttlMs), String(request.version), request.to];
    const reply = await this.#run('heartbeatLabTransfer', request.key, args);
    if (reply[0] === 'ok') return { ok: true, lease: grantOf(request.key, reply) };
    const reason = reply[0] === 'expired' ? 'expired' : 'not-holder';
    return { ok: false, reason, current: infoOf(request.key, reply) };
  }

  async read(key: string): Promise<LeaseInfo | null> {
    const reply = await this.#run('heartbeatLabRead', key, []);
    return reply[0] === 'none' ? null : infoOf(key, reply);
  }

  /** `await using store = ...`: closes the store on scope exit (leases are not released). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#closeClient) return;
    if (this.#redis.status === 'ready') {
      await this.#redis.quit().catch(() => this.#redis.disconnect());
    } else {
      this.#redis.disconnect();
    }
  }

  async #run(name: ScriptName, key: string, args: string[]): Promise<Reply> {
    const hashKey = `${this.#prefix}{${key}}`;
    const keys = [hashKey, `${hashKey}:token`];
    let reply: Reply;
    try {
      await this.#ready();
      await this.#checkDurable();
      const command = (this.#redis as unknown as Record<ScriptName, (...a: string[]) => Promise<Reply>>)[name];
      reply = await command.call(this.#redis, ...keys, ...args);
    } catch (error) {
      throw this.#classify(name, hashKey, error);
    }
    if (reply[0] === 'corrupt') throw new StoreCorruptError(`redis key ${hashKey}`, String(reply[1]));
    return reply;
  }

  /** Once per connection: is the server persisting what we write (see {@link RedisLeaseStoreOptions.durability})? */
  #checkDurable(): Promise<void> {
    this.#durable ??= this.#persistence().then(
      (problem) => {
        if (problem === null) return;
        const what = `redis lease store: the server ${problem}, so after a restart it can issue a fencing token again to another holder`;
        if (this.#durability === 'warn') {
          process.emitWarning(`${what} (accepted with durability: 'warn')`, { code: 'HEARTBEAT_LAB_VOLATILE_STORE' });
          return;
        }
        throw new StoreNotDurableError(
          `${what}; run it with \`appendonly yes\` (CONFIG SET appendonly yes, and in redis.conf), or accept the risk with ` +
            `the store option durability: 'warn' (in a URL: ?durability=warn)`,
        );
      },
      (error: unknown) => {
        this.#durable = undefined; // transient: check again on the next call
        throw error;
      },
    );
    return this.#durable;
  }

  /** `null` when the server keeps an append-only file, else what is wrong. */
  async #persistence(): Promise<string | null> {
    let reply: string[];
    try {
      reply = (await this.#redis.config('GET', 'appendonly')) as string[];
    } catch (error) {
      if (error instanceof Error && error.name === 'ReplyError') {
        return `does not let this client run CONFIG GET appendonly (${error.message}), so its persistence is unknown`;
      }
      throw error;
    }
    const appendonly = reply[1];
    if (appendonly === 'yes') return null;
    const save = ((await this.#redis.config('GET', 'save')) as string[])[1] ?? '';
    const snapshots = save === '' ? 'no snapshots either' : `only snapshots (save "${save}") that lose what was written since the last one`;
    return `keeps no append-only file (appendonly ${appendonly ?? '?'}; ${snapshots})`;
  }

  /**
   * Waits (bounded) for the connection to be ready; the client keeps no offline queue. Calls that
   * arrive while it connects share one wait (one set of listeners, not one per call: ten thousand
   * keepers reconnecting would otherwise add and remove listeners in quadratic time).
   */
  async #ready(): Promise<void> {
    const redis = this.#redis;
    if (this.#closed) throw new StoreUnavailableError('redis lease store is closed');
    if (redis.status === 'ready') return;
    if (redis.status === 'end') throw new StoreUnavailableError('redis connection was closed');
    if (redis.status === 'wait') redis.connect().catch(() => undefined);
    this.#connecting ??= this.#waitReady().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #waitReady(): Promise<void> {
    const redis = this.#redis;
    await new Promise<void>((resolve, reject) => {
      let timer: TimerHandle | undefined;
      const settle = (error?: Error): void => {
        if (timer !== undefined) this.#clock.clearTimeout(timer);
        redis.off('ready', onReady);
        redis.off('end', onEnd);
        redis.off('error', onError);
        if (error) reject(error);
        else resolve();
      };
      const onReady = (): void => settle();
      const onEnd = (): void => settle(new StoreUnavailableError('redis connection was closed'));
      // The server answered and refused the credentials: say so at once, it is not a reachability problem.
      const onError = (error: unknown): void => {
        if (isAuthError(error)) settle(authError(error));
      };
      redis.on('ready', onReady);
      redis.on('end', onEnd);
      redis.on('error', onError);
      if (isAuthError(this.#lastError)) {
        settle(authError(this.#lastError));
        return;
      }
      timer = this.#clock.setTimeout(() => {
        const detail = this.#lastError instanceof Error ? `: ${this.#lastError.message}` : '';
        settle(new StoreUnavailableError(`redis not reachable within ${formatDurationMs(this.#connectTimeoutMs)}${detail}`));
      }, this.#connectTimeoutMs);
    });
  }

  #classify(name: ScriptName, hashKey: string, error: unknown): Error {
    if (error instanceof HeartbeatLabError) return error;
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof Error && error.name === 'ReplyError' && message.startsWith('WRONGTYPE')) {
      return new StoreCorruptError(`redis key ${hashKey}`, message, { cause: error });
    }
    if (isAuthError(error)) return authError(error);
    return new StoreUnavailableError(`redis ${name.replace('heartbeatLab', '').toLowerCase()} failed: ${message}`, {
      cause: error,
    });
  }
}

/** WRONGPASS (bad user or password), NOAUTH (a password is required), or an ACL refusal of our commands. */
function isAuthError(error: unknown): error is Error {
  return error instanceof Error && /^(WRONGPASS|NOAUTH|NOPERM)\b/.test(error.message);
}

function authError(error: Error): StoreUnavailableError {
  return new StoreUnavailableError(
    `redis refused the credentials (authentication failed: ${error.message.split('.')[0]}): check the user and password in the store URL`,
    { cause: error },
  );
}

/** Takes our own `durability` query parameter out of a Redis URL (ioredis would not know it). */
function durabilityParam(url: string): { target: string; durability: { durability?: 'require' | 'warn' } } {
  const match = /([?&])durability=([^&#]*)&?/.exec(url);
  if (match === null) return { target: url, durability: {} };
  const value = decodeURIComponent(match[2] as string);
  if (value !== 'require' && value !== 'warn') throw new ConfigError('durability', "must be 'require' or 'warn' in a redis:// URL", value);
  const target = url.replace(match[0], match[0].endsWith('&') ? (match[1] as string) : '').replace(/\?$/, '');
  return { target, durability: { durability: value } };
}

function ttlArg(ttlMs: number): string {
  return String(Math.max(1, Math.ceil(ttlMs)));
}

function grantOf(key: string, reply: Reply): LeaseGrant {
  const [, holder, token, ttlMs, , , version] = reply as unknown as [string, string, number, number, number, number, number];
  return { key, holder, token, version, ttlMs };
}

function infoOf(key: string, reply: Reply): LeaseInfo | null {
  const [, holder, token, ttlMs, expiresInMs, present, version] = reply as [string, string | null, number, number, number, number, number];
  if (present !== 1) return null;
  return { key, holder: holder ?? null, token, version, ttlMs, expiresInMs: holder === null ? 0 : expiresInMs };
}

/**
 * `ioredis` is CommonJS: `require` loads it as it is, where `import()` also runs the ESM loader's
 * scan of its exports (cjs-module-lexer) and wraps it in a module record — ≈ 0.4 MiB of a Redis
 * sidecar's RSS (46.7 → 46.3 MiB beside a bare `node` of 39.5, `bench/README.md`).
 */
function loadIoredis(url: string): Promise<{ Redis: typeof Redis }> {
  return importDriver('ioredis', 'redis://', url, async () => createRequire(import.meta.url)('ioredis') as typeof import('ioredis'));
}
