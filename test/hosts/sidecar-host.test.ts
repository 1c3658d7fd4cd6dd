import { describe, expect, it } from 'vitest';
import { hasExited, Orchestrator, sampleLease, TIMING, useHostWorkspace, waitUntil } from './harness.js';

const { ttlMs, renewIntervalMs, requestTimeoutMs } = TIMING;
const MARGIN_MS = 400; // process scheduling on a loaded 2-core machine

const ws = useHostWorkspace('sidecar-host-');
const read = () => ws.store.read('leader');
const start = (identity: string, args: string[] = []) => Orchestrator.start({ host: 'sidecar', store: { file: ws.file }, identity, dist: ws.dist, timing: TIMING, args });

describe('sidecar host', () => {
  it('releases when the owner is SIGKILLed: a successor leads within renewInterval + requestTimeout, and the sidecar exits', async () => {
    const a = await start('A');
    const { token } = await a.waitFor('leading', 5000, (l) => l.event === 'leading');
    const b = await start('B');
    await b.waitFor('B to see A', 5000, (l) => l.event === 'new-leader' && l.identity === 'A');
    const { sidecar } = a;

    const killedAt = Date.now();
    a.signalGroup('SIGKILL'); // the whole group: the detached sidecar is not in it
    const lead = await b.waitFor('B leading', 5000, (l) => l.event === 'leading');
    const failoverMs = lead.t - killedAt;
    console.log(`[sidecar] SIGKILL of the owner -> successor leading in ${failoverMs} ms (bound ${renewIntervalMs + requestTimeoutMs + MARGIN_MS} ms, TTL ${ttlMs} ms)`);
    expect(lead.token).toBe(token! + 1);
    expect(failoverMs).toBeLessThanOrEqual(renewIntervalMs + requestTimeoutMs + MARGIN_MS);
    await waitUntil('the sidecar to exit', 3000, () => hasExited(sidecar.pid, sidecar.startTime));
  });

  it('keeps the lease while the owner group is SIGSTOPped for 3.5 TTLs, and the owner acts again with the same token after SIGCONT', async () => {
    const a = await start('A');
    const { token } = await a.waitFor('leading', 5000, (l) => l.event === 'leading');
    await a.waitFor('idle', 5000, (l) => l.event === 'idle');
    const b = await start('B');
    await b.waitFor('B to see A', 5000, (l) => l.event === 'new-leader' && l.identity === 'A');

    a.signalGroup('SIGSTOP');
    const readings = await sampleLease(read, 3.5 * ttlMs);
    for (const lease of readings) expect(lease, a.describe()).toMatchObject({ holder: 'A', token });
    expect(hasExited(a.sidecar.pid, a.sidecar.startTime)).toBe(false);
    const resumedAt = Date.now();
    a.signalGroup('SIGCONT');

    const action = await a.waitFor('an action after SIGCONT', 3000, (l) => l.event === 'action' && l.t >= resumedAt);
    expect(action.token).toBe(token);
    expect(b.events('leading')).toEqual([]);
    expect(await read()).toMatchObject({ holder: 'A', token });
  });

  it('releases after maxOwnerSilenceMs when a frozen owner stops checking in', async () => {
    const maxOwnerSilenceMs = 1500;
    const a = await start('A', ['--max-silence', String(maxOwnerSilenceMs)]);
    const { token } = await a.waitFor('leading', 5000, (l) => l.event === 'leading');
    const b = await start('B', ['--max-silence', String(maxOwnerSilenceMs)]);
    await b.waitFor('B to see A', 5000, (l) => l.event === 'new-leader' && l.identity === 'A');
    const { sidecar } = a;

    const stoppedAt = Date.now();
    a.signalGroup('SIGSTOP');
    const lead = await b.waitFor('B leading', 5000, (l) => l.event === 'leading');
    console.log(`[sidecar] owner frozen -> successor leading ${lead.t - stoppedAt} ms after the SIGSTOP (maxOwnerSilenceMs ${maxOwnerSilenceMs})`);
    expect(lead.t - stoppedAt).toBeGreaterThanOrEqual(maxOwnerSilenceMs - 100); // the last check-in was up to 100 ms before the stop
    expect(lead.t - stoppedAt).toBeLessThanOrEqual(maxOwnerSilenceMs + renewIntervalMs + requestTimeoutMs + MARGIN_MS + 200);
    expect(lead.token).toBe(token! + 1);
    await waitUntil('the sidecar to exit', 3000, () => hasExited(sidecar.pid, sidecar.startTime));

    const resumedAt = Date.now();
    a.signalGroup('SIGCONT');
    await a.waitFor('A to learn it lost', 3000, (l) => l.event === 'keeper-exit');
    await new Promise((done) => setTimeout(done, 3 * 100));
    expect(a.events('action', (l) => l.t >= resumedAt)).toEqual([]);
  });

  it('graceful stop releases at once: holder is null when stop() resolves, and the sidecar exits', async () => {
    const a = await start('A');
    const { token } = await a.waitFor('leading', 5000, (l) => l.event === 'leading');
    await a.waitFor('idle', 5000, (l) => l.event === 'idle');
    const { sidecar } = a;
    a.command('stop');
    await a.waitFor('stopped', 5000, (l) => l.event === 'stopped');
    expect(await read()).toMatchObject({ holder: null, token });
    expect(hasExited(sidecar.pid, sidecar.startTime)).toBe(true);
  });
});
