import type { Etcd3, IKeyValue } from 'etcd3';
import { asDriver, type EtcdClient } from '../store/driver-clients.js';
import { ConfigError, HeartbeatLabError, StoreCorruptError, StoreUnavailableError } from '../errors.js';
import { checkToken, type FencedWriteResult } from './postgres-fence.js';

export interface FencedPut {
  /** Resource name. */
  readonly key: string;
  /** Fencing token of the writer (`runAsLeader` passes it). */
  readonly token: number;
  /** Any JSON value. */
  readonly data: unknown;
  /** @default 'heartbeat-lab/fenced/' */
  readonly keyPrefix?: string;
}

export interface FencedEntry<T = unknown> {
  readonly key: string;
  readonly token: number;
  readonly data: T;
}

const DEFAULT_PREFIX = 'heartbeat-lab/fenced/';
/** Tokens are stored zero-padded to this width, so etcd's byte-wise value comparison is numeric. */
const TOKEN_WIDTH = 16; // Number.MAX_SAFE_INTEGER has 16 digits

type Compare = NonNullable<Parameters<Etcd3['kv']['txn']>[0]['compare']>[number];

/**
 * Puts `data` for `key` only if no write with a newer token has landed, in one etcd transaction:
 * IF value(`<prefix><key>/token`) > token THEN read it (refused) ELSE put the token and the data.
 * Tokens are zero-padded to 16 digits, so the byte-wise comparison etcd does is a numeric one; an
 * absent token key makes the comparison false, so the first write applies. The same token may
 * write again; an older one is refused and nothing changes.
 */
export async function fencedPut(etcd: EtcdClient, write: FencedPut): Promise<FencedWriteResult> {
  const client = asDriver<Etcd3>(etcd);
  checkToken(write.token);
  if (typeof write.key !== 'string' || write.key === '') throw new ConfigError('key', 'must be a non-empty string', write.key);
  const json = JSON.stringify(write.data);
  if (json === undefined) throw new ConfigError('data', 'must be a JSON value', write.data);
  const { tokenKey, dataKey } = keysOf(write.key, write.keyPrefix);
  const padded = pad(write.token);
  const newer: Compare = { key: Buffer.from(tokenKey), target: 'Value', result: 'Greater', value: Buffer.from(padded) };
  try {
    const response = await client.kv.txn({
      compare: [newer],
      success: [{ request_range: { key: Buffer.from(tokenKey) } }],
      failure: [
        { request_put: { key: Buffer.from(tokenKey), value: Buffer.from(padded) } },
        { request_put: { key: Buffer.from(dataKey), value: Buffer.from(JSON.stringify({ token: write.token, data: write.data })) } },
      ],
    });
    if (!response.succeeded) return { applied: true, currentToken: write.token };
    const kv = response.responses[0]?.response_range?.kvs[0];
    if (kv === undefined) throw new StoreUnavailableError(`etcd fenced put of ${JSON.stringify(write.key)} raced with a delete; retry`);
    return { applied: false, currentToken: parseToken(tokenKey, kv) };
  } catch (error) {
    throw classify(error);
  }
}

/** The value stored for `key`, or `null`. */
export async function fencedGetEtcd<T = unknown>(etcd: EtcdClient, key: string, keyPrefix?: string): Promise<FencedEntry<T> | null> {
  const client = asDriver<Etcd3>(etcd);
  const { dataKey } = keysOf(key, keyPrefix);
  let text: string | null;
  try {
    text = await client.get(dataKey).string();
  } catch (error) {
    throw classify(error);
  }
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as { token: number; data: T };
    return { key, token: value.token, data: value.data };
  } catch (error) {
    throw new StoreCorruptError(`etcd key ${dataKey}`, 'value is not JSON', { cause: error });
  }
}

function keysOf(key: string, keyPrefix = DEFAULT_PREFIX): { tokenKey: string; dataKey: string } {
  return { tokenKey: `${keyPrefix}${key}/token`, dataKey: `${keyPrefix}${key}/data` };
}

function pad(token: number): string {
  return String(token).padStart(TOKEN_WIDTH, '0');
}

function parseToken(location: string, kv: IKeyValue): number {
  const text = kv.value.toString('utf8');
  if (!/^\d{16}$/.test(text)) throw new StoreCorruptError(`etcd key ${location}`, `fence token ${JSON.stringify(text.slice(0, 40))} is not 16 digits`);
  return Number(text);
}

function classify(error: unknown): Error {
  if (error instanceof HeartbeatLabError) return error;
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new StoreUnavailableError(`etcd fenced put failed: ${message}`, { cause: error });
}
