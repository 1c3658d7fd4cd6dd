import type { Redis } from 'ioredis';
import { asDriver, type RedisClient } from '../store/driver-clients.js';
import { HeartbeatLabError, StoreCorruptError, StoreUnavailableError } from '../errors.js';
import { checkWrite, type Fence, type FencedValue, type FencedWriteResult } from './fence.js';

/** Options of {@link redisFence}. */
export interface RedisFenceOptions {
  /** Each resource is the hash `<keyPrefix><id>`. @default 'heartbeat-lab:fenced:' */
  readonly keyPrefix?: string;
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
 * The fence over Redis hashes `<keyPrefix><id>` (fields `fence_token` and `data`): a write is one
 * Lua script, atomic.
 */
export function redisFence(client: RedisClient, options: RedisFenceOptions = {}): Fence {
  const redis = asDriver<Redis>(client);
  const prefix = options.keyPrefix ?? DEFAULT_PREFIX;
  return {
    write: (id, token, data) => setHash(redis, prefix, id, token, data),
    read: (id) => getHash(redis, prefix, id),
  };
}

async function setHash(redis: Redis, prefix: string, id: string, token: number, data: unknown): Promise<FencedWriteResult> {
  const json = checkWrite(id, token, data);
  const key = prefix + id;
  if (!(COMMAND in redis)) redis.defineCommand(COMMAND, { numberOfKeys: 1, lua: FENCED_SET });
  let reply: [string, string];
  try {
    const command = (redis as unknown as Record<string, (...args: string[]) => Promise<[string, string]>>)[COMMAND] as (
      ...args: string[]
    ) => Promise<[string, string]>;
    reply = await command.call(redis, key, String(token), json);
  } catch (error) {
    throw classify(key, error);
  }
  if (reply[0] === 'corrupt') throw new StoreCorruptError(`redis key ${key}`, reply[1]);
  return { applied: reply[0] === 'applied', currentToken: Number(reply[1]) };
}

async function getHash<T>(redis: Redis, prefix: string, id: string): Promise<FencedValue<T> | null> {
  const full = prefix + id;
  let fields: Array<string | null>;
  try {
    fields = await redis.hmget(full, 'fence_token', 'data');
  } catch (error) {
    throw classify(full, error);
  }
  const [token, data] = fields;
  if (token === null || token === undefined || data === null || data === undefined) return null;
  try {
    return { id, token: Number(token), data: JSON.parse(data) as T };
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
