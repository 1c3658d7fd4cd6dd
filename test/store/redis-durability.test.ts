/**
 * Issue 13 item 3: a Redis that keeps no append-only file forgets the fencing token counter on a
 * restart and issues the same token to a second holder. The store checks persistence on every
 * (re)connection and refuses such a server unless `durability: 'warn'` accepts the risk.
 * Real servers: one with AOF, one without persistence.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreNotDurableError } from '../../src/errors.js';
import type { LeaseStore } from '../../src/store/lease-store.js';
import { openLeaseStore } from '../../src/store/open-store.js';
import { RedisLeaseStore } from '../../src/store/redis-store.js';
import { missingServer, startRedis, type TestServer } from '../support/servers.js';

const skip = missingServer('redis');

/** Runs `body`, collecting the process warnings it emits. */
async function warningsDuring(body: () => Promise<void>): Promise<Array<{ code?: string; message: string }>> {
  const seen: Array<{ code?: string; message: string }> = [];
  const listener = (w: Error & { code?: string }): void => void seen.push({ code: w.code, message: w.message });
  process.on('warning', listener);
  try {
    await body();
    await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
  } finally {
    process.off('warning', listener);
  }
  return seen;
}

describe.skipIf(skip !== null)('Redis durability check', () => {
  let volatile: TestServer;
  let durable: TestServer;
  const opened: LeaseStore[] = [];
  const open = async (url: string): Promise<LeaseStore> => {
    const store = await openLeaseStore(url);
    opened.push(store);
    return store;
  };

  beforeAll(async () => {
    [volatile, durable] = await Promise.all([startRedis({ persistence: 'none' }), startRedis()]);
  });

  afterAll(async () => {
    await Promise.allSettled(opened.map((s) => s.close()));
    await Promise.allSettled([volatile?.dispose(), durable?.dispose()]);
  });

  it('refuses a server without an append-only file: every operation fails with E_STORE_NOT_DURABLE and nothing is written', async () => {
    const store = await open(volatile.url);
    const error = await store.acquire({ key: 'k', holder: 'a', ttlMs: 30_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreNotDurableError);
    expect(error).toMatchObject({ code: 'E_STORE_NOT_DURABLE' });
    expect(String((error as Error).message)).toMatch(/appendonly no.*issue a fencing token again.*appendonly yes.*durability=warn/s);
    await expect(store.read('k')).rejects.toBeInstanceOf(StoreNotDurableError);
    const raw = new Redis(volatile.url);
    try {
      expect(await raw.keys('*')).toEqual([]);
    } finally {
      raw.disconnect();
    }
  });

  it('with ?durability=warn it runs after a loud warning, and shows why: a restart reissues token 1 to another holder', async () => {
    let tokens: number[] = [];
    const warnings = await warningsDuring(async () => {
      const a = await open(`${volatile.url}?durability=warn`);
      const first = await a.acquire({ key: 'k', holder: 'a', ttlMs: 30_000 });
      await volatile.restart();
      const b = await open(`${volatile.url}/0?durability=warn`);
      const second = await b.acquire({ key: 'k', holder: 'b', ttlMs: 30_000 });
      tokens = [first, second].map((r) => (r.ok ? r.lease.token : -1));
    });
    expect(tokens).toEqual([1, 1]); // the regression the check exists to prevent
    expect(warnings.filter((w) => w.code === 'HEARTBEAT_LAB_VOLATILE_STORE').length).toBeGreaterThanOrEqual(2);
    expect(warnings[0]?.message).toMatch(/appendonly no/);
  });

  it('accepts a server with AOF silently, and checks again after a reconnection', async () => {
    const warnings = await warningsDuring(async () => {
      const store = await open(durable.url);
      expect((await store.acquire({ key: 'k', holder: 'a', ttlMs: 30_000 })).ok).toBe(true);
    });
    expect(warnings.filter((w) => w.code === 'HEARTBEAT_LAB_VOLATILE_STORE')).toEqual([]);

    const store = (await open(durable.url)) as RedisLeaseStore;
    expect(await store.read('k')).toMatchObject({ holder: 'a' });
    const raw = new Redis(durable.url);
    try {
      await raw.config('SET', 'appendonly', 'no');
      await raw.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes'); // our store reconnects
      await expect(eventuallyRejects(() => store.read('k'))).resolves.toBeInstanceOf(StoreNotDurableError);
    } finally {
      await raw.config('SET', 'appendonly', 'yes');
      raw.disconnect();
    }
  });

  it('rejects an unknown durability value naming the option', async () => {
    await expect(openLeaseStore(`${durable.url}?durability=maybe`)).rejects.toThrow(/invalid option durability/);
  });
});

/** Calls `call` until it rejects with something other than "unavailable" (reconnecting), up to 5 s. */
async function eventuallyRejects(call: () => Promise<unknown>): Promise<unknown> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const error = await call().then(
      () => undefined,
      (e: unknown) => e,
    );
    if (error !== undefined && (error as { code?: string }).code !== 'E_STORE_UNAVAILABLE') return error;
    if (Date.now() > deadline) return error;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
