/**
 * Deterministic test doubles for the keeper's seams, all driven by one fake clock (`SimClock`):
 *
 * - `FakeLeaseStore`: a `LeaseStore` around the real `MemoryLeaseStore` that can delay requests
 *   (one-way latency before the store applies them, another before the answer arrives), fail the
 *   next N calls or every call while "down" with `StoreUnavailableError`, hang calls (never
 *   applied, never answered), and run the store's clock ahead of the clients' (drift / a store
 *   that expires leases early). Every applied operation is logged with its store-clock instant.
 * - `PausableClock`: a `Clock` over a base clock whose timers do not fire while "paused" (a frozen
 *   or stalled process); callbacks that came due during the pause run, in due order, on resume.
 */
import type { Clock, TimerHandle } from '../../src/clock.js';
import { StoreUnavailableError } from '../../src/errors.js';
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
} from '../../src/store/lease-store.js';
import { MemoryLeaseStore } from '../../src/store/memory-store.js';

export type StoreOp = 'acquire' | 'renew' | 'release' | 'transfer' | 'read';

/** Milliseconds, or a function of the operation and the call's sequence number (0-based). */
export type LatencySpec = number | ((op: StoreOp, call: number) => number);

/** A clock that reads `base` plus an adjustable offset: the store server's clock. */
export class OffsetClock implements Clock {
  offsetMs = 0;
  readonly #base: Clock;

  constructor(base: Clock) {
    this.#base = base;
  }

  now(): number {
    return this.#base.now() + this.offsetMs;
  }

  wallNow(): number {
    return this.#base.wallNow() + this.offsetMs;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    return this.#base.setTimeout(callback, delayMs);
  }

  clearTimeout(handle: TimerHandle): void {
    this.#base.clearTimeout(handle);
  }
}

export interface CallRecord {
  readonly op: StoreOp;
  readonly call: number;
  /** Client-clock instant the call was made. */
  readonly sentAt: number;
  readonly request: AcquireRequest | RenewRequest | ReleaseRequest | { key: string };
  /** What happened to it, filled in as it progresses. */
  outcome: 'pending' | 'applied' | 'failed' | 'hung';
  /** Client-clock instant the store applied it (or failed it). */
  appliedAt?: number;
  result?: unknown;
}

export class FakeLeaseStore implements LeaseStore {
  readonly kind = 'fake';
  /** The real in-memory store, on the (possibly offset) store clock. */
  readonly inner: MemoryLeaseStore;
  readonly storeClock: OffsetClock;
  readonly calls: CallRecord[] = [];
  /** One-way latency before the store applies a request. */
  requestLatency: LatencySpec = 0;
  /** One-way latency before the answer reaches the caller. */
  responseLatency: LatencySpec = 0;
  /** While true, every call fails (when it reaches the store) with `StoreUnavailableError`. */
  down = false;
  /** While true, every call is swallowed: never applied, never answered. */
  hang = false;
  /** Called synchronously right after the store applied (or failed) a call, e.g. to check invariants. */
  onApplied: ((record: CallRecord) => void) | undefined;
  #failNext = 0;
  #hangNext = 0;
  readonly #clock: Clock;

  /** A new store server on `clock`; pass `shared` (see {@link connection}) to reach an existing one. */
  constructor(clock: Clock, shared?: { inner: MemoryLeaseStore; storeClock: OffsetClock }) {
    this.#clock = clock;
    this.storeClock = shared?.storeClock ?? new OffsetClock(clock);
    this.inner = shared?.inner ?? new MemoryLeaseStore(this.storeClock);
  }

  /** Another client of the same store server, with its own faults and call log (a partition is `down` on one connection). */
  connection(): FakeLeaseStore {
    return new FakeLeaseStore(this.#clock, { inner: this.inner, storeClock: this.storeClock });
  }

  /** The next `n` calls fail with `StoreUnavailableError` (after the request latency). */
  failNext(n: number): void {
    this.#failNext += n;
  }

  /** The next `n` calls hang forever. */
  hangNext(n: number): void {
    this.#hangNext += n;
  }

  /** Moves the store's clock ahead of the clients' by `ms` more (a store whose clock runs fast). */
  advanceStoreClock(ms: number): void {
    this.storeClock.offsetMs += ms;
  }

  /** Synchronous view of the key, on the store's clock. */
  peek(key: string): LeaseInfo | null {
    return this.inner.readNow(key);
  }

  /** Calls of one kind, in order. */
  callsOf(op: StoreOp): CallRecord[] {
    return this.calls.filter((c) => c.op === op);
  }

  acquire(request: AcquireRequest): Promise<AcquireResult> {
    return this.#call('acquire', request, () => this.inner.acquireNow(request));
  }

  renew(request: RenewRequest): Promise<RenewResult> {
    return this.#call('renew', request, () => this.inner.renewNow(request));
  }

  release(request: ReleaseRequest): Promise<boolean> {
    return this.#call('release', request, () => this.inner.releaseNow(request));
  }

  transfer(request: TransferRequest): Promise<TransferResult> {
    return this.#call('transfer', request, () => this.inner.transferNow(request));
  }

  read(key: string): Promise<LeaseInfo | null> {
    return this.#call('read', { key }, () => this.inner.readNow(key));
  }

  async close(): Promise<void> {}

  #latency(spec: LatencySpec, op: StoreOp, call: number): number {
    const ms = typeof spec === 'number' ? spec : spec(op, call);
    return Math.max(0, ms);
  }

  #after(delayMs: number, fn: () => void): void {
    if (delayMs <= 0) fn();
    else this.#clock.setTimeout(fn, delayMs);
  }

  #call<T>(op: StoreOp, request: CallRecord['request'], apply: () => T): Promise<T> {
    const record: CallRecord = { op, call: this.calls.length, sentAt: this.#clock.now(), request, outcome: 'pending' };
    this.calls.push(record);
    if (this.hang || this.#hangNext > 0) {
      if (!this.hang) this.#hangNext -= 1;
      record.outcome = 'hung';
      return new Promise<T>(() => {});
    }
    const failThis = this.#failNext > 0;
    if (failThis) this.#failNext -= 1;
    return new Promise<T>((resolve, reject) => {
      this.#after(this.#latency(this.requestLatency, op, record.call), () => {
        record.appliedAt = this.#clock.now();
        const back = this.#latency(this.responseLatency, op, record.call);
        if (failThis || this.down) {
          record.outcome = 'failed';
          this.onApplied?.(record);
          const error = new StoreUnavailableError(`fake store ${op}: connection refused`);
          this.#after(back, () => reject(error));
          return;
        }
        const result = apply();
        record.outcome = 'applied';
        record.result = result;
        this.onApplied?.(record);
        this.#after(back, () => resolve(result));
      });
    });
  }
}

interface PausableTimer {
  readonly callback: () => void;
  readonly dueAt: number;
  readonly seq: number;
  base: TimerHandle | undefined;
  state: 'scheduled' | 'deferred' | 'done';
}

/**
 * A clock whose timers are gated on a "process" that can be paused. Time keeps flowing (it is
 * the base clock's); callbacks that come due while paused are held and, on `resume()`, re-queued
 * on the base clock at that instant in (due time, creation) order, one base timer each so promise
 * continuations run between them.
 */
export class PausableClock implements Clock {
  readonly #base: Clock;
  readonly #deferred: PausableTimer[] = [];
  #paused = false;
  #seq = 0;

  constructor(base: Clock) {
    this.#base = base;
  }

  get paused(): boolean {
    return this.#paused;
  }

  now(): number {
    return this.#base.now();
  }

  wallNow(): number {
    return this.#base.wallNow();
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    const due = this.#deferred.splice(0).sort((a, b) => a.dueAt - b.dueAt || a.seq - b.seq);
    for (const timer of due) {
      timer.state = 'scheduled';
      timer.base = this.#base.setTimeout(() => this.#fire(timer), 0);
    }
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const timer: PausableTimer = {
      callback,
      dueAt: this.#base.now() + Math.max(0, delayMs),
      seq: this.#seq++,
      base: undefined,
      state: 'scheduled',
    };
    timer.base = this.#base.setTimeout(() => this.#fire(timer), delayMs);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    const timer = handle as PausableTimer;
    if (timer.state === 'done') return;
    if (timer.base !== undefined) this.#base.clearTimeout(timer.base);
    const i = this.#deferred.indexOf(timer);
    if (i >= 0) this.#deferred.splice(i, 1);
    timer.state = 'done';
  }

  #fire(timer: PausableTimer): void {
    if (timer.state !== 'scheduled') return;
    timer.base = undefined;
    if (this.#paused) {
      timer.state = 'deferred';
      this.#deferred.push(timer);
      return;
    }
    timer.state = 'done';
    timer.callback();
  }
}
