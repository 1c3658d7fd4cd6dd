/**
 * Issue 15, host wake-ups: an owner without a `renewed` listener is not woken by every renewal. The
 * shipped agent and handle on fake time (the test's `SimClock`, a memory store), joined by a
 * channel that delivers at once and counts what the keeper sends; with `cell`, also by the
 * worker host's shared `ValidityCell` or the sidecar host's `ValidityFile`.
 */
import { closeSync, fstatSync, mkdtempSync, openSync, readlinkSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentConfig, type FromKeeper, type ToKeeper } from '../../src/hosts/host-protocol.js';
import { runKeeperAgent } from '../../src/hosts/keeper-agent.js';
import { KeeperHandle, type LinkEvents } from '../../src/hosts/keeper-handle.js';
import type { LeaseKeeper } from '../../src/keeper/lease-keeper.js';
import { ALIVE } from '../../src/owner/owner-liveness.js';
import { MemoryLeaseStore } from '../../src/store/memory-store.js';
import { ValidityCell } from '../../src/hosts/validity-cell.js';
import { ValidityFile } from '../../src/hosts/validity-file.js';
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
/** Where the keeper publishes its validity and the owner reads it (one object: both ends in this thread). */
interface SharedValidity {
  write(token: number, validUntil: number): void;
  read(): { token: number; validUntil: number } | undefined;
}

async function pair({ cell }: { cell?: SharedValidity } = {}) {
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
  const store = new MemoryLeaseStore(clock);
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
    { clock, openStore: async () => store, random: () => 0.5, observe: (built) => void (keeper = built) },
  );
  stops.push(async () => {
    await handle.stop();
    await running;
  });
  await clock.runUntil(clock.now() + 50);
  expect(handle.isLeading()).toBe(true);
  return { handle, keeper: () => keeper, counts, told, store };
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

/** 10 s of renewals with validity shared through `cell`: no `renewed` message, and the owner's belief never lapses. */
async function expectNoRenewedMessage(cell: SharedValidity): Promise<void> {
  const { handle, keeper, counts } = await pair({ cell });
    const renewals0 = keeper().stats().renewals;
    const minLeftMs = await watchBelief(handle, keeper(), 10_000);
    expect(keeper().stats().renewals - renewals0).toBeGreaterThanOrEqual(29);
    expect(counts.renewedSent).toBe(0);
    expect(minLeftMs).toBeGreaterThan(100);
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
    await expectNoRenewedMessage(new ValidityCell());
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

describe.each([
  ['worker', () => new ValidityCell()],
  ['sidecar', () => ValidityFile.create()!],
] as const)('%s host: the shared validity after a step-down', (_host, make) => {
  it('shows no deadline beyond the step-down: an owner that reads it before the stopped-leading message does not believe on', async () => {
    const cell = make();
    try {
      const { handle, keeper, store } = await pair({ cell });
      await watchBelief(handle, keeper(), 1000);
      const lease = keeper().currentLease();
      expect(lease).toBeDefined();
      // Another contender takes the lease: the keeper's next renewal is refused and it steps down.
      await store.release(lease!);
      expect((await store.acquire({ key: 'leader', holder: 'b', ttlMs: 1000 })).ok).toBe(true);
      const stepped = new Promise<void>((done) => keeper().once('stopped-leading', () => done()));
      await clock.runUntil(clock.now() + 400);
      await stepped;
      const shared = cell.read();
      expect(shared?.token).toBe(lease!.token);
      expect(shared!.validUntil).toBeLessThanOrEqual(clock.now());
    } finally {
      if (cell instanceof ValidityFile) cell.close();
    }
  });
});

describe('the sidecar host: validity in a shared file', () => {
  const files: ValidityFile[] = [];
  afterEach(() => files.splice(0).forEach((file) => file.close()));
  const created = (): ValidityFile => {
    const file = ValidityFile.create();
    expect(file).toBeDefined();
    files.push(file!);
    return file!;
  };

  it('the owner reads the keeper\'s validity when it asks: no renewed message at all, and the belief never lapses', async () => {
    await expectNoRenewedMessage(created());
  });

  it('a record read through another descriptor of the file gives what was written last, whole', () => {
    const owner = created();
    const sidecar = ValidityFile.inherited(owner.fd) as ValidityFile;
    expect(owner.read()).toBeUndefined();
    sidecar.write(7, 1234.5);
    sidecar.write(8, 99);
    expect(owner.read()).toEqual({ token: 8, validUntil: 99 });
    owner.close();
    expect(owner.read()).toBeUndefined();
  });

  it('a record torn between two writes is not taken', () => {
    const owner = created();
    const writer = new ValidityFile(owner.fd);
    writer.write(7, 1000);
    const first = Buffer.alloc(32);
    readSync(owner.fd, first, 0, 32, 0);
    writer.write(8, 2000);
    writeSync(owner.fd, first, 0, 8, 0); // the old token over the new deadline: what an overlapping read could see
    expect(owner.read()).toBeUndefined();
    writer.write(9, 3000);
    expect(owner.read()).toEqual({ token: 9, validUntil: 3000 });
  });

  it('the sidecar takes only a regular file as its validity file', () => {
    const device = openSync('/dev/null', 'r'); // e.g. a sidecar started without one, its fd 4 something else
    try {
      expect(ValidityFile.inherited(device)).toBeUndefined();
    } finally {
      closeSync(device);
    }
    expect(ValidityFile.inherited(2 ** 20)).toBeUndefined(); // not open
  });

  describe('where the owner makes the file', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'validity-dirs-'));
      writeFileSync(join(dir, 'plain-file'), '');
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('in the first directory that works (a missing or unusable /dev/shm falls back), with its record already written', () => {
      const made = mkdtempSync(join(dir, 'ok-'));
      const file = ValidityFile.create([join(dir, 'missing'), join(dir, 'plain-file'), made])!;
      expect(file).toBeDefined();
      files.push(file);
      expect(readlinkSync(`/proc/self/fd/${file.fd}`).startsWith(`${made}/heartbeat-lab-validity-`)).toBe(true);
      // The page exists before the sidecar's first write: a full tmpfs fails here (and the next
      // directory is tried), never in the sidecar's renewal.
      expect(fstatSync(file.fd).size).toBe(32);
      expect(file.read()).toBeUndefined();
    });

    it('nowhere when no directory works: the host then tells the owner of every renewal by message', () => {
      expect(ValidityFile.create([join(dir, 'missing'), join(dir, 'plain-file')])).toBeUndefined();
    });
  });
});
