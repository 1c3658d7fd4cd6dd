import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FileLeaseStore } from '../../src/store/file-store.js';
import { buildHosts, disposeAll, Orchestrator, TIMING, waitUntil } from './harness.js';

let build: Awaited<ReturnType<typeof buildHosts>>;
let dir: string;
let file: string;

beforeAll(async () => {
  build = await buildHosts();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inline-host-'));
  file = join(dir, 'lease.json');
});
afterEach(async () => {
  await disposeAll();
  await rm(dir, { recursive: true, force: true });
});

describe('inline keeper (the incident, for contrast)', () => {
  it('stops renewing when the session idles: the lease expires on the store while the owner lives', async () => {
    const a = await Orchestrator.start({ host: 'inline', store: { file }, identity: 'A', dist: build.dist, timing: TIMING, args: ['--idle-after', '700'] });
    const { token } = await a.waitFor('leading', 5000, (l) => l.event === 'leading');
    const idle = await a.waitFor('idle', 5000, (l) => l.event === 'idle');
    const store = new FileLeaseStore(file);
    // Not renewed any more: it expires on the store (or the keeper, noticing its validity ran out, releases it).
    const lost = await waitUntil('the lease to lapse', TIMING.ttlMs + 1000, async () => {
      const lease = await store.read('leader');
      return lease !== null && (lease.holder === null || lease.expiresInMs <= 0) && lease;
    });
    expect(lost.token).toBe(token);
    expect(a.events('renewed', (l) => l.t > idle.t + 50)).toEqual([]);
    const lapsedAt = Date.now();
    await new Promise((done) => setTimeout(done, 300));
    expect(a.events('action', (l) => l.t >= lapsedAt)).toEqual([]); // it does not act on a lapsed lease either
    console.log(`[inline] session idled (${idle.cleared} timers cleared): lease lapsed ${Date.now() - idle.t} ms later with the owner alive (holder ${lost.holder})`);
  });
});
