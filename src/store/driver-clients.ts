/**
 * The driver clients a user may pass to the stores and fences, named structurally: only what
 * the published type declarations need, so a TypeScript consumer type-checks without the
 * optional peers (`ioredis`, `pg`, `etcd3`) installed and without `skipLibCheck`. An ioredis
 * `Redis`, a pg `Pool` and an etcd3 `Etcd3` fit; the implementations use the drivers' full
 * types inside (see {@link asDriver}).
 */

/** An ioredis client: `new Redis(url)` from `ioredis`. */
export interface RedisClient {
  readonly status: string;
  defineCommand(name: string, definition: { lua: string; numberOfKeys?: number }): void;
  disconnect(): void;
}

/** A pg `Pool` from `pg` (the lease store needs a pool: it takes a client for its migration). */
export interface PgPool {
  query(text: string, values?: unknown[]): Promise<unknown>;
  connect(): Promise<unknown>;
  end(): Promise<void>;
}

/** An etcd3 client: `new Etcd3({ hosts })` from `etcd3`. */
export interface EtcdClient {
  readonly kv: object;
  readonly leaseClient: object;
  close(): void;
}

/** The driver's own type for a client the user passed in structurally. */
export function asDriver<T>(client: RedisClient | PgPool | EtcdClient): T {
  return client as unknown as T;
}
