/** The owner's handle on fake time: every clock reading and timer is the test's `SimClock`; nothing sleeps. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FromKeeper, ToKeeper } from '../../src/hosts/host-protocol.js';
import { KeeperHandle, type LinkEvents } from '../../src/hosts/keeper-handle.js';
import { SimClock } from '../../sim/sim-clock.js';

const lease = { key: 'k', holder: 'me', token: 7, version: 1, ttlMs: 1000 };
let clock: SimClock;
const machineNow = (): number => clock.now();
/** Lets `ms` of fake time pass, firing due timers. */
const pass = (ms: number): Promise<void> => clock.runUntil(clock.now() + ms);

beforeEach(() => {
  clock = new SimClock();
});

/** A handle wired to a fake host: `deliver` plays the keeper's messages; with `autoExit` a `stop` ends the host. */
function fakeHost({ autoExit = true } = {}) {
  const sent: ToKeeper[] = [];
  let events!: LinkEvents;
  const channel = {
    send: (m: ToKeeper) => {
      sent.push(m);
      if (m.type === 'stop' && autoExit) clock.setTimeout(() => events.onExit('stopped'), 0);
    },
    listen: (e: LinkEvents) => {
      events = e;
    },
    finish: () => events.onExit('finished'),
    kill: () => events.onExit('killed'),
  };
  const handle = new KeeperHandle('me', channel, { clock, stopClock: clock });
  const log: string[] = [];
  handle.on('started-leading', (l) => log.push(`started:${l.token}`));
  handle.on('stopped-leading', (reason) => log.push(`stopped:${reason}`));
  return { handle, sent, log, deliver: (m: FromKeeper) => events.onMessage(m), exit: (why: string) => events.onExit(why) };
}

const handles: KeeperHandle[] = [];
afterEach(async () => {
  const stopping = Promise.all(handles.splice(0).map((h) => h.stop()));
  await pass(1);
  await stopping;
});

describe('KeeperHandle belief', () => {
  it('trusts a lease only until the reported deadline, on its own reading of the machine clock', async () => {
    const { handle, log, deliver } = fakeHost();
    handles.push(handle);
    deliver({ type: 'started-leading', lease, validUntil: machineNow() + 80 });
    expect(handle.isLeading()).toBe(true);
    expect(handle.token).toBe(7);
    await pass(79);
    expect(log).toEqual(['started:7']);
    await pass(1);
    expect(log).toEqual(['started:7', 'stopped:expired']); // the deadline timer told us without being asked
    expect(handle.token).toBeNull();
  });

  it('a stale message (queued while the owner was frozen) does not revive the belief; an in-date renewal does', () => {
    const { handle, log, deliver } = fakeHost();
    handles.push(handle);
    deliver({ type: 'started-leading', lease, validUntil: machineNow() - 1 });
    deliver({ type: 'renewed', token: 7, validUntil: machineNow() - 1 });
    expect(handle.isLeading()).toBe(false);
    deliver({ type: 'renewed', token: 8, validUntil: machineNow() + 1000 }); // not our token
    expect(handle.isLeading()).toBe(false);
    deliver({ type: 'renewed', token: 7, validUntil: machineNow() + 1000 });
    expect(handle.token).toBe(7);
    expect(log).toEqual(['started:7']);
  });

  it('stops believing on stopped-leading, on host exit, and at stop()', async () => {
    const first = fakeHost();
    first.deliver({ type: 'started-leading', lease, validUntil: machineNow() + 1000 });
    first.deliver({ type: 'stopped-leading', reason: 'lost' });
    expect(first.log).toEqual(['started:7', 'stopped:lost']);

    const second = fakeHost();
    second.deliver({ type: 'started-leading', lease, validUntil: machineNow() + 1000 });
    second.exit('crashed');
    expect(second.log).toEqual(['started:7', 'stopped:keeper-exited']);
    expect(second.handle.exited).toBe(true);

    const third = fakeHost({ autoExit: false });
    third.deliver({ type: 'started-leading', lease, validUntil: machineNow() + 1000 });
    const stopping = third.handle.stop();
    expect(third.handle.isLeading()).toBe(false); // at once, before the release completes
    expect(third.sent).toEqual([{ type: 'stop' }]);
    third.deliver({ type: 'stopped', reason: 'stopped', stats: {} as never });
    await stopping;
    expect(third.log).toEqual(['started:7', 'stopped:stopped']);
  });

  it('everyWhileLeading runs the action only while leading, with the token', async () => {
    const { handle, deliver } = fakeHost();
    handles.push(handle);
    const tokens: number[] = [];
    handle.everyWhileLeading(10, (token) => tokens.push(token));
    await pass(50);
    expect(tokens).toEqual([]);
    deliver({ type: 'started-leading', lease, validUntil: machineNow() + 60 });
    await pass(150);
    // Ticks at +10 … +50 ms fall inside the 60 ms of validity (the one at +60 does not): exactly five.
    expect(tokens).toEqual([7, 7, 7, 7, 7]);
  });
});
