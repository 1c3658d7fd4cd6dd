import type { Redis } from 'ioredis';
import { asDriver, type RedisClient } from '../store/driver-clients.js';
import { ConfigError, HeartbeatLabError, StoreCorruptError, StoreUnavailableError } from '../errors.js';
import { checkToken, type FencedWriteResult } from './postgres-fence.js';

export interface FencedSet {
  /** Resource name; stored as the hash `<keyPrefix><key>`. */
  readonly key: string;
  /** Fencing token of the writer (`runAsLeader` passes it). */
  readonly token: number;
  /** Any JSON value; stored as JSON text in the hash field `data`. */
  readonly data: unknown;
  /** @default 'heartbeat-lab:fenced:' */
  readonly keyPrefix?: string;
}

export interface FencedValue<T = unknown> {
  readonly key: string;
  readonly token: number;
  readonly data: T;
}

const DEFAULT_PREFIX = 'heartbeat-lab:fenced:';

/*
 * One hash per resource: fence_token (decimal, the newest token that wrote) and data (JSON).
 * The script validates before it writes (Lua errors do not roll back earlier writes), compares
 * the stored token with the writer's and writes both fields only if the writer's is not older.
 * Tokens are passed and returned as strings, so no float formatting creeps in.
 */
const FENCED_SET = `
local kind = redis.call('TYPE', KEYS[1])['ok']
if kind ~= 'none' and kind ~= 'hash' then return { 'corrupt', 'key holds a ' .. kind .. ', not a hash' } end
local token = tonumber(ARGV[1])
local stored = redis.call('HGET', KEYS[1], 'fence_token')
if stored then
  local current = tonumber(stored)
  if not current then return { 'corrupt', 'fence_token is not a number' } end
  if current > token then return { 'refused', stored } end
end
redis.call('HSET', KEYS[1], 'fence_token', ARGV[1], 'data', ARGV[2])
return { 'applied', ARGV[1] }
`;

const COMMAND = 'heartbeatLabFencedSet';

/**
 * Sets `data` for `key` only if no write with a newer token has landed, atomically (one Lua
 * script). The same token may write again; an older one is refused and nothing changes.
 */
export async function fencedSet(client: RedisClient, write: FencedSet): Promise<FencedWriteResult> {
  const redis = asDriver<Redis>(client);
  checkToken(write.token);
  if (typeof write.key !== 'string' || write.key === '') throw new ConfigError('key', 'must be a non-empty string', write.key);
  const json = JSON.stringify(write.data);
  if (json === undefined) throw new ConfigError('data', 'must be a JSON value', write.data);
  const key = (write.keyPrefix ?? DEFAULT_PREFIX) + write.key;
  if (!(COMMAND in redis)) redis.defineCommand(COMMAND, { numberOfKeys: 1, lua: FENCED_SET });
  let reply: [string, string];
  try {
    const command = (redis as unknown as Record<string, (...args: string[]) => Promise<[string, string]>>)[COMMAND] as (
      ...args: string[]
    ) => Promise<[string, string]>;
    reply = await command.call(redis, key, String(write.token), json);
  } catch (error) {
    throw classify(key, error);
  }
  if (reply[0] === 'corrupt') throw new StoreCorruptError(`redis key ${key}`, reply[1]);
  return { applied: reply[0] === 'applied', currentToken: Number(reply[1]) };
}

/** The value stored for `key`, or `null`. */
export async function fencedGet<T = unknown>(client: RedisClient, key: string, keyPrefix = DEFAULT_PREFIX): Promise<FencedValue<T> | null> {
  const redis = asDriver<Redis>(client);
  const full = keyPrefix + key;
  let fields: Array<string | null>;
  try {
    fields = await redis.hmget(full, 'fence_token', 'data');
  } catch (error) {
    throw classify(full, error);
  }
  const [token, data] = fields;
  if (token === null || token === undefined || data === null || data === undefined) return null;
  try {
    return { key, token: Number(token), data: JSON.parse(data) as T };
  } catch (error) {
    throw new StoreCorruptError(`redis key ${full}`, 'data is not JSON', { cause: error });
  }
}

function classify(key: string, error: unknown): Error {
  if (error instanceof HeartbeatLabError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (message.startsWith('WRONGTYPE')) return new StoreCorruptError(`redis key ${key}`, message, { cause: error });
  return new StoreUnavailableError(`redis fenced write failed: ${message}`, { cause: error });
}
