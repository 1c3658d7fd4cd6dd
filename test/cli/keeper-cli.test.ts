/**
 * `keeper` CLI with real processes: `node bin/keeper.js run … -- node keeper-child.mjs …` against
 * the file store and a real redis-server, on short timings (ttl 1s, renew 300ms, deadline 600ms,
 * request timeout 100ms). Every wait is bounded; every process started is killed after each test.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/keeper-main.js';
import type { LeaseStore } from '../../src/store/lease-store.js';
import { openLeaseStore } from '../../src/store/open-store.js';
import { missingServer, startRedis, type TestServer } from '../support/servers.js';
import { runMain } from '../support/run-cli.js';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const KEEPER = join(REPO, 'bin/keeper.js');
const CHILD = join(REPO, 'test/fixtures/keeper-child.mjs');
const FAST = ['--ttl', '1s', '--renew-interval', '300ms', '--renew-deadline', '600ms', '--request-timeout', '100ms'];
const TTL_MS = 1000;

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

interface Keeper {
  readonly proc: ChildProcess;
  readonly exited: Promise<Exit>;
  stderr(): string;
  stdout(): string;
}

interface ChildInfo {
  readonly pid: number;
  readonly token: number;
  readonly key: string;
  readonly holder: string;
  readonly progressFile: string | null;
  readonly store: string | null;
}

const keepers: Keeper[] = [];
const childPids = new Set<number>();
let dir: string;

/** Compiles the project into dist/ once (bin/keeper.js imports it); type errors outside the CLI do not block the emit. */
beforeAll(() => {
  const tsc = spawnSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(REPO, 'tsconfig.json')], { encoding: 'utf8' });
  const mine = tsc.stdout.split('\n').filter((line) => /^src\/cli\/keeper/.test(line));
  if (mine.length > 0) throw new Error(`the keeper CLI does not compile:\n${mine.join('\n')}`);
  if (!existsSync(join(REPO, 'dist/src/cli/keeper-main.js'))) throw new Error(`tsc emitted no dist/src/cli/keeper-main.js:\n${tsc.stdout}${tsc.stderr}`);
});

afterEach(async () => {
  for (const k of keepers.splice(0)) {
    if (k.proc.exitCode === null && k.proc.signalCode === null) k.proc.kill('SIGKILL');
    await bounded('keeper exit after SIGKILL', 5_000, k.exited);
  }
  for (const pid of childPids) {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  childPids.clear();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function freshDir(): string {
  dir = mkdtempSync(join(tmpdir(), 'keeper-cli-'));
  return dir;
}

function startKeeper(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Keeper {
  const proc = spawn(process.execPath, [KEEPER, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: REPO, env });
  let stderr = '';
  let stdout = '';
  proc.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  proc.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  const exited = new Promise<Exit>((done) => proc.once('exit', (code, signal) => done({ code, signal })));
  const keeper = { proc, exited, stderr: () => stderr, stdout: () => stdout };
  keepers.push(keeper);
  return keeper;
}

/** `keeper run` of the child fixture; its info goes to `<dir>/<name>.json`. */
function runChild(store: string, key: string, id: string, childArgs: readonly string[] = [], keeperArgs: readonly string[] = []): { keeper: Keeper; info: string } {
  const info = join(dir, `${id}.json`);
  const keeper = startKeeper(['run', '--store', store, '--key', key, '--id', id, ...FAST, ...keeperArgs, '--', process.execPath, CHILD, info, ...childArgs]);
  return { keeper, info };
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => T | undefined | false | Promise<T | undefined | false>): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (performance.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 10));
  }
}

async function bounded<T>(what: string, timeoutMs: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function childStarted(info: string, timeoutMs = 10_000): Promise<ChildInfo> {
  const child = await waitFor(`child info ${info}`, timeoutMs, () => (existsSync(info) ? (JSON.parse(readFileSync(info, 'utf8')) as ChildInfo) : undefined));
  childPids.add(child.pid);
  return child;
}

function signalsOf(info: string): string[] {
  return existsSync(`${info}.signals`) ? readFileSync(`${info}.signals`, 'utf8').trim().split('\n') : [];
}

/** Whether `pid` is gone (no such process, or a zombie nobody reaped yet). */
function gone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return /^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  } catch {
    return true;
  }
}

/** `keeper status --json` as a real process. */
function status(store: string, key: string): { code: number | null; doc: Record<string, unknown> | undefined; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [KEEPER, 'status', '--store', store, '--key', key, '--json'], { encoding: 'utf8', timeout: 15_000 });
  let doc: Record<string, unknown> | undefined;
  try {
    doc = JSON.parse(result.stdout) as Record<string, unknown>;
  } catch {
    doc = undefined;
  }
  return { code: result.status, doc, stdout: result.stdout, stderr: result.stderr };
}

/** Runs `main` in-process and captures its output. */
function inProcess(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runMain(main, 'keeper', args);
}

interface StoreCase {
  readonly name: 'file' | 'redis';
  readonly skip: string | null;
  url(): string;
}

let redis: TestServer | undefined;
const redisMissing = missingServer('redis');

const STORES: StoreCase[] = [
  { name: 'file', skip: null, url: () => pathToFileURL(join(dir, 'lease.json')).href },
  { name: 'redis', skip: redisMissing, url: () => (redis as TestServer).url },
];

beforeAll(async () => {
  if (redisMissing === null) redis = await startRedis();
});

afterAll(async () => {
  await redis?.dispose();
});

const measured: Record<string, number[]> = {};

afterAll(() => {
  for (const [name, values] of Object.entries(measured)) {
    console.log(`keeper takeover after SIGKILL of the leader's command (${name} store): ${values.map((v) => `${v.toFixed(0)} ms`).join(', ')}`);
  }
});

for (const store of STORES) {
  describe.skipIf(store.skip !== null)(`keeper run on the ${store.name} store${store.skip ? ` (${store.skip})` : ''}`, () => {
    let key: string;
    let url: string;

    const setup = (): void => {
      freshDir();
      key = `test/${randomUUID()}`;
      url = store.url();
    };

    it('1. the command gets the fencing token and the key; keeper status shows the holder', async () => {
      setup();
      const { keeper, info } = runChild(url, key, 'alpha', [], ['--progress-file', join(dir, 'unused-progress'), '--max-progress-silence', '30s']);
      const child = await childStarted(info);
      expect(child.token).toBeGreaterThanOrEqual(1);
      expect(child.key).toBe(key);
      expect(child.holder).toMatch(/^alpha\/\d+-[0-9a-f]{6}$/);
      expect(child.progressFile).toBe(join(dir, 'unused-progress'));
      expect(child.store).toBeNull();

      const shown = status(url, key);
      expect(shown.code).toBe(0);
      expect(shown.doc).toMatchObject({ key, state: 'held', holder: child.holder, token: child.token, ttlMs: TTL_MS, store: store.name });
      expect(shown.doc?.expiresInMs).toBeGreaterThan(0);
      const human = spawnSync(process.execPath, [KEEPER, 'status', '--store', url, '--key', key], { encoding: 'utf8', timeout: 15_000 });
      expect(human.status).toBe(0);
      expect(human.stdout).toContain(child.holder);
      expect(human.stdout).toMatch(/time left\s*│\s*\d+ms/);

      // The command keeps running across several renewals (more than a ttl).
      await new Promise((done) => setTimeout(done, 1_500));
      expect(gone(child.pid)).toBe(false);
      expect(status(url, key).doc).toMatchObject({ state: 'held', holder: child.holder, token: child.token });

      // Plain SIGTERM: forwarded; the fixture exits 0 on it, so keeper exits 0 and releases.
      keeper.proc.kill('SIGTERM');
      expect(await bounded('keeper exit', 5_000, keeper.exited)).toEqual({ code: 0, signal: null });
      expect(signalsOf(info)).toEqual(['SIGTERM']);
      expect(status(url, key).doc).toMatchObject({ state: 'free', holder: null, token: child.token });
    });

    it('2a. SIGKILL of the command: keeper exits 137 and the lease is free at once', async () => {
      setup();
      const { keeper, info } = runChild(url, key, 'alpha');
      const child = await childStarted(info);
      process.kill(child.pid, 'SIGKILL');
      expect(await bounded('keeper exit', 5_000, keeper.exited)).toEqual({ code: 137, signal: null });
      const shown = status(url, key);
      expect(shown.doc).toMatchObject({ state: 'free', holder: null, token: child.token });
    });

    it('2b. SIGKILL of the command: a contending keeper takes over well within the ttl', async () => {
      setup();
      const a = runChild(url, key, 'alpha');
      const first = await childStarted(a.info);
      const b = runChild(url, key, 'beta', [], ['--log-level', 'info']);
      // beta has tried once and seen alpha as the holder.
      await waitFor('beta to see alpha as the leader', 10_000, () => b.keeper.stderr().includes('lease holder changed') && b.keeper.stderr().includes('alpha/'));
      const lease: LeaseStore = await openLeaseStore(url);
      try {
        const t0 = performance.now();
        try {
          process.kill(first.pid, 'SIGKILL');
        } catch (error) {
          throw new Error(`alpha's command died before the SIGKILL (${String(error)}); alpha: ${JSON.stringify(a.keeper.proc.exitCode)} ${a.keeper.stderr()}`);
        }
        const holderAt = await waitFor('the lease to pass to beta', 5_000, async () => {
          const now = await lease.read(key);
          return now?.holder?.startsWith('beta/') ? performance.now() - t0 : undefined;
        });
        const second = await childStarted(b.info);
        const childAt = performance.now() - t0;
        (measured[store.name] ??= []).push(holderAt);
        console.log(`${store.name}: lease to beta ${holderAt.toFixed(0)} ms, beta's command running ${childAt.toFixed(0)} ms after SIGKILL`);
        // A release, not an expiry: the lease was renewed <= 300 ms before, so expiry is >= 700 ms away.
        expect(holderAt).toBeLessThan(TTL_MS);
        expect(second.token).toBe(first.token + 1);
        expect(await bounded('alpha exit', 5_000, a.keeper.exited)).toEqual({ code: 137, signal: null });
      } finally {
        await lease.close();
      }
    });

    it('3. a command that stops making progress is stopped (SIGTERM ignored → SIGKILL), the lease released, exit 76', async () => {
      setup();
      const progress = join(dir, 'progress');
      const { keeper, info } = runChild(
        url,
        key,
        'alpha',
        ['--progress-every', '50', '--progress-for', '1000', '--ignore-term'],
        ['--progress-file', progress, '--max-progress-silence', '800ms', '--kill-grace', '200ms'],
      );
      const child = await childStarted(info);
      const t0 = performance.now();
      const exit = await bounded('keeper exit', 10_000, keeper.exited);
      const elapsed = performance.now() - t0;
      expect(exit).toEqual({ code: 76, signal: null });
      expect(keeper.stderr()).toMatch(/made no progress for \d+ms .*declared stuck/);
      expect(keeper.stderr()).toMatch(/did not exit within 200ms of SIGTERM — sending SIGKILL/);
      expect(signalsOf(info)).toEqual(['SIGTERM']);
      expect(gone(child.pid)).toBe(true);
      // progress for 1000 ms, then silence 800 ms (polled every 160 ms), then grace 200 ms
      expect(elapsed).toBeGreaterThan(1_500);
      expect(elapsed).toBeLessThan(5_000);
      expect(status(url, key).doc).toMatchObject({ state: 'free', holder: null, token: child.token });
    });

    it('3b. a command that keeps making progress is left alone', async () => {
      setup();
      const progress = join(dir, 'progress');
      const { keeper, info } = runChild(url, key, 'alpha', ['--progress-every', '50', '--exit-after', '1500'], ['--progress-file', progress, '--max-progress-silence', '800ms']);
      await childStarted(info);
      expect(await bounded('keeper exit', 10_000, keeper.exited)).toEqual({ code: 0, signal: null });
      expect(keeper.stderr()).not.toMatch(/no progress/);
    });

    it("4. SIGTERM to keeper: forwarded once, the command exits, the lease is released, keeper exits with the command's code", async () => {
      setup();
      const { keeper, info } = runChild(url, key, 'alpha', ['--term-exit', '23']);
      const child = await childStarted(info);
      keeper.proc.kill('SIGTERM');
      expect(await bounded('keeper exit', 5_000, keeper.exited)).toEqual({ code: 23, signal: null });
      expect(signalsOf(info)).toEqual(['SIGTERM']);
      expect(gone(child.pid)).toBe(true);
      expect(status(url, key).doc).toMatchObject({ state: 'free', holder: null });
    });

    it('4b. SIGHUP and SIGINT are forwarded too; SIGHUP does not stop anything', async () => {
      setup();
      const { keeper, info } = runChild(url, key, 'alpha', ['--term-exit', '5']);
      await childStarted(info);
      keeper.proc.kill('SIGHUP');
      await waitFor('SIGHUP at the command', 5_000, () => signalsOf(info).includes('SIGHUP'));
      expect(keeper.proc.exitCode).toBeNull();
      keeper.proc.kill('SIGINT');
      expect(await bounded('keeper exit', 5_000, keeper.exited)).toEqual({ code: 5, signal: null });
      expect(signalsOf(info)).toEqual(['SIGHUP', 'SIGINT']);
    });

    it('5. three keepers racing: exactly one command runs at a time, tokens increase', async () => {
      setup();
      const log = join(dir, 'race.log');
      const racers = ['r1', 'r2', 'r3'].map((id) => runChild(url, key, id, ['--log', log, '--exit-after', '300']));
      const exits = await bounded('all racers to finish', 20_000, Promise.all(racers.map((r) => r.keeper.exited)));
      expect(exits).toEqual(racers.map(() => ({ code: 0, signal: null })));
      const lines = readFileSync(log, 'utf8').trim().split('\n');
      expect(lines).toHaveLength(6);
      const tokens: number[] = [];
      for (let i = 0; i < lines.length; i += 2) {
        const [start, startToken, startPid] = (lines[i] as string).split(' ');
        const [end, endToken, endPid] = (lines[i + 1] as string).split(' ');
        // Every start is followed by its own end: no two commands overlap.
        expect([start, end]).toEqual(['start', 'end']);
        expect([endToken, endPid]).toEqual([startToken, startPid]);
        tokens.push(Number(startToken));
      }
      expect(tokens).toEqual([...tokens].sort((x, y) => x - y));
      expect(new Set(tokens).size).toBe(3);
    });

    it('6. keeper frozen (SIGSTOP) past the ttl: the reaper stops the command before the lease can expire; keeper exits 75 after SIGCONT', async () => {
      setup();
      // The command ignores SIGTERM: only the SIGKILL after the kill grace ends it.
      const { keeper, info } = runChild(url, key, 'alpha', ['--ignore-term']);
      const child = await childStarted(info);
      const lease = await openLeaseStore(url);
      try {
        keeper.proc.kill('SIGSTOP');
        const frozenAt = performance.now();
        await waitFor('the reaper to stop the command of the frozen keeper', 3_000, () => gone(child.pid));
        const goneAfterMs = performance.now() - frozenAt;
        // The store still counts the lease as the frozen keeper's: the command died first.
        const seen = await lease.read(key);
        console.log(`[keeper run, ${store.name}] keeper SIGSTOPped: command gone after ${goneAfterMs.toFixed(0)} ms; lease then ${JSON.stringify(seen)}`);
        expect(seen).toMatchObject({ holder: child.holder, token: child.token });
        expect(seen?.expiresInMs).toBeGreaterThan(0);
        expect(signalsOf(info)).toEqual(['SIGTERM']);
        await new Promise((done) => setTimeout(done, TTL_MS));
        expect(keeper.proc.exitCode).toBeNull(); // still frozen
      } finally {
        keeper.proc.kill('SIGCONT');
        await lease.close();
      }
      expect(await bounded('keeper exit', 5_000, keeper.exited)).toEqual({ code: 75, signal: null });
      expect(keeper.stderr()).toMatch(/keeper-reaper: keeper stopped checking in/);
    });
  });
}

describe('keeper run on the file store: failures around the command', () => {
  it('keeper SIGKILLed: the reaper stops the command; the lease expires by itself', async () => {
    freshDir();
    const url = pathToFileURL(join(dir, 'lease.json')).href;
    const { keeper, info } = runChild(url, 'k', 'alpha');
    const child = await childStarted(info);
    keeper.proc.kill('SIGKILL');
    await bounded('keeper exit', 5_000, keeper.exited);
    await waitFor('the command to be stopped by the reaper', 5_000, () => gone(child.pid));
    expect(signalsOf(info)).toEqual(['SIGTERM']);
    await waitFor('the lease to expire', 3_000, () => status(url, 'k').doc?.state === 'expired');
  });

  it('lease lost with the store stuck: the command is stopped first, the lease released only once it is dead', async () => {
    freshDir();
    const leasePath = join(dir, 'lease.json');
    const url = pathToFileURL(leasePath).href;
    const { keeper, info } = runChild(url, 'k', 'alpha', ['--ignore-term'], ['--kill-grace', '200ms']);
    const child = await childStarted(info);
    // A live process (this one) holds the store's lock: renewals time out, keeper steps down at its deadline.
    writeFileSync(`${leasePath}.lock`, JSON.stringify({ pid: process.pid, host: hostname(), nonce: 'test', startedAtWallMs: Date.now() }));
    await waitFor('the step-down', 5_000, () => /lost the lease "k" \(renew-deadline/.test(keeper.stderr()));
    rmSync(`${leasePath}.lock`); // the store works again while the command is within its kill grace
    const lease = await openLeaseStore(url);
    try {
      const freedWhileDead = await waitFor('the release', 5_000, async () => {
        const now = await lease.read('k');
        return now?.holder === null ? { dead: gone(child.pid) } : undefined;
      });
      expect(freedWhileDead).toEqual({ dead: true });
    } finally {
      await lease.close();
    }
    expect(await bounded('keeper exit', 5_000, keeper.exited)).toEqual({ code: 75, signal: null });
    expect(keeper.stderr()).toMatch(/sending SIGKILL/);
  });

  it('--store from HEARTBEAT_LAB_STORE; the command does not see it', async () => {
    freshDir();
    const url = pathToFileURL(join(dir, 'lease.json')).href;
    const info = join(dir, 'env.json');
    const keeper = startKeeper(['run', '--id', 'a', ...FAST, '--', process.execPath, CHILD, info, '--exit-after', '100'], { ...process.env, HEARTBEAT_LAB_STORE: url });
    const child = await childStarted(info);
    expect(child).toMatchObject({ token: 1, store: null, key: 'orchestrator/leader' });
    expect(await bounded('keeper exit', 5_000, keeper.exited)).toEqual({ code: 0, signal: null });
  });

  it('a command that cannot be found: exit 127, one line, lease released', async () => {
    freshDir();
    const url = pathToFileURL(join(dir, 'lease.json')).href;
    const keeper = startKeeper(['run', '--store', url, '--key', 'k', '--id', 'a', ...FAST, '--', join(dir, 'no-such-program')]);
    expect(await bounded('keeper exit', 5_000, keeper.exited)).toEqual({ code: 127, signal: null });
    expect(keeper.stderr()).toMatch(/^keeper: cannot run ".*no-such-program": not found \(ENOENT\); releasing the lease\n$/);
    expect(status(url, 'k').doc).toMatchObject({ state: 'free', token: 1 });
  });

  it('SIGTERM while still contending: exit 143, the contender never runs its command', async () => {
    freshDir();
    const url = pathToFileURL(join(dir, 'lease.json')).href;
    const a = runChild(url, 'k', 'alpha');
    await childStarted(a.info);
    const b = runChild(url, 'k', 'beta', [], ['--log-level', 'info']);
    await waitFor('beta to contend', 10_000, () => b.keeper.stderr().includes('lease holder changed'));
    b.keeper.proc.kill('SIGTERM');
    expect(await bounded('beta exit', 5_000, b.keeper.exited)).toEqual({ code: 143, signal: null });
    expect(existsSync(b.info)).toBe(false);
  });
});

describe('keeper CLI input and status errors (in-process)', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['unknown store scheme', ['run', '--store', 'bogus://x', '--id', 'a', '--ttl', '1s', '--', 'true'], /invalid option --store: the URL scheme must be one of/],
    ['bad duration', ['run', '--store', 'memory:', '--id', 'a', '--ttl', '180', '--', 'true'], /invalid option --ttl: must be a duration with a unit/],
    ['missing --', ['run', '--store', 'memory:', '--id', 'a', '--ttl', '1s'], /no command \(missing --\)/],
    ['nothing after --', ['run', '--store', 'memory:', '--id', 'a', '--ttl', '1s', '--'], /no command after --/],
    ['command without --', ['run', '--store', 'memory:', '--id', 'a', '--ttl', '1s', 'node', 'app.js'], /too many arguments for 'run'.*\(see keeper run --help\)/],
    ['ttl rule broken', ['run', '--store', 'memory:', '--id', 'a', '--ttl', '1s', '--renew-deadline', '950ms', '--', 'true'], /invalid option --renew-deadline \(renewDeadlineMs\): must be at most/],
    ['renew interval >= deadline', ['run', '--store', 'memory:', '--id', 'a', '--ttl', '1s', '--renew-interval', '900ms', '--', 'true'], /invalid option --renew-interval/],
    ['kill grace beyond the margin', ['run', '--store', 'memory:', '--id', 'a', ...FAST, '--kill-grace', '5s', '--', 'true'], /invalid option --kill-grace: must be at most .* = 240ms/],
    ['progress file alone', ['run', '--store', 'memory:', '--id', 'a', '--ttl', '1s', '--progress-file', 'p', '--', 'true'], /needs its partner/],
    ['missing --store', ['run', '--id', 'a', '--ttl', '1s', '--', 'true'], /required option '--store <url>' not specified/],
    ['bad --id', ['run', '--store', 'memory:', '--id', 'a b', '--ttl', '1s', '--', 'true'], /invalid option --id/],
    ['unknown option', ['status', '--store', 'memory:', '--bogus'], /unknown option '--bogus'.*\(see keeper status --help\)/],
    ['status with a command', ['status', '--store', 'memory:', '--', 'true'], /status takes no -- COMMAND/],
    ['status bad timeout', ['status', '--store', 'memory:', '--timeout', 'soon'], /invalid option --timeout/],
  ];

  it.each(cases)('%s: one line on stderr, exit 2, no stack', async (_name, args, message) => {
    const { code, stdout, stderr } = await inProcess(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/^keeper: /);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('status and run on an unreachable store: exit 3 with a clear line', async () => {
    const closed = 'redis://127.0.0.1:1';
    const shown = await inProcess(['status', '--store', closed]);
    expect(shown.code).toBe(3);
    expect(shown.stderr).toMatch(/^keeper: cannot read lease "orchestrator\/leader" from redis:\/\/127\.0\.0\.1:1: redis not reachable/);
    const run = await inProcess(['run', '--store', closed, '--id', 'a', ...FAST, '--', 'true']);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^keeper: cannot use the lease store redis:\/\/127\.0\.0\.1:1: /);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('status of a never-held key, --json and table; the password in a URL is never printed', async () => {
    const d = freshDir();
    const url = pathToFileURL(join(d, 'lease.json')).href;
    const json = await inProcess(['status', '--store', url, '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ key: 'orchestrator/leader', store: 'file', state: 'never-held', holder: null, token: 0, ttlMs: null, expiresInMs: null });
    const table = await inProcess(['status', '--store', url, '--key', 'other']);
    expect(table.stdout).toMatch(/state\s*│ never-held/);
    const secret = await inProcess(['status', '--store', 'redis://user:hunter2@127.0.0.1:1']);
    expect(secret.code).toBe(3);
    expect(secret.stderr).not.toContain('hunter2');
  });

  it('--help lists the exit codes (and is served without loading the store code)', async () => {
    const help = await inProcess(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Exit codes:/);
    const runHelp = await inProcess(['run', '--help']);
    expect(runHelp.stdout).toMatch(/75 +the lease was lost/);
    expect(runHelp.stdout).toMatch(/76 +the command made no progress/);
    expect(runHelp.stdout).toMatch(/HEARTBEAT_LAB_TOKEN/);
    const spawned = spawnSync(process.execPath, [KEEPER, 'status', '--help'], { encoding: 'utf8', timeout: 15_000 });
    expect(spawned.status).toBe(0);
    expect(spawned.stdout).toMatch(/3 +the lease store could not be reached/);
  });
});
