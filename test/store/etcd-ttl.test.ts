/**
 * Issue 13 item 9: etcd TTLs are whole seconds and etcd deletes expired leases in a sweep every
 * 500 ms, so a lease nobody renews counts as held longer than the ttl asked for. The store rounds
 * up (never shorter than the keeper's validity) and says how long in `expiryBoundMs`, which
 * `LeaseKeeper.failoverWindow()` uses for a crashed holder. Real etcd server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseKeeper } from '../../src/keeper/lease-keeper.js';
import { EtcdLeaseStore } from '../../src/store/etcd-store.js';
import { openLeaseStore } from '../../src/store/open-store.js';
import { missingServer, startEtcd, type TestServer } from '../support/servers.js';

const skip = missingServer('etcd');

describe.skipIf(skip !== null)('etcd whole-second TTLs', () => {
  let server: TestServer;
  let store: EtcdLeaseStore;

  beforeAll(async () => {
    server = await startEtcd();
    store = (await openLeaseStore(server.url)) as EtcdLeaseStore;
  });

  afterAll(async () => {
    await store?.close();
    await server?.dispose();
  });

  /** Time from sending a's acquire (it is applied after that) until b's acquire succeeds, polling every 20 ms. */
  async function linger(key: string, ttlMs: number): Promise<number> {
    const sentAt = performance.now();
    const a = await store.acquire({ key, holder: 'a', ttlMs });
    if (!a.ok) throw new Error('a could not acquire');
    for (;;) {
      const b = await store.acquire({ key, holder: 'b', ttlMs: 30_000 });
      if (b.ok) return performance.now() - sentAt;
      if (performance.now() - sentAt > 10_000) throw new Error('the lease never expired');
      await new Promise((done) => setTimeout(done, 20));
    }
  }

  it.each([1_000, 1_200])('ttl %i ms: a dead holder lingers beyond the ttl asked, within expiryBoundMs and the keeper failover window', async (ttlMs) => {
    const lingers: number[] = [];
    for (let i = 0; i < 3; i++) lingers.push(await linger(`linger-${ttlMs}-${i}`, ttlMs));
    const bound = store.expiryBoundMs(ttlMs);
    console.log(`[etcd ttl] ttl ${ttlMs} ms: dead holder's lease lingered ${lingers.map((ms) => ms.toFixed(0)).join(', ')} ms; bound ${bound} ms`);
    expect(Math.min(...lingers)).toBeGreaterThanOrEqual(ttlMs); // never shorter than asked: safe for the holder
    if (ttlMs === 1_200) expect(Math.min(...lingers)).toBeGreaterThan(ttlMs + 500); // rounded up to 2 s
    expect(Math.max(...lingers)).toBeLessThanOrEqual(bound);
    // The keeper's crash failover window covers the linger plus one acquire retry.
    const keeper = new LeaseKeeper(store, { key: 'fw', identity: 'x', ttlMs });
    const retry = keeper.options.retryIntervalMs + keeper.options.requestTimeoutMs;
    expect(Math.max(...lingers) + retry).toBeLessThanOrEqual(keeper.failoverWindow().afterCrashMs);
  });
});
