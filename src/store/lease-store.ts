/**
 * The lease store seam: a small, store-neutral compare-and-set contract.
 *
 * Rules every implementation keeps (the conformance suite in `test/store/` checks them):
 * 1. At most one holder per key at any instant of the *store's* clock.
 * 2. `acquire` succeeds only when the key is free, released, or expired by the store's clock,
 *    or already held by the same holder (idempotent retry: same token, TTL restarted).
 * 3. Every change of holder issues a fencing token strictly greater than every token issued
 *    before for that key, also across store restarts.
 * 4. `renew` and `release` succeed only for the current grant — same holder, same token and same
 *    `version` — and `renew` only while the lease has not expired; a refused call reports who
 *    holds it now. Every successful `acquire` issues a new `version` (strictly greater than any
 *    before for that key), even a re-acquire by the same holder that keeps the token, and `renew`
 *    keeps it: a renewal or release still in flight from an earlier grant can never act on a
 *    later one (a late release would otherwise free the holder's re-acquired lease).
 * 5. TTLs are enforced on the store's clock, never on the client's.
 * 6. Transient trouble (unreachable, timeout) is thrown as `StoreUnavailableError`; data the
 *    store cannot read is `StoreCorruptError` and is never overwritten.
 * 7. `transfer` hands the current, unexpired grant (same holder, token and version) to another
 *    identity in one atomic step: the recipient holds it with a new token (a change of holder,
 *    rule 3) and a new version, for `ttlMs`. The old grant is gone, so the old holder's renewals
 *    and releases are refused and its fenced writes lose to the recipient's. The recipient's
 *    keeper takes it up with an ordinary `acquire`, which for its own holder keeps the token.
 */

/** A lease as the store sees it. */
export interface LeaseInfo {
  readonly key: string;
  /** Identity of the holder, or `null` when the key is free (never held, released, or forgotten after expiry). */
  readonly holder: string | null;
  /** Last fencing token issued for this key (0 when none ever was). */
  readonly token: number;
  /** Version of the last grant (acquire) of this key (0 when none ever was); see {@link LeaseGrant.version}. */
  readonly version: number;
  /** TTL the holder asked for at its last acquire/renew. */
  readonly ttlMs: number;
  /**
   * Milliseconds until expiry on the store's clock. Negative when the store still remembers
   * an expired lease; stores that forget expired leases report `holder: null` instead.
   */
  readonly expiresInMs: number;
}

/** What a successful acquire or renew grants. */
export interface LeaseGrant {
  readonly key: string;
  readonly holder: string;
  readonly token: number;
  /**
   * Identifies this grant: changed by every successful acquire (even by the same holder, which
   * keeps the token), kept by renewals. `renew` and `release` must carry it and are refused for
   * any other grant. Unlike the token it is not a fencing token: it orders grants, not holders.
   */
  readonly version: number;
  readonly ttlMs: number;
}

export interface AcquireRequest {
  readonly key: string;
  readonly holder: string;
  readonly ttlMs: number;
}

export interface RenewRequest {
  readonly key: string;
  readonly holder: string;
  readonly token: number;
  /** The `version` of the grant being renewed. */
  readonly version: number;
  readonly ttlMs: number;
}

export interface ReleaseRequest {
  readonly key: string;
  readonly holder: string;
  readonly token: number;
  /** The `version` of the grant being released. */
  readonly version: number;
}

export interface TransferRequest {
  readonly key: string;
  /** The current grant, as for `renew`. */
  readonly holder: string;
  readonly token: number;
  readonly version: number;
  /** Identity that receives the lease. */
  readonly to: string;
  /** TTL of the recipient's grant. */
  readonly ttlMs: number;
}

export type RefusalReason = 'held' | 'not-holder' | 'expired';

export type AcquireResult =
  | { readonly ok: true; readonly lease: LeaseGrant }
  | { readonly ok: false; readonly reason: 'held'; readonly current: LeaseInfo };

export type RenewResult =
  | { readonly ok: true; readonly lease: LeaseGrant }
  | { readonly ok: false; readonly reason: 'not-holder' | 'expired'; readonly current: LeaseInfo | null };

/** Like a renewal's: the recipient's grant, or why the caller's grant could not be handed on. */
export type TransferResult = RenewResult;

export interface LeaseStore {
  /** Short name of the implementation (`memory`, `file`, `redis`, `postgres`, `etcd`). */
  readonly kind: string;
  acquire(request: AcquireRequest): Promise<AcquireResult>;
  renew(request: RenewRequest): Promise<RenewResult>;
  /** Frees the key if the grant (`holder`, `token`, `version`) is still the current one. Returns whether it did. */
  release(request: ReleaseRequest): Promise<boolean>;
  /**
   * The longest a lease acquired or renewed with `ttlMs` can still count as held on this store
   * after that request was applied, if nothing renews it: what a crashed holder costs a successor.
   * Stores with millisecond TTLs judged at each request omit it (it is `ttlMs`); etcd rounds TTLs
   * up to whole seconds (and to its minimum TTL) and deletes expired leases in a periodic sweep.
   */
  expiryBoundMs?(ttlMs: number): number;
  /** Hands the caller's current grant to `to` (rule 7). */
  transfer(request: TransferRequest): Promise<TransferResult>;
  /** The current state of the key, or `null` when the store has never seen it. */
  read(key: string): Promise<LeaseInfo | null>;
  /**
   * Pre-flight for stores that write to a place this process may not be allowed to write (the
   * file store's directory): throws `StorePermissionError` when a write would be refused, so a
   * caller can say so before it starts work instead of failing on the first acquire.
   */
  assertWritable?(): Promise<void>;
  /** Releases connections and file handles. Leases are not released. */
  close(): Promise<void>;
}
