import { EventEmitter } from 'node:events';
import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { allOwners } from '../../src/owner/all-owners.js';
import { ChannelOwner } from '../../src/owner/channel-owner.js';
import { ALIVE, type OwnerLiveness } from '../../src/owner/owner-liveness.js';

const tick = () => new Promise((done) => setImmediate(done));

describe('ChannelOwner', () => {
  it('dies when the port closes and pushes it to watchers, once', async () => {
    const { port1, port2 } = new MessageChannel();
    const owner = ChannelOwner.forPort(port2);
    const calls: string[] = [];
    owner.watch((reason) => calls.push(reason));
    expect(owner.check()).toEqual(ALIVE);
    port1.close();
    await new Promise((done) => port2.once('close', done));
    await tick();
    expect(owner.check()).toMatchObject({ alive: false });
    expect(calls).toHaveLength(1);
    const late: string[] = [];
    owner.watch((reason) => late.push(reason)); // already dead: told on a later turn
    expect(late).toEqual([]);
    await tick();
    expect(late).toHaveLength(1);
  });

  it('dies on the IPC disconnect of a forked child, and at once without an IPC channel', async () => {
    const proc = Object.assign(new EventEmitter(), { connected: true }) as unknown as NodeJS.Process;
    const owner = ChannelOwner.forProcess(proc);
    const calls: string[] = [];
    const unwatch = owner.watch((reason) => calls.push(reason));
    expect(owner.check()).toEqual(ALIVE);
    proc.emit('disconnect');
    expect(owner.check()).toMatchObject({ alive: false, reason: expect.stringContaining('IPC channel') });
    expect(calls).toHaveLength(1);
    unwatch();

    const orphan = ChannelOwner.forProcess(Object.assign(new EventEmitter(), { connected: false }) as unknown as NodeJS.Process);
    expect(orphan.check()).toEqual({ alive: false, reason: 'no IPC channel to the owner process' });
  });
});

describe('allOwners', () => {
  const dead = (reason: string): OwnerLiveness => ({ check: () => ({ alive: false, reason }) });
  const alive: OwnerLiveness = { check: () => ALIVE };

  it('is alive only while every part is, reports the first dead part, and stays synchronous when the parts are', async () => {
    expect(allOwners(alive, alive).check()).toEqual(ALIVE);
    expect(allOwners(alive, dead('a'), dead('b')).check()).toEqual({ alive: false, reason: 'a' });
    const slow: OwnerLiveness = { check: async () => ({ alive: false, reason: 'slow' }) };
    const status = allOwners(alive, slow).check();
    expect(status).toBeInstanceOf(Promise);
    expect(await status).toEqual({ alive: false, reason: 'slow' });
  });

  it('fans in watch(): the first death is pushed once and every part is unsubscribed', () => {
    const a = new EventEmitter();
    const b = new EventEmitter();
    const pushing = (emitter: EventEmitter): OwnerLiveness => ({
      check: () => ALIVE,
      watch: (onDead) => {
        emitter.on('dead', onDead);
        return () => void emitter.off('dead', onDead);
      },
    });
    const calls: string[] = [];
    allOwners(pushing(a), alive, pushing(b)).watch!((reason) => calls.push(reason));
    b.emit('dead', 'b died');
    a.emit('dead', 'a died');
    expect(calls).toEqual(['b died']);
    expect(a.listenerCount('dead') + b.listenerCount('dead')).toBe(0);
  });
});
