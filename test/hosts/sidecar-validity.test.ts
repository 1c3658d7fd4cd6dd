/**
 * Issue 15, host wake-ups: a real sidecar tells its owner of routine renewals through the shared
 * validity file, not over IPC. The owner has no `renewed` listener; over 3 TTLs of renewals it gets
 * no `renewed` message, yet believes it leads throughout (it reads the file when it asks and when
 * its lapse timer fires). The owner's IPC messages are counted where the child process emits them.
 */
import { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeAll, expect, it, vi } from 'vitest';
import type { KeeperStatsSnapshot } from '../../src/keeper/keeper-stats.js';
import { startSidecarKeeper, type SidecarKeeperHandle } from '../../src/hosts/sidecar-host.js';
import { buildHosts, TIMING } from './harness.js';

let build: Awaited<ReturnType<typeof buildHosts>>;
let dir: string | undefined;
let handle: SidecarKeeperHandle | undefined;

beforeAll(async () => {
  build = await buildHosts();
});
afterEach(async () => {
  vi.restoreAllMocks();
  await handle?.stop();
  handle = undefined;
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

it('a sidecar sends no renewed message for routine renewals, and the owner believes it leads throughout', async () => {
  const received: string[] = [];
  const emit = ChildProcess.prototype.emit;
  vi.spyOn(ChildProcess.prototype, 'emit').mockImplementation(function (this: ChildProcess, event: string | symbol, ...args: unknown[]) {
    if (event === 'message') received.push((args[0] as { type: string }).type);
    return Reflect.apply(emit, this, [event, ...args]) as boolean;
  });
  dir = await mkdtemp(join(tmpdir(), 'sidecar-validity-'));
  handle = await startSidecarKeeper({
    storeUrl: pathToFileURL(join(dir, 'lease.json')).href,
    keeper: { key: 'leader', identity: 'quiet', ...TIMING },
    mainPath: join(build.dist, 'src/hosts/sidecar-main.js'),
    stderr: 'ignore',
  });
  const running = handle;
  if (!running.isLeading()) await new Promise((done) => running.once('started-leading', done));
  const exit = new Promise<KeeperStatsSnapshot | undefined>((done) => running.once('exit', ({ stats }) => done(stats)));
  let lapses = 0;
  running.on('stopped-leading', () => (lapses += 1));
  for (const end = performance.now() + 3 * TIMING.ttlMs; performance.now() < end; ) {
    await new Promise((wake) => setTimeout(wake, 50));
    expect(running.isLeading()).toBe(true);
  }
  const renewedMessages = received.filter((type) => type === 'renewed').length;
  await running.stop();
  const stats = await exit;
  expect(lapses).toBe(1); // the stop itself
  expect(stats?.renewals).toBeGreaterThanOrEqual(6); // every 250 ms over 3 s, however loaded the machine
  expect(renewedMessages).toBe(0);
  expect(received).toContain('started-leading');
});
