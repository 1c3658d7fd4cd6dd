/**
 * Issue 15 (Redis at scale): calls that arrive while the store's connection is being made share one
 * wait. Thousands of keepers renewing through one client during a reconnection must not each add
 * (and later remove, in linear time each) their own 'ready'/'end'/'error' listeners. Real server.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { RedisLeaseStore } from '../../src/store/redis-store.js';
import { missingServer, startRedis, type TestServer } from '../support/servers.js';

const skip = missingServer('redis');

describe.skipIf(skip !== null)('Redis store while connecting', () => {
  it('200 calls made while the client connects share one set of listeners, and all succeed', async () => {
    const server: TestServer = await startRedis();
    await using _server = { [Symbol.asyncDispose]: () => server.dispose() };
    // The options RedisLeaseStore.connect() uses: lazy connection, no offline queue.
    const client = new Redis(server.url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    await using store = new RedisLeaseStore(client, { closeClient: true });
    const base = { ready: client.listenerCount('ready'), end: client.listenerCount('end'), error: client.listenerCount('error') };
    const calls = Array.from({ length: 200 }, (_, i) => store.acquire({ key: `connecting/${i}`, holder: 'h', ttlMs: 5_000 }));
    expect(client.status).not.toBe('ready');
    expect(client.listenerCount('ready') - base.ready).toBeLessThanOrEqual(1);
    expect(client.listenerCount('end') - base.end).toBeLessThanOrEqual(1);
    expect(client.listenerCount('error') - base.error).toBeLessThanOrEqual(1);
    const results = await Promise.all(calls);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(client.listenerCount('ready')).toBe(base.ready);
  });
});
