/**
 * Issue 15 item 3: `EtcdLeaseStore` renews over one long-lived keep-alive stream instead of a new
 * gRPC stream per renewal. Real etcd; the stream count is etcd's own
 * `grpc_server_started_total{grpc_method="LeaseKeepAlive"}` and the renewals its
 * `grpc_server_msg_received_total` for that method, read from the server's /metrics.
 */
import { readFileSync } from 'node:fs';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../src/clock.js';
import { StoreTimeoutError, StoreUnavailableError } from '../../src/errors.js';
import { LeaseKeeper } from '../../src/keeper/lease-keeper.js';
import { EtcdKeepAlive } from '../../src/store/etcd-keepalive.js';
import { EtcdLeaseStore } from '../../src/store/etcd-store.js';
import type { LeaseGrant } from '../../src/store/lease-store.js';
import { missingServer, startEtcd, type TestServer } from '../support/servers.js';
import { sleep, waitUntil } from '../support/wait.js';

const skip = missingServer('etcd');

/** etcd's own counters for one gRPC method: calls (streams) started and messages received. */
async function grpcMetrics(server: TestServer, method = 'LeaseKeepAlive'): Promise<{ streams: number; messages: number }> {
  const text = await (await fetch(`http://127.0.0.1:${server.ports[0]}/metrics`)).text();
  const value = (name: string): number => {
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`grpc_method="${method}"`));
    return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  return { streams: value('grpc_server_started_total'), messages: value('grpc_server_msg_received_total') };
}

/** Acquires `<prefix>/0` … `<prefix>/<count - 1>` for holder `h`. */
async function acquireAll(store: EtcdLeaseStore, prefix: string, count: number): Promise<LeaseGrant[]> {
  const grants: LeaseGrant[] = [];
  for (let i = 0; i < count; i++) {
    const acquired = await store.acquire({ key: `${prefix}/${i}`, holder: 'h', ttlMs: 5_000 });
    if (!acquired.ok) throw new Error('acquire refused');
    grants.push(acquired.lease);
  }
  return grants;
}

describe.skipIf(skip !== null)('etcd keep-alive stream', () => {
  let server: TestServer;
  let raw: Etcd3;

  beforeAll(async () => {
    server = await startEtcd();
    raw = new Etcd3({ hosts: `http://127.0.0.1:${server.ports[0]}` });
  });

  afterAll(async () => {
    raw?.close();
    await server?.dispose();
  });

  it('renewals of many leases are messages on one stream', async () => {
    await using store = await EtcdLeaseStore.connect(server.url);
    const grants = await acquireAll(store, 'many', 20);
    const before = await grpcMetrics(server);
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all(grants.map((lease) => store.renew(lease)));
      expect(results.every((r) => r.ok)).toBe(true);
    }
    const after = await grpcMetrics(server);
    expect(after.messages - before.messages).toBe(60);
    expect(after.streams - before.streams).toBe(1);
    expect(store.keepAliveStreamsOpened).toBe(1);
  });

  it('concurrent renewals share snapshot transactions, and each still gets the answer for its own grant', async () => {
    await using store = await EtcdLeaseStore.connect(server.url);
    const grants = await acquireAll(store, 'batch', 40);
    const before = await grpcMetrics(server, 'Txn');
    // Every fourth request names a stale grant (an older version): refused, whatever its neighbours in the batch.
    const results = await Promise.all(grants.map((lease, i) => store.renew(i % 4 === 0 ? { ...lease, version: lease.version - 1 } : lease)));
    const after = await grpcMetrics(server, 'Txn');
    expect(results.map((r) => r.ok)).toEqual(grants.map((_, i) => i % 4 !== 0));
    for (const [i, r] of results.entries()) {
      if (r.ok) expect(r.lease).toMatchObject({ key: `batch/${i}`, token: grants[i]?.token, version: grants[i]?.version });
      else expect(r).toMatchObject({ reason: 'not-holder', current: { key: `batch/${i}`, holder: 'h', version: grants[i]?.version } });
    }
    // 40 renewals: one snapshot read each, batched into far fewer transactions (40 without batching).
    expect(after.streams - before.streams).toBeLessThanOrEqual(10);
  });

  it('a lease etcd no longer knows answers TTL 0 on the shared stream; the other leases on it keep renewing', async () => {
    const keepAlive = new EtcdKeepAlive(raw, { clock: new SystemClock({ unref: true }), timeoutMs: 2_000, idleMs: 2_000 });
    try {
      const live = await raw.leaseClient.leaseGrant({ TTL: 10 });
      const gone = await raw.leaseClient.leaseGrant({ TTL: 10 });
      await raw.leaseClient.leaseRevoke({ ID: gone.ID });
      const [a, b, c] = await Promise.all([keepAlive.keepAlive(live.ID), keepAlive.keepAlive(gone.ID), keepAlive.keepAlive(live.ID)]);
      expect(b).toBe(0);
      expect(a).toBeGreaterThan(0);
      expect(c).toBeGreaterThan(0);
      expect(keepAlive.streamsOpened).toBe(1);
    } finally {
      keepAlive.close();
    }
  });

  it('a stream that stops answering (server paused) fails the renewal after timeoutMs and is replaced', async () => {
    const keepAlive = new EtcdKeepAlive(raw, { clock: new SystemClock({ unref: true }), timeoutMs: 300, idleMs: 5_000 });
    try {
      const lease = await raw.leaseClient.leaseGrant({ TTL: 30 });
      expect(await keepAlive.keepAlive(lease.ID)).toBeGreaterThan(0);
      await server.signal('SIGSTOP');
      await waitUntil('etcd to be stopped', 5_000, () => readFileSync(`/proc/${server.pid}/stat`, 'utf8').split(') ')[1]?.startsWith('T'));
      let failure: unknown;
      try {
        await keepAlive.keepAlive(lease.ID);
      } catch (error) {
        failure = error;
      } finally {
        await server.signal('SIGCONT');
      }
      expect(failure).toBeInstanceOf(StoreUnavailableError);
      expect(String(failure)).toContain('within 300ms');
      // The silent stream was dropped: the next renewal opens a fresh one and succeeds on it.
      expect(await keepAlive.keepAlive(lease.ID)).toBeGreaterThan(0);
      expect(keepAlive.streamsOpened).toBe(2);
    } finally {
      keepAlive.close();
    }
  });

  it('a keeper whose etcd lease is revoked behind its back loses it at the next renewal', async () => {
    await using store = await EtcdLeaseStore.connect(server.url);
    const keeper = new LeaseKeeper(store, { key: 'revoked', identity: 'k', ttlMs: 3_000 });
    const stopped: string[] = [];
    keeper.on('stopped-leading', (reason) => stopped.push(reason));
    keeper.start();
    try {
      await waitUntil('the keeper to lead', 10_000, () => keeper.isLeading());
      const kv = (await raw.get('heartbeat-lab/lease/revoked').exec()).kvs[0];
      if (kv === undefined) throw new Error('no lease record');
      await raw.leaseClient.leaseRevoke({ ID: kv.lease });
      await waitUntil('the keeper to step down', 5_000, () => stopped.length > 0);
      expect(stopped).toEqual(['lost']);
    } finally {
      await keeper.stop();
    }
  });

  it('a killed etcd fails renewals (never a silent success) until the deadline; after a restart the keeper leads again on one new stream', async () => {
    await using store = await EtcdLeaseStore.connect(server.url, { requestTimeoutMs: 500 });
    const keeper = new LeaseKeeper(store, { key: 'outage', identity: 'k', ttlMs: 3_000 });
    const log: string[] = [];
    const failures: unknown[] = [];
    let renewals = 0;
    keeper.on('started-leading', () => log.push('lead'));
    keeper.on('stopped-leading', (reason) => log.push(`stop:${reason}`));
    keeper.on('renewed', () => {
      renewals += 1;
      log.push('renewed');
    });
    keeper.on('renew-failed', (error) => failures.push(error));
    keeper.start();
    try {
      await waitUntil('two renewals', 10_000, () => renewals >= 2);
      await server.signal('SIGKILL');
      const killedAt = log.length;
      await waitUntil('the keeper to step down', 10_000, () => log.includes('stop:renew-deadline'));
      // Between the kill and the step-down: failures only, no renewal reported as a success.
      expect(log.slice(killedAt, log.indexOf('stop:renew-deadline'))).not.toContain('renewed');
      expect(failures.length).toBeGreaterThan(0);
      expect(failures.every((e) => e instanceof StoreUnavailableError || e instanceof StoreTimeoutError)).toBe(true);

      await server.start();
      const streamsBefore = store.keepAliveStreamsOpened;
      const renewalsBefore = renewals;
      await waitUntil('the keeper to lead again', 15_000, () => log.lastIndexOf('lead') > log.indexOf('stop:renew-deadline'));
      await waitUntil('five renewals after the restart', 15_000, () => renewals >= renewalsBefore + 5);
      await sleep(100);
      const metrics = await grpcMetrics(server); // counters restarted with the server
      expect(metrics.messages).toBeGreaterThanOrEqual(5);
      expect(metrics.streams).toBeLessThanOrEqual(2);
      expect(store.keepAliveStreamsOpened - streamsBefore).toBeLessThanOrEqual(2);
    } finally {
      await keeper.stop();
    }
  }, 60_000);
});
