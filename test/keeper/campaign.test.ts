/**
 * The library user's side of the keeper: waiting for leadership (`campaign`), `await using` on
 * keeper and store, and a normal stop logged at info (a lost lease stays a warning).
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { NotLeaderError } from '../../src/errors.js';
import { attachKeeperLog } from '../../src/keeper/keeper-log.js';
import { LeaseKeeper } from '../../src/keeper/lease-keeper.js';
import { createLogger } from '../../src/logger.js';
import { MemoryLeaseStore } from '../../src/store/memory-store.js';
import { SimClock } from '../../sim/sim-clock.js';

const TTL = 30_000;

function world(): { clock: SimClock; store: MemoryLeaseStore; keeper: (identity: string) => LeaseKeeper } {
  const clock = new SimClock();
  const store = new MemoryLeaseStore(clock);
  return { clock, store, keeper: (identity) => new LeaseKeeper(store, { key: 'k', identity, ttlMs: TTL, clock, random: () => 0.5 }) };
}

describe('keeper.campaign()', () => {
  it('starts the keeper and resolves with the lease once it leads; at once when it already leads', async () => {
    const { clock, keeper } = world();
    const a = keeper('a');
    let lease: { token: number } | undefined;
    void a.campaign().then((l) => (lease = l));
    expect(a.state).toBe('following');
    await clock.runUntil(1_000);
    expect(lease?.token).toBe(1);
    expect(a.token).toBe(1);
    await expect(a.campaign()).resolves.toMatchObject({ holder: 'a', token: 1 });
    await a.stop();
  });

  it('a follower waits until the leader hands off, then resolves with a newer token', async () => {
    const { clock, keeper } = world();
    const a = keeper('a');
    const b = keeper('b');
    await Promise.all([a.campaign(), clock.runUntil(1_000)]);
    let won: { holder: string; token: number } | undefined;
    void b.campaign().then((l) => (won = l));
    await clock.runUntil(60_000);
    expect(won).toBeUndefined();
    await a.handoff();
    await clock.runUntil(120_000);
    expect(won).toMatchObject({ holder: 'b', token: 2 });
    await b.stop();
  });

  it('rejects with NotLeaderError when the keeper stops before it leads, and at once on a stopped keeper', async () => {
    const { clock, keeper } = world();
    const a = keeper('a');
    const b = keeper('b');
    await Promise.all([a.campaign(), clock.runUntil(1_000)]);
    const waiting = b.campaign();
    await clock.runUntil(5_000);
    await b.stop();
    await expect(waiting).rejects.toBeInstanceOf(NotLeaderError);
    await expect(b.campaign()).rejects.toThrow(/stopped/);
    await a.stop();
  });

  it('rejects with the signal reason on abort; the keeper keeps contending', async () => {
    const { clock, keeper } = world();
    const a = keeper('a');
    const b = keeper('b');
    await Promise.all([a.campaign(), clock.runUntil(1_000)]);
    const controller = new AbortController();
    const waiting = b.campaign({ signal: controller.signal });
    controller.abort(new Error('deadline'));
    await expect(waiting).rejects.toThrow('deadline');
    expect(b.state).toBe('following');
    await expect(b.campaign({ signal: controller.signal })).rejects.toThrow('deadline');
    await a.stop();
    await b.stop();
  });
});

describe('await using', () => {
  it('stops the keeper (releasing its lease) and closes the store on scope exit', async () => {
    const { clock, store } = world();
    {
      await using keeper = new LeaseKeeper(store, { key: 'k', identity: 'scoped', ttlMs: TTL, clock, random: () => 0.5 });
      await Promise.all([keeper.campaign(), clock.runUntil(1_000)]);
      expect((await store.read('k'))?.holder).toBe('scoped');
    }
    expect((await store.read('k'))?.holder).toBeNull();
    let closed = false;
    const scoped = new MemoryLeaseStore(clock);
    scoped.close = async () => {
      closed = true;
    };
    {
      await using _store = scoped;
    }
    expect(closed).toBe(true);
  });
});

describe('keeper logs', () => {
  it('log an asked-for stop at info and a lost lease at warn', async () => {
    const { clock, store, keeper } = world();
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        chunks.push(String(chunk));
        done();
      },
    });
    const a = keeper('a');
    attachKeeperLog(a, createLogger({ level: 'info', destination: stream as never }));
    await Promise.all([a.campaign(), clock.runUntil(1_000)]);
    await a.stop();
    const b = keeper('b');
    attachKeeperLog(b, createLogger({ level: 'info', destination: stream as never }));
    await Promise.all([b.campaign(), clock.runUntil(2_000)]);
    // Someone else takes the key from under b: its next renewal is refused.
    const lease = await store.read('k');
    await store.release({ key: 'k', holder: 'b', token: lease?.token ?? 0, version: lease?.version ?? 0 });
    await store.acquire({ key: 'k', holder: 'intruder', ttlMs: TTL });
    await clock.runUntil(60_000);
    const stepDowns = chunks
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string; level: number; identity: string; reason: string })
      .filter((l) => l.msg === 'stopped leading')
      .map((l) => [l.identity, l.reason, l.level]);
    expect(stepDowns).toEqual([
      ['a', 'stopped', 30],
      ['b', 'lost', 40],
    ]);
    await b.stop();
  });
});

describe('keeper.handoff({ to })', () => {
  it('hands the lease to the chosen follower, not to whichever asks first', async () => {
    const { clock, store, keeper } = world();
    const a = keeper('a');
    await Promise.all([a.campaign(), clock.runUntil(1_000)]);
    const b = keeper('b');
    const c = keeper('c');
    const leaders: string[] = [];
    for (const k of [b, c]) k.on('started-leading', (lease) => leaders.push(`${lease.holder}:${lease.token}`));
    b.start();
    c.start();
    await clock.runUntil(20_000);
    await a.handoff({ to: 'c' });
    expect(a.state).toBe('stopped');
    expect(await store.read('k')).toMatchObject({ holder: 'c', token: 2 });
    await clock.runUntil(60_000);
    expect(leaders).toEqual(['c:2']);
    expect(c.isLeading()).toBe(true);
    await b.stop();
    await c.stop();
  });

  it('refuses its own identity or an empty one, and releases when the store refuses the transfer', async () => {
    const { clock, store, keeper } = world();
    const a = keeper('a');
    await Promise.all([a.campaign(), clock.runUntil(1_000)]);
    await expect(a.handoff({ to: 'a' })).rejects.toThrow(/invalid option to/);
    await expect(a.handoff({ to: '' })).rejects.toThrow(/invalid option to/);
    // Someone took the key from under a: the transfer is refused, nothing is handed on.
    const lease = await store.read('k');
    await store.release({ key: 'k', holder: 'a', token: lease?.token ?? 0, version: lease?.version ?? 0 });
    await store.acquire({ key: 'k', holder: 'x', ttlMs: TTL });
    await a.handoff({ to: 'c' });
    expect(await store.read('k')).toMatchObject({ holder: 'x' });
  });
});
