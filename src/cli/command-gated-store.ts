import { withTimeout, type Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { LeaseGrant, LeaseInfo, LeaseStore } from '../store/lease-store.js';

/**
 * The keeper's store, with releases held back while the command lives, and a final release once
 * it is gone. `LeaseKeeper` may release when it steps down (after a pause); here that would let a
 * successor start while the old command is still within its kill grace, so such a release waits
 * until the command's group is gone. It is conditional on holder and token, so a late one cannot
 * free someone else's lease.
 */
export class CommandGatedStore implements LeaseStore {
  readonly kind: string;
  readonly #store: LeaseStore;
  readonly #log: Logger;
  readonly #inFlight = new Set<Promise<unknown>>();
  #open!: () => void;
  readonly #opened = new Promise<void>((resolve) => {
    this.#open = resolve;
  });
  #commandAlive = false;
  /** The last lease the store granted us, and whether a release of it landed. */
  #lastGrant: LeaseGrant | undefined;
  #released = false;

  constructor(store: LeaseStore, log: Logger) {
    this.#store = store;
    this.#log = log;
    this.kind = store.kind;
  }

  commandStarted(): void {
    this.#commandAlive = true;
  }

  /** The command and every process of its group are gone: held releases go out now. */
  commandGone(): void {
    this.#commandAlive = false;
    this.#open();
  }

  acquire(request: Parameters<LeaseStore['acquire']>[0]): ReturnType<LeaseStore['acquire']> {
    return this.#track(this.#store.acquire(request));
  }

  renew(request: Parameters<LeaseStore['renew']>[0]): ReturnType<LeaseStore['renew']> {
    return this.#track(this.#store.renew(request));
  }

  release(request: Parameters<LeaseStore['release']>[0]): Promise<boolean> {
    const held = this.#commandAlive;
    const release = held ? this.#opened.then(() => this.#store.release(request)) : this.#store.release(request);
    this.#inFlight.add(release);
    void release
      .then(
        (released) => {
          if (released && request.token === this.#lastGrant?.token) this.#released = true;
          this.#log.info({ released, token: request.token, held }, released ? 'lease released' : 'lease was no longer ours to release');
        },
        (error: unknown) => this.#log.warn({ err: error, token: request.token, held }, 'release failed; the lease expires on the store by itself'),
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

  /**
   * After the command is gone: lets requests still on their way land (bounded; a renewal sent
   * before the step-down may still extend the lease), then releases the last grant unless that
   * already happened. Nobody acts on the lease any more, so freeing it now only speeds up failover.
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
