/**
 * The sidecar process loads only what it needs (no simulator, no pino, only the chosen store's
 * module and driver) and runs with the lean Node flags by default (`SIDECAR_EXEC_ARGV`). A real
 * sidecar is started through `startSidecarKeeper` with a module-load probe (`NODE_OPTIONS=--import`,
 * an ESM loader hook that writes every URL it loads, in the sidecar's own loader, and at exit the
 * Node builtins it loaded, `process.moduleLoadList`, and the CommonJS modules it required: neither
 * passes the ESM hook) and its flags are read from `/proc/<pid>/cmdline`. Redis and PostgreSQL run on
 * real servers (skipped without them).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SidecarKeeperHandle, SidecarKeeperOptions } from '../../src/hosts/sidecar-host.js';
import { buildE2e } from '../e2e/build-e2e.js';
import { missingServer, startPostgres, startRedis, type TestServer } from '../support/servers.js';

type Host = typeof import('../../src/hosts/sidecar-host.js');

const HOOKS = `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(process.env.HEARTBEAT_LAB_LOAD_PROBE, url + '\\n');
  return next(url, context);
}
`;
const PROBE = (hooks: string) => `import { createRequire, register } from 'node:module';
import { writeFileSync } from 'node:fs';
register(${JSON.stringify(hooks)});
const log = process.env.HEARTBEAT_LAB_LOAD_PROBE;
process.on('exit', () => {
  writeFileSync(log + '.builtins', process.moduleLoadList.join('\\n'));
  writeFileSync(log + '.cjs', Object.keys(createRequire(import.meta.url).cache).join('\\n'));
});
`;

let dir: string;
let host: Host;
let probe: string;
const savedOptions = process.env.NODE_OPTIONS;

beforeAll(async () => {
  const { dist } = await buildE2e();
  // The compiled host, so that the sidecar it forks is the compiled sidecar-main next to it.
  host = (await import(pathToFileURL(join(dist, 'src/hosts/sidecar-host.js')).href)) as Host;
  dir = await mkdtemp(join(tmpdir(), 'sidecar-lean-'));
  await writeFile(join(dir, 'hooks.mjs'), HOOKS);
  probe = join(dir, 'probe.mjs');
  await writeFile(probe, PROBE(pathToFileURL(join(dir, 'hooks.mjs')).href));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * Starts a sidecar under the probe, waits until it leads, stops it; returns the modules it loaded
 * (`loaded`: URLs through the ESM loader; `required`: paths of CommonJS modules; `builtins`: every
 * Node builtin, e.g. `internal/deps/undici/undici`) and its flags.
 */
async function probeSidecar(
  storeUrl: string,
  name: string,
  options: Partial<SidecarKeeperOptions> = {},
): Promise<{ loaded: string[]; required: string[]; builtins: string[]; argv: string[] }> {
  const log = join(dir, `${name}.loaded`);
  process.env.HEARTBEAT_LAB_LOAD_PROBE = log;
  process.env.NODE_OPTIONS = `--import ${pathToFileURL(probe).href}`;
  let handle: SidecarKeeperHandle;
  try {
    handle = await host.startSidecarKeeper({ storeUrl, keeper: { key: `lean-${name}`, ttlMs: 2000 }, stderr: 'ignore', ...options });
  } finally {
    if (savedOptions === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = savedOptions;
    delete process.env.HEARTBEAT_LAB_LOAD_PROBE;
  }
  let argv: string[];
  try {
    if (!handle.isLeading()) {
      await new Promise((done, fail) => {
        handle.once('started-leading', done);
        handle.once('exit', ({ reason }) => fail(new Error(`the sidecar ended before it led: ${reason}`)));
      });
    }
    argv = readFileSync(`/proc/${handle.sidecar.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } finally {
    await handle.stop();
  }
  // Written by the sidecar at exit, and stop() resolves once it has exited.
  const lines = (suffix: string) => readFileSync(`${log}${suffix}`, 'utf8').split('\n').filter(Boolean);
  const builtins = lines('.builtins').flatMap((entry) => /^NativeModule (.+)$/.exec(entry)?.[1] ?? []);
  return { loaded: lines(''), required: lines('.cjs'), builtins, argv };
}

const ours = (loaded: string[]) => loaded.filter((url) => url.includes('/src/')).map((url) => url.slice(url.lastIndexOf('/src/') + 1));
/** Our own dependencies, optional ones and peers (the drivers): a sidecar loads its store's driver only. */
const OUR_PACKAGES = (() => {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as Record<string, Record<string, string> | undefined>;
  return Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies, ...manifest.peerDependencies });
})();
const packages = (loaded: string[]) => [...new Set(loaded.flatMap((url) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1] ?? []))];

describe('sidecar process footprint', () => {
  it('file store: runs with the lean flags and loads no simulator, no pino and no store module or driver but the file store', async () => {
    const { loaded, required, argv } = await probeSidecar(pathToFileURL(join(dir, 'lease.json')).href, 'file');
    for (const flag of host.SIDECAR_EXEC_ARGV) expect(argv).toContain(flag);
    expect(ours(loaded)).toContain('src/hosts/sidecar-main.js');
    expect(ours(loaded)).toContain('src/store/file-store.js');
    expect(loaded.filter((url) => url.includes('/sim/'))).toEqual([]);
    expect(ours(loaded).filter((path) => /store\/(redis|postgres|etcd|memory)-store|logger/.test(path))).toEqual([]);
    expect(packages([...loaded, ...required])).toEqual([]);
  });

  it('this Node takes the default flags silently (an unknown flag stops the sidecar; --jitless alone prints a V8 warning)', () => {
    const run = spawnSync(process.execPath, [...host.SIDECAR_EXEC_ARGV, '-e', '0'], { encoding: 'utf8' });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
  });

  it('execArgv replaces the default flags', async () => {
    const { argv } = await probeSidecar(pathToFileURL(join(dir, 'lease-2.json')).href, 'flags', { execArgv: ['--max-semi-space-size=2'] });
    expect(argv).toContain('--max-semi-space-size=2');
    for (const flag of host.SIDECAR_EXEC_ARGV) expect(argv).not.toContain(flag);
  });

  // PostgreSQL also guards the flags: pg checks for Cloudflare Workers on load with `new
  // Response(…)` when there is no `navigator` global (Node 20), which loads Node's fetch machinery
  // (undici, http2, zlib, web streams: ≈ 7 MiB): the sidecar's `--no-experimental-fetch` (Node 20;
  // Node 22 has `navigator`) keeps it out, and undici needs WebAssembly, so flags that remove it
  // (--lite-mode, --jitless) made that sidecar die before it led.
  // Redis requires ioredis (CommonJS) instead of importing it: no cjs-module-lexer scan, no ESM wrapper.
  const SERVER_STORES = [
    { kind: 'redis', start: startRedis, store: 'redis-store', driver: /^ioredis$/, required: true },
    { kind: 'postgres', start: startPostgres, store: 'postgres-store', driver: /^pg/, required: false },
  ] as const;
  describe.each(SERVER_STORES)('$kind store', ({ kind, start, store, driver, required }) => {
    let server: TestServer | undefined;
    beforeAll(async () => {
      if (missingServer(kind) === null) server = await start();
    });
    afterAll(async () => {
      await server?.dispose();
    });

    it.skipIf(missingServer(kind) !== null)('leads with the default flags, and loads this store module and its driver only', async () => {
      const { loaded, required: cjs, builtins } = await probeSidecar((server as TestServer).url, kind);
      expect(builtins.filter((name) => /undici|^(http|http2|zlib)$/.test(name))).toEqual([]);
      expect(ours(loaded)).toContain(`src/store/${store}.js`);
      expect(ours(loaded).filter((path) => /store\/(file|redis|postgres|etcd|memory)-store|logger/.test(path) && !path.endsWith(`/${store}.js`))).toEqual([]);
      const all = packages([...loaded, ...cjs]);
      expect(all.some((name) => driver.test(name))).toBe(true);
      expect(all.filter((name) => OUR_PACKAGES.includes(name) && !driver.test(name))).toEqual([]);
      expect(packages(loaded).filter((name) => !driver.test(name))).toEqual([]);
      if (required) {
        expect(packages(loaded)).toEqual([]);
        expect(builtins.filter((name) => name.includes('cjs-module-lexer'))).toEqual([]);
      }
    });
  });
});
