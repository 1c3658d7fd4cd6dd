/**
 * The package as a user gets it: `npm pack`, installed into an empty project, then used the way
 * the README says — an ESM consumer, a CJS consumer, a TypeScript consumer type-checked without
 * `skipLibCheck` and without the optional store drivers, `npx sim run`, `npx sim gate` and
 * `npx keeper --version`. Finally the simulator's optional dependencies are removed (what
 * `npm install --omit=optional` gives a library-only user): the library still loads and `sim`
 * says what to install instead of crashing.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumerTsconfig, typeCheck } from './consumer-tsc.js';

const ROOT = resolve(import.meta.dirname, '../..');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const SIM_DEPS = ['@sinonjs/fake-timers', 'fast-check', 'tinypool', 'yaml'];

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: readonly string[], cwd: string, timeoutMs = 240_000): Promise<Ran> {
  return new Promise((done) => {
    execFile(command, args, { cwd, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, npm_config_update_notifier: 'false' } }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      done({ code, stdout, stderr });
    });
  });
}

function ok(ran: Ran): Ran {
  if (ran.code !== 0) throw new Error(`exit ${ran.code}\n${ran.stdout}\n${ran.stderr}`);
  return ran;
}

const ESM_CONSUMER = `
import { LeaseKeeper, MemoryLeaseStore, RedisLeaseStore, PostgresLeaseStore, EtcdLeaseStore, FileLeaseStore } from 'heartbeat-lab';
for (const c of [RedisLeaseStore, PostgresLeaseStore, EtcdLeaseStore, FileLeaseStore]) if (typeof c !== 'function') throw new Error('not exported');
const keeper = new LeaseKeeper(new MemoryLeaseStore(), { key: 'k', identity: 'esm', ttlMs: 3000 });
keeper.start();
await keeper.campaign({ signal: AbortSignal.timeout(5000) });
console.log('esm leading', keeper.token);
await keeper.stop();
`;

const CJS_CONSUMER = `
const { LeaseKeeper, MemoryLeaseStore } = require('heartbeat-lab');
const keeper = new LeaseKeeper(new MemoryLeaseStore(), { key: 'k', identity: 'cjs', ttlMs: 3000 });
keeper.start();
keeper.campaign().then(async () => {
  console.log('cjs leading', keeper.token);
  await keeper.stop();
});
`;

const TS_CONSUMER = `
import { LeaseKeeper, MemoryLeaseStore, RedisLeaseStore, redisFence, runAsLeader, type RedisClient, type LeaseStore } from 'heartbeat-lab';
import { parseScenario } from 'heartbeat-lab/sim';

export function redisStore(client: RedisClient): LeaseStore {
  return new RedisLeaseStore(client, { keyPrefix: 'app:' });
}

export async function lead(client: RedisClient): Promise<void> {
  await using store = new MemoryLeaseStore();
  await using keeper = new LeaseKeeper(store, { key: 'k', identity: 'ts', ttlMs: 180_000 }).start();
  await keeper.campaign({ signal: AbortSignal.timeout(60_000) });
  const token = keeper.token;
  if (token !== null) {
    const fenced: number = token;
    await redisFence(client).write('job', fenced, { n: 1 });
  }
  await runAsLeader(keeper, (t: number) => redisFence(client).write('job', t, null));
}

export const scenario = parseScenario('name: x', 'x.yaml').name;
`;

const TSCONFIG = consumerTsconfig(['consumer.ts'], { skipLibCheck: false });

const SMALL_SCENARIO = `name: small
seed: 7
duration: 1h
runs: 2
lease: { ttl: 180s }
heartbeat: { interval: 60s }
session: { idleAfter: 5m..8m, idleEffect: clear-timers }
watchdog: { interval: 30s, grace: 30s, respawnDelay: 5s..30s }
strategies: [baseline, sidecar]
targets:
  sidecar: { respawnsPerHour: { max: 0 }, leaderlessPerHour: { max: 1s } }
`;

let work: string;
let project: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'heartbeat-lab-pack-'));
  project = join(work, 'consumer');
  await mkdir(project);
  // `npm pack` runs `prepare`: a clean build of dist/.
  ok(await run('npm', ['pack', '--pack-destination', work, '--silent'], ROOT));
  const tarball = (await readdir(work)).find((f) => f.endsWith('.tgz'));
  if (tarball === undefined) throw new Error('npm pack wrote no tarball');
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  ok(await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(work, tarball)], project));
  await writeFile(join(project, 'esm.mjs'), ESM_CONSUMER);
  await writeFile(join(project, 'cjs.cjs'), CJS_CONSUMER);
  await writeFile(join(project, 'consumer.ts'), TS_CONSUMER);
  await writeFile(join(project, 'tsconfig.json'), JSON.stringify(TSCONFIG));
  await writeFile(join(project, 'small.yaml'), SMALL_SCENARIO);
}, 600_000);

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe('the packed tarball installed into an empty project', () => {
  it('ships what the README and the bins need, and no source maps into unshipped sources', async () => {
    const pkg = join(project, 'node_modules/heartbeat-lab');
    const files = (await readdir(pkg, { recursive: true })).map(String);
    expect(files).toContain('LICENSE');
    expect(files).toContain('reports/root-cause.md');
    expect(files).toContain(join('docs', 'keeper.md'));
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('src/') || f.startsWith('test/'))).toEqual([]);
    const readme = readFileSync(join(pkg, 'README.md'), 'utf8');
    for (const [, link] of readme.matchAll(/\]\(((?!https?:|#)[^)#]+)/g)) expect(files, `README links to ${link}`).toContain(link);
  });

  it('runs an ESM consumer', async () => {
    expect(ok(await run('node', ['esm.mjs'], project)).stdout).toMatch(/^esm leading 1$/m);
  });

  it('runs a CJS consumer (require of the ESM package)', async () => {
    expect(ok(await run('node', ['cjs.cjs'], project)).stdout).toMatch(/^cjs leading 1$/m);
  });

  it('type-checks a TypeScript consumer without skipLibCheck and without ioredis, pg or etcd3 installed', async () => {
    for (const peer of ['ioredis', 'pg', 'etcd3']) {
      expect((await readdir(join(project, 'node_modules'))).includes(peer), `${peer} must not be installed`).toBe(false);
    }
    expect(await typeCheck(project)).toEqual({ code: 0, output: '' });
  });

  it('runs `npx sim run` and `npx sim gate` on a scenario, and `npx keeper --version`', async () => {
    const simRun = ok(await run('npx', ['sim', 'run', 'small.yaml', '--json'], project));
    const doc = JSON.parse(simRun.stdout) as { ok: boolean; scenarios: Array<{ scenario: string; ok: boolean }> };
    expect(doc.scenarios.map((d) => [d.scenario, d.ok])).toEqual([['small', true]]);
    const gate = ok(await run('npx', ['sim', 'gate', 'small.yaml'], project));
    expect(gate.stdout).toMatch(/gate: 2\/2 targets hold across 1 scenarios/);
    expect(ok(await run('npx', ['keeper', '--version'], project)).stdout.trim()).toBe(VERSION);
    expect(ok(await run('npx', ['sim', '--version'], project)).stdout.trim()).toBe(VERSION);
  });

  it('without the simulator\'s optional dependencies: the library still loads and sim says what to install', async () => {
    for (const dep of SIM_DEPS) await rm(join(project, 'node_modules', dep), { recursive: true, force: true });
    expect(ok(await run('node', ['esm.mjs'], project)).stdout).toMatch(/^esm leading 1$/m);
    expect(ok(await run('node', ['cjs.cjs'], project)).stdout).toMatch(/^cjs leading 1$/m);
    const sim = await run('npx', ['sim', 'run', 'small.yaml'], project);
    expect(sim.code).toBe(2);
    expect(sim.stderr).toMatch(/sim: the simulator needs the npm package "(yaml|@sinonjs\/fake-timers)".*npm install/);
    expect(sim.stderr).not.toMatch(/\n\s+at /);
  });
});
