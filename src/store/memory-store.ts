import { SystemClock, type Clock } from '../clock.js';
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

interface Entry {
  holder: string | null;
  token: number;
  version: number;
  ttlMs: number;
  expiresAt: number;
}

/**
 * In-process store for unit tests and the simulator. Expiry is judged on the injected clock,
 * which plays the store server's clock. Keys are kept in a `Map` (insertion-ordered).
 */
export class MemoryLeaseStore implements LeaseStore {
  readonly kind = 'memory';
  readonly #clock: Clock;
  readonly #entries = new Map<string, Entry>();

  /** @param clock the store's clock; the simulator passes its own. @default new SystemClock() */
  constructor(clock: Clock = new SystemClock()) {
    this.#clock = clock;
  }

  /** Synchronous core, used by the simulator to apply a request at an exact instant. */
  acquireNow(request: AcquireRequest): AcquireResult {
    const now = this.#clock.now();
    const entry = this.#entries.get(request.key);
    const live = entry !== undefined && entry.holder !== null && entry.expiresAt > now;
    if (live && entry.holder !== request.holder) {
      return { ok: false, reason: 'held', current: this.#info(request.key, entry, now) };
    }
    const token = live ? entry.token : (entry?.token ?? 0) + 1;
    const version = (entry?.version ?? 0) + 1;
    const next: Entry = { holder: request.holder, token, version, ttlMs: request.ttlMs, expiresAt: now + request.ttlMs };
    this.#entries.set(request.key, next);
    return { ok: true, lease: { key: request.key, holder: request.holder, token, version, ttlMs: request.ttlMs } };
  }

  renewNow(request: RenewRequest): RenewResult {
    const now = this.#clock.now();
    const entry = this.#entries.get(request.key);
    const refused = this.#refusal(request, entry, now);
    if (refused !== undefined || entry === undefined) return refused as RenewResult;
    entry.ttlMs = request.ttlMs;
    entry.expiresAt = now + request.ttlMs;
    return { ok: true, lease: { key: request.key, holder: request.holder, token: entry.token, version: entry.version, ttlMs: request.ttlMs } };
  }

  releaseNow(request: ReleaseRequest): boolean {
    const entry = this.#entries.get(request.key);
    if (entry === undefined || !isGrant(entry, request)) return false;
    entry.holder = null;
    entry.expiresAt = this.#clock.now();
    return true;
  }

  transferNow(request: TransferRequest): TransferResult {
    const now = this.#clock.now();
    const entry = this.#entries.get(request.key);
    const refused = this.#refusal(request, entry, now);
    if (refused !== undefined || entry === undefined) return refused as TransferResult;
    const next: Entry = { holder: request.to, token: entry.token + 1, version: entry.version + 1, ttlMs: request.ttlMs, expiresAt: now + request.ttlMs };
    this.#entries.set(request.key, next);
    return { ok: true, lease: { key: request.key, holder: request.to, token: next.token, version: next.version, ttlMs: request.ttlMs } };
  }

  readNow(key: string): LeaseInfo | null {
    const entry = this.#entries.get(key);
    return entry === undefined ? null : this.#info(key, entry, this.#clock.now());
  }

  async acquire(request: AcquireRequest): Promise<AcquireResult> {
    return this.acquireNow(request);
  }

  async renew(request: RenewRequest): Promise<RenewResult> {
    return this.renewNow(request);
  }

  async release(request: ReleaseRequest): Promise<boolean> {
    return this.releaseNow(request);
  }

  async transfer(request: TransferRequest): Promise<TransferResult> {
    return this.transferNow(request);
  }

  async read(key: string): Promise<LeaseInfo | null> {
    return this.readNow(key);
  }

  /** `await using store = ...`: closes the store on scope exit (leases are not released). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async close(): Promise<void> {}

  /** Why a renew or transfer of `request`'s grant is refused, or `undefined` when it is the live current grant. */
  #refusal(request: RenewRequest | TransferRequest, entry: Entry | undefined, now: number): RenewResult | undefined {
    if (entry === undefined || !isGrant(entry, request)) {
      return { ok: false, reason: 'not-holder', current: entry ? this.#info(request.key, entry, now) : null };
    }
    if (entry.expiresAt <= now) return { ok: false, reason: 'expired', current: this.#info(request.key, entry, now) };
    return undefined;
  }

  #info(key: string, entry: Entry, now: number): LeaseInfo {
    return {
      key,
      holder: entry.holder,
      token: entry.token,
      version: entry.version,
      ttlMs: entry.ttlMs,
      expiresInMs: entry.holder === null ? 0 : entry.expiresAt - now,
    };
  }
}

/** The entry is still the grant the request was issued for. */
function isGrant(entry: Entry, request: ReleaseRequest): boolean {
  return entry.holder === request.holder && entry.token === request.token && entry.version === request.version;
}
