import { describe, expect, it } from 'vitest';
import { Orchestrator, sampleLease, TIMING, useHostWorkspace } from './harness.js';

const { ttlMs } = TIMING;
const ws = useHostWorkspace('idle-session-');

describe.each(['sidecar', 'worker'] as const)('%s host', (host) => {
  it('keeps the lease with the same token for 10 TTLs after the session cleared its timers', async () => {
    const a = await Orchestrator.start({ host, store: { file: ws.file }, identity: 'A', dist: ws.dist, timing: TIMING });
    const { token } = await a.waitFor('leading', 5000, (l) => l.event === 'leading');
    const idle = await a.waitFor('idle', 5000, (l) => l.event === 'idle');
    const renewalsBefore = a.events('renewed').length;

    const readings = await sampleLease(() => ws.store.read('leader'), 10 * ttlMs + 200);
    for (const lease of readings) expect(lease, a.describe()).toMatchObject({ holder: 'A', token });
    expect(readings.every((lease) => (lease?.expiresInMs ?? 0) > 0)).toBe(true);
    const renewals = a.events('renewed').length - renewalsBefore;
    console.log(`[${host}] ${renewals} renewals in ${Date.now() - idle.t} ms after the session cleared ${idle.cleared} timer(s); token ${token}`);
    expect(renewals).toBeGreaterThanOrEqual(25);
    expect(a.events('action', (l) => l.t > idle.t + 10 * ttlMs - 500 && l.token === token).length).toBeGreaterThan(0);
  });
});
