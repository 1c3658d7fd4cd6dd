import type { Etcd3, IKeyValue } from 'etcd3';
import { asDriver, type EtcdClient } from '../store/driver-clients.js';
import { HeartbeatLabError, StoreCorruptError, StoreUnavailableError } from '../errors.js';
import { checkWrite, type Fence, type FencedValue, type FencedWriteResult } from './fence.js';

/** Options of {@link etcdFence}. */
export interface EtcdFenceOptions {
  /** Each resource is the keys `<keyPrefix><id>/token` and `<keyPrefix><id>/data`. @default 'heartbeat-lab/fenced/' */
  readonly keyPrefix?: string;
}

const DEFAULT_PREFIX = 'heartbeat-lab/fenced/';
/** Tokens are stored zero-padded to this width, so etcd's byte-wise value comparison is numeric. */
const TOKEN_WIDTH = 16; // Number.MAX_SAFE_INTEGER has 16 digits

type Compare = NonNullable<Parameters<Etcd3['kv']['txn']>[0]['compare']>[number];

/** The fence over etcd keys `<keyPrefix><id>/token` and `<keyPrefix><id>/data`: a write is one transaction. */
export function etcdFence(etcd: EtcdClient, options: EtcdFenceOptions = {}): Fence {
  const client = asDriver<Etcd3>(etcd);
  return {
    write: (id, token, data) => put(client, options.keyPrefix, id, token, data),
    read: (id) => get(client, options.keyPrefix, id),
  };
}

/**
 * Puts `data` for `id` only if no write with a newer token has landed, in one etcd transaction:
 * IF value(`<prefix><key>/token`) > token THEN read it (refused) ELSE put the token and the data.
 * Tokens are zero-padded to 16 digits, so the byte-wise comparison etcd does is a numeric one; an
 * absent token key makes the comparison false, so the first write applies. The same token may
 * write again; an older one is refused and nothing changes.
 */
async function put(client: Etcd3, keyPrefix: string | undefined, id: string, token: number, data: unknown): Promise<FencedWriteResult> {
  checkWrite(id, token, data);
  const { tokenKey, dataKey } = keysOf(id, keyPrefix);
  const padded = pad(token);
  const newer: Compare = { key: Buffer.from(tokenKey), target: 'Value', result: 'Greater', value: Buffer.from(padded) };
  try {
    const response = await client.kv.txn({
      compare: [newer],
      success: [{ request_range: { key: Buffer.from(tokenKey) } }],
      failure: [
        { request_put: { key: Buffer.from(tokenKey), value: Buffer.from(padded) } },
        { request_put: { key: Buffer.from(dataKey), value: Buffer.from(JSON.stringify({ token, data })) } },
      ],
    });
    if (!response.succeeded) return { applied: true, currentToken: token };
    const kv = response.responses[0]?.response_range?.kvs[0];
    if (kv === undefined) throw new StoreUnavailableError(`etcd fenced put of ${JSON.stringify(id)} raced with a delete; retry`);
    return { applied: false, currentToken: parseToken(tokenKey, kv) };
  } catch (error) {
    throw classify(error);
  }
}

async function get<T>(client: Etcd3, keyPrefix: string | undefined, id: string): Promise<FencedValue<T> | null> {
  const { dataKey } = keysOf(id, keyPrefix);
  let text: string | null;
  try {
    text = await client.get(dataKey).string();
  } catch (error) {
    throw classify(error);
  }
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as { token: number; data: T };
    return { id, token: value.token, data: value.data };
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
