/**
 * The `keeper` CLI's input and secret contracts: a per-process store is refused for `run`, a
 * relative file: URL is refused, a zero TTL gets its own message, Redis credentials refused by
 * the server are reported as such (not as "not reachable"), lease files are private whatever
 * the umask, the store URL never reaches the reaper's environment, a password on the command
 * line is warned about, and a holder name cannot write escape sequences to the terminal.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/keeper-main.js';
import { FileLeaseStore } from '../../src/store/file-store.js';
import { openLeaseStore } from '../../src/store/open-store.js';
import { runMain } from '../support/run-cli.js';
import { missingServer, startRedis, type TestServer } from '../support/servers.js';

const REPO = resolve(import.meta.dirname, '../..');
const KEEPER = join(REPO, 'bin/keeper.js');
const NO_STACK = /\n\s+at /;
const keeper = (args: readonly string[]) => runMain(main, 'keeper', args);

const made: string[] = [];
afterEach(async () => {
  for (const dir of made.splice(0)) await rm(dir, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'keeper-contracts-'));
  made.push(dir);
  return dir;
}

describe('keeper run input', () => {
  it('refuses memory: (two processes would both lead)', async () => {
    const r = await keeper(['run', '--store', 'memory:', '--id', 'a', '--ttl', '10s', '--', 'true']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^keeper: invalid option --store: memory: is a store inside one process, so two keeper processes would both lead/);
    const status = await keeper(['status', '--store', 'memory:']);
    expect(status.code).toBe(2);
    expect(status.stderr).toMatch(/^keeper: invalid option --store: memory: is a new, empty store inside this process/);
  });

  it('refuses a relative file: URL instead of writing /lease.json', async () => {
    for (const url of ['file:lease.json', 'file:./lease.json', 'file://lease.json']) {
      const r = await keeper(['run', '--store', url, '--id', 'a', '--ttl', '10s', '--', 'true']);
      expect(r.code, url).toBe(2);
      expect(r.stderr).toMatch(/a file: store URL must be absolute, like file:\/\/\/var\/lib\/app\/lease\.json/);
      expect(r.stderr).not.toMatch(NO_STACK);
    }
    await expect(openLeaseStore('file:lease.json')).rejects.toThrow(/must be absolute/);
    await (await openLeaseStore(pathToFileURL(join(await tempDir(), 'ok.json')).href)).close();
  });

  it('says a zero TTL must be longer than zero (not that it needs a unit)', async () => {
    const r = await keeper(['run', '--store', 'file:///tmp/x.json', '--id', 'a', '--ttl', '0s', '--', 'true']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^keeper: invalid option --ttl: must be longer than zero \(got "0s"\)/);
  });
});

describe('secrets', () => {
  it('warns about a password given in --store, not about one in HEARTBEAT_LAB_STORE', async () => {
    const url = 'redis://:hunter2@127.0.0.1:1';
    const inArgv = await keeper(['status', '--store', url, '--timeout', '200ms']);
    expect(inArgv.stderr).toMatch(/^keeper: warning: the --store URL carries a password, .* set HEARTBEAT_LAB_STORE/);
    expect(inArgv.stderr).not.toContain('hunter2');
    process.env.HEARTBEAT_LAB_STORE = url;
    try {
      const fromEnv = await keeper(['status', '--timeout', '200ms']);
      expect(fromEnv.stderr).not.toMatch(/warning/);
      expect(fromEnv.code).toBe(3);
    } finally {
      delete process.env.HEARTBEAT_LAB_STORE;
    }
  });

  it('the reaper gets only its own two variables, never the store URL', async () => {
    const dir = await tempDir();
    const url = pathToFileURL(join(dir, 'lease.json')).href;
    const env = { ...process.env, HEARTBEAT_LAB_STORE: url, SOME_SECRET: 's3cret' };
    const proc = spawn(process.execPath, [KEEPER, 'run', '--id', 'r', '--ttl', '5s', '--', process.execPath, '-e', 'setTimeout(() => {}, 30000)'], { env, stdio: 'ignore' });
    try {
      let reaper: number | undefined;
      for (let i = 0; i < 100 && reaper === undefined; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const ps = spawnSync('ps', ['-o', 'pid=,args=', '--ppid', String(proc.pid)], { encoding: 'utf8' }).stdout;
        reaper = ps.split('\n').map((l) => l.trim().split(/\s+/)).find((parts) => parts.some((p) => p.endsWith('reaper-main.js')))?.map(Number)[0];
      }
      expect(reaper, 'reaper process').toBeDefined();
      const environ = (await readFile(`/proc/${reaper}/environ`, 'utf8')).split('\0').filter(Boolean).map((v) => v.split('=')[0]);
      expect(environ.sort()).toEqual(['HEARTBEAT_LAB_REAPER_GRACE_MS', 'HEARTBEAT_LAB_REAPER_PGID']);
    } finally {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    }
  });
});

describe('the file store', () => {
  it('creates the lease file 0600 even under umask 000', async () => {
    const dir = await tempDir();
    const before = process.umask(0);
    try {
      const store = new FileLeaseStore(join(dir, 'lease.json'));
      expect((await store.acquire({ key: 'k', holder: 'a', ttlMs: 10_000 })).ok).toBe(true);
      await store.close();
    } finally {
      process.umask(before);
    }
    for (const name of await readdir(dir)) {
      expect(((await stat(join(dir, name))).mode & 0o777).toString(8), name).toBe('600');
    }
  });
});

describe('the terminal', () => {
  it('keeper status writes a holder with escape sequences as visible escapes', async () => {
    const file = join(await tempDir(), 'lease.json');
    const store = new FileLeaseStore(file);
    await store.acquire({ key: 'k', holder: 'evil\u001b]0;owned\u0007\u001b[2J', ttlMs: 60_000 });
    await store.close();
    const r = await keeper(['status', '--store', pathToFileURL(file).href, '--key', 'k']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(r.stdout).toContain('evil\\x1b]0;owned\\x07\\x1b[2J');
  });
});

const redisMissing = missingServer('redis');
describe.skipIf(redisMissing !== null)('Redis credentials', () => {
  let redis: TestServer;
  beforeAll(async () => {
    redis = await startRedis({ persistence: 'none' });
    const port = new URL(redis.url).port;
    spawnSync('redis-cli', ['-p', port, 'CONFIG', 'SET', 'requirepass', 'right']);
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('a wrong or missing password is an authentication failure, reported at once, not "not reachable"', async () => {
    const port = new URL(redis.url).port;
    for (const url of [`redis://:wrong@127.0.0.1:${port}`, `redis://127.0.0.1:${port}`]) {
      process.env.HEARTBEAT_LAB_STORE = url;
      try {
        const r = await keeper(['status', '--timeout', '5s']);
        expect(r.code, url).toBe(3);
        expect(r.stderr).toMatch(/redis refused the credentials \(authentication failed: (WRONGPASS|NOAUTH)/);
        expect(r.stderr).not.toMatch(/not reachable/);
        expect(r.stderr).not.toContain('wrong@');
      } finally {
        delete process.env.HEARTBEAT_LAB_STORE;
      }
    }
    const ok = await openLeaseStore(`redis://:right@127.0.0.1:${port}?durability=warn`);
    try {
      expect(await ok.read('k')).toBeNull();
    } finally {
      await ok.close();
    }
  });
});
