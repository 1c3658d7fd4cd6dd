import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { threadId, Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SystemClock, type Clock, type TimerHandle } from '../../src/clock.js';
import { StoreCorruptError, StoreUnavailableError } from '../../src/errors.js';
import { asyncFileIo, syncFileIo, type FileIo } from '../../src/store/file-io.js';
import { FileLeaseStore } from '../../src/store/file-store.js';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Time only moves when told to; a timer fires on a later turn and moves time up to its due time. */
class FakeClock implements Clock {
  t = 1_700_000_000_000;
  /** Every timer's delay, in the order they were set. */
  readonly delays: number[] = [];
  now(): number {
    return this.t;
  }
  wallNow(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const handle = { cancelled: false };
    this.delays.push(delayMs);
    const due = this.t + Math.max(0, delayMs);
    setImmediate(() => {
      if (handle.cancelled) return;
      this.t = Math.max(this.t, due);
      callback();
    });
    return handle;
  }
  clearTimeout(handle: TimerHandle): void {
    (handle as { cancelled: boolean }).cancelled = true;
  }
}

let dir: string;
let file: string;
let clock: FakeClock;
let store: FileLeaseStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'file-store-'));
  file = join(dir, 'leases.json');
  clock = new FakeClock();
  store = new FileLeaseStore(file, { clock });
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The lock's owner record as it is on disk right now (a symlink's target, or a file's bytes); `null` when absent. */
function lockRecordNow(lock: string): string | null {
  try {
    return readlinkSync(lock, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EINVAL') return null;
  }
  try {
    return readFileSync(lock, 'utf8');
  } catch {
    return null;
  }
}

/** The real file calls, each one's name recorded as it is made. */
function countingIo(real: FileIo): { io: FileIo; calls: string[] } {
  const calls: string[] = [];
  const io = Object.fromEntries(
    Object.entries(real).map(([name, call]) => [
      name,
      (...args: unknown[]) => {
        calls.push(name);
        return (call as (...a: unknown[]) => Promise<unknown>)(...args);
      },
    ]),
  ) as unknown as FileIo;
  return { io, calls };
}

/** Everything in the directory except the lease file: must be empty after any operation. */
async function litter(): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name !== 'leases.json');
}

describe('FileLeaseStore contract', () => {
  it('acquires a free key, refuses others while held, and re-acquire by the holder keeps the token', async () => {
    const a = await store.acquire({ key: 'k', holder: 'a', ttlMs: 1000 });
    expect(a).toEqual({ ok: true, lease: { key: 'k', holder: 'a', token: 1, version: 1, ttlMs: 1000 } });

    clock.advance(400);
    const b = await store.acquire({ key: 'k', holder: 'b', ttlMs: 1000 });
    expect(b).toEqual({ ok: false, reason: 'held', current: { key: 'k', holder: 'a', token: 1, version: 1, ttlMs: 1000, expiresInMs: 600 } });

    const again = await store.acquire({ key: 'k', holder: 'a', ttlMs: 2000 });
    expect(again).toEqual({ ok: true, lease: { key: 'k', holder: 'a', token: 1, version: 2, ttlMs: 2000 } });
    expect((await store.read('k'))?.expiresInMs).toBe(2000);
    expect(await litter()).toEqual([]);
  });

  it('renews only for holder + token, and not after expiry', async () => {
    await store.acquire({ key: 'k', holder: 'a', ttlMs: 1000 });
    expect(await store.renew({ key: 'k', holder: 'b', token: 1, version: 1, ttlMs: 1000 })).toMatchObject({ ok: false, reason: 'not-holder', current: { holder: 'a' } });
    expect(await store.renew({ key: 'k', holder: 'a', token: 2, version: 1, ttlMs: 1000 })).toMatchObject({ ok: false, reason: 'not-holder' });
    expect(await store.renew({ key: 'k', holder: 'a', token: 1, version: 2, ttlMs: 1000 })).toMatchObject({ ok: false, reason: 'not-holder' });
    clock.advance(900);
    expect(await store.renew({ key: 'k', holder: 'a', token: 1, version: 1, ttlMs: 500 })).toEqual({
      ok: true,
      lease: { key: 'k', holder: 'a', token: 1, version: 1, ttlMs: 500 },
    });
    clock.advance(500);
    expect(await store.renew({ key: 'k', holder: 'a', token: 1, version: 1, ttlMs: 500 })).toEqual({
      ok: false,
      reason: 'expired',
      current: { key: 'k', holder: 'a', token: 1, version: 1, ttlMs: 500, expiresInMs: 0 },
    });
    clock.advance(250);
    expect((await store.read('k'))?.expiresInMs).toBe(-250); // the file remembers the expired holder
  });

  it('issues token + 1 on takeover after expiry and on acquire after release; release keeps the token', async () => {
    await store.acquire({ key: 'k', holder: 'a', ttlMs: 1000 });
    clock.advance(1000);
    expect(await store.acquire({ key: 'k', holder: 'b', ttlMs: 1000 })).toMatchObject({ ok: true, lease: { holder: 'b', token: 2 } });
    expect(await store.release({ key: 'k', holder: 'a', token: 1, version: 1 })).toBe(false);
    expect(await store.release({ key: 'k', holder: 'b', token: 2, version: 2 })).toBe(true);
    expect(await store.read('k')).toEqual({ key: 'k', holder: null, token: 2, version: 2, ttlMs: 1000, expiresInMs: 0 });
    expect(await store.release({ key: 'k', holder: 'b', token: 2, version: 2 })).toBe(false);
    expect(await store.acquire({ key: 'k', holder: 'b', ttlMs: 1000 })).toMatchObject({ ok: true, lease: { token: 3 } });
  });

  it('keeps keys apart and tokens across a new instance on the same path', async () => {
    await store.acquire({ key: 'x', holder: 'a', ttlMs: 1000 });
    await store.acquire({ key: 'y', holder: 'a', ttlMs: 1000 });
    await store.release({ key: 'x', holder: 'a', token: 1, version: 1 });
    await store.close();
    await expect(store.read('x')).rejects.toThrow(/closed/);

    const reopened = new FileLeaseStore(file, { clock });
    expect(await reopened.acquire({ key: 'x', holder: 'b', ttlMs: 1000 })).toMatchObject({ ok: true, lease: { token: 2 } });
    expect(await reopened.acquire({ key: 'y', holder: 'b', ttlMs: 1000 })).toMatchObject({ ok: false, current: { holder: 'a', token: 1 } });
    const onDisk = JSON.parse(await readFile(file, 'utf8'));
    expect(onDisk).toEqual({
      version: 1,
      leases: {
        x: { holder: 'b', token: 2, version: 2, ttlMs: 1000, expiresAtWallMs: clock.t + 1000 },
        y: { holder: 'a', token: 1, version: 1, ttlMs: 1000, expiresAtWallMs: clock.t + 1000 },
      },
    });
  });

  it('lets exactly one of many concurrent acquires in one process win', async () => {
    // Real lock waits here: a fake clock would run out the lock timeout faster than the file I/O.
    const [one, two] = [new FileLeaseStore(file, { clock: new SystemClock() }), new FileLeaseStore(file, { clock: new SystemClock() })];
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => (i % 2 ? one : two).acquire({ key: 'k', holder: `h${i}`, ttlMs: 60_000 })),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect((await one.read('k'))?.token).toBe(1);
    expect(await litter()).toEqual([]);
  });

  it('never creates the lease file from renew, release or read', async () => {
    expect(await store.read('k')).toBeNull();
    expect(await store.renew({ key: 'k', holder: 'a', token: 1, version: 1, ttlMs: 1000 })).toEqual({ ok: false, reason: 'not-holder', current: null });
    expect(await store.release({ key: 'k', holder: 'a', token: 1, version: 1 })).toBe(false);
    expect(await readdir(dir)).toEqual([]);
  });

  it('reports a missing directory as StoreUnavailableError naming it, and creates nothing', async () => {
    const missing = join(dir, 'nope');
    const lost = new FileLeaseStore(join(missing, 'leases.json'), { clock });
    await expect(lost.acquire({ key: 'k', holder: 'a', ttlMs: 1000 })).rejects.toThrow(StoreUnavailableError);
    await expect(lost.acquire({ key: 'k', holder: 'a', ttlMs: 1000 })).rejects.toThrow(missing);
    await expect(lost.read('k')).rejects.toThrow(missing);
    expect(await readdir(dir)).toEqual([]);
  });

  it('rejects requests JSON could not round-trip', async () => {
    await expect(store.acquire({ key: 'k', holder: 'a', ttlMs: Number.NaN })).rejects.toMatchObject({ code: 'E_INPUT' });
    await expect(store.acquire({ key: '', holder: 'a', ttlMs: 1 })).rejects.toMatchObject({ code: 'E_INPUT' });
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('FileLeaseStore corrupt files', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['empty', '', /empty/],
    ['truncated', '{', /not valid JSON/],
    ['wrong version', JSON.stringify({ version: 2, leases: {} }), /unsupported version 2/],
    ['holder not a string', JSON.stringify({ version: 1, leases: { k: { holder: 7, token: 1, ttlMs: 1, expiresAtWallMs: 1 } } }), /holder must be a string/],
    ['leases missing', JSON.stringify({ version: 1 }), /"leases" must be an object/],
  ];

  it.each(cases)('%s: every operation fails with StoreCorruptError and the bytes stay', async (_name, bytes, detail) => {
    await writeFile(file, bytes);
    const operations = [
      () => store.acquire({ key: 'k', holder: 'a', ttlMs: 1000 }),
      () => store.renew({ key: 'k', holder: 'a', token: 1, version: 1, ttlMs: 1000 }),
      () => store.release({ key: 'k', holder: 'a', token: 1, version: 1 }),
      () => store.read('k'),
      () => store.acquire({ key: 'k', holder: 'a', ttlMs: 1000 }),
    ];
    for (const operation of operations) {
      const error = await operation().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StoreCorruptError);
      expect((error as Error).message).toContain(file);
      expect((error as Error).message).toMatch(detail);
    }
    expect(await readFile(file, 'utf8')).toBe(bytes);
    expect(await litter()).toEqual([]);
  });
});

describe('FileLeaseStore cross-process lock', () => {
  let sleeper: ChildProcess;
  const lockFile = (): string => `${file}.lock`;
  // thread: this test's thread, so that a record with our pid reads as left by an earlier process (not by a sibling thread)
  const lockRecord = (pid: number, nonce = 'n'): string => JSON.stringify({ pid, thread: threadId, host: hostname(), nonce, startedAtWallMs: 0 });

  beforeAll(async () => {
    sleeper = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' });
    await new Promise((done) => sleeper.once('spawn', done));
  });
  afterAll(() => {
    sleeper.kill();
  });

  async function deadPid(): Promise<number> {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await new Promise((done) => child.once('exit', done));
    return child.pid!;
  }

  it('breaks a lock whose owner pid is dead', async () => {
    await writeFile(lockFile(), lockRecord(await deadPid()));
    expect(await store.acquire({ key: 'k', holder: 'a', ttlMs: 1000 })).toMatchObject({ ok: true });
    expect(store.lockStats).toEqual({ acquired: 1, retries: 0, staleBroken: 1 });
    expect(await litter()).toEqual([]);
  });

  it('sweeps what killed processes left: break markers of gone locks, dead-pid temps and moved-away locks', async () => {
    const dead = await deadPid();
    const live = sleeper.pid!;
    const orphans = [
      `${lockFile()}.break-0123456789abcdef-0`, // marker of a breaker whose lock is gone
      `${lockFile()}.${dead}.00ff00ff00ff00ff.tmp`, // lock record of a creator killed before its link
      `${lockFile()}.${dead}.3.stale`, // lock moved away by a breaker killed before it deleted it
      `${file}.${dead}.7.tmp`, // lease file of a writer killed before its rename
    ];
    const kept = [`${lockFile()}.${live}.00aa00aa00aa00aa.tmp`, `${file}.${live}.8.tmp`]; // a live process's, mid-write
    for (const f of [...orphans, ...kept]) await writeFile(f, 'x');
    expect(await store.acquire({ key: 'k', holder: 'a', ttlMs: 1000 })).toMatchObject({ ok: true });
    expect((await litter()).sort()).toEqual(kept.map((f) => f.slice(dir.length + 1)).sort());
  });

  it('breaks a lock left by an earlier process with our own pid', async () => {
    await writeFile(lockFile(), lockRecord(process.pid, 'not-ours'));
    expect(await store.acquire({ key: 'k', holder: 'a', ttlMs: 1000 })).toMatchObject({ ok: true });
    expect(store.lockStats.staleBroken).toBe(1);
  });

  it('breaks a live-owned or unreadable lock only once it is older than staleLockMs', async () => {
    await writeFile(lockFile(), 'garbage');
    const old = (clock.wallNow() - 11_000) / 1000;
    await utimes(lockFile(), old, old);
    expect(await store.acquire({ key: 'k', holder: 'a', ttlMs: 1000 })).toMatchObject({ ok: true });

    await writeFile(lockFile(), lockRecord(sleeper.pid!));
    await utimes(lockFile(), old, old);
    expect(await store.renew({ key: 'k', holder: 'a', token: 1, version: 1, ttlMs: 1000 })).toMatchObject({ ok: true });
    expect(store.lockStats.staleBroken).toBe(2);
    expect(await litter()).toEqual([]);
  });

  it('skips a break marker left by a dead breaker', async () => {
    const dead = await deadPid();
    const stale = lockRecord(dead);
    await writeFile(lockFile(), stale);
    const { createHash } = await import('node:crypto');
    const id = createHash('sha256').update(stale).digest('hex').slice(0, 16);
    await writeFile(`${lockFile()}.break-${id}-0`, lockRecord(dead, 'breaker'));
    expect(await store.acquire({ key: 'k', holder: 'a', ttlMs: 1000 })).toMatchObject({ ok: true });
    expect(await litter()).toEqual([]);
  });

  it('waits on a held lock with timers only: doubling to 32 ms, jittered by the injected random, 3 calls per try', async () => {
    const held = lockRecord(sleeper.pid!);
    await symlink(held, lockFile()); // a lock as this version writes it: the record is the symlink's target
    const { io, calls } = countingIo(asyncFileIo);
    const draws: number[] = [];
    const random = (): number => {
      draws.push(0.5);
      return 0.5; // jitter factor 0.5 + 0.5 = 1: the bare schedule
    };
    const impatient = new FileLeaseStore(file, { clock, io, random, lockTimeoutMs: 150 });
    await expect(impatient.renew({ key: 'k', holder: 'a', token: 1, version: 1, ttlMs: 1000 })).rejects.toThrow(StoreUnavailableError);
    expect(clock.delays).toEqual([1, 2, 4, 8, 16, 32, 32, 32, 23]); // 150 ms in all, then one last try
    expect(draws).toHaveLength(clock.delays.length);
    expect(calls).toEqual(Array.from({ length: clock.delays.length + 1 }, () => ['symlink', 'readlink', 'mtimeMs']).flat());
    expect(lockRecordNow(lockFile())).toBe(held);
  });

  it('times out on a lock held by a live process and leaves it alone', async () => {
    const held = lockRecord(sleeper.pid!);
    await writeFile(lockFile(), held);
    const impatient = new FileLeaseStore(file, { clock, lockTimeoutMs: 150.4 });
    const started = clock.now();
    const error = await impatient.acquire({ key: 'k', holder: 'a', ttlMs: 1000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toContain(`pid ${sleeper.pid}`);
    expect((error as Error).message).toContain('within 150ms:');
    expect(clock.now() - started).toBeGreaterThanOrEqual(150);
    expect(impatient.lockStats.retries).toBeGreaterThan(0);
    expect(await readFile(lockFile(), 'utf8')).toBe(held);
    expect(existsSync(file)).toBe(false);
  });
});

describe('FileLeaseStore file calls and group commit', () => {
  // lock (symlink) · read · temp write + fsync · lock still ours (readlink) · rename · unlock (readlink, unlink)
  const renewCalls = ['symlink', 'readText', 'writeDurably', 'readlink', 'rename', 'readlink', 'unlink'];
  // the same with a directory fsync after the rename: a holder, token or version changed
  const grantCalls = ['symlink', 'readText', 'writeDurably', 'readlink', 'rename', 'syncDirectory', 'readlink', 'unlink'];

  it.each([
    ['asyncFileIo', asyncFileIo],
    ['syncFileIo', syncFileIo],
  ])('with %s a renewal is one lock, one read, one write + fsync, one rename (a grant: and one directory fsync)', async (_name, real) => {
    const { io, calls } = countingIo(real);
    const counted = new FileLeaseStore(file, { clock, io });
    const { lease } = (await counted.acquire({ key: 'k', holder: 'a', ttlMs: 1000 })) as { lease: { token: number; version: number } };
    clock.advance(100); // within the litter sweep's 1 s: this renewal does not sweep
    calls.length = 0;
    expect(await counted.renew({ key: 'k', holder: 'a', token: lease.token, version: lease.version, ttlMs: 1000 })).toMatchObject({ ok: true });
    expect(calls).toEqual(renewCalls);
    calls.length = 0;
    expect(await counted.acquire({ key: 'k', holder: 'a', ttlMs: 1000 })).toMatchObject({ ok: true, lease: { version: lease.version + 1 } });
    expect(calls).toEqual(grantCalls);
    calls.length = 0;
    expect(await counted.renew({ key: 'k', holder: 'b', token: lease.token, version: lease.version, ttlMs: 1000 })).toMatchObject({ ok: false });
    expect(calls).toEqual(['symlink', 'readText', 'readlink', 'unlink']); // refused: nothing written
    expect(await litter()).toEqual([]);
  });

  it('refuses an io that is not a FileIo and a random that is not a function, naming the option', () => {
    expect(() => new FileLeaseStore(file, { io: {} as FileIo })).toThrow(/invalid option io: must be a FileIo/);
    expect(() => new FileLeaseStore(file, { random: 0.5 as unknown as () => number })).toThrow(/invalid option random: must be a function/);
  });

  it('releases a lock held past half of staleLockMs through the break-marker protocol, a fresh one by readlink + unlink', async () => {
    const { io: counting, calls } = countingIo(asyncFileIo);
    let holdMs = 0;
    const slow: FileIo = {
      ...counting,
      writeDurably: async (path, text, mode) => {
        clock.advance(holdMs); // the commit holds the lock this long
        return counting.writeDurably(path, text, mode);
      },
    };
    const held = new FileLeaseStore(file, { clock, io: slow, staleLockMs: 100 });
    await held.acquire({ key: 'k', holder: 'a', ttlMs: 10_000 });
    const unlock = (): string[] => calls.slice(calls.indexOf('rename') + 1).filter((name) => name !== 'syncDirectory');
    calls.length = 0;
    holdMs = 49;
    await held.renew({ key: 'k', holder: 'a', token: 1, version: 1, ttlMs: 10_000 });
    expect(unlock()).toEqual(['readlink', 'unlink']);
    calls.length = 0;
    holdMs = 50; // others could judge it stale soon: remove it only as a breaker would
    await held.renew({ key: 'k', holder: 'a', token: 1, version: 1, ttlMs: 10_000 });
    expect(unlock()).toEqual(['symlink', 'readlink', 'rename', 'readlink', 'unlink', 'unlink']);
    expect(await litter()).toEqual([]);
  });

  it('coalesces concurrent changes into one commit, judging each on its own (a stale grant still fails)', async () => {
    const { io, calls } = countingIo(asyncFileIo);
    const grouped = new FileLeaseStore(file, { clock, io });
    const KEYS = 20;
    const keys = Array.from({ length: KEYS }, (_, i) => `k${i}`);
    const old = await grouped.acquire({ key: 'old', holder: 'a', ttlMs: 100 });
    const granted = await Promise.all(keys.map((key) => grouped.acquire({ key, holder: 'a', ttlMs: 10_000 })));
    expect(granted.every((r) => r.ok)).toBe(true);
    expect(old).toMatchObject({ ok: true, lease: { token: 1, version: 1 } });
    clock.advance(200); // 'old' has expired
    calls.length = 0;
    const locksBefore = grouped.lockStats.acquired;

    const oldGrant = { key: 'old', holder: 'a', token: 1, version: 1, ttlMs: 100 };
    const [staleFirst, takeover, staleAfter, wrongVersion, ...renewals] = await Promise.all([
      grouped.renew(oldGrant), // alone it would be 'expired': so it is in the group
      grouped.acquire({ key: 'old', holder: 'b', ttlMs: 10_000 }),
      grouped.renew(oldGrant), // after the takeover in the same group: not the holder any more
      grouped.renew({ key: 'k0', holder: 'a', token: 1, version: 2, ttlMs: 10_000 }),
      ...keys.map((key) => grouped.renew({ key, holder: 'a', token: 1, version: 1, ttlMs: 10_000 })),
    ]);
    expect(staleFirst).toMatchObject({ ok: false, reason: 'expired', current: { holder: 'a', token: 1 } });
    expect(takeover).toEqual({ ok: true, lease: { key: 'old', holder: 'b', token: 2, version: 2, ttlMs: 10_000 } });
    expect(staleAfter).toMatchObject({ ok: false, reason: 'not-holder', current: { holder: 'b', token: 2, version: 2 } });
    expect(wrongVersion).toMatchObject({ ok: false, reason: 'not-holder' });
    expect(renewals.every((r) => r.ok)).toBe(true);
    // 24 changes, one lock, one read, one write (with a directory fsync: the takeover is a grant)
    expect(grouped.lockStats.acquired - locksBefore).toBe(1);
    expect(calls).toEqual(grantCalls);
    const onDisk = JSON.parse(await readFile(file, 'utf8'));
    expect(onDisk.leases.old).toMatchObject({ holder: 'b', token: 2, version: 2 });
    expect(onDisk.leases.k19.expiresAtWallMs).toBe(clock.t + 10_000);
    expect(await litter()).toEqual([]);
  });

  it('fails every change of a group whose write fails, leaves the file as it was, and commits the next group', async () => {
    let failWrites = 1;
    const failing: FileIo = {
      ...asyncFileIo,
      writeDurably: (path, text, mode) =>
        failWrites-- > 0 ? Promise.reject(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' })) : asyncFileIo.writeDurably(path, text, mode),
    };
    const flaky = new FileLeaseStore(file, { clock, io: failing });
    failWrites = 0;
    await Promise.all(['x', 'y', 'z'].map((key) => flaky.acquire({ key, holder: 'a', ttlMs: 1000 })));
    const before = await readFile(file, 'utf8');
    failWrites = 1;
    const grant = (key: string) => ({ key, holder: 'a', token: 1, version: 1, ttlMs: 1000 });
    const results = await Promise.allSettled(['x', 'y', 'z'].map((key) => flaky.renew(grant(key))));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    for (const r of results) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(StoreUnavailableError);
    expect(await readFile(file, 'utf8')).toBe(before);
    expect(await flaky.renew(grant('y'))).toMatchObject({ ok: true });
    expect(await litter()).toEqual([]);
  });
});

describe('FileLeaseStore multi-process race', () => {
  const PROCESSES = 8;
  const EPOCHS = 30;
  let build: string;
  let moduleUrl: string;

  beforeAll(async () => {
    // Compile only this module's import graph into a private dir: others' files and dist/ are not touched.
    build = await mkdtemp(join(tmpdir(), 'file-store-build-'));
    await writeFile(
      join(build, 'tsconfig.json'),
      JSON.stringify({
        extends: join(REPO, 'tsconfig.json'),
        compilerOptions: {
          outDir: join(build, 'out'),
          rootDir: REPO,
          typeRoots: [join(REPO, 'node_modules/@types')],
          declaration: false,
          sourceMap: false,
          noEmitOnError: true,
        },
        include: [],
        files: [join(REPO, 'src/store/file-store.ts')],
      }),
    );
    execFileSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(build, 'tsconfig.json')], { stdio: 'pipe' });
    await writeFile(join(build, 'out', 'package.json'), '{"type":"module"}');
    moduleUrl = pathToFileURL(join(build, 'out/src/store/file-store.js')).href;
  });

  afterAll(async () => {
    await rm(build, { recursive: true, force: true });
  });

  it('waits for a lock another thread of this process holds, and does not break it as "left by an earlier process with our pid"', async () => {
    // Another thread (a worker host's keeper) has its own copy of the lock module: it holds the lock.
    const sibling = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
      (async () => {
        const { acquireFileLock } = await import(workerData.lockUrl);
        const { asyncFileIo } = await import(workerData.ioUrl);
        const clock = { now: () => performance.now(), wallNow: () => Date.now(), setTimeout, clearTimeout };
        const lock = await acquireFileLock(workerData.path, { clock, io: asyncFileIo, random: Math.random, timeoutMs: 2000, staleMs: 60000 });
        parentPort.postMessage('held');
        parentPort.once('message', async () => { await lock.release(); parentPort.postMessage('released'); });
      })();`,
      {
        eval: true,
        workerData: { lockUrl: moduleUrl.replace(/file-store\.js$/, 'file-lock.js'), ioUrl: moduleUrl.replace(/file-store\.js$/, 'file-io.js'), path: `${file}.lock` },
      },
    );
    try {
      expect((await once(sibling, 'message'))[0]).toBe('held');
      const impatient = new FileLeaseStore(file, { clock: new SystemClock(), lockTimeoutMs: 300 });
      await expect(impatient.acquire({ key: 'k', holder: 'a', ttlMs: 1000 })).rejects.toThrow(StoreUnavailableError);
      expect(impatient.lockStats.staleBroken).toBe(0);
      sibling.postMessage('release');
      expect((await once(sibling, 'message'))[0]).toBe('released');
      expect(await impatient.acquire({ key: 'k', holder: 'a', ttlMs: 1000 })).toMatchObject({ ok: true });
      expect(await litter()).toEqual([]);
    } finally {
      await sibling.terminate();
    }
  });

  it('SIGKILLs at any moment of lock creation: no lock is ever seen empty, no blackout, no litter', async () => {
    const KILLS = 40;
    const looper = join(REPO, 'test/fixtures/file-lock-looper.mjs');
    const spawnLooper = async (i: number): Promise<ChildProcess> => {
      const child = spawn(process.execPath, [looper, moduleUrl, file, String(i)], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((done) => createInterface({ input: child.stdout! }).once('line', () => done()));
      return child;
    };
    const loopers = await Promise.all([0, 1, 2].map(spawnLooper));
    const lock = `${file}.lock`;
    let emptySeen = 0;
    let reads = 0;
    const probe = new FileLeaseStore(file, { clock: new SystemClock(), lockTimeoutMs: 3_000 });
    const slowest: number[] = [];
    try {
      for (let kill = 0; kill < KILLS; kill++) {
        // Watch the lock file for a while (sync reads: as close together as we can), then kill one looper.
        const until = performance.now() + 20 + (kill % 7) * 5;
        while (performance.now() < until) {
          reads++;
          if (lockRecordNow(lock) === '') emptySeen++;
          await new Promise((done) => setImmediate(done));
        }
        const victim = kill % loopers.length;
        (loopers[victim] as ChildProcess).kill('SIGKILL');
        await new Promise((done) => (loopers[victim] as ChildProcess).once('exit', done));
        // Whatever it left, the lock is available to others at once (not after staleMs = 10 s).
        const started = performance.now();
        const got = await probe.acquire({ key: 'probe', holder: 'probe', ttlMs: 60_000 });
        slowest.push(performance.now() - started);
        if (got.ok) await probe.release(got.lease);
        loopers[victim] = await spawnLooper(victim);
      }
    } finally {
      for (const child of loopers) child.kill('SIGKILL');
      await Promise.all(loopers.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((done) => c.once('exit', done)) : undefined)));
    }
    console.log(`[file-lock kills] ${KILLS} SIGKILLs, ${reads} lock reads, ${emptySeen} empty; slowest acquire after a kill ${Math.max(...slowest).toFixed(0)} ms`);
    expect(emptySeen).toBe(0);
    expect(Math.max(...slowest)).toBeLessThan(3_000);
    // One more operation sweeps what the kills left (the sweep runs at most once a second).
    await new Promise((done) => setTimeout(done, 1_100));
    await probe.read('probe');
    expect((await probe.acquire({ key: 'probe', holder: 'probe', ttlMs: 60_000 })).ok).toBe(true);
    expect(await litter()).toEqual([]);
  });

  it(`${PROCESSES} processes x ${EPOCHS} epochs: one winner per token, tokens increase per process`, async () => {
    const racer = join(REPO, 'test/fixtures/file-store-racer.mjs');
    const children = Array.from({ length: PROCESSES }, (_, i) =>
      spawn(process.execPath, [racer, moduleUrl, file, String(i), String(EPOCHS), '1000'], { stdio: ['pipe', 'pipe', 'pipe'] }),
    );
    const lines = children.map((child) => {
      const rl = createInterface({ input: child.stdout! });
      let stderr = '';
      child.stderr!.on('data', (chunk) => (stderr += chunk));
      const ready = new Promise<void>((done) => rl.once('line', () => done()));
      const result = new Promise<string>((done, fail) => {
        const out: string[] = [];
        rl.on('line', (line) => out.push(line));
        child.once('exit', (code) => (code === 0 ? done(out.at(-1) ?? '') : fail(new Error(`racer exited ${code}: ${stderr}`))));
      });
      return { ready, result };
    });
    await Promise.all(lines.map((l) => l.ready));
    for (const child of children) child.stdin!.end('go\n'); // start barrier
    const results = (await Promise.all(lines.map((l) => l.result))).map(
      (line) => JSON.parse(line) as { index: number; wins: Array<{ token: number; holder: string }>; refusals: number; lostReleases: number; lockStats: { acquired: number; retries: number; staleBroken: number } },
    );

    const wins = results.flatMap((r) => r.wins);
    const tokens = wins.map((w) => w.token).sort((a, b) => a - b);
    expect(tokens).toEqual(Array.from({ length: tokens.length }, (_, i) => i + 1)); // each token exactly once, none skipped
    for (const r of results) {
      expect(r.wins.length + r.refusals).toBe(EPOCHS);
      const own = r.wins.map((w) => w.token);
      expect(own).toEqual([...own].sort((a, b) => a - b));
      expect(new Set(own).size).toBe(own.length);
    }
    const final = JSON.parse(await readFile(file, 'utf8'));
    expect(final.version).toBe(1);
    expect(final.leases.race.token).toBe(tokens.length);
    expect(await litter()).toEqual([]);

    const sum = (pick: (r: (typeof results)[number]) => number): number => results.reduce((n, r) => n + pick(r), 0);
    console.log(
      `[file-store race] ${PROCESSES}x${EPOCHS} attempts=${PROCESSES * EPOCHS} wins=${wins.length} refusals=${sum((r) => r.refusals)} ` +
        `lostReleases=${sum((r) => r.lostReleases)} lockAcquired=${sum((r) => r.lockStats.acquired)} ` +
        `lockRetries=${sum((r) => r.lockStats.retries)} staleBroken=${sum((r) => r.lockStats.staleBroken)} ` +
        `winsPerProcess=${results.map((r) => r.wins.length).join(',')}`,
    );
  });
});
