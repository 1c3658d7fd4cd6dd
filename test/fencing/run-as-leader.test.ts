import { afterEach, describe, expect, it } from 'vitest';
import { SystemClock } from '../../src/clock.js';
import { NotLeaderError } from '../../src/errors.js';
import { runAsLeader } from '../../src/fencing/index.js';
import { LeaseKeeper } from '../../src/keeper/lease-keeper.js';
import { MemoryLeaseStore } from '../../src/store/memory-store.js';

const TIMING = { ttlMs: 1000, renewIntervalMs: 300, renewDeadlineMs: 600, requestTimeoutMs: 100 } as const;
const keepers: LeaseKeeper[] = [];

function keeper(store: MemoryLeaseStore, identity: string): LeaseKeeper {
  const k = new LeaseKeeper(store, { key: 'leader', identity, ...TIMING });
  keepers.push(k);
  return k;
}

async function leading(k: LeaseKeeper): Promise<LeaseKeeper> {
  const started = new Promise((done) => k.once('started-leading', done));
  k.start();
  await started;
  return k;
}

afterEach(async () => {
  await Promise.all(keepers.splice(0).map((k) => k.stop()));
});

describe('runAsLeader', () => {
  it('throws NotLeaderError and never calls the action when not leading', async () => {
    const store = new MemoryLeaseStore(new SystemClock());
    const idle = keeper(store, 'idle');
    let called = false;
    await expect(
      runAsLeader(idle, async () => {
        called = true;
      }),
    ).rejects.toBeInstanceOf(NotLeaderError);
    // A follower: someone else leads.
    await leading(keeper(store, 'leader'));
    const follower = keeper(store, 'follower');
    follower.start();
    await new Promise((done) => follower.once('new-leader', done));
    await expect(runAsLeader(follower, async () => (called = true))).rejects.toMatchObject({ code: 'E_NOT_LEADER' });
    expect(called).toBe(false);
  });

  it('passes the current fencing token and returns the result; the listener is removed', async () => {
    const k = await leading(keeper(new MemoryLeaseStore(new SystemClock()), 'a'));
    const before = k.listenerCount('stopped-leading');
    const result = await runAsLeader(k, async (token, signal) => {
      expect(signal.aborted).toBe(false);
      return { token };
    });
    expect(result.token).toBe(k.token);
    expect(result.token).toBeGreaterThan(0);
    expect(k.listenerCount('stopped-leading')).toBe(before);
    await expect(runAsLeader(k, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(k.listenerCount('stopped-leading')).toBe(before);
  });

  it('aborts the signal with NotLeaderError when the keeper steps down meanwhile', async () => {
    const k = await leading(keeper(new MemoryLeaseStore(new SystemClock()), 'a'));
    let seen: unknown;
    const run = runAsLeader(k, (token, signal) => {
      return new Promise<string>((resolve) => {
        signal.addEventListener('abort', () => {
          seen = signal.reason;
          resolve(`aborted with token ${token}`);
        });
      });
    });
    await k.stop();
    await expect(run).resolves.toMatch(/^aborted with token \d+$/);
    expect(seen).toBeInstanceOf(NotLeaderError);
    expect(String((seen as Error).message)).toMatch(/stepped down \(stopped\)/);
  });

  it('aborts with the outer signal too, and refuses an already aborted one', async () => {
    const k = await leading(keeper(new MemoryLeaseStore(new SystemClock()), 'a'));
    const outer = new AbortController();
    const run = runAsLeader(k, (_token, signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))), {
      signal: outer.signal,
    });
    outer.abort(new Error('deadline'));
    await expect(run).rejects.toThrow('deadline');
    await expect(runAsLeader(k, async () => 1, { signal: outer.signal })).rejects.toThrow('deadline');
  });
});
