import { describe, expect, it } from 'vitest';
import type { LeaseInfo } from '../../src/store/lease-store.js';
import { RunMetrics } from '../../sim/run-metrics.js';
import { SimClock } from '../../sim/sim-clock.js';

const lease = (holder: string | null, expiresInMs: number): LeaseInfo => ({ key: 'k', holder, token: 1, version: 1, ttlMs: 60_000, expiresInMs });

/** A metrics object on its own clock; `at(t)` moves time to t (ms). */
function setup() {
  const clock = new SimClock();
  const metrics = new RunMetrics(clock);
  const at = async (t: number): Promise<void> => clock.runUntil(t);
  return { clock, metrics, at };
}

describe('RunMetrics: the real mechanics figures', () => {
  it('lease age at a respawn decision is the time since the last successful acquire or renew', async () => {
    const { metrics, at } = setup();
    metrics.respawnDecided(); // no lease ever: nothing to record
    await at(1_000);
    metrics.onApplied('acquire', 'a', true, null, lease('a', 60_000));
    await at(21_000);
    metrics.onApplied('renew', 'a', true, lease('a', 40_000), lease('a', 60_000));
    metrics.onApplied('renew', 'b', false, lease('a', 60_000), lease('a', 60_000)); // refused: not a beat
    await at(100_000);
    metrics.respawnDecided();
    await at(150_000);
    metrics.onApplied('release', 'a', true, lease('a', 1_000), lease(null, 0)); // not a beat either
    metrics.respawnDecided();
    const r = metrics.finish(0);
    expect(r.leaseAgesAtRespawn).toEqual({ count: 2, sumMs: 79_000 + 129_000, minMs: 79_000, maxMs: 129_000 });
  });

  it('leaderless in practice counts a valid lease whose holder is dead, and a holder whose session is starting', async () => {
    const { metrics, at } = setup();
    metrics.processStarted('a', false); // starting up: not serving
    await at(10_000);
    metrics.onApplied('acquire', 'a', true, null, lease('a', 60_000));
    await at(20_000);
    metrics.serving('a', true); // started: from here a works as leader
    await at(30_000);
    metrics.processDied('a'); // the lease stays valid until 70 s: a zombie, and no one works
    await at(50_000);
    metrics.onApplied('renew', 'loop', true, lease('a', 20_000), lease('a', 60_000)); // a loop keeps it alive
    await at(200_000);
    const r = metrics.finish(0);
    // No working leader except 20-30 s.
    expect(r.leaderlessInPracticeMs).toBe(190_000);
    expect(r.zombieLeaseMs).toBe(80_000); // 30-110 s
    // The store's view counts 10-20 s as led: the holder lived, though its session could not work yet.
    expect(r.leaderlessMs).toBe(180_000);
    // One stretch without a working leader after one existed: from 30 s to the end (still open).
    expect(r.leaderGaps).toEqual({ count: 1, sumMs: 170_000, minMs: 170_000, maxMs: 170_000 });
  });

  it('a supervisor restart in place: the holder lives, its session is down for a while, the gap is that while', async () => {
    const { metrics, at } = setup();
    metrics.processStarted('sup');
    metrics.onApplied('acquire', 'sup', true, null, lease('sup', 60_000));
    await at(30_000);
    metrics.serving('sup', false); // the session exited; the supervisor keeps the lease
    metrics.sessionRestarted();
    metrics.onApplied('renew', 'sup', true, lease('sup', 30_000), lease('sup', 60_000));
    await at(34_000);
    metrics.serving('sup', true); // the new session is up
    await at(60_000);
    const r = metrics.finish(0);
    expect(r.sessionRestarts).toBe(1);
    expect(r.leaderlessMs).toBe(0);
    expect(r.leaderlessInPracticeMs).toBe(4_000);
    expect(r.leaderGaps).toEqual({ count: 1, sumMs: 4_000, minMs: 4_000, maxMs: 4_000 });
  });

  it('serving cannot be claimed for a dead holder', async () => {
    const { metrics, at } = setup();
    metrics.processStarted('a');
    metrics.onApplied('acquire', 'a', true, null, lease('a', 60_000));
    metrics.processDied('a');
    metrics.serving('a', true);
    await at(10_000);
    expect(metrics.finish(0).leaderlessInPracticeMs).toBe(10_000);
  });

  it('a supervised session’s crash owes a failover: it ends when the session serves again in place, or never', async () => {
    const { metrics, at } = setup();
    metrics.processStarted('sup');
    metrics.processStarted('s1');
    metrics.servedBy('s1', 'sup');
    metrics.onApplied('acquire', 'sup', true, null, lease('sup', 60_000));
    await at(10_000);
    metrics.crashed('s1'); // the holder lives, but its leader work stopped
    metrics.serving('sup', false);
    metrics.processDied('s1');
    await at(25_000);
    metrics.serving('sup', true); // restarted in place 15 s later
    await at(30_000);
    metrics.processStarted('s2');
    metrics.servedBy('s2', 'sup');
    metrics.crashed('s2'); // and this one is never replaced
    await at(40 * 60_000);
    const r = metrics.finish(0);
    expect(r.failoversMs).toEqual([15_000, Infinity]);
    // Without servedBy a follower's crash owes nothing while another leads.
    const plain = setup();
    plain.metrics.processStarted('a');
    plain.metrics.processStarted('b');
    plain.metrics.onApplied('acquire', 'a', true, null, lease('a', 60_000));
    plain.metrics.crashed('b');
    await plain.at(40 * 60_000);
    expect(plain.metrics.finish(0).failoversMs).toEqual([]);
  });
});
