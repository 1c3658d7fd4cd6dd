/**
 * The split-brain a Jepsen-style run found in the library (issue 13, item 1), replayed on fake
 * time with the default options (ttl 180 s: renew every 60 s − jitter, deadline 120 s, request
 * timeout 10 s, acquire retry 15 s − jitter, validity 178.2 s from the send):
 *
 *   0 s      a acquires (grant 1, token 1); b contends from 1 s and is refused.
 *   50-190 s a latency spike: 20 s one-way to the store.
 *   57 s     a sends a renewal; it lands at 77 s (store lease now ends at 257 s), its answer is late.
 *   58 s     a's process stalls for 124 s (until 182 s): past its renew deadline and its validity.
 *   182 s    a resumes, steps down (paused) and releases; the release needs 20 s and lands at 202 s.
 *   192 s    the release times out on a's side; a contends again.
 *   196.25 s a re-acquires: same holder, lease still live on the store → same token 1.
 *   202 s    the old release lands. Without grant versions it frees a's *new* grant; b acquires at
 *            its next attempt and both believe they lead until a's next renewal is refused.
 *
 * With a per-grant version the late release names the first grant, the store refuses it, and b
 * stays a follower.
 */
import { expect, it } from 'vitest';
import type { Clock } from '../../src/clock.js';
import { LeaseKeeper } from '../../src/keeper/lease-keeper.js';
import type { LeaseStore } from '../../src/store/lease-store.js';
import { SimClock } from '../../sim/sim-clock.js';
import { FakeLeaseStore, PausableClock } from '../support/fake-store.js';

const KEY = 'leader';

/**
 * `store` as seen by a process running on `clock`: answers reach the process only when its clock
 * runs timers, so a stalled process reads an answer that arrived meanwhile after the timers that
 * came due before it (as Node's event loop does: expired timers run before pending I/O).
 */
function deliveredOn(clock: Clock, store: LeaseStore): LeaseStore {
  const deliver = <T>(promise: Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) =>
      promise.then(
        (value) => void clock.setTimeout(() => resolve(value), 0),
        (error: unknown) => void clock.setTimeout(() => reject(error), 0),
      ),
    );
  return {
    kind: store.kind,
    acquire: (r) => deliver(store.acquire(r)),
    renew: (r) => deliver(store.renew(r)),
    release: (r) => deliver(store.release(r)),
    transfer: (r) => deliver(store.transfer(r)),
    read: (k) => deliver(store.read(k)),
    close: () => store.close(),
  };
}
const SPIKE = { fromMs: 50_000, untilMs: 190_000, oneWayMs: 20_000 };

it('a late release of an earlier grant does not free the lease the same keeper re-acquired: no two leaders', async () => {
  const clock = new SimClock();
  const server = new FakeLeaseStore(clock);
  const spike = (): number => (clock.now() >= SPIKE.fromMs && clock.now() < SPIKE.untilMs ? SPIKE.oneWayMs : 0);
  const connect = (): FakeLeaseStore => {
    const c = server.connection();
    c.requestLatency = spike;
    c.responseLatency = spike;
    return c;
  };
  const aClock = new PausableClock(clock);
  const aStore = connect();
  const options = { key: KEY, ttlMs: 180_000, random: () => 0.5 };
  const a = new LeaseKeeper(deliveredOn(aClock, aStore), { ...options, identity: 'a', clock: aClock });
  const b = new LeaseKeeper(connect(), { ...options, identity: 'b', clock });
  a.start();
  await clock.runUntil(1_000);
  b.start();
  await clock.runUntil(58_000);
  aClock.pause();
  await clock.runUntil(182_000);
  aClock.resume();

  const overlaps: number[] = [];
  const leading = (k: LeaseKeeper): boolean => k.state === 'leading' && k.validityLeftMs() > 0;
  for (let t = 182_000; t <= 400_000; t += 250) {
    await clock.runUntil(t);
    if (leading(a) && leading(b)) overlaps.push(t);
  }

  // The schedule went the way the header says: a re-acquired with the same token while its
  // release of the first grant was still on its way, and that release reached the store after.
  const acquires = aStore.callsOf('acquire').filter((c) => c.outcome === 'applied');
  const [release] = aStore.callsOf('release');
  const reacquire = acquires.find((c) => (c.appliedAt as number) > 182_000);
  expect(release?.appliedAt).toBe(202_000);
  expect(reacquire?.appliedAt).toBeLessThan(release?.appliedAt as number);
  expect(reacquire?.result).toMatchObject({ ok: true, lease: { token: 1 } });

  expect(overlaps, `a and b both led at ${overlaps.slice(0, 3).join(', ')} ms …`).toEqual([]);
  expect(release?.result).toBe(false);
  expect(a.isLeading()).toBe(true);
  expect(server.peek(KEY)).toMatchObject({ holder: 'a', token: 1 });
  expect(b.state).toBe('following');
  const stopped = Promise.all([a.stop(), b.stop()]);
  await clock.runUntil(clock.now() + 20_000);
  await stopped;
});
