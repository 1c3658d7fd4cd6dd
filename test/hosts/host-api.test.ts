import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import type { KeeperHandle } from '../../src/hosts/keeper-handle.js';
import { startSidecarKeeper } from '../../src/hosts/sidecar-host.js';
import { startWorkerKeeper } from '../../src/hosts/worker-host.js';
import { FileLeaseStore } from '../../src/store/file-store.js';
import { buildHosts, hasExited, liveChildren, TIMING, waitUntil } from './harness.js';

let build: Awaited<ReturnType<typeof buildHosts>>;
let dir: string;
let file: string;
const handles: KeeperHandle[] = [];
const keeper = { key: 'leader', ...TIMING };
const mainPath = (name: string) => join(build.dist, 'src/hosts', `${name}.js`);

beforeAll(async () => {
  build = await buildHosts();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'host-api-'));
  file = join(dir, 'lease.json');
});
afterEach(async () => {
  await Promise.all(handles.splice(0).map((handle) => handle.stop()));
  await rm(dir, { recursive: true, force: true });
});

describe('sidecar host options', () => {
  it('refuses an execArgv that is not an array of strings, or a bad stderr, before forking (a string would be spread into one-character flags)', async () => {
    const base = { storeUrl: pathToFileURL(file).href, keeper, mainPath: mainPath('sidecar-main') };
    for (const [option, bad] of [
      ['execArgv', '--jitless'],
      ['execArgv', ['--jitless', 3]],
      ['stderr', 'pipe'],
    ] as const) {
      const error = await startSidecarKeeper({ ...base, [option]: bad } as never).catch((e: unknown) => e);
      expect(error, `${option}: ${JSON.stringify(bad)}`).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).option).toBe(option);
    }
    expect(liveChildren('sidecar-main')).toEqual([]);
  });
});

describe.each([
  ['sidecar', (options: Parameters<typeof startSidecarKeeper>[0]) => startSidecarKeeper({ ...options, mainPath: mainPath('sidecar-main'), stderr: 'ignore' })],
  ['worker', (options: Parameters<typeof startWorkerKeeper>[0]) => startWorkerKeeper({ ...options, mainPath: mainPath('worker-main') })],
] as const)('%s host API', (host, start) => {
  it('leads, reports the token, checks in, and releases on stop()', async () => {
    const handle = await start({ storeUrl: pathToFileURL(file).href, keeper: { ...keeper, identity: `api-${host}` }, maxOwnerSilenceMs: 5000 });
    handles.push(handle);
    const started = new Promise((done) => handle.once('started-leading', done));
    await started;
    expect(handle.isLeading()).toBe(true);
    expect(handle.token).toBe(1);
    expect(handle.validityLeftMs()).toBeGreaterThan(0);
    handle.checkIn();
    const store = new FileLeaseStore(file);
    expect(await store.read('leader')).toMatchObject({ holder: `api-${host}`, token: 1 });
    await handle.stop();
    expect(handle.isLeading()).toBe(false);
    expect(handle.exited).toBe(true);
    expect(await store.read('leader')).toMatchObject({ holder: null, token: 1 });
    if ('sidecar' in handle) {
      const { pid } = (handle as { sidecar: { pid: number } }).sidecar;
      await waitUntil('the sidecar to exit', 3000, () => hasExited(pid, null));
    }
  });

  it('progress check: work pending and no progress → the keeper releases and stops with reason stuck', async () => {
    const handle = await start({ storeUrl: pathToFileURL(file).href, keeper: { ...keeper, identity: `stuck-${host}`, maxProgressSilenceMs: 800 } });
    handles.push(handle);
    await new Promise((done) => handle.once('started-leading', done));
    const store = new FileLeaseStore(file);
    handle.setPendingWork(1);
    handle.progress(1); // one unit done, one still waiting, then nothing more
    const stopped = new Promise<string>((done) => handle.once('stopped-leading', (reason: string) => done(reason)));
    expect(await stopped).toBe('stuck');
    expect(handle.isLeading()).toBe(false);
    await waitUntil('the stuck leader to release', 3000, async () => (await store.read('leader'))?.holder === null);
  });

  it('throws ConfigError for a bad timing budget before starting anything', async () => {
    await expect(start({ storeUrl: pathToFileURL(file).href, keeper: { ...keeper, renewDeadlineMs: 950 } })).rejects.toBeInstanceOf(ConfigError);
    await expect(start({ storeUrl: pathToFileURL(file).href, keeper, maxOwnerSilenceMs: 0 })).rejects.toBeInstanceOf(ConfigError);
  });

  it('rejects with the store error when the store URL cannot be opened, and leaves no host behind', async () => {
    const error = await start({ storeUrl: 'nosuch://x', keeper }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(String((error as Error).message)).toMatch(/lease keeper could not start: .*URL scheme/);
    await waitUntil('no sidecar left', 3000, () => liveChildren('sidecar-main').length === 0);
  });
});
