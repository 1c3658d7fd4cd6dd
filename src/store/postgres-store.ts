import type { Pool, PoolConfig } from 'pg';
import { ConfigError, HeartbeatLabError, StoreCorruptError, StoreUnavailableError } from '../errors.js';
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
import { asDriver, type PgPool } from './driver-clients.js';
import { importDriver, redactUrl } from './drivers.js';
import { RequestBatcher } from './request-batcher.js';

/** Options of {@link PostgresLeaseStore}. */
export interface PostgresLeaseStoreOptions {
  /** Table of leases, optionally schema-qualified; created if missing. @default 'heartbeat_lab_leases' */
  readonly table?: string;
  /** Wait for a connection (used by {@link PostgresLeaseStore.connect}). @default 2000 */
  readonly connectTimeoutMs?: number;
  /** Client-side limit per query (used by {@link PostgresLeaseStore.connect}). @default 3000 */
  readonly queryTimeoutMs?: number;
  /** End the pool on `close()`. {@link PostgresLeaseStore.connect} sets it. @default false */
  readonly closePool?: boolean;
}

interface Row {
  holder: string | null;
  token: string;
  version: string;
  ttl_ms: number;
  expires_in_ms: number;
}

/** One renewal as the batched statement takes it. */
interface Renewal {
  readonly key: string;
  readonly holder: string;
  readonly token: number;
  readonly version: number;
  readonly ttlMs: number;
}

/** One acquisition as the batched statement takes it, and what it won. */
interface Acquisition {
  readonly key: string;
  readonly holder: string;
  readonly ttlMs: number;
}
interface Granted {
  readonly token: string;
  readonly version: string;
}

/**
 * Renewal statements in flight at once, and renewals per statement. Renewals queued while
 * `maxInFlight` statements are running go together in the next one: one transaction, one WAL
 * flush for all of them (each row still judged on its own conditions).
 */
const RENEW_BATCH = { maxInFlight: 1, maxWeight: 500 } as const;
/** The same for acquisitions (a start-up of thousands of keepers is thousands of acquisitions). */
const ACQUIRE_BATCH = { maxInFlight: 1, maxWeight: 500 } as const;

/** SQLSTATEs that mean "the table is not the shape we wrote": the data is left alone. */
const SHAPE_ERRORS = new Set(['42703', '42804', '22P02', '22003']);
const IDENTIFIER = /^(?:[a-z_][a-z0-9_]*\.)?[a-z_][a-z0-9_]*$/i;

/**
 * Lease store on PostgreSQL (pg `Pool`). One row per key; acquire, renew and release are single
 * statements judged on the server's `now()` (renewals that queue up share one statement, see
 * `RENEW_BATCH`); every acquire bumps the row's grant `version`. The row outlives release and expiry, so the token
 * column keeps increasing across holders and restarts. The table is created on first use
 * (`CREATE TABLE IF NOT EXISTS` under a transaction-scoped advisory lock, so concurrent
 * migrators do not collide).
 */
export class PostgresLeaseStore implements LeaseStore {
  readonly kind = 'postgres';
  readonly #pool: Pool;
  readonly #table: string;
  readonly #closePool: boolean;
  readonly #renewals: RequestBatcher<Renewal, boolean>;
  readonly #acquisitions: RequestBatcher<Acquisition, Granted | undefined>;
  #migrated: Promise<void> | undefined;
  #closed = false;

  /** Wraps an existing pool. The store adds an `error` listener so idle-client errors do not crash. */
  constructor(client: PgPool, options: PostgresLeaseStoreOptions = {}) {
    const pool = asDriver<Pool>(client);
    const table = options.table ?? 'heartbeat_lab_leases';
    if (!IDENTIFIER.test(table)) {
      throw new ConfigError('table', 'must be an unquoted SQL identifier, optionally schema-qualified', table);
    }
    this.#pool = pool;
    this.#table = table
      .split('.')
      .map((part) => `"${part}"`)
      .join('.');
    this.#closePool = options.closePool ?? false;
    this.#renewals = new RequestBatcher({ ...RENEW_BATCH, send: (batch) => this.#renewAll(batch) });
    this.#acquisitions = new RequestBatcher({ ...ACQUIRE_BATCH, send: (batch) => this.#acquireAll(batch) });
    pool.on('error', () => undefined);
  }

  /** Connects to `url`, or `DATABASE_URL`, or `postgres://localhost:5432/postgres`. Loads `pg` on first use. */
  static async connect(url?: string, options: PostgresLeaseStoreOptions = {}): Promise<PostgresLeaseStore> {
    const target = url ?? process.env.DATABASE_URL ?? 'postgres://localhost:5432/postgres';
    const pg = await importDriver('pg', 'postgres://', target, () => import('pg'));
    const config: PoolConfig = {
      connectionString: target,
      max: 4,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 2_000,
      query_timeout: options.queryTimeoutMs ?? 3_000,
      idleTimeoutMillis: 10_000,
      allowExitOnIdle: true,
      keepAlive: true,
      // Lease writes must survive a server crash whatever the server's default: a commit the
      // server acknowledged and then lost could let it issue the same fencing token twice.
      options: '-c synchronous_commit=on',
    };
    return new PostgresLeaseStore(new pg.Pool(config), { closePool: true, ...options });
  }

  async acquire(request: AcquireRequest): Promise<AcquireResult> {
    const ttlMs = ttlOf(request.ttlMs);
    for (let attempt = 0; attempt < 3; attempt++) {
      const row = await this.#acquisitions.run({ key: request.key, holder: request.holder, ttlMs });
      if (row) {
        const lease = { key: request.key, holder: request.holder, token: this.#token(row.token), version: this.#integer('version', row.version), ttlMs };
        return { ok: true, lease };
      }
      const current = await this.read(request.key);
      // Freed between the two statements: try again rather than report a free key as held.
      if (current !== null && current.holder !== null && current.expiresInMs > 0) return { ok: false, reason: 'held', current };
    }
    throw new StoreUnavailableError(`postgres acquire of ${JSON.stringify(request.key)} kept racing; try again`);
  }

  /** Takes each of `batch` whose key is free, expired or already its holder's, in one statement; the new grant's token and version, in order. */
  async #acquireAll(batch: Acquisition[]): Promise<(Granted | undefined)[]> {
    const [together, alone] = oncePerKey(batch);
    const rows = await this.#query<Granted & { key: string }>(
      'acquire',
      `INSERT INTO ${this.#table} AS l (key, holder, token, version, ttl_ms, expires_at)
       SELECT r.key, r.holder, 1, 1, r.ttl_ms, now() + r.ttl_ms * interval '1 millisecond'
       FROM unnest($1::text[], $2::text[], $3::integer[]) AS r(key, holder, ttl_ms)
       ON CONFLICT (key) DO UPDATE SET
         holder = excluded.holder,
         token = CASE WHEN l.holder = excluded.holder AND l.expires_at > now() THEN l.token ELSE l.token + 1 END,
         version = l.version + 1,
         ttl_ms = excluded.ttl_ms,
         expires_at = excluded.expires_at
       WHERE l.holder IS NULL OR l.expires_at <= now() OR l.holder = excluded.holder
       RETURNING l.key, l.token, l.version`,
      [together.map((a) => a.key), together.map((a) => a.holder), together.map((a) => a.ttlMs)],
    );
    const won = new Map(rows.map((row) => [row.key, row]));
    // A key asked twice in one batch (ON CONFLICT may touch a row once per statement): the others go after, one by one.
    const results: (Granted | undefined)[] = batch.map((a) => (alone.has(a) ? undefined : won.get(a.key)));
    for (const [i, a] of batch.entries()) if (alone.has(a)) results[i] = (await this.#acquireAll([a]))[0];
    return results;
  }

  async renew(request: RenewRequest): Promise<RenewResult> {
    const ttlMs = ttlOf(request.ttlMs);
    const { key, holder, token, version } = request;
    if (await this.#renewals.run({ key, holder, token, version, ttlMs })) return { ok: true, lease: { key, holder, token, version, ttlMs } };
    const current = await this.read(request.key);
    const mine = current !== null && current.holder === holder && current.token === token && current.version === version;
    return { ok: false, reason: mine ? 'expired' : 'not-holder', current };
  }

  /** Renews each of `batch` whose grant is current and unexpired; whether it did, in order. */
  async #renewAll(batch: Renewal[]): Promise<boolean[]> {
    if (batch.length === 1) return [await this.#renewOne(batch[0] as Renewal)];
    // One row per key in the statement (a key given twice would be updated once, by either); the rest alone.
    const [together, alone] = oncePerKey(batch);
    const column = <K extends keyof Renewal>(name: K): Renewal[K][] => together.map((r) => r[name]);
    const rows = await this.#query<{ key: string }>(
      'renew',
      `UPDATE ${this.#table} AS l SET ttl_ms = r.ttl_ms, expires_at = now() + r.ttl_ms * interval '1 millisecond'
       FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::integer[]) AS r(key, holder, token, version, ttl_ms)
       WHERE l.key = r.key AND l.holder = r.holder AND l.token = r.token AND l.version = r.version AND l.expires_at > now()
       RETURNING l.key`,
      [column('key'), column('holder'), column('token'), column('version'), column('ttlMs')],
    );
    const renewed = new Set(rows.map((row) => row.key));
    return Promise.all(batch.map(async (r) => (alone.has(r) ? this.#renewOne(r) : renewed.has(r.key))));
  }

  async #renewOne(r: Renewal): Promise<boolean> {
    const rows = await this.#query<{ token: string }>(
      'renew',
      `UPDATE ${this.#table} SET ttl_ms = $4::integer, expires_at = now() + $4::integer * interval '1 millisecond'
       WHERE key = $1 AND holder = $2 AND token = $3 AND version = $5 AND expires_at > now()
       RETURNING token`,
      [r.key, r.holder, r.token, r.ttlMs, r.version],
    );
    return rows.length > 0;
  }

  async release(request: ReleaseRequest): Promise<boolean> {
    const rows = await this.#query(
      'release',
      `UPDATE ${this.#table} SET holder = NULL, expires_at = now()
       WHERE key = $1 AND holder = $2 AND token = $3 AND version = $4 RETURNING 1`,
      [request.key, request.holder, request.token, request.version],
    );
    return rows.length > 0;
  }

  async transfer(request: TransferRequest): Promise<TransferResult> {
    const ttlMs = ttlOf(request.ttlMs);
    if (typeof request.to !== 'string' || request.to === '') throw new ConfigError('to', 'must be a non-empty identity', request.to);
    const rows = await this.#query<{ token: string; version: string }>(
      'transfer',
      `UPDATE ${this.#table} SET holder = $6, token = token + 1, version = version + 1, ttl_ms = $4::integer,
         expires_at = now() + $4::integer * interval '1 millisecond'
       WHERE key = $1 AND holder = $2 AND token = $3 AND version = $5 AND expires_at > now()
       RETURNING token, version`,
      [request.key, request.holder, request.token, ttlMs, request.version, request.to],
    );
    const row = rows[0];
    if (row) {
      return { ok: true, lease: { key: request.key, holder: request.to, token: this.#token(row.token), version: this.#integer('version', row.version), ttlMs } };
    }
    const current = await this.read(request.key);
    const mine = current !== null && current.holder === request.holder && current.token === request.token && current.version === request.version;
    return { ok: false, reason: mine ? 'expired' : 'not-holder', current };
  }

  async read(key: string): Promise<LeaseInfo | null> {
    const rows = await this.#query<Row>(
      'read',
      `SELECT holder, token, version, ttl_ms, (extract(epoch FROM expires_at - now()) * 1000)::float8 AS expires_in_ms
       FROM ${this.#table} WHERE key = $1`,
      [key],
    );
    const row = rows[0];
    if (!row) return null;
    const expiresInMs = row.holder === null ? 0 : Math.round(row.expires_in_ms);
    return { key, holder: row.holder, token: this.#token(row.token), version: this.#integer('version', row.version), ttlMs: row.ttl_ms, expiresInMs };
  }

  /** `await using store = ...`: closes the store on scope exit (leases are not released). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#closePool) await this.#pool.end().catch(() => undefined);
  }

  async #query<R>(operation: string, sql: string, params: unknown[]): Promise<R[]> {
    if (this.#closed) throw new StoreUnavailableError('postgres lease store is closed');
    try {
      await this.#migrate();
      const result = await this.#pool.query(sql, params);
      return result.rows as R[];
    } catch (error) {
      throw this.#classify(operation, error);
    }
  }

  /** Creates the table once per instance; a failed attempt is retried by the next call. */
  #migrate(): Promise<void> {
    this.#migrated ??= this.#createTable().catch((error: unknown) => {
      this.#migrated = undefined;
      throw error;
    });
    return this.#migrated;
  }

  async #createTable(): Promise<void> {
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`heartbeat-lab migrate ${this.#table}`]);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${this.#table} (
           key text PRIMARY KEY,
           holder text,
           token bigint NOT NULL,
           version bigint NOT NULL DEFAULT 0,
           ttl_ms integer NOT NULL,
           expires_at timestamptz NOT NULL)`,
      );
      // Tables created before grant versions existed get the column (their rows start at 0).
      await client.query(`ALTER TABLE ${this.#table} ADD COLUMN IF NOT EXISTS version bigint NOT NULL DEFAULT 0`);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  #token(value: string): number {
    return this.#integer('token', value);
  }

  #integer(column: string, value: string): number {
    const n = Number(value);
    if (!Number.isSafeInteger(n)) throw new StoreCorruptError(`postgres table ${this.#table}`, `${column} ${value} is not a safe integer`);
    return n;
  }

  #classify(operation: string, error: unknown): Error {
    if (error instanceof HeartbeatLabError) return error;
    const code = (error as { code?: unknown } | null)?.code;
    const message = redactUrl(error instanceof Error ? error.message : String(error));
    if (typeof code === 'string' && SHAPE_ERRORS.has(code)) {
      return new StoreCorruptError(`postgres table ${this.#table}`, `${message} (SQLSTATE ${code})`, { cause: error });
    }
    const detail = typeof code === 'string' ? `${message} (${code})` : message;
    return new StoreUnavailableError(`postgres ${operation} failed: ${detail}`, { cause: error });
  }
}

/**
 * Splits `batch` into the first request of each key, sorted by key (so concurrent batches normally
 * lock their rows in one order; a deadlock, should a plan differ, is a failed call the keeper
 * retries, never a wrong answer), and the later requests of a key.
 */
function oncePerKey<R extends { readonly key: string }>(batch: R[]): [R[], Set<R>] {
  const seen = new Set<string>();
  const alone = new Set<R>();
  const first: R[] = [];
  for (const r of batch) {
    if (seen.has(r.key)) alone.add(r);
    else {
      seen.add(r.key);
      first.push(r);
    }
  }
  return [first.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)), alone];
}

function ttlOf(ttlMs: number): number {
  return Math.max(1, Math.ceil(ttlMs));
}
