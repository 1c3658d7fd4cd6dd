/**
 * Fenced writes on real servers. The scenario every store plays: an old leader (token 1) starts
 * an action, is cut off from the lease store and pauses (it ignores its abort signal, as a
 * process frozen between its check and its write would); a new leader (token 2) takes over and
 * writes; then the old leader wakes and writes late. The store must refuse the late write.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Etcd3 } from 'etcd3';
import { Redis } from 'ioredis';
import pg from 'pg';
import { StoreCorruptError } from '../../src/errors.js';
import { etcdFence } from '../../src/fencing/etcd-fence.js';
import type { Fence } from '../../src/fencing/fence.js';
import { ensureFencedTable, postgresFence } from '../../src/fencing/postgres-fence.js';
import { redisFence } from '../../src/fencing/redis-fence.js';
import { runAsLeader } from '../../src/fencing/run-as-leader.js';
import type { LeaseKeeperOptions } from '../../src/keeper/keeper-options.js';
import { LeaseKeeper } from '../../src/keeper/lease-keeper.js';
import type { LeaseStore } from '../../src/store/lease-store.js';
import { openLeaseStore } from '../../src/store/open-store.js';
import { Rng } from '../../sim/rng.js';
import { missingServer, startEtcd, startPostgres, startRedis, type ServerKind, type TestServer } from '../support/servers.js';

type Timing = Pick<LeaseKeeperOptions, 'ttlMs' | 'renewIntervalMs' | 'renewDeadlineMs' | 'requestTimeoutMs'>;
const FAST: Timing = { ttlMs: 1000, renewIntervalMs: 300, renewDeadlineMs: 600, requestTimeoutMs: 100 };
// etcd rounds lease TTLs up to whole seconds and its transactions take a few round trips.
const ETCD: Timing = { ttlMs: 1500, renewIntervalMs: 300, renewDeadlineMs: 800, requestTimeoutMs: 200 };

/** A lease store connection that can be cut off: while `cut`, every call hangs forever (a partition). */
function cuttable(store: LeaseStore): LeaseStore & { cut: boolean } {
  const hang = new Promise<never>(() => undefined);
  const wrapper = {
    kind: store.kind,
    cut: false,
    acquire: (r: Parameters<LeaseStore['acquire']>[0]) => (wrapper.cut ? hang : store.acquire(r)),
    renew: (r: Parameters<LeaseStore['renew']>[0]) => (wrapper.cut ? hang : store.renew(r)),
    release: (r: Parameters<LeaseStore['release']>[0]) => (wrapper.cut ? hang : store.release(r)),
    transfer: (r: Parameters<LeaseStore['transfer']>[0]) => (wrapper.cut ? hang : store.transfer(r)),
    read: (key: string) => (wrapper.cut ? hang : store.read(key)),
    close: () => store.close(),
  };
  return wrapper;
}

function startedLeading(keeper: LeaseKeeper, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no leadership within ${timeoutMs} ms`)), timeoutMs);
    keeper.once('started-leading', (lease) => {
      clearTimeout(timer);
      resolve(lease.token);
    });
  });
}

async function pausedOldLeaderWritesLate(url: string, fence: Fence, timing: Timing): Promise<void> {
  const key = `fence-test/${randomUUID()}`;
  const resource = `orders-${randomUUID()}`;
  const storeOld = cuttable(await openLeaseStore(url));
  const storeNew = await openLeaseStore(url);
  const oldLeader = new LeaseKeeper(storeOld, { key, identity: 'old', ...timing });
  const newLeader = new LeaseKeeper(storeNew, { key, identity: 'new', ...timing });
  try {
    const oldToken = startedLeading(oldLeader, 10_000);
    oldLeader.start();
    expect(await oldToken).toBe(1);

    // The old leader starts an action, then freezes before writing.
    let wake!: () => void;
    const frozen = new Promise<void>((resolve) => (wake = resolve));
    let abortedWith: unknown;
    const lateWrite = runAsLeader(oldLeader, async (token, signal) => {
      signal.addEventListener('abort', () => (abortedWith = signal.reason));
      await frozen; // paused: it never looks at the signal
      return fence.write(resource, token, { by: 'old', token });
    });

    // Cut off from the store, the old leader steps down at its renew deadline.
    const steppedDown = new Promise((resolve) => oldLeader.once('stopped-leading', resolve));
    storeOld.cut = true;
    expect(await steppedDown).toMatch(/renew-deadline|paused/);
    expect(abortedWith).toMatchObject({ code: 'E_NOT_LEADER' });
    await expect(runAsLeader(oldLeader, async () => 'never')).rejects.toMatchObject({ code: 'E_NOT_LEADER' });

    // The store expires the old lease; the new leader gets token 2 and writes.
    const newToken = startedLeading(newLeader, 10_000);
    newLeader.start();
    expect(await newToken).toBe(2);
    const fresh = await runAsLeader(newLeader, (token) => fence.write(resource, token, { by: 'new', token }));
    expect(fresh).toEqual({ applied: true, currentToken: 2 });

    // The old leader wakes and writes late, with token 1: refused.
    wake();
    expect(await lateWrite).toEqual({ applied: false, currentToken: 2 });
    expect(await fence.read(resource)).toEqual({ id: resource, token: 2, data: { by: 'new', token: 2 } });
  } finally {
    await Promise.all([oldLeader.stop(), newLeader.stop()]);
    await Promise.all([storeOld.close(), storeNew.close()]);
  }
}

/** Token rules of a fenced write, store by store. */
async function tokenRules(fence: Fence): Promise<void> {
  const id = `r-${randomUUID()}`;
  expect(await fence.read(id)).toBeNull();
  expect(await fence.write(id, 5, { v: 'five' })).toEqual({ applied: true, currentToken: 5 });
  expect(await fence.write(id, 3, { v: 'three' })).toEqual({ applied: false, currentToken: 5 });
  expect(await fence.read(id)).toEqual({ id, token: 5, data: { v: 'five' } });
  // The same leader writes again with its token.
  expect(await fence.write(id, 5, { v: 'five again' })).toEqual({ applied: true, currentToken: 5 });
  expect(await fence.write(id, 12, { v: 'twelve' })).toEqual({ applied: true, currentToken: 12 });
  expect(await fence.write(id, 11, { v: 'eleven' })).toEqual({ applied: false, currentToken: 12 });
  expect(await fence.read(id)).toEqual({ id, token: 12, data: { v: 'twelve' } });
  // Tokens compare as numbers, not as text (9 < 10 < 100).
  const other = `r-${randomUUID()}`;
  expect((await fence.write(other, 100, 'a')).applied).toBe(true);
  expect((await fence.write(other, 99, 'b')).applied).toBe(false);
  expect((await fence.write(other, 9, 'c')).applied).toBe(false);
}

/** Tokens 1..n in an order drawn from a seeded stream (Fisher-Yates): the same on every run. */
function shuffledTokens(n: number, seed: number): number[] {
  const rng = new Rng(seed);
  const tokens = Array.from({ length: n }, (_, i) => i + 1);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [tokens[i], tokens[j]] = [tokens[j] as number, tokens[i] as number];
  }
  return tokens;
}

/** Many writers at once with shuffled tokens: the newest token's data wins, no refused write changed anything. */
async function concurrentWriters(fence: Fence): Promise<void> {
  const id = `c-${randomUUID()}`;
  const tokens = shuffledTokens(20, 20);
  const results = await Promise.all(tokens.map((token) => fence.write(id, token, { token })));
  results.forEach((result, i) => {
    expect(result.currentToken).toBeGreaterThanOrEqual(tokens[i] as number);
    if (!result.applied) expect(result.currentToken).toBeGreaterThan(tokens[i] as number);
  });
  expect(results[tokens.indexOf(20)]).toEqual({ applied: true, currentToken: 20 });
  expect(await fence.read(id)).toEqual({ id, token: 20, data: { token: 20 } });
}

function describeServer(kind: ServerKind, start: () => Promise<TestServer>, body: (server: () => TestServer) => void): void {
  const missing = missingServer(kind);
  if (missing !== null) {
    describe.skip(`${kind} fence (${missing})`, () => undefined);
    return;
  }
  describe(`${kind} fence`, () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await start();
    });
    afterAll(async () => {
      await server?.dispose();
    });
    body(() => server);
  });
}

describeServer('postgres', startPostgres, (server) => {
  const TABLE = 'fenced_orders';
  let pool: pg.Pool;
  let fence: Fence;
  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: server().url, max: 8 });
    pool.on('error', () => undefined); // idle clients when the server stops
    // Idempotent migration: twice in a row and three at once.
    await ensureFencedTable(pool, TABLE);
    await ensureFencedTable(pool, TABLE);
    await Promise.all([1, 2, 3].map(() => ensureFencedTable(pool, TABLE)));
    fence = postgresFence(pool, TABLE);
  });
  afterAll(async () => {
    await pool?.end();
  });

  it('a paused old leader (token 1) writing after the new leader (token 2) is refused', async () => {
    await pausedOldLeaderWritesLate(server().url, fence, FAST);
  });
  it('applies a token >= the stored one, refuses an older one', async () => {
    await tokenRules(fence);
  });
  it('concurrent writers: the newest token wins', async () => {
    await concurrentWriters(fence);
  });
  it('a missing table is a clear configuration error', async () => {
    await expect(postgresFence(pool, 'no_such_table').write('x', 1, 1)).rejects.toThrow(/ensureFencedTable/);
    expect(() => postgresFence(pool, 'bad;name')).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
    await expect(fence.write('x', -1, 1)).rejects.toMatchObject({ code: 'E_CONFIG' });
    await expect(fence.write('', 1, 1)).rejects.toMatchObject({ code: 'E_CONFIG' });
  });
});

describeServer('redis', startRedis, (server) => {
  let redis: Redis;
  let fence: Fence;
  beforeAll(async () => {
    redis = new Redis(server().url, { lazyConnect: true });
    await redis.connect();
    fence = redisFence(redis);
  });
  afterAll(async () => {
    await redis?.quit();
  });

  it('a paused old leader (token 1) writing after the new leader (token 2) is refused', async () => {
    await pausedOldLeaderWritesLate(server().url, fence, FAST);
  });
  it('applies a token >= the stored one, refuses an older one', async () => {
    await tokenRules(fence);
  });
  it('concurrent writers: the newest token wins', async () => {
    await concurrentWriters(fence);
  });
  it('a key of another type is reported corrupt and left alone', async () => {
    await redis.set('heartbeat-lab:fenced:wrong', 'plain string');
    await expect(fence.write('wrong', 1, 1)).rejects.toBeInstanceOf(StoreCorruptError);
    expect(await redis.get('heartbeat-lab:fenced:wrong')).toBe('plain string');
  });
});

describeServer('etcd', startEtcd, (server) => {
  let client: Etcd3;
  let fence: Fence;
  beforeAll(() => {
    client = new Etcd3({ hosts: server().url.replace(/^etcd:/, 'http:') });
    fence = etcdFence(client);
  });
  afterAll(() => {
    client?.close();
  });

  it('a paused old leader (token 1) writing after the new leader (token 2) is refused', async () => {
    await pausedOldLeaderWritesLate(server().url, fence, ETCD);
  });
  it('applies a token >= the stored one, refuses an older one', async () => {
    await tokenRules(fence);
  });
  it('concurrent writers: the newest token wins', async () => {
    await concurrentWriters(fence);
  });
});
