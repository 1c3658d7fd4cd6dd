import { ConfigError } from '../errors.js';

/**
 * A store-side fence around one kind of resource: a write carries the writer's fencing token and
 * lands only if no write with a newer token has landed, atomically in the store. The same token
 * may write again (one leader, many writes); an older one is refused and nothing changes.
 * `postgresFence`, `redisFence` and `etcdFence` build one over their store.
 */
export interface Fence {
  /** Writes `data` (any JSON value) for resource `id` unless a newer token already wrote. */
  write(id: string, token: number, data: unknown): Promise<FencedWriteResult>;
  /** What was last written for `id`, with the token that wrote it, or `null`. */
  read<T = unknown>(id: string): Promise<FencedValue<T> | null>;
}

/** Outcome of a fenced write. `currentToken` is the resource's fence token after the call. */
export interface FencedWriteResult {
  readonly applied: boolean;
  readonly currentToken: number;
}

/** A fenced resource as stored. */
export interface FencedValue<T = unknown> {
  readonly id: string;
  readonly token: number;
  readonly data: T;
}

/** Throws `ConfigError` unless `token` is a fencing token: a non-negative safe integer. */
export function checkToken(token: unknown): asserts token is number {
  if (!Number.isSafeInteger(token) || (token as number) < 0) throw new ConfigError('token', 'must be a non-negative safe integer (a fencing token)', token);
}

/** Checks a write's inputs (throws `ConfigError`) and returns its data as JSON text. */
export function checkWrite(id: unknown, token: unknown, data: unknown): string {
  checkToken(token);
  if (typeof id !== 'string' || id === '') throw new ConfigError('id', 'must be a non-empty string', id);
  const json = JSON.stringify(data);
  if (json === undefined) throw new ConfigError('data', 'must be a JSON value', data);
  return json;
}
