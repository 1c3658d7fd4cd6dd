/**
 * Issue 15 (PostgreSQL at scale): acquisitions and renewals that queue up while earlier ones run share one statement,
 * so one transaction and one WAL flush, and each still gets the answer for its own grant. The
 * transactions are counted by the server: every transaction that writes takes a transaction id,
 * and `txid_current()` (which takes one itself) shows how many were taken in between. Real server.
 */
import { describe, expect, it } from 'vitest';
import type { LeaseGrant } from '../../src/store/lease-store.js';
import { PostgresLeaseStore } from '../../src/store/postgres-store.js';
import { missingServer, startPostgres } from '../support/servers.js';

const skip = missingServer('postgres');

describe.skipIf(skip !== null)('PostgreSQL renewals under load', () => {
  it('40 concurrent acquisitions, then 40 concurrent renewals (a quarter for stale grants), commit in a few transactions, each answered for its own grant', async () => {
    const server = await startPostgres();
    await using _server = { [Symbol.asyncDispose]: () => server.dispose() };
    await using store = await PostgresLeaseStore.connect(server.url);
    await store.read('warm-up'); // creates the table
    const { default: pg } = await import('pg');
    const probe = new pg.Client({ connectionString: server.url });
    await probe.connect();
    try {
      const xid = async (): Promise<number> => Number((await probe.query<{ x: string }>('SELECT txid_current() AS x')).rows[0]?.x);
      // 40 concurrent acquisitions of free keys (and 2 of a key asked twice: one wins) share statements too.
      const beforeAcquire = await xid();
      const acquired = await Promise.all([...Array.from({ length: 40 }, (_, i) => `batch/${i}`), 'twice', 'twice'].map((key, i) => store.acquire({ key, holder: `h${key === 'twice' ? i : ''}`, ttlMs: 5_000 })));
      expect((await xid()) - beforeAcquire - 1).toBeLessThanOrEqual(12);
      expect(acquired.slice(40).filter((r) => r.ok)).toHaveLength(1);
      const grants: LeaseGrant[] = acquired.slice(0, 40).map((r) => {
        if (!r.ok) throw new Error('acquire refused');
        return r.lease;
      });
      const before = await xid();
      const results = await Promise.all(grants.map((lease, i) => store.renew(i % 4 === 0 ? { ...lease, version: lease.version - 1 } : lease)));
      const writes = (await xid()) - before - 1;
      expect(results.map((r) => r.ok)).toEqual(grants.map((_, i) => i % 4 !== 0));
      for (const [i, r] of results.entries()) {
        if (r.ok) expect(r.lease).toMatchObject({ key: `batch/${i}`, token: grants[i]?.token, version: grants[i]?.version });
        else expect(r).toMatchObject({ reason: 'not-holder', current: { key: `batch/${i}`, holder: 'h', version: grants[i]?.version } });
      }
      // 30 renewals succeeded: 30 writing transactions one by one, a few when batched.
      expect(writes).toBeLessThanOrEqual(10);
      // A renewed lease really was extended: still held with (almost) the full TTL.
      const info = await store.read('batch/1');
      expect(info?.expiresInMs).toBeGreaterThan(4_000);
    } finally {
      await probe.end();
    }
  });
});
