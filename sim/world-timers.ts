/**
 * The side queue of {@link SimClock}: timers of the world's own machinery (the watchdog's poll
 * grid, the store server's apply step and its answer), which no simulated thread owns. A binary
 * min-heap keyed by (due time, creation order); a cleared timer stays in the heap with no
 * callback and is dropped when it reaches the top.
 */

/** One timer of the side queue. Its handle is the object itself. */
export class WorldTimer {
  readonly dueMs: number;
  /** Creation order among the side queue's timers. */
  readonly seq: number;
  /**
   * The newest fake-timers id the clock had handed out when this timer was set: a fake-timers
   * timer due at the same instant was set before this one iff its id is at most this.
   */
  readonly afterFakeId: number;
  /** `undefined` once fired or cleared. */
  callback: ((arg: never) => void) | undefined;
  readonly arg: unknown;
  /** Fired without settling its step (see `SimClock.setQuietWorldTimeout`). */
  readonly quiet: boolean;

  constructor(dueMs: number, seq: number, afterFakeId: number, callback: (arg: never) => void, arg: unknown, quiet: boolean) {
    this.dueMs = dueMs;
    this.seq = seq;
    this.afterFakeId = afterFakeId;
    this.callback = callback;
    this.arg = arg;
    this.quiet = quiet;
  }
}

function before(a: WorldTimer, b: WorldTimer): boolean {
  return a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.seq < b.seq);
}

/** Timers in (due time, creation order); cleared ones are skipped lazily. */
export class WorldTimerQueue {
  readonly #heap: WorldTimer[] = [];
  /** Timers set and neither fired nor cleared. */
  pending = 0;

  push(timer: WorldTimer): void {
    const heap = this.#heap;
    let i = heap.length;
    heap.push(timer);
    while (i > 0) {
      const parentIndex = (i - 1) >> 1;
      const parent = heap[parentIndex] as WorldTimer;
      if (!before(timer, parent)) break;
      heap[i] = parent;
      i = parentIndex;
    }
    heap[i] = timer;
    this.pending++;
  }

  /** The earliest timer not cleared, left in the queue; cleared timers on the way are dropped. */
  peek(): WorldTimer | undefined {
    const heap = this.#heap;
    while (heap.length > 0 && (heap[0] as WorldTimer).callback === undefined) this.#removeTop();
    return heap[0];
  }

  /** Takes the timer {@link peek} returned out of the queue (it will not fire again). */
  take(timer: WorldTimer): void {
    this.#removeTop();
    timer.callback = undefined;
    this.pending--;
  }

  clear(timer: WorldTimer): void {
    if (timer.callback === undefined) return;
    timer.callback = undefined;
    this.pending--;
  }

  #removeTop(): void {
    const heap = this.#heap;
    const last = heap.pop() as WorldTimer;
    const n = heap.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      let child = left;
      if (right < n && before(heap[right] as WorldTimer, heap[left] as WorldTimer)) child = right;
      const c = heap[child] as WorldTimer;
      if (!before(c, last)) break;
      heap[i] = c;
      i = child;
    }
    heap[i] = last;
  }
}
