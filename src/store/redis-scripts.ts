/**
 * The server half of {@link RedisLeaseStore}: one Lua script per lease operation, run atomically by Redis on
 * its own clock, and the reply shape they share. Kept apart from redis-store.ts, which holds the client half
 * (connection, durability check, retries, reply decoding).
 */

/*
 * Data layout, per lease key K (the `{K}` hash tag keeps both keys in one cluster slot):
 *   <prefix>{K}        hash  holder (absent when free), token, ver (grant version; absent = 0),
 *                            ttl (ms), exp (server epoch ms)
 *   <prefix>{K}:token  string, last fencing token issued; never expires
 * Expiry is judged with redis.call('TIME') inside each script, so on the server's clock.
 * Every script validates before it writes: Lua errors do not roll back earlier writes.
 */
const PRELUDE = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function load(k)
  local kind = redis.call('TYPE', k)['ok']
  if kind == 'none' then return nil end
  if kind ~= 'hash' then return 'key holds a ' .. kind .. ', not a hash' end
  local v = redis.call('HMGET', k, 'holder', 'token', 'ttl', 'exp', 'ver')
  local token, ttl, exp, ver = tonumber(v[2]), tonumber(v[3]), tonumber(v[4]), tonumber(v[5] or '0')
  if not token or not ttl or not exp or not ver then return 'hash fields token/ttl/exp/ver are missing or not numbers' end
  return { holder = v[1], token = token, ttl = ttl, exp = exp, ver = ver }
end
local function counter(k)
  local kind = redis.call('TYPE', k)['ok']
  if kind == 'none' then return 0 end
  if kind ~= 'string' then return nil, 'token counter holds a ' .. kind end
  local n = tonumber(redis.call('GET', k))
  if not n then return nil, 'token counter is not a number' end
  return n
end
local function info(status, e, now)
  if not e then return { status, false, 0, 0, 0, 0, 0 } end
  local left = 0
  if e.holder then left = e.exp - now end
  return { status, e.holder, e.token, e.ttl, left, 1, e.ver }
end
local function is_grant(e, holder, token, ver)
  return e and e.holder == holder and e.token == tonumber(token) and e.ver == tonumber(ver)
end
`;

const ACQUIRE = `${PRELUDE}
local now = now_ms()
local e = load(KEYS[1])
if type(e) == 'string' then return { 'corrupt', e } end
local c, cerr = counter(KEYS[2])
if cerr then return { 'corrupt', cerr } end
local holder, ttl = ARGV[1], tonumber(ARGV[2])
local ver = 1
if e then ver = e.ver + 1 end
if e and e.holder and e.exp > now then
  if e.holder ~= holder then return info('held', e, now) end
  redis.call('HSET', KEYS[1], 'ttl', ttl, 'exp', now + ttl, 'ver', ver)
  return { 'ok', holder, e.token, ttl, ttl, 1, ver }
end
local last = c
if e and e.token > last then last = e.token end
local token = last + 1
redis.call('SET', KEYS[2], token)
redis.call('HSET', KEYS[1], 'holder', holder, 'token', token, 'ttl', ttl, 'exp', now + ttl, 'ver', ver)
return { 'ok', holder, token, ttl, ttl, 1, ver }
`;

const RENEW = `${PRELUDE}
local now = now_ms()
local e = load(KEYS[1])
if type(e) == 'string' then return { 'corrupt', e } end
if not is_grant(e, ARGV[1], ARGV[2], ARGV[4]) then return info('not-holder', e, now) end
if e.exp <= now then return info('expired', e, now) end
local ttl = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'ttl', ttl, 'exp', now + ttl)
return { 'ok', e.holder, e.token, ttl, ttl, 1, e.ver }
`;

const RELEASE = `${PRELUDE}
local e = load(KEYS[1])
if type(e) == 'string' then return { 'corrupt', e } end
if not is_grant(e, ARGV[1], ARGV[2], ARGV[3]) then return { 'no' } end
redis.call('HDEL', KEYS[1], 'holder')
redis.call('HSET', KEYS[1], 'exp', now_ms())
return { 'ok' }
`;

const TRANSFER = `${PRELUDE}
local now = now_ms()
local e = load(KEYS[1])
if type(e) == 'string' then return { 'corrupt', e } end
local c, cerr = counter(KEYS[2])
if cerr then return { 'corrupt', cerr } end
if not is_grant(e, ARGV[1], ARGV[2], ARGV[4]) then return info('not-holder', e, now) end
if e.exp <= now then return info('expired', e, now) end
local to, ttl = ARGV[5], tonumber(ARGV[3])
local last = c
if e.token > last then last = e.token end
local token = last + 1
redis.call('SET', KEYS[2], token)
redis.call('HSET', KEYS[1], 'holder', to, 'token', token, 'ttl', ttl, 'exp', now + ttl, 'ver', e.ver + 1)
return { 'ok', to, token, ttl, ttl, 1, e.ver + 1 }
`;

const READ = `${PRELUDE}
local now = now_ms()
local e = load(KEYS[1])
if type(e) == 'string' then return { 'corrupt', e } end
if e then return info('ok', e, now) end
local c, cerr = counter(KEYS[2])
if cerr then return { 'corrupt', cerr } end
if c == 0 then return { 'none' } end
return { 'ok', false, c, 0, 0, 1, 0 }
`;

export const SCRIPTS = {
  heartbeatLabAcquire: ACQUIRE,
  heartbeatLabRenew: RENEW,
  heartbeatLabRelease: RELEASE,
  heartbeatLabTransfer: TRANSFER,
  heartbeatLabRead: READ,
};
export type ScriptName = keyof typeof SCRIPTS;
export type Reply = [string, string | null, number, number, number, number, number] | [string, string];
