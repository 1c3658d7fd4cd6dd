import { afterEach, describe, expect, it } from 'vitest';
import { machineNow, type FromKeeper, type ToKeeper } from '../../src/hosts/host-protocol.js';
import { KeeperHandle, type LinkEvents } from '../../src/hosts/keeper-handle.js';

const lease = { key: 'k', holder: 'me', token: 7, version: 1, ttlMs: 1000 };

/** A handle wired to a fake host: `deliver` plays the keeper's messages; with `autoExit` a `stop` ends the host. */
function fakeHost({ autoExit = true } = {}) {
  const sent: ToKeeper[] = [];
  let events!: LinkEvents;
  const handle = new KeeperHandle('me', (e) => {
    events = e;
    return {
      send: (m) => {
        sent.push(m);
        if (m.type === 'stop' && autoExit) setImmediate(() => events.onExit('stopped'));
      },
      finish: () => events.onExit('finished'),
      kill: () => events.onExit('killed'),
    };
  });
  const log: string[] = [];
  handle.on('started-leading', (l) => log.push(`started:${l.token}`));
  handle.on('stopped-leading', (reason) => log.push(`stopped:${reason}`));
  return { handle, sent, log, deliver: (m: FromKeeper) => events.onMessage(m), exit: (why: string) => events.onExit(why) };
}

const handles: KeeperHandle[] = [];
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.stop()));
});

describe('KeeperHandle belief', () => {
  it('trusts a lease only until the reported deadline, on its own reading of the machine clock', async () => {
    const { handle, log, deliver } = fakeHost();
    handles.push(handle);
    deliver({ type: 'started-leading', lease, validUntil: machineNow() + 80 });
    expect(handle.isLeading()).toBe(true);
    expect(handle.token).toBe(7);
    await new Promise((done) => setTimeout(done, 120));
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
    await new Promise((done) => setTimeout(done, 50));
    expect(tokens).toEqual([]);
    deliver({ type: 'started-leading', lease, validUntil: machineNow() + 60 });
    await new Promise((done) => setTimeout(done, 150));
    expect(tokens.length).toBeGreaterThan(0);
    expect(tokens.length).toBeLessThanOrEqual(7);
    expect(new Set(tokens)).toEqual(new Set([7]));
  });
});
