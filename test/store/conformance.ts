/**
 * The lease store conformance suite: the rules of `src/store/lease-store.ts`, run unchanged
 * against every store through a {@link StoreHarness}.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { StoreUnavailableError } from '../../src/errors.js';
import type { LeaseInfo, LeaseStore } from '../../src/store/lease-store.js';
import { sleep } from '../support/wait.js';

/** How the suite drives one store implementation. */
export interface StoreHarness {
  /** A new store instance (a new connection for server stores) on the same data. */
  open(): Promise<LeaseStore>;
  /** TTL for leases that must expire during a test. @default 1000 */
  readonly shortTtlMs?: number;
  /** Moves the store's clock forward; without it the suite waits in real time. */
  advance?(ms: number): Promise<void> | void;
  /** Restarts the store (server restart, or nothing for a file). Without it the restart parts are skipped. */
  restart?(): Promise<void>;
  /** Makes the store unreachable; with {@link start}, enables the outage case. */
  stop?(): Promise<void>;
  start?(): Promise<void>;
  /** Frees everything (servers, temp dirs). */
  dispose?(): Promise<void>;
}

const LONG_TTL_MS = 30_000;
const RACERS = 24;
const EPOCHS = 3;
const UNAVAILABLE_WITHIN_MS = 5_000;

/**
 * Declares the conformance tests for one store. `factory` runs in `beforeAll`; with `skip`, the
 * suite is declared but skipped and the reason is printed.
 */
export function describeLeaseStoreConformance(
  name: string,
  factory: () => Promise<StoreHarness>,
  /** `outage: false` for stores that cannot be made unreachable (memory, file): that case is not declared. */
  options: { skip?: string | null; outage?: boolean } = {},
): void {
  const skip = options.skip ?? null;
  if (skip !== null) console.warn(`[conformance] ${skip}`);

  describe.skipIf(skip !== null)(`LeaseStore conformance: ${name}`, () => {
    let harness: StoreHarness;
    const opened: LeaseStore[] = [];
    const open = async (): Promise<LeaseStore> => {
      const store = await harness.open();
      opened.push(store);
      return store;
    };
    const key = (label: string): string => `${label}-${randomUUID().slice(0, 8)}`;
    const shortTtl = (): number => harness.shortTtlMs ?? 1_000;

    /** Lets `ttlMs` pass on the store's clock, then until the store itself says the lease is over. */
    const expire = async (store: LeaseStore, leaseKey: string, holder: string, ttlMs: number): Promise<void> => {
      if (harness.advance) {
        await harness.advance(ttlMs + 1);
      } else {
        await sleep(ttlMs);
      }
      const deadline = Date.now() + ttlMs + 4_000;
      for (;;) {
        const info = await store.read(leaseKey);
        if (info === null || info.holder !== holder || info.expiresInMs < 0) return;
        if (Date.now() > deadline) throw new Error(`lease ${leaseKey} did not expire: ${JSON.stringify(info)}`);
        await sleep(100);
      }
    };

    beforeAll(async () => {
      harness = await factory();
    });

    afterEach(async () => {
      await Promise.allSettled(opened.splice(0).map((s) => s.close()));
    });

    afterAll(async () => {
      await Promise.allSettled(opened.splice(0).map((s) => s.close()));
      await harness?.dispose?.();
    });

    test('acquires a free key; read reports holder, token and remaining TTL', async () => {
      const store = await open();
      const k = key('free');
      expect(await store.read(k)).toBeNull();
      const result = await store.acquire({ key: k, holder: 'a', ttlMs: LONG_TTL_MS });
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      expect(result.lease).toMatchObject({ key: k, holder: 'a', ttlMs: LONG_TTL_MS });
      expect(result.lease.token).toBeGreaterThanOrEqual(1);
      const info = (await store.read(k)) as LeaseInfo;
      expect(info).toMatchObject({ key: k, holder: 'a', token: result.lease.token, ttlMs: LONG_TTL_MS });
      expect(info.expiresInMs).toBeGreaterThan(0);
      expect(info.expiresInMs).toBeLessThanOrEqual(LONG_TTL_MS);
    });

    test('refuses while held and reports the current holder', async () => {
      const store = await open();
      const k = key('held');
      const a = await store.acquire({ key: k, holder: 'a', ttlMs: LONG_TTL_MS });
      const b = await store.acquire({ key: k, holder: 'b', ttlMs: LONG_TTL_MS });
      expect(a.ok && !b.ok).toBe(true);
      if (!a.ok || b.ok) return;
      expect(b.reason).toBe('held');
      expect(b.current).toMatchObject({ key: k, holder: 'a', token: a.lease.token });
    });

    test('re-acquire by the same holder is idempotent and keeps the token', async () => {
      const store = await open();
      const k = key('again');
      const first = await store.acquire({ key: k, holder: 'a', ttlMs: LONG_TTL_MS });
      const second = await store.acquire({ key: k, holder: 'a', ttlMs: LONG_TTL_MS });
      expect(first.ok && second.ok).toBe(true);
      if (!first.ok || !second.ok) return;
      expect(second.lease.token).toBe(first.lease.token);
      expect(await store.read(k)).toMatchObject({ holder: 'a', token: first.lease.token, version: second.lease.version });
    });

    test('a renew or release of an earlier grant never acts on a re-acquired one (same holder, same token)', async () => {
      const store = await open();
      const k = key('grant');
      const first = await store.acquire({ key: k, holder: 'a', ttlMs: LONG_TTL_MS });
      if (!first.ok) throw new Error('acquire failed');
      // A renewal keeps the grant's version.
      const renewed = await store.renew({ ...first.lease, ttlMs: LONG_TTL_MS });
      expect(renewed).toMatchObject({ ok: true, lease: { token: first.lease.token, version: first.lease.version } });
      const second = await store.acquire({ key: k, holder: 'a', ttlMs: LONG_TTL_MS });
      if (!second.ok) throw new Error('re-acquire failed');
      expect(second.lease.token).toBe(first.lease.token);
      expect(second.lease.version).toBeGreaterThan(first.lease.version);
      // The first grant's late renewal and release are refused and change nothing.
      const lateRenew = await store.renew({ ...first.lease, ttlMs: LONG_TTL_MS });
      expect(lateRenew).toMatchObject({ ok: false, reason: 'not-holder', current: { holder: 'a', token: second.lease.token, version: second.lease.version } });
      expect(await store.release(first.lease)).toBe(false);
      expect(await store.read(k)).toMatchObject({ holder: 'a', token: second.lease.token, version: second.lease.version });
      expect((await store.acquire({ key: k, holder: 'b', ttlMs: LONG_TTL_MS })).ok).toBe(false);
      // The current grant still renews and releases; a later grant (new holder) gets a higher version too.
      expect(await store.renew({ ...second.lease, ttlMs: LONG_TTL_MS })).toMatchObject({ ok: true });
      expect(await store.release(second.lease)).toBe(true);
      const third = await store.acquire({ key: k, holder: 'b', ttlMs: LONG_TTL_MS });
      if (!third.ok) throw new Error('acquire after release failed');
      expect(third.lease.version).toBeGreaterThan(second.lease.version);
      expect(await store.release(second.lease)).toBe(false);
    });

    test('renews only for the holder with the current token', async () => {
      const store = await open();
      const k = key('renew');
      const granted = await store.acquire({ key: k, holder: 'a', ttlMs: LONG_TTL_MS });
      if (!granted.ok) throw new Error('acquire failed');
      const { token, version } = granted.lease;
      const renewed = await store.renew({ key: k, holder: 'a', token, version, ttlMs: LONG_TTL_MS });
      expect(renewed).toMatchObject({ ok: true, lease: { key: k, holder: 'a', token, version } });
      const wrongToken = await store.renew({ key: k, holder: 'a', token: token + 1, version, ttlMs: LONG_TTL_MS });
      expect(wrongToken).toMatchObject({ ok: false, reason: 'not-holder', current: { holder: 'a', token } });
      const wrongHolder = await store.renew({ key: k, holder: 'b', token, version, ttlMs: LONG_TTL_MS });
      expect(wrongHolder).toMatchObject({ ok: false, reason: 'not-holder', current: { holder: 'a', token } });
      const wrongVersion = await store.renew({ key: k, holder: 'a', token, version: version + 1, ttlMs: LONG_TTL_MS });
      expect(wrongVersion).toMatchObject({ ok: false, reason: 'not-holder', current: { holder: 'a', token, version } });
      const unknown = await store.renew({ key: key('never'), holder: 'a', token: 1, version: 1, ttlMs: LONG_TTL_MS });
      expect(unknown).toMatchObject({ ok: false, reason: 'not-holder' });
    });

    test("expires by the store's clock; renew then fails and another acquires with a higher token", async () => {
      const store = await open();
      const k = key('expiry');
      const ttl = shortTtl();
      const a = await store.acquire({ key: k, holder: 'a', ttlMs: ttl });
      if (!a.ok) throw new Error('acquire failed');
      await expire(store, k, 'a', ttl);
      const late = await store.renew({ ...a.lease, ttlMs: ttl });
      expect(late.ok).toBe(false);
      if (late.ok) return;
      expect(['expired', 'not-holder']).toContain(late.reason);
      const b = await store.acquire({ key: k, holder: 'b', ttlMs: LONG_TTL_MS });
      expect(b.ok).toBe(true);
      if (b.ok) expect(b.lease.token).toBeGreaterThan(a.lease.token);
    });

    test('a renew after takeover fails cleanly and reports the new holder', async () => {
      const store = await open();
      const k = key('takeover');
      const ttl = shortTtl();
      const a = await store.acquire({ key: k, holder: 'a', ttlMs: ttl });
      if (!a.ok) throw new Error('acquire failed');
      await expire(store, k, 'a', ttl);
      const b = await store.acquire({ key: k, holder: 'b', ttlMs: LONG_TTL_MS });
      if (!b.ok) throw new Error('takeover failed');
      const stale = await store.renew({ ...a.lease, ttlMs: ttl });
      expect(stale).toMatchObject({ ok: false, reason: 'not-holder', current: { holder: 'b', token: b.lease.token } });
      expect(await store.release(a.lease)).toBe(false);
      expect(await store.read(k)).toMatchObject({ holder: 'b', token: b.lease.token });
    });

    test('release frees the key only for the holder; the next holder gets a higher token', async () => {
      const store = await open();
      const k = key('release');
      const a = await store.acquire({ key: k, holder: 'a', ttlMs: LONG_TTL_MS });
      if (!a.ok) throw new Error('acquire failed');
      const { token, version } = a.lease;
      expect(await store.release({ key: k, holder: 'b', token, version })).toBe(false);
      expect(await store.release({ key: k, holder: 'a', token: token + 1, version })).toBe(false);
      expect(await store.release({ key: k, holder: 'a', token, version: version + 1 })).toBe(false);
      expect(await store.release({ key: k, holder: 'a', token, version })).toBe(true);
      expect(await store.read(k)).toMatchObject({ key: k, holder: null, token });
      const after = await store.renew({ key: k, holder: 'a', token, version, ttlMs: LONG_TTL_MS });
      expect(after.ok).toBe(false);
      const b = await store.acquire({ key: k, holder: 'b', ttlMs: LONG_TTL_MS });
      expect(b.ok).toBe(true);
      if (b.ok) expect(b.lease.token).toBeGreaterThan(token);
    });

    test('transfer hands the current grant to a chosen identity with a higher token; the old grant is dead', async () => {
      const store = await open();
      const k = key('transfer');
      const a = await store.acquire({ key: k, holder: 'a', ttlMs: LONG_TTL_MS });
      if (!a.ok) throw new Error('acquire failed');
      const moved = await store.transfer({ ...a.lease, to: 'b', ttlMs: LONG_TTL_MS });
      if (!moved.ok) throw new Error(`transfer refused: ${JSON.stringify(moved)}`);
      expect(moved.lease).toMatchObject({ key: k, holder: 'b', ttlMs: LONG_TTL_MS });
      expect(moved.lease.token).toBeGreaterThan(a.lease.token);
      expect(moved.lease.version).toBeGreaterThan(a.lease.version);
      const info = (await store.read(k)) as LeaseInfo;
      expect(info).toMatchObject({ holder: 'b', token: moved.lease.token, version: moved.lease.version });
      expect(info.expiresInMs).toBeGreaterThan(0);
      // The old grant can neither renew, release nor transfer again.
      expect(await store.renew({ ...a.lease, ttlMs: LONG_TTL_MS })).toMatchObject({ ok: false, reason: 'not-holder', current: { holder: 'b' } });
      expect(await store.release(a.lease)).toBe(false);
      expect(await store.transfer({ ...a.lease, to: 'c', ttlMs: LONG_TTL_MS })).toMatchObject({ ok: false, reason: 'not-holder' });
      // Others are still held off; the recipient takes it up with an ordinary acquire, keeping the token.
      expect(await store.acquire({ key: k, holder: 'c', ttlMs: LONG_TTL_MS })).toMatchObject({ ok: false, reason: 'held', current: { holder: 'b' } });
      const taken = await store.acquire({ key: k, holder: 'b', ttlMs: LONG_TTL_MS });
      expect(taken).toMatchObject({ ok: true, lease: { holder: 'b', token: moved.lease.token } });
      if (!taken.ok) return;
      expect(await store.renew({ ...taken.lease, ttlMs: LONG_TTL_MS })).toMatchObject({ ok: true });
      expect(await store.release(taken.lease)).toBe(true);
      const next = await store.acquire({ key: k, holder: 'a', ttlMs: LONG_TTL_MS });
      if (next.ok) expect(next.lease.token).toBeGreaterThan(moved.lease.token);
      else throw new Error('acquire after release failed');
    });

    test('transfer is refused for a wrong grant and for an expired lease', async () => {
      const store = await open();
      const k = key('transfer-refused');
      const ttl = shortTtl();
      const a = await store.acquire({ key: k, holder: 'a', ttlMs: ttl });
      if (!a.ok) throw new Error('acquire failed');
      const { token, version } = a.lease;
      expect(await store.transfer({ key: k, holder: 'x', token, version, to: 'b', ttlMs: ttl })).toMatchObject({ ok: false, reason: 'not-holder' });
      expect(await store.transfer({ key: k, holder: 'a', token: token + 1, version, to: 'b', ttlMs: ttl })).toMatchObject({ ok: false, reason: 'not-holder' });
      expect(await store.transfer({ key: k, holder: 'a', token, version: version + 1, to: 'b', ttlMs: ttl })).toMatchObject({ ok: false, reason: 'not-holder' });
      expect(await store.read(k)).toMatchObject({ holder: 'a', token, version });
      await expire(store, k, 'a', ttl);
      const late = await store.transfer({ ...a.lease, to: 'b', ttlMs: LONG_TTL_MS });
      expect(late.ok).toBe(false);
      if (!late.ok) expect(['expired', 'not-holder']).toContain(late.reason);
      expect((await store.read(k))?.holder ?? null).not.toBe('b');
    });

    test('tokens strictly increase across holders and across a store restart', async () => {
      const k = key('tokens');
      const tokens: number[] = [];
      let store = await open();
      const cycle = async (holder: string): Promise<void> => {
        const r = await store.acquire({ key: k, holder, ttlMs: LONG_TTL_MS });
        if (!r.ok) throw new Error(`${holder} could not acquire: ${JSON.stringify(r.current)}`);
        tokens.push(r.lease.token);
        expect(await store.release(r.lease)).toBe(true);
      };
      await cycle('a');
      await cycle('b');
      await cycle('a');
      if (harness.restart) {
        await store.close();
        await harness.restart();
        store = await open();
        await eventually(() => store.read(k));
        expect(await store.read(k)).toMatchObject({ holder: null, token: tokens.at(-1) });
      }
      await cycle('c');
      await cycle('d');
      for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1] as number);
    });

    test(`${RACERS} concurrent acquirers: exactly one wins per epoch, over ${EPOCHS} epochs`, async () => {
      const k = key('race');
      const stores = await Promise.all(Array.from({ length: RACERS }, () => open()));
      let lastToken = 0;
      for (let epoch = 0; epoch < EPOCHS; epoch++) {
        const results = await Promise.all(
          stores.map((s, i) => s.acquire({ key: k, holder: `e${epoch}-r${i}`, ttlMs: LONG_TTL_MS })),
        );
        const winners = results.flatMap((r) => (r.ok ? [r.lease] : []));
        expect(winners).toHaveLength(1);
        const winner = winners[0] as (typeof winners)[number];
        expect(winner.token).toBeGreaterThan(lastToken);
        lastToken = winner.token;
        for (const r of results) {
          if (!r.ok) expect(r).toMatchObject({ reason: 'held', current: { holder: winner.holder, token: winner.token } });
        }
        const index = Number(winner.holder.split('-r')[1]);
        expect(await (stores[index] as LeaseStore).release(winner)).toBe(true);
      }
    });

    test('renew latency (printed)', async () => {
      const store = await open();
      const k = key('latency');
      const a = await store.acquire({ key: k, holder: 'a', ttlMs: LONG_TTL_MS });
      if (!a.ok) throw new Error('acquire failed');
      const samples: number[] = [];
      for (let i = 0; i < 200; i++) {
        const started = performance.now();
        const r = await store.renew({ ...a.lease, ttlMs: LONG_TTL_MS });
        samples.push(performance.now() - started);
        expect(r.ok).toBe(true);
      }
      samples.sort((x, y) => x - y);
      const pct = (p: number): string => (samples[Math.min(samples.length - 1, Math.floor(p * samples.length))] as number).toFixed(2);
      console.log(`[conformance] ${name} renew latency over ${samples.length}: p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms`);
    });

    // Declared only where a store can be made unreachable (not memory or file): nothing is skipped.
    const outageTest = options.outage === false ? undefined : test;
    outageTest?.('store unreachable: operations fail with StoreUnavailableError in bounded time; data intact after restart', async () => {
      if (!harness.stop || !harness.start) throw new Error(`${name}: the outage case needs a harness with stop() and start()`);
      const store = await open();
      const k = key('outage');
      const a = await store.acquire({ key: k, holder: 'a', ttlMs: LONG_TTL_MS });
      if (!a.ok) throw new Error('acquire failed');
      const { token, version } = a.lease;
      await harness.stop();
      try {
        const fresh = await harness.open().catch((error: unknown) => error);
        if (!(fresh instanceof Error)) opened.push(fresh as LeaseStore);
        const calls: Array<[string, () => Promise<unknown>]> = [
          ['read', () => store.read(k)],
          ['renew', () => store.renew({ key: k, holder: 'a', token, version, ttlMs: LONG_TTL_MS })],
          ['acquire', () => store.acquire({ key: k, holder: 'b', ttlMs: LONG_TTL_MS })],
          ['release', () => store.release({ key: k, holder: 'a', token, version })],
        ];
        if (!(fresh instanceof Error)) calls.push(['read on a new instance', () => (fresh as LeaseStore).read(k)]);
        for (const [label, call] of calls) {
          const started = Date.now();
          const error = await call().then(
            (value) => new Error(`${label} succeeded while the store was down: ${JSON.stringify(value)}`),
            (e: unknown) => e,
          );
          expect(error, label).toBeInstanceOf(StoreUnavailableError);
          expect(Date.now() - started, `${label} took too long`).toBeLessThan(UNAVAILABLE_WITHIN_MS);
        }
        if (fresh instanceof Error) expect(fresh).toBeInstanceOf(StoreUnavailableError);
      } finally {
        await harness.start();
      }
      const info = await eventually(() => store.read(k));
      expect(info).toMatchObject({ key: k, holder: 'a', token });
      expect(await store.renew({ key: k, holder: 'a', token, version, ttlMs: LONG_TTL_MS })).toMatchObject({ ok: true });
      expect((await store.acquire({ key: k, holder: 'b', ttlMs: LONG_TTL_MS })).ok).toBe(false);
    });
  });
}

/** Retries `call` while it throws `StoreUnavailableError` (a store reconnecting), up to 15 s. */
async function eventually<T>(call: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof StoreUnavailableError) || Date.now() > deadline) throw error;
      await sleep(100);
    }
  }
}
