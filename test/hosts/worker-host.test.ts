import { describe, expect, it } from 'vitest';
import { Orchestrator, TIMING, useHostWorkspace } from './harness.js';

const { ttlMs } = TIMING;
const MARGIN_MS = 500; // successor's retry interval + process scheduling on a loaded 2-core machine

const ws = useHostWorkspace('worker-host-');
const read = () => ws.store.read('leader');
const start = (identity: string) => Orchestrator.start({ host: 'worker', store: { file: ws.file }, identity, dist: ws.dist, timing: TIMING });

describe('worker host', () => {
  it('SIGKILL of the owner: the lease expires by TTL and a successor leads within TTL + margin', async () => {
    const a = await start('A');
    const { token } = await a.waitFor('leading', 5000, (l) => l.event === 'leading');
    const b = await start('B');
    await b.waitFor('B to see A', 5000, (l) => l.event === 'new-leader' && l.identity === 'A');

    const killedAt = Date.now();
    a.signalGroup('SIGKILL');
    const lead = await b.waitFor('B leading', 5000, (l) => l.event === 'leading');
    const failoverMs = lead.t - killedAt;
    console.log(`[worker] SIGKILL of the owner -> successor leading in ${failoverMs} ms (bound ${ttlMs + MARGIN_MS} ms)`);
    expect(lead.token).toBe(token! + 1);
    expect(failoverMs).toBeLessThanOrEqual(ttlMs + MARGIN_MS);
  });

  it('SIGSTOP for 3.5 TTLs loses the lease: a contender takes it with a higher token, and the resumed owner never acts with the old token', async () => {
    const a = await start('A');
    const { token } = await a.waitFor('leading', 5000, (l) => l.event === 'leading');
    await a.waitFor('idle', 5000, (l) => l.event === 'idle');
    const b = await start('B');
    await b.waitFor('B to see A', 5000, (l) => l.event === 'new-leader' && l.identity === 'A');

    const stoppedAt = Date.now();
    a.signalGroup('SIGSTOP');
    const lead = await b.waitFor('B leading', 3 * ttlMs, (l) => l.event === 'leading');
    expect(lead.token).toBeGreaterThan(token!);
    await new Promise((done) => setTimeout(done, Math.max(0, stoppedAt + 3.5 * ttlMs - Date.now())));
    const resumedAt = Date.now();
    a.signalGroup('SIGCONT');

    const lost = await a.waitFor('A to step down', 3000, (l) => l.event === 'not-leading' && l.t >= resumedAt);
    await new Promise((done) => setTimeout(done, 5 * 100)); // five action periods
    console.log(`[worker] frozen ${resumedAt - stoppedAt} ms: B took over with token ${lead.token} after ${lead.t - stoppedAt} ms; A stepped down (${lost.reason}) on resume`);
    expect(a.events('action', (l) => l.token === token && l.t >= stoppedAt)).toEqual([]);
    expect(a.events('action', (l) => l.t >= resumedAt)).toEqual([]);
    expect(await read()).toMatchObject({ holder: 'B', token: lead.token });
  });

  it('graceful stop releases at once: holder is null when stop() resolves', async () => {
    const a = await start('A');
    const { token } = await a.waitFor('leading', 5000, (l) => l.event === 'leading');
    await a.waitFor('idle', 5000, (l) => l.event === 'idle');
    a.command('stop');
    await a.waitFor('stopped', 5000, (l) => l.event === 'stopped');
    expect(await read()).toMatchObject({ holder: null, token });
  });
});
