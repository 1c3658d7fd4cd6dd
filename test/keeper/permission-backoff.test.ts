/**
 * A store that refuses for lack of permission (a lease file in a read-only directory) is not an
 * outage: the keeper must not retry it at the contention rate forever. It backs off exponentially
 * to PERMISSION_BACKOFF_MAX_MS, and still picks the lease up once the permission is fixed.
 */
import { describe, expect, it } from 'vitest';
import { StorePermissionError, StoreUnavailableError } from '../../src/errors.js';
import { LeaseKeeper, PERMISSION_BACKOFF_MAX_MS } from '../../src/keeper/lease-keeper.js';
import { MemoryLeaseStore } from '../../src/store/memory-store.js';
import type { AcquireRequest, AcquireResult } from '../../src/store/lease-store.js';
import { SimClock } from '../../sim/sim-clock.js';

/** A real memory store whose acquires fail with `make()` while `refusing` (the seam for EACCES). */
class RefusingStore extends MemoryLeaseStore {
  refusing = true;
  acquires = 0;
  constructor(
    clock: SimClock,
    readonly make: () => Error,
  ) {
    super(clock);
  }
  override acquire(request: AcquireRequest): Promise<AcquireResult> {
    this.acquires += 1;
    if (this.refusing) return Promise.reject(this.make());
    return super.acquire(request);
  }
}

const TTL = 4_000; // acquire retry = ttl / 12 ≈ 333 ms: an unbacked-off loop makes ~180 tries a minute

async function run(make: () => Error, minutes: number) {
  const clock = new SimClock();
  const store = new RefusingStore(clock, make);
  const keeper = new LeaseKeeper(store, { key: 'k', identity: 'a', ttlMs: TTL, clock, random: () => 0.5 });
  const failures: unknown[] = [];
  keeper.on('renew-failed', (error) => failures.push(error));
  keeper.start();
  await clock.runUntil(minutes * 60_000);
  return { clock, store, keeper, failures };
}

describe('LeaseKeeper on a permission refusal', () => {
  const permission = () => new StorePermissionError('create lock file', '/ro/lease.json.lock', 'EACCES');

  it('backs off exponentially instead of retrying at the contention rate', async () => {
    const { store, keeper, failures } = await run(permission, 10);
    const retryMs = keeper.options.retryIntervalMs;
    // doublings from retryMs up to the cap, then one try per (jittered) cap for the rest of 10 min
    const doublings = Math.ceil(Math.log2(PERMISSION_BACKOFF_MAX_MS / retryMs)) + 1;
    const bound = doublings + Math.ceil(600_000 / (PERMISSION_BACKOFF_MAX_MS * 0.9)) + 1;
    expect(store.acquires).toBeGreaterThan(3);
    expect(store.acquires).toBeLessThanOrEqual(bound);
    expect(failures.every((error) => error instanceof StorePermissionError)).toBe(true);
    expect(keeper.state).toBe('following');
    await keeper.stop();
  });

  it('leads once the permission is fixed, without a restart', async () => {
    const { clock, store, keeper } = await run(permission, 3);
    store.refusing = false;
    await clock.runUntil(clock.now() + PERMISSION_BACKOFF_MAX_MS + 1);
    expect(keeper.isLeading()).toBe(true);
    await keeper.stop();
  });

  it('still retries an outage at the contention rate (the backoff is for permissions only)', async () => {
    const { store, keeper } = await run(() => new StoreUnavailableError('connection refused'), 1);
    expect(store.acquires).toBeGreaterThan(60_000 / keeper.options.retryIntervalMs / 1.2);
    await keeper.stop();
  });
});
