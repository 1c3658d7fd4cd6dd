/*
 * Why this file stays whole (~440 lines): each operation is one etcd transaction whose compares
 * (`createdAt`, `sameMod`), ops (`range`, `put`) and record decoding are written against the data layout
 * documented on the class; read apart, a compare cannot be checked against the layout it guards. The helpers
 * at the bottom are small, private and used only here. Driver loading and URL redaction already live in
 * drivers.ts, the client shape in driver-clients.ts, the shared keep-alive stream in etcd-keepalive.ts
 * and the batched snapshot reads in etcd-batch-read.ts.
 */

import type { Etcd3, IKeyValue, IOptions, IRequestOp } from 'etcd3';
import { SystemClock, type Clock } from '../clock.js';
import { ConfigError, HeartbeatLabError, StoreCorruptError, StoreUnavailableError } from '../errors.js';
import type {
  AcquireRequest,
  AcquireResult,
  LeaseInfo,
  LeaseStore,
  ReleaseRequest,
  RenewRequest,
  RenewResult,
  TransferRequest,
  TransferResult,
} from './lease-store.js';
import { asDriver, type EtcdClient } from './driver-clients.js';
import { importDriver, redactUrl } from './drivers.js';
import { etcdBatchRead, type EtcdBatchRead } from './etcd-batch-read.js';
import { EtcdKeepAlive } from './etcd-keepalive.js';

/** Options of {@link EtcdLeaseStore}. */
export interface EtcdLeaseStoreOptions {
  /** Prepended to every key this store writes. @default 'heartbeat-lab/' */
  readonly keyPrefix?: string;
  /**
   * gRPC deadline of each call (used by {@link EtcdLeaseStore.connect}), and how long a renewal
   * waits for its answer on the shared keep-alive stream. @default 2000
   */
  readonly requestTimeoutMs?: number;
  /** Close the client on `close()`. {@link EtcdLeaseStore.connect} sets it. @default false */
  readonly closeClient?: boolean;
  /** Wall clock for gRPC deadlines, and the keep-alive stream's timers. @default new SystemClock({ unref: true }) */
  readonly clock?: Clock;
}

/** The live lease record, attached to an etcd lease: it disappears when that lease expires. */
interface LeaseRecord {
  holder: string;
  token: number;
  /** Grant version: bumped by every acquire, kept by renewals (absent in older records: 0). */
  version: number;
  ttlMs: number;
}

/** The never-expiring record of the last token issued; `holder` is null after a release. */
interface TokenRecord {
  token: number;
  holder: string | null;
  /** Version of the last grant, so a re-grant after expiry still gets a higher one. */
  version: number;
  ttlMs: number;
}

interface Entry<R> {
  readonly kv: IKeyValue;
  readonly record: R;
}

interface Snapshot {
  readonly lease: Entry<LeaseRecord> | null;
  readonly counter: Entry<TokenRecord> | null;
}

type Policy = NonNullable<NonNullable<IOptions['faultHandling']>['global']>;

const MAX_ATTEMPTS = 4;
/**
 * etcd's lessor looks for expired leases every 500 ms and revokes them through raft: a lease
 * outlives its TTL by up to that, plus a raft round and scheduling on a loaded node (250 ms allowed).
 */
const EXPIRY_SWEEP_MS = 500;
const REVOKE_ROUND_MS = 250;
/** The shared keep-alive stream is ended after this long without a renewal in flight. */
const KEEPALIVE_IDLE_MS = 2_000;
/** Snapshot reads: transactions in flight at once, range ops per transaction (etcd's default limit is 128). */
const READ_BATCH = { maxInFlight: 1, maxOps: 128 } as const;

/**
 * Lease store on etcd v3 (etcd3). The lease record `<prefix>lease/<key>` is attached to an etcd
 * lease granted with the TTL rounded up to whole seconds, so etcd's leader deletes it on expiry
 * (on the server's clock; etcd checks expiry about every 500 ms and enforces its own minimum TTL
 * of 1.5 × election timeout). Acquisition is a transaction comparing the record's create revision
 * (absent) and the token record's mod revision; the token record `<prefix>token/<key>` never
 * expires, so tokens strictly increase across holders and restarts. `renew` sends one explicit
 * keep-alive for the stored lease (no background keep-alives), as a message on one keep-alive
 * stream the store shares between all its renewals ({@link EtcdKeepAlive}); a new TTL re-attaches the record
 * to a fresh lease. `expiresInMs` is etcd's remaining TTL in whole seconds (rounded down), and
 * expired leases are forgotten (`holder: null`).
 */
export class EtcdLeaseStore implements LeaseStore {
  readonly kind = 'etcd';
  readonly #client: Etcd3;
  readonly #prefix: string;
  readonly #closeClient: boolean;
  readonly #keepAlive: EtcdKeepAlive;
  readonly #reads: EtcdBatchRead;
  /** Largest TTL etcd granted beyond the one asked (its minimum TTL), in seconds; 0 until seen. */
  #minTtlSec = 0;
  #closed = false;

  /** Wraps an existing client. */
  constructor(client: EtcdClient, options: EtcdLeaseStoreOptions = {}) {
    this.#client = asDriver<Etcd3>(client);
    this.#prefix = options.keyPrefix ?? 'heartbeat-lab/';
    this.#closeClient = options.closeClient ?? false;
    const clock = options.clock ?? new SystemClock({ unref: true });
    this.#keepAlive = new EtcdKeepAlive(this.#client, { clock, timeoutMs: options.requestTimeoutMs ?? 2_000, idleMs: KEEPALIVE_IDLE_MS });
    this.#reads = etcdBatchRead(this.#client, READ_BATCH);
  }

  /** Keep-alive streams this store opened so far: one per outage or idle gap, not one per renewal. */
  get keepAliveStreamsOpened(): number {
    return this.#keepAlive.streamsOpened;
  }

  /**
   * Connects to `endpoints`: an `etcd://[user:password@]host:port[,host:port]` (`etcds://` for TLS)
   * URL, a comma-separated list of `http(s)://host:port`, or an array of those; by default
   * `ETCD_ENDPOINTS` or `http://127.0.0.1:2379`. Loads `etcd3` on first use.
   */
  static async connect(endpoints?: string | readonly string[], options: EtcdLeaseStoreOptions = {}): Promise<EtcdLeaseStore> {
    const target = endpoints ?? process.env.ETCD_ENDPOINTS ?? 'http://127.0.0.1:2379';
    const text = typeof target === 'string' ? target : target.join(',');
    const { hosts, auth } = parseEndpoints(text);
    const etcd = await importDriver('etcd3', 'etcd://', text, () => import('etcd3'));
    const clock = options.clock ?? new SystemClock({ unref: true });
    const timeoutMs = options.requestTimeoutMs ?? 2_000;
    const client = new etcd.Etcd3({
      hosts,
      ...(auth === undefined ? {} : { auth }),
      defaultCallOptions: () => ({ deadline: new Date(clock.wallNow() + timeoutMs) }),
      // The keeper owns retries and timing: fail fast, try each host at most once per call.
      faultHandling: {
        host: () => retryPolicy(1, etcd.isRecoverableError),
        global: retryPolicy(hosts.length, etcd.isRecoverableError),
      },
    });
    return new EtcdLeaseStore(client, { closeClient: true, ...options });
  }

  async acquire(request: AcquireRequest): Promise<AcquireResult> {
    return this.#guard('acquire', async () => {
      const ttlMs = ttlOf(request.ttlMs);
      let snap = await this.#snapshot(request.key);
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const live = snap.lease;
        if (live !== null && live.record.holder !== request.holder) {
          const current = await this.#info(request.key, snap);
          if (current !== null && current.holder !== null) return { ok: false, reason: 'held', current };
        } else if (live !== null) {
          const record = { ...live.record, version: nextVersion(snap), ttlMs };
          if (await this.#refresh(request.key, live, record)) return { ok: true, lease: { key: request.key, ...record } };
        } else {
          const token = Math.max(snap.counter?.record.token ?? 0, 0) + 1;
          const record = { holder: request.holder, token, version: nextVersion(snap), ttlMs };
          const won = await this.#claim(request.key, snap, record);
          if (won === true) return { ok: true, lease: { key: request.key, ...record } };
          snap = won;
          continue;
        }
        snap = await this.#snapshot(request.key);
      }
      throw new StoreUnavailableError(`etcd acquire of ${JSON.stringify(request.key)} kept racing; try again`);
    });
  }

  async renew(request: RenewRequest): Promise<RenewResult> {
    return this.#guard('renew', async () => {
      const ttlMs = ttlOf(request.ttlMs);
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const snap = await this.#snapshot(request.key);
        const live = snap.lease;
        if (live === null || !isGrant(live.record, request)) return this.#refusal(request, snap);
        const lease = { key: request.key, holder: request.holder, token: request.token, version: request.version, ttlMs };
        if (live.record.ttlMs === ttlMs) {
          if ((await this.#keepalive(live.kv.lease)) > 0) return { ok: true, lease };
          return { ok: false, reason: 'expired', current: await this.#info(request.key, await this.#snapshot(request.key)) };
        }
        if (await this.#refresh(request.key, live, { ...live.record, ttlMs })) return { ok: true, lease };
      }
      throw new StoreUnavailableError(`etcd renew of ${JSON.stringify(request.key)} kept racing; try again`);
    });
  }

  async release(request: ReleaseRequest): Promise<boolean> {
    return this.#guard('release', async () => {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const snap = await this.#snapshot(request.key);
        const { lease: live, counter } = snap;
        const freed: TokenRecord = { token: request.token, holder: null, version: request.version, ttlMs: counter?.record.ttlMs ?? 0 };
        if (live !== null) {
          if (!isGrant(live.record, request)) return false;
          const done = await this.#txn([sameMod(this.#leaseKey(request.key), live.kv)], [
            { request_delete_range: { key: Buffer.from(this.#leaseKey(request.key)) } },
            put(this.#tokenKey(request.key), freed),
          ]);
          if (done) await this.#revoke(live.kv.lease);
          if (done) return true;
        } else {
          // Expired already: still forget the holder, as the other stores do.
          if (counter === null || !isGrant(counter.record, request)) return false;
          const absent = createdAt(this.#leaseKey(request.key), 0);
          if (await this.#txn([absent, sameMod(this.#tokenKey(request.key), counter.kv)], [put(this.#tokenKey(request.key), freed)])) {
            return true;
          }
        }
      }
      throw new StoreUnavailableError(`etcd release of ${JSON.stringify(request.key)} kept racing; try again`);
    });
  }

  /**
   * ttl rounded up to whole seconds (or etcd's minimum TTL, once a grant showed it) + the 500 ms
   * expiry sweep + a raft round: with ttl 1 s a dead holder's lease lingers up to 1.75 s (measured: 1.48-1.51 s).
   */
  expiryBoundMs(ttlMs: number): number {
    return Math.max(ttlSeconds(ttlMs), this.#minTtlSec) * 1000 + EXPIRY_SWEEP_MS + REVOKE_ROUND_MS;
  }

  async transfer(request: TransferRequest): Promise<TransferResult> {
    if (typeof request.to !== 'string' || request.to === '') throw new ConfigError('to', 'must be a non-empty identity', request.to);
    return this.#guard('transfer', async () => {
      const ttlMs = ttlOf(request.ttlMs);
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const snap = await this.#snapshot(request.key);
        const live = snap.lease;
        if (live === null || !isGrant(live.record, request)) return this.#refusal(request, snap);
        const token = Math.max(snap.counter?.record.token ?? 0, live.record.token) + 1;
        const record = { holder: request.to, token, version: nextVersion(snap), ttlMs };
        if (await this.#refresh(request.key, live, record)) return { ok: true, lease: { key: request.key, ...record } };
      }
      throw new StoreUnavailableError(`etcd transfer of ${JSON.stringify(request.key)} kept racing; try again`);
    });
  }

  async read(key: string): Promise<LeaseInfo | null> {
    return this.#guard('read', async () => this.#info(key, await this.#snapshot(key)));
  }

  /** `await using store = ...`: closes the store on scope exit (leases are not released). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#keepAlive.close();
    if (this.#closeClient) this.#client.close();
  }

  /** Takes a free key: grant a lease, then put both records if nothing changed since `snap`. */
  async #claim(key: string, snap: Snapshot, record: LeaseRecord): Promise<true | Snapshot> {
    const leaseId = await this.#grant(record.ttlMs);
    const response = await this.#client.kv.txn({
      compare: [createdAt(this.#leaseKey(key), 0), sameMod(this.#tokenKey(key), snap.counter?.kv)],
      success: [
        put(this.#tokenKey(key), { ...record }),
        put(this.#leaseKey(key), record, leaseId),
      ],
      failure: [range(this.#leaseKey(key)), range(this.#tokenKey(key))],
    });
    if (response.succeeded) return true;
    await this.#revoke(leaseId);
    return this.#parse(key, response.responses[0]?.response_range.kvs[0], response.responses[1]?.response_range.kvs[0]);
  }

  /** Restarts the holder's TTL under a fresh lease (the TTL may have changed); false if the record moved. */
  async #refresh(key: string, live: Entry<LeaseRecord>, record: LeaseRecord): Promise<boolean> {
    const leaseId = await this.#grant(record.ttlMs);
    const done = await this.#txn(
      [sameMod(this.#leaseKey(key), live.kv)],
      [put(this.#leaseKey(key), record, leaseId), put(this.#tokenKey(key), { ...record })],
    );
    await this.#revoke(done ? live.kv.lease : leaseId);
    return done;
  }

  /** Why a renew or transfer of `request`'s grant is refused: the record vanished with its etcd lease (expired, if the last grant was ours), or it is someone else's. */
  async #refusal(request: RenewRequest | TransferRequest, snap: Snapshot): Promise<RenewResult> {
    const counter = snap.counter?.record;
    const reason = snap.lease === null && counter !== undefined && isGrant(counter, request) ? 'expired' : 'not-holder';
    return { ok: false, reason, current: await this.#info(request.key, snap) };
  }

  /** Both records of `key` at one revision (in a transaction shared with other reads queued meanwhile). */
  async #snapshot(key: string): Promise<Snapshot> {
    const [lease, token] = await this.#reads.run([this.#leaseKey(key), this.#tokenKey(key)]);
    return this.#parse(key, lease, token);
  }

  async #info(key: string, snap: Snapshot): Promise<LeaseInfo | null> {
    if (snap.lease !== null) {
      const { record, kv } = snap.lease;
      const ttl = Number((await this.#client.leaseClient.leaseTimeToLive({ ID: kv.lease })).TTL);
      // -1: the lease (and with it the record) is gone since the snapshot.
      if (ttl >= 0) return { key, holder: record.holder, token: record.token, version: record.version, ttlMs: record.ttlMs, expiresInMs: ttl * 1000 };
      return this.#info(key, await this.#snapshot(key));
    }
    if (snap.counter !== null) {
      const { token, version, ttlMs } = snap.counter.record;
      return { key, holder: null, token, version, ttlMs, expiresInMs: 0 };
    }
    return null;
  }

  async #grant(ttlMs: number): Promise<string> {
    const asked = ttlSeconds(ttlMs);
    const granted = await this.#client.leaseClient.leaseGrant({ TTL: asked });
    const seconds = Number(granted.TTL);
    if (Number.isFinite(seconds) && seconds > asked) this.#minTtlSec = Math.max(this.#minTtlSec, seconds);
    return granted.ID;
  }

  /** Best effort: an unused lease that survives a failed revoke simply expires. */
  async #revoke(leaseId: string): Promise<void> {
    if (leaseId === '0') return;
    await this.#client.leaseClient.leaseRevoke({ ID: leaseId }).catch(() => undefined);
  }

  /** One keep-alive on the shared stream; returns the new TTL in seconds, 0 when etcd no longer knows the lease. */
  #keepalive(leaseId: string): Promise<number> {
    return this.#keepAlive.keepAlive(leaseId);
  }

  async #txn(compare: Compare[], success: IRequestOp[]): Promise<boolean> {
    return (await this.#client.kv.txn({ compare, success })).succeeded;
  }

  #parse(key: string, leaseKv: IKeyValue | undefined, tokenKv: IKeyValue | undefined): Snapshot {
    const lease = leaseKv === undefined ? null : { kv: leaseKv, record: decode(this.#leaseKey(key), leaseKv, false) as LeaseRecord };
    const counter = tokenKv === undefined ? null : { kv: tokenKv, record: decode(this.#tokenKey(key), tokenKv, true) };
    return { lease, counter };
  }

  #leaseKey(key: string): string {
    return `${this.#prefix}lease/${key}`;
  }

  #tokenKey(key: string): string {
    return `${this.#prefix}token/${key}`;
  }

  async #guard<T>(operation: string, run: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new StoreUnavailableError('etcd lease store is closed');
    try {
      return await run();
    } catch (error) {
      if (error instanceof HeartbeatLabError) throw error;
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new StoreUnavailableError(`etcd ${operation} failed: ${message}`, { cause: error });
    }
  }
}

type Compare = NonNullable<Parameters<Etcd3['kv']['txn']>[0]['compare']>[number];

function createdAt(key: string, revision: number): Compare {
  return { key: Buffer.from(key), target: 'Create', result: 'Equal', create_revision: revision };
}

/** The key's mod revision still equals `kv`'s (0: still absent). */
function sameMod(key: string, kv: IKeyValue | undefined): Compare {
  return { key: Buffer.from(key), target: 'Mod', result: 'Equal', mod_revision: kv?.mod_revision ?? 0 };
}

function range(key: string): IRequestOp {
  return { request_range: { key: Buffer.from(key) } };
}

function put(key: string, value: object, lease?: string): IRequestOp {
  return { request_put: { key: Buffer.from(key), value: Buffer.from(JSON.stringify(value)), ...(lease ? { lease } : {}) } };
}

function decode(location: string, kv: IKeyValue, isToken: boolean): LeaseRecord | TokenRecord {
  let value: unknown;
  try {
    value = JSON.parse(kv.value.toString('utf8'));
  } catch (error) {
    throw new StoreCorruptError(`etcd key ${location}`, 'value is not JSON', { cause: error });
  }
  const v = value as Partial<TokenRecord> | null;
  const holderOk = typeof v?.holder === 'string' || (isToken && v?.holder === null);
  const version = v?.version ?? 0;
  if (v === null || typeof v !== 'object' || !Number.isSafeInteger(v.token) || typeof v.ttlMs !== 'number' || !holderOk || !Number.isSafeInteger(version)) {
    throw new StoreCorruptError(`etcd key ${location}`, `unexpected value ${kv.value.toString('utf8').slice(0, 200)}`);
  }
  return { holder: v.holder as string | null, token: v.token as number, version, ttlMs: v.ttlMs };
}

/** The record is still the grant the request was issued for. */
function isGrant(record: TokenRecord, request: ReleaseRequest): boolean {
  return record.holder === request.holder && record.token === request.token && record.version === request.version;
}

/** A version above every grant the snapshot knows of. */
function nextVersion(snap: Snapshot): number {
  return Math.max(snap.lease?.record.version ?? 0, snap.counter?.record.version ?? 0) + 1;
}

function ttlOf(ttlMs: number): number {
  return Math.max(1, Math.ceil(ttlMs));
}

/** etcd TTLs are whole seconds: rounded *up*, so the store never ends a lease before the keeper's validity. */
function ttlSeconds(ttlMs: number): number {
  return Math.max(1, Math.ceil(ttlMs / 1000));
}

/** A cockatiel-shaped policy that retries recoverable errors immediately, `attempts` times in all. */
function retryPolicy(attempts: number, recoverable: (error: Error) => boolean): Policy {
  const noEvent = () => ({ dispose: () => undefined });
  const policy = {
    onSuccess: noEvent,
    onFailure: noEvent,
    async execute<T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T> {
      for (let attempt = 1; ; attempt++) {
        try {
          return await fn({ signal: signal ?? new AbortController().signal });
        } catch (error) {
          if (attempt >= attempts || !(error instanceof Error) || !recoverable(error)) throw error;
        }
      }
    },
  };
  return policy as unknown as Policy;
}

/** Parses `etcd://[user:pass@]h:p[,h:p]`, `etcds://…` or `http(s)://h:p[,…]` into etcd3 hosts and auth. */
function parseEndpoints(text: string): { hosts: string[]; auth?: { username: string; password: string } } {
  const match = /^(etcds?):\/\/(?:([^@/]*)@)?([^/?#]+)\/?$/i.exec(text.trim());
  if (match === null) {
    const hosts = text
      .split(',')
      .map((h) => h.trim())
      .filter((h) => h !== '')
      .map((h) => (/^https?:\/\//i.test(h) ? h : `http://${h}`));
    if (hosts.length === 0) throw new ConfigError('store', 'etcd endpoints must name at least one host:port', redactUrl(text));
    return { hosts };
  }
  const [, scheme, userinfo, hostList] = match as unknown as [string, string, string | undefined, string];
  const protocol = scheme.toLowerCase() === 'etcds' ? 'https' : 'http';
  const hosts = hostList.split(',').map((h) => `${protocol}://${h.trim()}`);
  if (hosts.some((h) => !/^https?:\/\/[^:/]+:\d+$|^https?:\/\/\[[0-9a-f:.]+\]:\d+$/i.test(h))) {
    throw new ConfigError('store', 'an etcd URL lists host:port pairs, like etcd://10.0.0.1:2379,10.0.0.2:2379', redactUrl(text));
  }
  if (userinfo === undefined) return { hosts };
  const colon = userinfo.indexOf(':');
  const username = decodeURIComponent(colon === -1 ? userinfo : userinfo.slice(0, colon));
  const password = colon === -1 ? '' : decodeURIComponent(userinfo.slice(colon + 1));
  return { hosts, auth: { username, password } };
}
