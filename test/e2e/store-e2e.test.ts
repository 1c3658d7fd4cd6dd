/**
 * Production-like end-to-end test per distributed store (Redis, PostgreSQL, etcd): a real server,
 * three real orchestrator processes (test/fixtures/orchestrator.mjs, sidecar host, `--store-url`)
 * contending for one key, and the ways a leader goes away in production.
 *
 * 1. Exactly one of the three leads.
 * 2. The leader's session idles (every session timer cleared) and it still keeps the lease, same
 *    holder and token, for more than 10 TTLs, as read from the store directly.
 * 3. SIGKILL of the leader (its sidecar lives on, sees the owner gone and releases), a crash of
 *    leader *and* sidecar (the lease can only expire), and SIGTERM (graceful stop → release): a
 *    follower leads within the failover window the keeper options promise (plus scheduling slack).
 *    Each ended process is replaced, so three contend again.
 * 4. The store server is stopped for longer than the TTL: the leader steps down at its renew
 *    deadline, before the lease could expire on the store; after the restart exactly one leads again.
 *    What the resumed token is depends on the store, see {@link StoreCase.resume}.
 * 5. Throughout: no `stale-action` (each fixture reads the store after every action and compares
 *    tokens), no two beliefs with different tokens overlap in time, tokens never go backwards.
 *
 * Renew latency is measured by the test on its own client: a probe lease on another key renewed with
 * the store's `renew` (the same operation the sidecar runs), every ~200 ms during the hold phase —
 * the host's `renewed` event does not carry the keeper's latency.
 *
 * A store whose server binary is missing is skipped with a printed reason, unless
 * HEARTBEAT_LAB_REQUIRE_SERVERS=1 (CI), where that is an error.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { failoverWindow, resolveKeeperOptions } from '../../src/keeper/keeper-options.js';
import type { LeaseInfo, LeaseStore } from '../../src/store/lease-store.js';
import { openLeaseStore } from '../../src/store/open-store.js';
import { missingServer, startEtcd, startPostgres, startRedis, type ServerKind, type TestServer } from '../support/servers.js';
import { beliefs, firstLeaderSince, lastOf, overlaps, percentile, tokenRegressions } from './analysis.js';
import { buildE2e } from './build-e2e.js';
import { disposeAll, Orchestrator, type Timing } from '../support/orchestrator.js';
import { sleep, waitUntil } from '../support/wait.js';

/** Short lease timing for every store. etcd TTLs are whole seconds: 2000 ms is exactly 2 s there. */
const TIMING: Timing = { ttlMs: 2000, renewIntervalMs: 500, renewDeadlineMs: 1200, requestTimeoutMs: 300 };
/** Scheduling slack on a loaded 2-core machine (IPC to the owner, process wake-ups) added to each failover window. */
const SLACK_MS = 1000;
/**
 * Slack on "steps down within renew deadline + request timeout after the last renewal". That sum is
 * the keeper's own worst case: a renewal retry still in flight at the deadline is only given up when
 * it times out (seen with Redis, whose client waits for the reconnection). The slack covers the
 * `stopped-leading` IPC to the owner and timer granularity; it stays well below the owner's own
 * validity (ttl × (1 − drift) = 1980 ms after the renewal was sent).
 */
const STEP_DOWN_SLACK_MS = 200;
/** How long the server stays down: longer than the renew deadline and than the TTL. */
const OUTAGE_MS = TIMING.ttlMs + 1500;
const KEY = 'e2e-leader';

interface StoreCase {
  readonly kind: ServerKind;
  readonly start: () => Promise<TestServer>;
  /** Extra time the store may take past the TTL to let an expired lease go. */
  readonly expiryLagMs: number;
  /**
   * After an outage longer than the TTL:
   * - `higher-token`: the lease expired on the store, so whoever leads next has a higher token;
   * - `same-holder-or-higher`: the store may have kept the lease alive across its restart, so the
   *   old holder may take it back with the same token; anyone else gets a higher one.
   */
  readonly resume: 'higher-token' | 'same-holder-or-higher';
  readonly why: string;
}

const CASES: StoreCase[] = [
  {
    kind: 'redis',
    start: startRedis,
    expiryLagMs: 0,
    resume: 'higher-token',
    why: 'the lease hash stores an absolute expiry judged on the server TIME and is persisted (AOF, fsync always): an outage longer than the TTL leaves it expired',
  },
  {
    kind: 'postgres',
    start: startPostgres,
    expiryLagMs: 0,
    resume: 'higher-token',
    why: 'expires_at is an absolute timestamp compared with the server now(): an outage longer than the TTL leaves it expired',
  },
  {
    kind: 'etcd',
    start: startEtcd,
    // The etcd lease TTL is the TTL rounded up to whole seconds, and etcd checks expiry about every 500 ms.
    expiryLagMs: 1000,
    resume: 'same-holder-or-higher',
    why: 'etcd refreshes every lease when its leader (re)starts, so the record outlives the outage by another TTL: the old holder keeps its token if it asks again in time, otherwise the next holder gets a higher one',
  },
];

const window = failoverWindow(resolveKeeperOptions({ key: KEY, identity: 'bound', ...TIMING }));
const summaries: string[] = [];
let dist = '';

beforeAll(async () => {
  if (CASES.every((c) => missingServer(c.kind) !== null)) return;
  dist = (await buildE2e()).dist;
}, 180_000);

afterEach(async () => {
  await disposeAll();
});

afterAll(() => {
  if (summaries.length > 0) process.stdout.write(`\n${summaries.join('\n')}\n`);
});

/** Reads the key, retrying store errors (a client reconnecting after an outage) for up to `timeoutMs`. */
async function readLease(store: LeaseStore, timeoutMs = 10_000): Promise<LeaseInfo | null> {
  let lastError: unknown;
  const deadline = Date.now() + timeoutMs;
  do {
    try {
      return await store.read(KEY);
    } catch (error) {
      lastError = error;
      await sleep(100);
    }
  } while (Date.now() < deadline);
  throw new Error(`could not read the lease within ${timeoutMs} ms: ${String(lastError)}`);
}

describe.each(CASES)('store e2e: $kind', (store) => {
  const skip = missingServer(store.kind);
  if (skip !== null) console.warn(`[e2e] ${skip}`);
  let server: TestServer | undefined;

  beforeAll(async () => {
    if (skip === null) server = await store.start();
  }, 120_000);

  afterAll(async () => {
    await disposeAll();
    await server?.dispose();
  }, 60_000);

  it.skipIf(skip !== null)(
    'one leader among three processes; holds while idle; fails over on SIGKILL, crash and SIGTERM; steps down and resumes across a store outage; no stale action',
    async () => {
      const url = (server as TestServer).url;
      const all: Orchestrator[] = [];
      let count = 0;
      const spawnOne = async (): Promise<Orchestrator> => {
        const o = await Orchestrator.start({
          host: 'sidecar', store: { url, key: KEY }, identity: `${store.kind}-orchestrator-${++count}`, dist, timing: TIMING,
          args: ['--idle-after', '300', '--action-every', '100'],
        });
        all.push(o);
        return o;
      };
      const describeAll = (): string => all.map((o) => o.describe()).join('\n\n');
      const leaders = (): Orchestrator[] => all.filter((o) => o.leading);
      /** Waits for the first `leading` line since `since`; returns it with the time it took. */
      const nextLeader = async (what: string, since: number, timeoutMs: number): Promise<{ o: Orchestrator; token: number; t: number; ms: number }> => {
        const found = await waitUntil(what, timeoutMs, () => firstLeaderSince(all, since)).catch((error: Error) => {
          throw new Error(`${error.message}\n${describeAll()}`);
        });
        return { o: found.o, token: found.line.token as number, t: found.line.t, ms: found.line.t - since };
      };
      /** Waits until exactly one process believes it leads and has renewed at least twice since it started to. */
      const stableLeader = async (what: string): Promise<Orchestrator> =>
        waitUntil(what, 15_000, () => {
          const now = leaders();
          if (now.length !== 1) return undefined;
          const o = now[0] as Orchestrator;
          const since = lastOf(o.lines, (l) => l.event === 'leading')?.t ?? Infinity;
          return o.events('renewed', (l) => l.t > since).length >= 2 ? o : undefined;
        }).catch((error: Error) => {
          throw new Error(`${error.message}\n${describeAll()}`);
        });

      let reader = await openLeaseStore(url);
      try {
        // 1. Three contenders, exactly one leads.
        await Promise.all([spawnOne(), spawnOne(), spawnOne()]);
        const leader = await stableLeader('a first leader');
        const token1 = leader.events('leading')[0]?.token as number;
        await sleep(TIMING.ttlMs);
        expect(leaders().map((o) => o.identity)).toEqual([leader.identity]);
        expect(all.filter((o) => o.events('leading').length > 0).map((o) => o.identity)).toEqual([leader.identity]);
        expect(await reader.read(KEY)).toMatchObject({ holder: leader.identity, token: token1 });

        // 2. Its session idles; the lease stays with it, same token, for more than 10 TTLs.
        const idle = await leader.waitFor('idle', 10_000, (l) => l.event === 'idle');
        expect(idle.cleared).toBeGreaterThanOrEqual(1); // the session's own heartbeat timer is gone
        const holdUntil = Math.max(idle.t, Date.now()) + 10 * TIMING.ttlMs + TIMING.renewIntervalMs;
        const probe = { key: 'e2e-latency-probe', holder: 'latency-probe', token: 0, version: 0 };
        const renewLatencies: number[] = [];
        const wrong: Array<LeaseInfo | null> = [];
        let samples = 0;
        while (Date.now() < holdUntil) {
          const info = await reader.read(KEY);
          samples += 1;
          const alive = info !== null && (store.kind === 'etcd' ? info.expiresInMs >= 0 : info.expiresInMs > 0);
          if (info?.holder !== leader.identity || info.token !== token1 || !alive) wrong.push(info);
          if (probe.token === 0) {
            const got = await reader.acquire({ key: probe.key, holder: probe.holder, ttlMs: TIMING.ttlMs });
            if (got.ok) ({ token: probe.token, version: probe.version } = got.lease);
          } else {
            const sentAt = performance.now();
            const renewed = await reader.renew({ ...probe, ttlMs: TIMING.ttlMs });
            if (renewed.ok) renewLatencies.push(performance.now() - sentAt);
            else probe.token = 0;
          }
          await sleep(200);
        }
        const heldMs = Date.now() - idle.t;
        expect(wrong, `store readings that were not ${leader.identity}/${token1} while it held the lease`).toEqual([]);
        expect(samples).toBeGreaterThanOrEqual(40);
        expect(heldMs).toBeGreaterThanOrEqual(10 * TIMING.ttlMs);
        expect(leader.events('not-leading'), leader.describe()).toEqual([]);
        expect(new Set(leader.events('renewed').map((l) => l.token))).toEqual(new Set([token1]));
        expect(leader.events('renewed', (l) => l.t > idle.t).length).toBeGreaterThanOrEqual((10 * TIMING.ttlMs) / TIMING.renewIntervalMs / 2);
        expect(leaders().map((o) => o.identity)).toEqual([leader.identity]);
        const holdWindow = (l: { t: number }): boolean => l.t > idle.t && l.t < holdUntil;
        const holdActions = leader.events('action', holdWindow).length;
        const holdUnchecked = leader.events('action-unchecked', holdWindow);
        expect(holdActions).toBeGreaterThanOrEqual(100);
        expect(holdUnchecked.length, JSON.stringify(holdUnchecked.slice(0, 5))).toBeLessThanOrEqual(Math.ceil(holdActions * 0.02));

        // 3a. SIGKILL of the leader: its sidecar sees the owner gone and releases.
        const killedAt = leader.kill();
        const afterKill = await nextLeader('a leader after SIGKILL', killedAt, 15_000);
        expect(afterKill.o).not.toBe(leader);
        expect(afterKill.token).toBeGreaterThan(token1);
        expect(afterKill.ms, describeAll()).toBeLessThanOrEqual(window.afterOwnerDeathMs + SLACK_MS);
        await waitUntil(`the sidecar of ${leader.identity} to release and exit`, 10_000, () => leader.sidecarExited);
        await spawnOne();

        // 3b. Crash of leader and sidecar together: the lease must expire on the store first.
        const leader2 = await stableLeader('a stable leader before the crash');
        const crashedAt = leader2.crash();
        const afterCrash = await nextLeader('a leader after the crash', crashedAt, 20_000);
        expect(afterCrash.token).toBeGreaterThan(afterKill.token);
        expect(afterCrash.ms, describeAll()).toBeLessThanOrEqual(window.afterCrashMs + store.expiryLagMs + SLACK_MS);
        await spawnOne();

        // 3c. SIGTERM: graceful stop, release, exit 0; a follower takes over at once.
        const leader3 = await stableLeader('a stable leader before SIGTERM');
        const terminatedAt = leader3.terminate();
        const afterStop = await nextLeader('a leader after SIGTERM', terminatedAt, 15_000);
        const stopped = await leader3.waitFor('stopped', 10_000, (l) => l.event === 'stopped');
        const gaveUp = leader3.events('not-leading', (l) => l.t >= terminatedAt)[0];
        expect(gaveUp?.reason).toBe('stopped');
        expect(gaveUp?.t as number).toBeLessThanOrEqual(stopped.t);
        expect(afterStop.token).toBeGreaterThan(afterCrash.token);
        expect(afterStop.ms, describeAll()).toBeLessThanOrEqual(window.afterCleanStopMs + SLACK_MS);
        await waitUntil(`${leader3.identity} to exit`, 10_000, () => !leader3.running);
        expect(leader3.exitCode).toBe(0);
        await spawnOne();

        // 4. Store outage longer than the TTL: step down at the renew deadline, then exactly one resumes.
        const leader4 = await stableLeader('a stable leader before the outage');
        const token4 = lastOf(leader4.lines, (l) => l.event === 'leading')?.token as number;
        const outageAt = Date.now();
        await (server as TestServer).stop();
        const down = await leader4.waitFor('not-leading during the outage', 10_000, (l) => l.event === 'not-leading' && l.t >= outageAt);
        const lastRenewal = lastOf(leader4.lines, (l) => l.event === 'renewed' && l.t <= down.t);
        const stepDownMs = down.t - (lastRenewal?.t ?? -Infinity);
        expect(down.reason).toBe('renew-deadline');
        expect(stepDownMs, leader4.describe()).toBeLessThanOrEqual(TIMING.renewDeadlineMs + TIMING.requestTimeoutMs + STEP_DOWN_SLACK_MS);
        await sleep(outageAt + OUTAGE_MS - Date.now());
        expect(leaders(), 'nobody may lead while the store is down').toEqual([]);
        const restartAt = Date.now();
        await (server as TestServer).start();
        const restartedAt = Date.now();
        const resumed = await nextLeader('a leader after the store restart', down.t, 30_000);
        await sleep(TIMING.ttlMs);
        expect(leaders().map((o) => o.identity), describeAll()).toEqual([resumed.o.identity]);
        // Every store grants the same token again only to the same holder of a lease that is still
        // live on the store (redis: exp > TIME, postgres: expires_at > now(), etcd: the record still
        // exists); an expired or freed lease always gets last token + 1. So "same token" here means
        // the lease never expired on the store.
        const sameHolder = resumed.o === leader4 && resumed.token === token4;
        if (store.resume === 'higher-token') expect(resumed.token).toBeGreaterThan(token4);
        else expect(resumed.token > token4 || sameHolder, `resumed ${resumed.o.identity}/${resumed.token} after ${leader4.identity}/${token4}`).toBe(true);
        await reader.close();
        reader = await openLeaseStore(url); // a fresh client: the old one may still be backing off
        expect(await readLease(reader)).toMatchObject({ holder: resumed.o.identity, token: resumed.token });

        // 5. Throughout: no stale action, no overlapping beliefs, tokens never backwards.
        const stale = all.flatMap((o) => o.events('stale-action').map((l) => ({ identity: o.identity, ...l })));
        expect(stale).toEqual([]);
        const held = beliefs(all);
        expect(overlaps(held)).toEqual([]);
        expect(tokenRegressions(all)).toEqual([]);
        const actions = all.reduce((n, o) => n + o.events('action').length, 0);
        const checked = all.reduce((n, o) => n + o.events('action-checked').length, 0);
        const unchecked = all.reduce((n, o) => n + o.events('action-unchecked').length, 0);
        expect(checked).toBeGreaterThanOrEqual(actions * 0.5);

        const p50 = percentile(renewLatencies, 50);
        const p99 = percentile(renewLatencies, 99);
        const resumedHow = sameHolder ? 'same holder, same token (the lease outlived the outage)' : `new token ${resumed.token} > ${token4} (the lease expired)`;
        const summary =
          `e2e ${store.kind}: failover after SIGKILL ${afterKill.ms} ms, after clean shutdown ${afterStop.ms} ms, ` +
          `renew latency p50/p99 ${p50.toFixed(1)}/${p99.toFixed(1)} ms (${renewLatencies.length} store renewals by the test)` +
          ` | crash of owner+sidecar ${afterCrash.ms} ms; outage: step-down ${stepDownMs} ms after the last renewal (${down.reason}), ` +
          `leader again ${resumed.t - restartAt} ms after the restart began (server down ${restartAt - outageAt} ms; its start took ${restartedAt - restartAt} ms), ${resumedHow}; ` +
          `held ${heldMs} ms idle (${samples} store reads); actions ${actions}: ${checked} checked, ${unchecked} inconclusive, ${stale.length} stale; ` +
          `${held.length} beliefs, tokens ${token1}→${resumed.token}`;
        summaries.push(summary);
        console.log(summary);
      } finally {
        await reader.close();
      }
    },
    170_000,
  );
});
