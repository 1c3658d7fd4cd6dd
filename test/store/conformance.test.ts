import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Clock, TimerHandle } from '../../src/clock.js';
import type { LeaseStore } from '../../src/store/lease-store.js';
import { MemoryLeaseStore } from '../../src/store/memory-store.js';
import { openLeaseStore } from '../../src/store/open-store.js';
import { missingServer, startEtcd, startPostgres, startRedis, type TestServer } from '../support/servers.js';
import { describeLeaseStoreConformance, type StoreHarness } from './conformance.js';

/** Real time and real timers, plus an offset that `advance` moves: plays the store's clock. */
class SkewedClock implements Clock {
  #offsetMs = 0;
  now(): number {
    return performance.now() + this.#offsetMs;
  }
  wallNow(): number {
    return Date.now() + this.#offsetMs;
  }
  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    return setTimeout(callback, Math.max(0, delayMs));
  }
  clearTimeout(handle: TimerHandle): void {
    clearTimeout(handle as NodeJS.Timeout);
  }
  advance(ms: number): void {
    this.#offsetMs += ms;
  }
}

describeLeaseStoreConformance('memory', async () => {
  const clock = new SkewedClock();
  const store = new MemoryLeaseStore(clock);
  return { open: async () => store, advance: (ms) => clock.advance(ms) };
}, { outage: false });

describeLeaseStoreConformance('file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'heartbeat-lab-file-'));
  const clock = new SkewedClock();
  const url = pathToFileURL(join(dir, 'leases.json')).href;
  return {
    open: () => openLeaseStore(url, { clock }),
    advance: (ms) => clock.advance(ms),
    // A restart of the file store is a new instance on the same file; open() already gives one.
    restart: async () => undefined,
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
}, { outage: false });

/** A harness over a real server: every open() is a new client connection. */
function serverHarness(start: () => Promise<TestServer>, shortTtlMs: number): () => Promise<StoreHarness> {
  return async () => {
    const server = await start();
    return {
      open: (): Promise<LeaseStore> => openLeaseStore(server.url),
      shortTtlMs,
      restart: () => server.restart(),
      stop: () => server.stop(),
      start: () => server.start(),
      dispose: () => server.dispose(),
    };
  };
}

describeLeaseStoreConformance('redis', serverHarness(startRedis, 1_000), { skip: missingServer('redis') });
describeLeaseStoreConformance('postgres', serverHarness(startPostgres, 1_000), { skip: missingServer('postgres') });
// etcd TTLs are whole seconds (1 s minimum with the test server's raft timings).
describeLeaseStoreConformance('etcd', serverHarness(startEtcd, 1_000), { skip: missingServer('etcd') });
