import { describe, expect, it } from 'vitest';
import { LeaseKeeper } from '../../src/keeper/lease-keeper.js';
import { MemoryLeaseStore } from '../../src/store/memory-store.js';
import { SimClock } from '../../sim/sim-clock.js';

const TTL = 30_000;

function setup() {
  const clock = new SimClock();
  const store = new MemoryLeaseStore(clock);
  const make = (identity: string) => new LeaseKeeper(store, { key: 'k', identity, ttlMs: TTL, clock, random: () => 0.5 });
  return { clock, store, make };
}

describe('handoff()', () => {
  it('tells the owner, waits for pending work to drain, then releases so a follower takes over at its next attempt', async () => {
    const { clock, store, make } = setup();
    const a = make('a').start();
    await clock.runUntil(1_000);
    const b = make('b').start();
    await clock.runUntil(5_000);
    expect(a.isLeading()).toBe(true);
    const events: string[] = [];
    a.on('handoff', ({ drainMs, pending }) => events.push(`handoff ${drainMs} ${pending} @${clock.now()}`));
    a.on('stopped-leading', (reason) => events.push(`stopped ${reason} @${clock.now()}`));
    a.setPendingWork(2);
    const done = a.handoff({ drainMs: 20_000 });
    await clock.runUntil(8_000);
    expect(a.isLeading()).toBe(true); // still leading (and renewing) while it drains
    a.progress(0); // the last pending work finished at 8 s
    await done;
    expect(events).toEqual(['handoff 20000 2 @5000', 'stopped handoff @8000']);
    expect((await store.read('k'))?.holder).toBeNull();
    const releasedAt = clock.now();
    let tookOverAt = -1;
    b.on('started-leading', () => (tookOverAt = clock.now()));
    await clock.runUntil(releasedAt + 10_000);
    expect(b.isLeading()).toBe(true);
    expect(b.token).toBe(2);
    // The follower needed at most one retry interval (ttl/3/4 = 2.5 s, less jitter).
    expect(tookOverAt - releasedAt).toBeLessThanOrEqual(2_500);
    expect(a.state).toBe('stopped');
  });

  it('gives up draining after drainMs and releases anyway', async () => {
    const { clock, store, make } = setup();
    const a = make('a').start();
    await clock.runUntil(1_000);
    a.setPendingWork(1);
    const done = a.handoff({ drainMs: 4_000 });
    await clock.runUntil(6_000);
    await done;
    expect(a.state).toBe('stopped');
    const info = await store.read('k');
    expect(info?.holder).toBeNull();
  });

  it('with nothing pending, hands off at once; when not leading, it simply stops', async () => {
    const { clock, make } = setup();
    const a = make('a').start();
    await clock.runUntil(1_000);
    const reasons: string[] = [];
    a.on('stopped', (r) => reasons.push(r));
    await a.handoff({ drainMs: 60_000 });
    expect(reasons).toEqual(['handoff']);
    const idle = make('c');
    await idle.handoff();
    expect(idle.state).toBe('stopped');
    await expect(make('d').start().handoff({ drainMs: -1 })).rejects.toThrow(/drainMs/);
  });
});
