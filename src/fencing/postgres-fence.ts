import { ConfigError, HeartbeatLabError, StoreCorruptError, StoreUnavailableError, formatValue } from '../errors.js';
import { checkWrite, type Fence, type FencedValue, type FencedWriteResult } from './fence.js';

/** Anything with pg's `query(text, values)`: a `Pool`, a `Client` or a `PoolClient`. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}


const IDENTIFIER = /^(?:[a-z_][a-z0-9_]*\.)?[a-z_][a-z0-9_]*$/i;

/**
 * Idempotent migration of the example table: `id text PRIMARY KEY, fence_token bigint, data jsonb,
 * updated_at timestamptz`. Safe to run from many processes at once (transaction-scoped advisory lock).
 */
export async function ensureFencedTable(pool: Queryable & { connect?: () => Promise<Queryable & { release(): void }> }, table: string): Promise<void> {
  const name = quoteTable(table);
  const client = pool.connect === undefined ? undefined : await pool.connect().catch((error: unknown) => {
    throw unavailable('migrate', error);
  });
  const db: Queryable = client ?? pool;
  try {
    await db.query('BEGIN');
    await db.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`heartbeat-lab fence migrate ${name}`]);
    await db.query(
      `CREATE TABLE IF NOT EXISTS ${name} (
         id text PRIMARY KEY,
         fence_token bigint NOT NULL CHECK (fence_token >= 0),
         data jsonb NOT NULL,
         updated_at timestamptz NOT NULL DEFAULT now())`,
    );
    await db.query('COMMIT');
  } catch (error) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw classify('migrate', name, error);
  } finally {
    client?.release();
  }
}

/**
 * The fence over `table` (made by {@link ensureFencedTable}, optionally schema-qualified): a row
 * per resource id holding the newest token that wrote and the data as jsonb.
 */
export function postgresFence(pool: Queryable, table: string): Fence {
  const name = quoteTable(table);
  return {
    write: (id, token, data) => upsert(pool, name, id, token, data),
    read: (id) => readRow(pool, name, id),
  };
}

/**
 * Writes `data` for `id` only if no write with a newer token has landed: one statement,
 * `INSERT … ON CONFLICT (id) DO UPDATE … WHERE existing.fence_token <= $token`, atomic under
 * concurrent writers (the conflicting row is locked and the condition checked on its newest
 * version). The same token may write again (one leader, many writes); an older one is refused and
 * the row is left as it is. A refusal costs a second statement to report the current token.
 */
async function upsert(pool: Queryable, name: string, id: string, token: number, data: unknown): Promise<FencedWriteResult> {
  const json = checkWrite(id, token, data);
  try {
    const result = await pool.query(
      `INSERT INTO ${name} AS existing (id, fence_token, data, updated_at)
       VALUES ($1, $2::bigint, $3::jsonb, now())
       ON CONFLICT (id) DO UPDATE SET fence_token = excluded.fence_token, data = excluded.data, updated_at = now()
       WHERE existing.fence_token <= excluded.fence_token
       RETURNING fence_token::text AS token`,
      [id, token, json],
    );
    const row = result.rows[0] as { token: string } | undefined;
    if (row !== undefined) return { applied: true, currentToken: tokenOf(name, row.token) };
    // Refused: a newer token holds the row. Read it in a new statement, so a row committed after
    // the upsert's snapshot (a concurrent newer writer) is seen too.
    const current = await pool.query(`SELECT fence_token::text AS token FROM ${name} WHERE id = $1`, [id]);
    const stored = (current.rows[0] as { token: string } | undefined)?.token;
    if (stored === undefined) throw new StoreUnavailableError(`postgres fenced upsert of ${JSON.stringify(id)} raced with a delete; retry`);
    return { applied: false, currentToken: tokenOf(name, stored) };
  } catch (error) {
    throw classify('fenced upsert', name, error);
  }
}

/** The row for `id`, or `null`. */
async function readRow<T>(pool: Queryable, name: string, id: string): Promise<FencedValue<T> | null> {
  try {
    const result = await pool.query(`SELECT fence_token::text AS token, data FROM ${name} WHERE id = $1`, [id]);
    const row = result.rows[0] as { token: string; data: T } | undefined;
    return row === undefined ? null : { id, token: tokenOf(name, row.token), data: row.data };
  } catch (error) {
    throw classify('fenced read', name, error);
  }
}

function quoteTable(table: string): string {
  if (typeof table !== 'string' || !IDENTIFIER.test(table)) {
    throw new ConfigError('table', 'must be an unquoted SQL identifier, optionally schema-qualified', table);
  }
  return table
    .split('.')
    .map((part) => `"${part}"`)
    .join('.');
}

function tokenOf(table: string, text: string): number {
  const token = Number(text);
  if (!Number.isSafeInteger(token)) throw new StoreCorruptError(`postgres table ${table}`, `fence_token ${formatValue(text)} is not a safe integer`);
  return token;
}

function unavailable(operation: string, error: unknown): Error {
  if (error instanceof HeartbeatLabError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return new StoreUnavailableError(`postgres ${operation} failed: ${message}${typeof code === 'string' ? ` (${code})` : ''}`, { cause: error });
}

function classify(operation: string, table: string, error: unknown): Error {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === '42P01' || code === '42703') {
    const message = error instanceof Error ? error.message : String(error);
    return new ConfigError('table', `must exist with id, fence_token and data columns — run ensureFencedTable(pool, table) first (${message})`, table);
  }
  return unavailable(operation, error);
}
