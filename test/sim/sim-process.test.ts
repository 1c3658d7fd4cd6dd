import { describe, expect, it } from 'vitest';
import { SimClock } from '../../sim/sim-clock.js';
import { SimProcess } from '../../sim/sim-process.js';

function setup() {
  const base = new SimClock();
  const proc = new SimProcess(base, 100, 'p');
  const session = proc.clock(proc.main);
  const worker = proc.thread('worker');
  const workerClock = proc.clock(worker);
  const fired: string[] = [];
  return { base, proc, session, worker, workerClock, fired };
}

describe('SimProcess and ThreadClock', () => {
  it('fires timers at their simulated time and counts wake-ups', async () => {
    const { base, session, fired } = setup();
    session.setTimeout(() => fired.push(`a@${base.now()}`), 1000);
    session.setTimeout(() => fired.push(`b@${base.now()}`), 500);
    await base.runUntil(2000);
    expect(fired).toEqual(['b@500', 'a@1000']);
    expect(session.wakeups).toBe(2);
  });

  it('clearAll removes only that scope’s timers', async () => {
    const { base, session, workerClock, fired } = setup();
    session.setTimeout(() => fired.push('session'), 100);
    workerClock.setTimeout(() => fired.push('worker'), 100);
    session.clearAll();
    await base.runUntil(200);
    expect(fired).toEqual(['worker']);
  });

  it('defers every thread’s callbacks while frozen and runs them on resume', async () => {
    const { base, proc, session, workerClock, fired } = setup();
    session.setTimeout(() => fired.push(`session@${base.now()}`), 100);
    workerClock.setTimeout(() => fired.push(`worker@${base.now()}`), 200);
    proc.freeze();
    await base.runUntil(1000);
    expect(fired).toEqual([]);
    proc.resume();
    await base.runUntil(1001);
    expect(fired).toEqual(['session@1000', 'worker@1000']);
  });

  it('a stall blocks only the stalled thread', async () => {
    const { base, proc, session, workerClock, fired } = setup();
    session.setTimeout(() => fired.push(`session@${base.now()}`), 100);
    workerClock.setTimeout(() => fired.push(`worker@${base.now()}`), 100);
    proc.main.stall();
    await base.runUntil(500);
    expect(fired).toEqual(['worker@100']);
    proc.main.unstall();
    await base.runUntil(501);
    expect(fired).toEqual(['worker@100', 'session@500']);
  });

  it('clearAll also drops callbacks that came due while blocked', async () => {
    const { base, proc, session, fired } = setup();
    session.setTimeout(() => fired.push('late'), 100);
    proc.freeze();
    await base.runUntil(200);
    session.clearAll();
    proc.resume();
    await base.runUntil(300);
    expect(fired).toEqual([]);
  });

  it('nothing of a killed process runs again, and exit hooks run once', async () => {
    const { base, proc, session, workerClock, fired } = setup();
    let exits = 0;
    proc.onExit(() => exits++);
    session.setTimeout(() => fired.push('session'), 100);
    workerClock.setTimeout(() => fired.push('worker'), 100);
    proc.kill();
    proc.kill();
    proc.main.deliver(() => fired.push('delivered'));
    await base.runUntil(1000);
    expect(fired).toEqual([]);
    expect(exits).toBe(1);
    expect(base.pendingTimers()).toBe(0);
  });
});
