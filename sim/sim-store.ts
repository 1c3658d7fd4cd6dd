import { StoreCorruptError, StoreUnavailableError } from '../src/errors.js';
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
} from '../src/store/lease-store.js';
import { MemoryLeaseStore } from '../src/store/memory-store.js';
import type { Rng } from './rng.js';
import type { RangeMs } from './scenario/types.js';
import type { SimClock } from './sim-clock.js';
import type { SimThread } from './sim-process.js';

/** What the store reports to observers after it applied a request. */
export interface StoreObserver {
  onApplied(op: 'acquire' | 'renew' | 'release', client: string, ok: boolean, before: LeaseInfo | null, after: LeaseInfo | null): void;
}

/**
 * The simulated store server: the real `MemoryLeaseStore` on the simulated clock, requests
 * applied after a one-way latency, answers delivered after another, faults (outage, partition,
 * latency spikes) decided here.
 */
export class SimStoreServer {
  readonly store: MemoryLeaseStore;
  readonly #clock: SimClock;
  readonly #rng: Rng;
  readonly #latency: RangeMs;
  readonly #observer: StoreObserver;
  /** Extra one-way latency while a spike is on. */
  #extraLatencyMs = 0;
  /** While > 0, requests fail with "connection refused" (a count, so outages may overlap). */
  #down = 0;
  /** While > 0, the lease data reads as corrupt: requests fail and nothing is written. */
  #corrupt = 0;
  /** Store time spent unusable (down or corrupt) before `#unusableSince`. */
  #unusableMs = 0;
  #unusableSince: number | undefined;
  /** Client names cut off from the store, with how many partitions cut each: their requests vanish. */
  readonly #partitioned = new Map<string, number>();

  constructor(clock: SimClock, rng: Rng, latency: RangeMs, observer: StoreObserver) {
    this.store = new MemoryLeaseStore(clock);
    this.#clock = clock;
    this.#rng = rng;
    this.#latency = latency;
    this.#observer = observer;
  }

  /** Simulated time so far during which nobody could take the lease (store down or corrupt). */
  unusableMs(): number {
    return this.#unusableMs + (this.#unusableSince === undefined ? 0 : this.#clock.now() - this.#unusableSince);
  }

  #noteUsable(): void {
    const unusable = this.#down > 0 || this.#corrupt > 0;
    if (unusable && this.#unusableSince === undefined) this.#unusableSince = this.#clock.now();
    if (!unusable && this.#unusableSince !== undefined) {
      this.#unusableMs += this.#clock.now() - this.#unusableSince;
      this.#unusableSince = undefined;
    }
  }

  isPartitioned(client: string): boolean {
    return (this.#partitioned.get(client) ?? 0) > 0;
  }

  /** Whether a request would be answered from the lease data (no outage, nothing corrupt). */
  get readable(): boolean {
    return this.#down === 0 && this.#corrupt === 0;
  }

  /** An outage: requests fail with "connection refused" until the returned function ends it. Outages may overlap. */
  outage(): () => void {
    this.#down += 1;
    this.#noteUsable();
    return () => {
      this.#down -= 1;
      this.#noteUsable();
    };
  }

  /** The lease data reads as corrupt (requests fail, nothing is written) until the returned function repairs it. */
  corruptLease(): () => void {
    this.#corrupt += 1;
    this.#noteUsable();
    return () => {
      this.#corrupt -= 1;
      this.#noteUsable();
    };
  }

  /** Every one-way trip takes `extraMs` longer until the returned function ends the spike. */
  latencySpike(extraMs: number): () => void {
    this.#extraLatencyMs += extraMs;
    return () => void (this.#extraLatencyMs -= extraMs);
  }

  /** Cuts `clients` off the store; returns the function that heals it. */
  partition(clients: readonly string[]): () => void {
    for (const c of clients) this.#partitioned.set(c, (this.#partitioned.get(c) ?? 0) + 1);
    return () => {
      for (const c of clients) this.#partitioned.set(c, (this.#partitioned.get(c) ?? 1) - 1);
    };
  }

  read(key: string): LeaseInfo | null {
    return this.store.readNow(key);
  }

  /** A client bound to one simulated thread: answers run on that thread. */
  client(name: string, thread: SimThread): LeaseStore {
    return new SimStoreClient(this, name, thread);
  }

  /** Sends `apply` to the server and delivers its result on `thread`. */
  call<T>(client: string, thread: SimThread, apply: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.isPartitioned(client)) return; // lost in the network; the caller's timeout decides
      // World timers (the server is no simulated thread), handed the request instead of a closure
      // each. Quiet: the server applies the request (synchronous) and sends the answer (a timer,
      // settled: it resolves the caller's promise).
      this.#clock.setQuietWorldTimeout(this.#apply, this.#oneWayMs(), new StoreCall(client, thread, apply, resolve as (value: unknown) => void, reject));
    });
  }

  readonly #apply = (call: StoreCall): void => {
    if (this.isPartitioned(call.client)) return;
    if (this.#down > 0 || this.#corrupt > 0) {
      const error =
        this.#down > 0
          ? new StoreUnavailableError('lease store unreachable: connection refused')
          : new StoreCorruptError('sim store', 'injected lease-corrupt fault');
      this.#clock.setWorldTimeout(() => call.thread.deliver(() => call.reject(error)), this.#oneWayMs());
      return;
    }
    call.result = call.apply();
    this.#clock.setWorldTimeout(this.#answer, this.#oneWayMs(), call);
  };

  readonly #answer = (call: StoreCall): void => {
    if (!this.isPartitioned(call.client)) call.thread.deliverWith(resolveCall, call);
  };

  acquire(client: string, request: AcquireRequest): AcquireResult {
    const before = this.store.readNow(request.key);
    const result = this.store.acquireNow(request);
    this.#observer.onApplied('acquire', client, result.ok, before, this.store.readNow(request.key));
    return result;
  }

  renew(client: string, request: RenewRequest): RenewResult {
    const before = this.store.readNow(request.key);
    const result = this.store.renewNow(request);
    this.#observer.onApplied('renew', client, result.ok, before, this.store.readNow(request.key));
    return result;
  }

  release(client: string, request: ReleaseRequest): boolean {
    const before = this.store.readNow(request.key);
    const ok = this.store.releaseNow(request);
    this.#observer.onApplied('release', client, ok, before, this.store.readNow(request.key));
    return ok;
  }

  /** A transfer is a grant to a new holder with a new token: the checkers see it as one (op `acquire`). */
  transfer(client: string, request: TransferRequest): TransferResult {
    const before = this.store.readNow(request.key);
    const result = this.store.transferNow(request);
    this.#observer.onApplied('acquire', client, result.ok, before, this.store.readNow(request.key));
    return result;
  }

  #oneWayMs(): number {
    return this.#rng.uniformMs(this.#latency) + this.#extraLatencyMs;
  }
}

function resolveCall(call: StoreCall): void {
  call.resolve(call.result);
}

/** A request on its way through the server: who sent it, what it applies, whom the answer resolves. */
class StoreCall {
  readonly client: string;
  readonly thread: SimThread;
  readonly apply: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  result: unknown = undefined;

  constructor(client: string, thread: SimThread, apply: () => unknown, resolve: (value: unknown) => void, reject: (error: unknown) => void) {
    this.client = client;
    this.thread = thread;
    this.apply = apply;
    this.resolve = resolve;
    this.reject = reject;
  }
}

/** `LeaseStore` as seen from one simulated thread. */
class SimStoreClient implements LeaseStore {
  readonly kind = 'sim';
  readonly #server: SimStoreServer;
  readonly #name: string;
  readonly #thread: SimThread;

  constructor(server: SimStoreServer, name: string, thread: SimThread) {
    this.#server = server;
    this.#name = name;
    this.#thread = thread;
  }

  acquire(request: AcquireRequest): Promise<AcquireResult> {
    return this.#server.call(this.#name, this.#thread, () => this.#server.acquire(this.#name, request));
  }

  renew(request: RenewRequest): Promise<RenewResult> {
    return this.#server.call(this.#name, this.#thread, () => this.#server.renew(this.#name, request));
  }

  release(request: ReleaseRequest): Promise<boolean> {
    return this.#server.call(this.#name, this.#thread, () => this.#server.release(this.#name, request));
  }

  transfer(request: TransferRequest): Promise<TransferResult> {
    return this.#server.call(this.#name, this.#thread, () => this.#server.transfer(this.#name, request));
  }

  read(key: string): Promise<LeaseInfo | null> {
    return this.#server.call(this.#name, this.#thread, () => this.#server.read(key));
  }

  async close(): Promise<void> {}
}
