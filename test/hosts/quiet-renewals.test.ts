/**
 * Issue 15, host wake-ups: an owner without a `renewed` listener is not woken by every renewal. The
 * shipped agent and handle on fake time (the test's `SimClock`, a memory store), joined by a
 * channel that delivers at once and counts what the keeper sends; with `cell`, also by the
 * worker host's shared `ValidityCell`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentConfig, type FromKeeper, type ToKeeper } from '../../src/hosts/host-protocol.js';
import { runKeeperAgent } from '../../src/hosts/keeper-agent.js';
import { KeeperHandle, type LinkEvents } from '../../src/hosts/keeper-handle.js';
import type { LeaseKeeper } from '../../src/keeper/lease-keeper.js';
import { ALIVE } from '../../src/owner/owner-liveness.js';
import { MemoryLeaseStore } from '../../src/store/memory-store.js';
import { ValidityCell } from '../../src/hosts/validity-cell.js';
import { SimClock } from '../../sim/sim-clock.js';

let clock: SimClock;
const stops: Array<() => Promise<void>> = [];
beforeEach(() => {
  clock = new SimClock();
});
afterEach(async () => {
  for (const stop of stops.splice(0)) {
    const done = stop();
    await clock.runUntil(clock.now() + 2000);
    await done;
  }
});

/** A handle and the agent it talks to; `renewedSent` counts the keeper's `renewed` messages. */
async function pair({ cell }: { cell?: ValidityCell } = {}) {
  const config = agentConfig({ storeUrl: 'memory:', keeper: { key: 'leader', identity: 'a', ttlMs: 1000 } });
  let events!: LinkEvents;
  const toAgent: Array<(message: ToKeeper) => void> = [];
  const told: ToKeeper[] = [];
  const counts = { renewedSent: 0 };
  const handle = new KeeperHandle(
    'a',
    {
      send: (message) => {
        told.push(message);
        toAgent.forEach((listener) => listener(message));
      },
      listen: (e) => void (events = e),
      finish: () => events.onExit('finished'),
      kill: () => events.onExit('killed'),
      ...(cell ? { validity: () => cell.read() } : {}),
    },
    { clock, stopClock: clock },
  );
  let keeper!: LeaseKeeper;
  const running = runKeeperAgent(
    config,
    {
      send: async (message: FromKeeper) => {
        if (message.type === 'renewed') counts.renewedSent += 1;
        events.onMessage(message);
      },
      onMessage: (listener) => void toAgent.push(listener),
      owner: { check: () => ALIVE },
      ...(cell ? { publishValidity: (token: number, validUntil: number) => cell.write(token, validUntil) } : {}),
    },
    [],
    { clock, openStore: async () => new MemoryLeaseStore(clock), random: () => 0.5, observe: (built) => void (keeper = built) },
  );
  stops.push(async () => {
    await handle.stop();
    await running;
  });
  await clock.runUntil(clock.now() + 50);
  expect(handle.isLeading()).toBe(true);
  return { handle, keeper: () => keeper, counts, told };
}

/** Runs `ms` of fake time in 5 ms steps; checks the owner's belief at each: leading, never beyond the keeper's. */
async function watchBelief(handle: KeeperHandle, keeper: LeaseKeeper, ms: number): Promise<number> {
  let minLeftMs = Infinity;
  for (const end = clock.now() + ms; clock.now() < end; ) {
    await clock.runUntil(clock.now() + 5);
    expect(handle.isLeading()).toBe(true);
    expect(handle.validityLeftMs()).toBeLessThanOrEqual(keeper.validityLeftMs());
    minLeftMs = Math.min(minLeftMs, handle.validityLeftMs());
  }
  return minLeftMs;
}

describe('renewals the owner is told of', () => {
  it('without a renewed listener: every second renewal, and the belief never lapses nor outlasts the lease', async () => {
    const { handle, keeper, counts, told } = await pair();
    expect(told).toEqual([{ type: 'renewals', every: false }]); // said once, when the keeper was ready
    const renewals0 = keeper().stats().renewals;
    const minLeftMs = await watchBelief(handle, keeper(), 10_000);
    const renewals = keeper().stats().renewals - renewals0;
    expect(renewals).toBeGreaterThanOrEqual(29);
    expect(counts.renewedSent).toBeLessThanOrEqual(Math.ceil(renewals / 2));
    expect(minLeftMs).toBeGreaterThan(100); // ahead of the next renewal's reply, with room to spare
  });

  it('with a renewed listener: every renewal; quiet again once the last listener goes', async () => {
    const { handle, keeper, counts, told } = await pair();
    const heard: number[] = [];
    const listener = ({ token }: { token: number }): number => heard.push(token);
    handle.on('renewed', listener);
    const renewals0 = keeper().stats().renewals;
    await watchBelief(handle, keeper(), 5000);
    expect(heard.length).toBe(keeper().stats().renewals - renewals0);
    handle.off('renewed', listener);
    expect(told).toEqual([
      { type: 'renewals', every: false },
      { type: 'renewals', every: true },
      { type: 'renewals', every: false },
    ]);
    const sent0 = counts.renewedSent;
    const renewals1 = keeper().stats().renewals;
    await watchBelief(handle, keeper(), 5000);
    expect(counts.renewedSent - sent0).toBeLessThanOrEqual(Math.ceil((keeper().stats().renewals - renewals1) / 2));
  });
});

describe('the worker host: validity in shared memory', () => {
  it('the owner reads the keeper\'s validity when it asks: no renewed message at all, and the belief never lapses', async () => {
    const cell = new ValidityCell();
    const { handle, keeper, counts } = await pair({ cell });
    const renewals0 = keeper().stats().renewals;
    const minLeftMs = await watchBelief(handle, keeper(), 10_000);
    expect(keeper().stats().renewals - renewals0).toBeGreaterThanOrEqual(29);
    expect(counts.renewedSent).toBe(0);
    expect(minLeftMs).toBeGreaterThan(100);
  });

  it('a cell read through its shared buffer gives what was written last, whole', () => {
    const writer = new ValidityCell();
    const reader = new ValidityCell(writer.buffer);
    expect(reader.read()).toBeUndefined();
    writer.write(7, 1234.5);
    writer.write(8, 99);
    expect(reader.read()).toEqual({ token: 8, validUntil: 99 });
  });
});
