import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { machineNow } from '../../src/hosts/host-protocol.js';
import type { KeeperHandle } from '../../src/hosts/keeper-handle.js';
import { startSidecarKeeper } from '../../src/hosts/sidecar-host.js';
import { FileLeaseStore } from '../../src/store/file-store.js';
import { buildHosts, TIMING, waitUntil } from './harness.js';

let build: Awaited<ReturnType<typeof buildHosts>>;
let dir: string;
let url: string;
const handles: KeeperHandle[] = [];
const keeper = { key: 'leader', ...TIMING };

beforeAll(async () => {
  build = await buildHosts();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'handoff-'));
  url = pathToFileURL(join(dir, 'lease.json')).href;
});
afterEach(async () => {
  await Promise.all(handles.splice(0).map((handle) => handle.stop()));
  await rm(dir, { recursive: true, force: true });
});

async function sidecar(identity: string): Promise<KeeperHandle> {
  const handle = await startSidecarKeeper({
    storeUrl: url,
    keeper: { ...keeper, identity },
    mainPath: join(build.dist, 'src/hosts/sidecar-main.js'),
    stderr: 'ignore',
  });
  handles.push(handle);
  return handle;
}

describe('graceful handoff between real sidecar processes', () => {
  it('the leader drains, releases, and a follower leads well before the TTL would have let it', async () => {
    const a = await sidecar('a');
    await waitUntil('a to lead', 5000, () => a.isLeading());
    const b = await sidecar('b');
    a.setPendingWork(1);
    const startedAt = machineNow();
    const handedOff = a.handoff({ drainMs: 5000 });
    // The owner finishes its last work 300 ms later; the keeper kept renewing meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(a.isLeading()).toBe(true);
    a.progress(0);
    await handedOff;
    expect(a.isLeading()).toBe(false);
    await waitUntil('b to lead', 5000, () => b.isLeading());
    const takeoverMs = machineNow() - startedAt;
    console.log(`handoff: follower led ${takeoverMs.toFixed(0)} ms after handoff() (300 ms of it draining)`);
    expect(b.token).toBe(2);
    // Without the release the follower would wait for the lease to expire (ttl ${TIMING.ttlMs} ms after the last renewal).
    expect(takeoverMs).toBeLessThan(300 + TIMING.ttlMs);
    const info = await new FileLeaseStore(join(dir, 'lease.json')).read('leader');
    expect(info).toMatchObject({ holder: 'b', token: 2 });
  });

  it('handoff({ to }) transfers the lease to the chosen follower, not to whichever asks first', async () => {
    const a = await sidecar('a');
    await waitUntil('a to lead', 5000, () => a.isLeading());
    const b = await sidecar('b');
    const c = await sidecar('c');
    await a.handoff({ to: 'c' });
    expect(a.isLeading()).toBe(false);
    // Already c's when the handoff resolves (a release would leave it free for whoever asks first).
    expect(await new FileLeaseStore(join(dir, 'lease.json')).read('leader')).toMatchObject({ holder: 'c', token: 2 });
    await waitUntil('c to lead', 5000, () => c.isLeading());
    expect(c.token).toBe(2);
    expect(b.isLeading()).toBe(false);
    expect(await new FileLeaseStore(join(dir, 'lease.json')).read('leader')).toMatchObject({ holder: 'c', token: 2 });
  });
});
