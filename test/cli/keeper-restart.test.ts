/**
 * `keeper run --restart` with real processes on the file store, short timings (ttl 1s, renew
 * 300ms, deadline 600ms, request timeout 100ms, restart delay 50ms). The lease file is read
 * directly every 10 ms to check that it never lapses while keeper restarts its command. Every
 * wait is bounded; every process started is killed after each test.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../support/wait.js';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const KEEPER = join(REPO, 'bin/keeper.js');
const CHILD = join(REPO, 'test/fixtures/restart-child.mjs');
const FAST = ['--ttl', '1s', '--renew-interval', '300ms', '--renew-deadline', '600ms', '--request-timeout', '100ms', '--restart-delay', '50ms', '--restart-delay-max', '200ms'];
const KEY = 'orchestrator/leader';

interface Run {
  readonly proc: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

const runs: Run[] = [];
const pids = new Set<number>();
let dir: string;

/** bin/keeper.js runs dist/: compile it (errors outside the keeper CLI and the supervisor do not block the emit). */
beforeAll(() => {
  const tsc = spawnSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(REPO, 'tsconfig.json')], { encoding: 'utf8' });
  const mine = tsc.stdout.split('\n').filter((line) => /^src\/(cli|supervisor)\//.test(line));
  if (mine.length > 0) throw new Error(`keeper run does not compile:\n${mine.join('\n')}`);
});

afterEach(async () => {
  for (const r of runs.splice(0)) {
    if (r.proc.exitCode === null && r.proc.signalCode === null) r.proc.kill('SIGKILL');
    await r.exited;
  }
  for (const pid of pids) for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // gone
    }
  }
  pids.clear();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function keeperRun(keeperArgs: readonly string[], childArgs: readonly string[]): { run: Run; log: string; leaseFile: string } {
  dir = mkdtempSync(join(tmpdir(), 'keeper-restart-'));
  const log = join(dir, 'child.log');
  const leaseFile = join(dir, 'lease.json');
  const args = ['run', '--store', pathToFileURL(leaseFile).href, '--id', 'sup', ...FAST, ...keeperArgs, '--', process.execPath, CHILD, log, ...childArgs];
  const proc = spawn(process.execPath, [KEEPER, ...args], { stdio: ['ignore', 'ignore', 'pipe'], cwd: REPO });
  let stderr = '';
  proc.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => proc.once('exit', (code, signal) => done({ code, signal })));
  const run = { proc, exited, stderr: () => stderr };
  runs.push(run);
  return { run, log, leaseFile };
}

interface Start {
  readonly token: number;
  readonly pid: number;
  readonly restarts: number;
  readonly atMs: number;
}

function starts(log: string): Start[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('start '))
    .map((l) => {
      const [, token, pid, restarts, at] = l.split(' ');
      pids.add(Number(pid));
      return { token: Number(token), pid: Number(pid), restarts: Number(restarts), atMs: Number(at) };
    });
}

function stragglers(log: string): number[] {
  if (!existsSync(log)) return [];
  const found = readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith('straggler ')).map((l) => Number(l.split(' ')[1]));
  for (const pid of found) pids.add(pid);
  return found;
}

/** The lease as the file store holds it, or undefined while there is no file. */
function lease(file: string): { holder: string | null; token: number; expiresAtWallMs: number } | undefined {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { leases: Record<string, { holder: string | null; token: number; expiresAtWallMs: number }> }).leases[KEY];
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  } catch {
    return false;
  }
}

/** Samples the lease every 10 ms until `done()`; returns what was seen. */
async function watchLease(file: string, done: () => boolean, timeoutMs: number): Promise<{ holders: Set<string | null>; tokens: Set<number>; minLeftMs: number }> {
  const holders = new Set<string | null>();
  const tokens = new Set<number>();
  let minLeftMs = Infinity;
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms watching the lease`);
    const l = lease(file);
    if (l !== undefined) {
      holders.add(l.holder);
      tokens.add(l.token);
      minLeftMs = Math.min(minLeftMs, l.expiresAtWallMs - Date.now());
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return { holders, tokens, minLeftMs };
}

describe('keeper run --restart (file store, real processes)', () => {
  it('on-exit: a command that exits cleanly is restarted with the same token, and the lease never lapses', async () => {
    const { run, log, leaseFile } = keeperRun(['--restart', 'on-exit'], ['--exit-after', '250']);
    await waitUntil('the first start', 10_000, () => starts(log).length >= 1);
    const seen = await watchLease(leaseFile, () => starts(log).length >= 6, 15_000);
    const all = starts(log);
    expect(new Set(all.map((s) => s.token))).toEqual(new Set([1]));
    expect(all.slice(0, 6).map((s) => s.restarts)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(new Set(all.map((s) => s.pid)).size).toBe(all.length);
    expect(seen.tokens).toEqual(new Set([1]));
    expect(seen.holders.size).toBe(1);
    expect([...seen.holders][0]).toMatch(/^sup\//);
    // Renewed every 300 ms on a 1 s ttl: never close to lapsing while the command was restarted.
    expect(seen.minLeftMs).toBeGreaterThan(200);
    expect(run.stderr()).toMatch(/restarting it in \d+ms with the same lease \(--restart on-exit; restart 1 of at most 30 per 1h\)/);
    run.proc.kill('SIGTERM');
    const exit = await run.exited;
    expect(exit.code).toBe(143); // the child's answer to the forwarded SIGTERM; never restarted after it
    expect(lease(leaseFile)?.holder).toBeNull();
  });

  it('max-restarts reached: the lease is released and keeper exits 77', async () => {
    const { run, log, leaseFile } = keeperRun(['--restart', 'always', '--max-restarts', '2/1m'], ['--exit-after', '150', '--exit-code', '3']);
    const exit = await run.exited;
    expect(exit.code).toBe(77);
    expect(starts(log).map((s) => s.restarts)).toEqual([0, 1, 2]);
    expect(run.stderr()).toMatch(/--max-restarts 2\/1m reached: not restarting it; released the lease; exit 77/);
    expect(lease(leaseFile)?.holder).toBeNull();
  });

  it('on-exit does not restart a crash: keeper exits with its code and releases', async () => {
    const { run, log, leaseFile } = keeperRun(['--restart', 'on-exit'], ['--exit-after', '150', '--exit-code', '3']);
    const exit = await run.exited;
    expect(exit.code).toBe(3);
    expect(starts(log)).toHaveLength(1);
    expect(lease(leaseFile)?.holder).toBeNull();
  });

  it('the next run starts, and the lease is released, only once the whole process group of the last is gone', async () => {
    // Each run leaves a straggler in its group that ignores SIGTERM: keeper must SIGKILL it after the
    // kill grace (1 s; ttl 3 s leaves room for it) before restarting; with --max-restarts 1 the
    // second exit ends keeper.
    const { run, log, leaseFile } = keeperRun(['--ttl', '3s', '--restart', 'on-exit', '--max-restarts', '1/1m', '--kill-grace', '1s'], ['--exit-after', '300', '--straggler']);
    await waitUntil('the second start', 15_000, () => starts(log).length >= 2);
    const [first] = stragglers(log);
    expect(alive(first as number)).toBe(false);
    const [s0, s1] = starts(log);
    expect(s1?.atMs).toBeGreaterThanOrEqual((s0?.atMs ?? 0) + 300 + 1_000); // ran 300 ms, then the straggler's kill grace
    // The second run's command exits; its straggler lives on for the kill grace, and so does the lease.
    await waitUntil('the second end', 10_000, () => readFileSync(log, 'utf8').includes(`end ${s1?.pid}`));
    const second = stragglers(log)[1] as number;
    expect(alive(second)).toBe(true);
    expect(lease(leaseFile)?.holder).toMatch(/^sup\//);
    const exit = await run.exited;
    expect(exit.code).toBe(77);
    expect(alive(second)).toBe(false);
    expect(lease(leaseFile)?.holder).toBeNull();
  });

  it('restart flags need --restart, and --max-restarts needs COUNT/DURATION (exit 2, one line)', async () => {
    const noRestart = keeperRun(['--max-restarts', '3/1h'], []);
    expect((await noRestart.run.exited).code).toBe(2);
    expect(noRestart.run.stderr()).toMatch(/^keeper: invalid option --max-restarts: needs --restart on-exit or --restart always \(got "3\/1h"\)\n$/);
    const bad = keeperRun(['--restart', 'always', '--max-restarts', 'lots'], []);
    expect((await bad.run.exited).code).toBe(2);
    expect(bad.run.stderr()).toMatch(/--max-restarts: must be COUNT\/DURATION/);
  });
});
