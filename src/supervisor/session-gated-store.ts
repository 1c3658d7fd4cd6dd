import { withTimeout, type Clock } from '../clock.js';
import type { AcquireRequest, AcquireResult, LeaseGrant, LeaseInfo, LeaseStore, ReleaseRequest, RenewRequest, RenewResult } from '../store/lease-store.js';

/** What the gated store reports about releases (for logs). */
export interface ReleaseReport {
  readonly token: number;
  /** The release waited for the session to be gone. */
  readonly held: boolean;
  readonly released?: boolean;
  readonly error?: unknown;
}

/**
 * The supervisor's store: releases are held back while a session lives, and a final release
 * goes out once it is gone. `LeaseKeeper` may release when it steps down (after a pause, or at
 * stop); letting that through while the session is still within its kill grace would let a
 * successor lead beside it. Releases are conditional on holder and token, so a late one cannot
 * free someone else's lease.
 */
export class SessionGatedStore implements LeaseStore {
  readonly kind: string;
  readonly #store: LeaseStore;
  readonly #onRelease: (report: ReleaseReport) => void;
  readonly #inFlight = new Set<Promise<unknown>>();
  #sessionAlive = false;
  #waiting: Array<() => void> = [];
  /** The last lease the store granted us, and whether a release of it landed. */
  #lastGrant: LeaseGrant | undefined;
  #released = false;

  constructor(store: LeaseStore, onRelease: (report: ReleaseReport) => void = () => {}) {
    this.#store = store;
    this.#onRelease = onRelease;
    this.kind = store.kind;
  }

  sessionStarted(): void {
    this.#sessionAlive = true;
  }

  /** The session and everything it started are gone: held releases go out now. */
  sessionGone(): void {
    this.#sessionAlive = false;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const go of waiting) go();
  }

  acquire(request: AcquireRequest): Promise<AcquireResult> {
    return this.#track(this.#store.acquire(request));
  }

  renew(request: RenewRequest): Promise<RenewResult> {
    return this.#track(this.#store.renew(request));
  }

  release(request: ReleaseRequest): Promise<boolean> {
    const held = this.#sessionAlive;
    const gate = held ? new Promise<void>((go) => this.#waiting.push(go)) : Promise.resolve();
    const release = gate.then(() => this.#store.release(request));
    this.#inFlight.add(release);
    void release
      .then(
        (released) => {
          if (released && request.token === this.#lastGrant?.token) this.#released = true;
          this.#onRelease({ token: request.token, held, released });
        },
        (error: unknown) => this.#onRelease({ token: request.token, held, error }),
      )
      .finally(() => this.#inFlight.delete(release));
    return release;
  }

  /** Hands our grant on; once it landed there is nothing of ours left to release. */
  transfer(request: Parameters<LeaseStore['transfer']>[0]): ReturnType<LeaseStore['transfer']> {
    const transfer = this.#store.transfer(request);
    this.#inFlight.add(transfer);
    void transfer
      .then((result) => {
        if (result.ok && request.token === this.#lastGrant?.token) this.#released = true;
      }, () => undefined)
      .finally(() => this.#inFlight.delete(transfer));
    return transfer;
  }

  read(key: string): Promise<LeaseInfo | null> {
    return this.#store.read(key);
  }

  expiryBoundMs(ttlMs: number): number {
    return this.#store.expiryBoundMs?.(ttlMs) ?? ttlMs;
  }

  /**
   * After the last session is gone: lets requests still on their way land (bounded; a renewal
   * sent before the step-down may still extend the lease), then releases the last grant unless
   * that already happened. Nobody acts on the lease any more, so freeing it only speeds failover.
   */
  async finalRelease(clock: Clock, timeoutMs: number): Promise<void> {
    if (this.#inFlight.size > 0) await withTimeout(clock, 'settle', timeoutMs, Promise.allSettled([...this.#inFlight])).catch(() => undefined);
    const grant = this.#lastGrant;
    if (grant === undefined || this.#released) return;
    await withTimeout(clock, 'release', timeoutMs, this.release(grant)).catch(() => undefined);
  }

  close(): Promise<void> {
    return this.#store.close();
  }

  #track<R extends { ok: boolean; lease?: LeaseGrant }>(promise: Promise<R>): Promise<R> {
    this.#inFlight.add(promise);
    void promise
      .then((result) => {
        if (result.ok && result.lease !== undefined) {
          this.#lastGrant = result.lease;
          this.#released = false;
        }
      }, () => undefined)
      .finally(() => this.#inFlight.delete(promise));
    return promise;
  }
}
