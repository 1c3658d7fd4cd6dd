import type { Clock, TimerHandle } from '../src/clock.js';
import type { SimClock } from './sim-clock.js';

/** A timer of a {@link ThreadClock}; also a link of its clock's list of live timers. */
class SimTimer {
  cancelled = false;
  /** The base clock's timer, until it fires. */
  base: TimerHandle | undefined = undefined;
  prev: SimTimer | undefined = undefined;
  next: SimTimer | undefined = undefined;
  readonly callback: () => void;

  constructor(callback: () => void) {
    this.callback = callback;
  }
}

/**
 * One thread of a simulated process: an event loop that can be blocked (process freeze,
 * event-loop stall). Callbacks that come due while it is blocked run, in order, when it resumes;
 * callbacks of a dead process never run.
 */
export class SimThread {
  readonly process: SimProcess;
  readonly name: string;
  #stalled = false;
  #dead = false;
  #queue: Array<() => void> = [];
  readonly #onExit: Array<() => void> = [];

  constructor(process: SimProcess, name: string) {
    this.process = process;
    this.name = name;
  }

  get blocked(): boolean {
    return this.#stalled || this.process.frozen;
  }

  /** Runs `fn` on this thread now, or when it resumes; drops it if the process is dead. */
  deliver(fn: () => void): void {
    if (!this.process.alive || this.#dead) return;
    if (this.blocked) this.#queue.push(fn);
    else fn();
  }

  /** {@link deliver} of `fn(arg)`: no closure when the thread runs it at once (the hot path of every timer and store answer). */
  deliverWith<A>(fn: (arg: A) => void, arg: A): void {
    if (!this.process.alive || this.#dead) return;
    if (this.blocked) this.#queue.push(() => fn(arg));
    else fn(arg);
  }

  stall(): void {
    this.#stalled = true;
  }

  unstall(): void {
    this.#stalled = false;
    this.flush();
  }

  /** Re-schedules queued callbacks, in order, at the current instant. */
  flush(): void {
    if (this.blocked || this.#queue.length === 0) return;
    const queued = this.#queue;
    this.#queue = [];
    for (const fn of queued) this.process.base.setTimeout(() => this.deliver(fn), 0);
  }

  dropQueue(): void {
    this.#queue = [];
  }

  get alive(): boolean {
    return this.process.alive && !this.#dead;
  }

  /** Registers a callback run (at once) when this thread dies alone; a dying process does not run it. */
  onExit(fn: () => void): void {
    if (this.alive) this.#onExit.push(fn);
  }

  /** The thread dies alone (e.g. a worker thread crashes); the process lives on. */
  kill(): void {
    if (!this.alive) return;
    this.#dead = true;
    this.#queue = [];
    this.process.clearThreadClocks(this);
    for (const hook of this.#onExit.splice(0)) hook();
  }
}

/**
 * A clock for one timer scope of one thread (e.g. the orchestrator's session, or a keeper
 * thread). Time is the base clock's; timers are gated on the thread and can all be cleared
 * at once, which is what a session host does when it idles a session.
 */
export class ThreadClock implements Clock {
  readonly thread: SimThread;
  readonly #base: SimClock;
  /** Live timers (set, not yet run or cleared), a doubly linked list: no Set entry per timer. */
  #head: SimTimer | undefined = undefined;
  #live = 0;
  /** Timer callbacks that actually ran on this clock. */
  wakeups = 0;

  constructor(thread: SimThread) {
    this.thread = thread;
    this.#base = thread.process.base;
  }

  now(): number {
    return this.thread.process.localNow();
  }

  wallNow(): number {
    return this.thread.process.localNow() + (this.#base.wallNow() - this.#base.now());
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const timer = new SimTimer(callback);
    // The base clock passes the timer back to one function per clock: no closure per timer.
    timer.base = this.#base.setTimeout(this.#onDue, Math.max(0, delayMs) / this.thread.process.clockRate, timer);
    const head = this.#head;
    if (head !== undefined) head.prev = timer;
    timer.next = head;
    this.#head = timer;
    this.#live++;
    return timer;
  }

  readonly #onDue = (timer: SimTimer): void => {
    timer.base = undefined;
    this.thread.deliverWith(this.#fire, timer);
  };

  readonly #fire = (timer: SimTimer): void => {
    if (timer.cancelled) return;
    this.#unlink(timer);
    this.wakeups += 1;
    timer.callback();
  };

  /** Takes a live timer out of the list (and marks it, so it is taken out once). */
  #unlink(timer: SimTimer): void {
    timer.cancelled = true;
    const { prev, next } = timer;
    if (prev === undefined) this.#head = next;
    else prev.next = next;
    if (next !== undefined) next.prev = prev;
    timer.prev = undefined;
    timer.next = undefined;
    this.#live--;
  }

  clearTimeout(handle: TimerHandle): void {
    const timer = handle as SimTimer;
    if (timer.base !== undefined) {
      this.#base.clearTimeout(timer.base);
      timer.base = undefined;
    }
    if (!timer.cancelled) this.#unlink(timer);
  }

  /** Clears every timer of this scope, including ones that came due while the thread was blocked. */
  clearAll(): void {
    for (let timer = this.#head; timer !== undefined; timer = this.#head) this.clearTimeout(timer);
  }

  get pending(): number {
    return this.#live;
  }
}

/** A simulated OS process: a PID, a start time, threads, and the clocks of their timer scopes. */
export class SimProcess {
  readonly base: SimClock;
  readonly pid: number;
  readonly name: string;
  readonly startedAtMs: number;
  alive = true;
  frozen = false;
  /** How the process ended (its exit code, or the signal that killed it); `undefined` while alive. */
  exitStatus: { readonly code: number | null; readonly signal: string | null } | undefined;
  /** Rate of this process's clocks against real (simulated) time; 1 = exact. */
  clockRate = 1;
  #anchorBaseMs: number;
  #anchorLocalMs: number;
  readonly main: SimThread;
  readonly #threads: SimThread[] = [];
  readonly #clocks: ThreadClock[] = [];
  readonly #onExit: Array<() => void> = [];

  constructor(base: SimClock, pid: number, name: string) {
    this.base = base;
    this.pid = pid;
    this.name = name;
    this.startedAtMs = base.now();
    this.#anchorBaseMs = base.now();
    this.#anchorLocalMs = base.now();
    this.main = this.thread('main');
  }

  /** This process's view of the monotonic clock (differs from real time under clock faults). */
  localNow(): number {
    return this.#anchorLocalMs + (this.base.now() - this.#anchorBaseMs) * this.clockRate;
  }

  /** The process's clocks jump by `byMs` (negative: backwards). */
  jumpClock(byMs: number): void {
    this.#anchorLocalMs = this.localNow() + byMs;
    this.#anchorBaseMs = this.base.now();
  }

  /** From now on the process's clocks run at `rate` × real speed. */
  setClockRate(rate: number): void {
    this.#anchorLocalMs = this.localNow();
    this.#anchorBaseMs = this.base.now();
    this.clockRate = rate;
  }

  clearThreadClocks(thread: SimThread): void {
    for (const clock of this.#clocks) if (clock.thread === thread) clock.clearAll();
  }

  thread(name: string): SimThread {
    const thread = new SimThread(this, name);
    this.#threads.push(thread);
    return thread;
  }

  clock(thread: SimThread): ThreadClock {
    const clock = new ThreadClock(thread);
    this.#clocks.push(clock);
    return clock;
  }

  /** Registers a callback run (on the base clock, at once) when the process dies. */
  onExit(fn: () => void): void {
    if (this.alive) this.#onExit.push(fn);
  }

  /** SIGSTOP: every thread stops; the monotonic clock goes on. */
  freeze(): void {
    if (this.alive) this.frozen = true;
  }

  /** SIGCONT. */
  resume(): void {
    if (!this.alive || !this.frozen) return;
    this.frozen = false;
    for (const thread of this.#threads) thread.flush();
  }

  /** SIGKILL (or another fatal signal): nothing of this process runs again. */
  kill(signal = 'SIGKILL'): void {
    this.#end({ code: null, signal });
  }

  /** The process ends itself with exit `code` (e.g. 0 when its session idled). */
  exit(code: number): void {
    this.#end({ code, signal: null });
  }

  #end(status: { readonly code: number | null; readonly signal: string | null }): void {
    if (!this.alive) return;
    this.alive = false;
    this.exitStatus = status;
    for (const clock of this.#clocks) clock.clearAll();
    for (const thread of this.#threads) thread.dropQueue();
    const hooks = this.#onExit.splice(0);
    for (const hook of hooks) hook();
  }

  /** Sum of timer wake-ups on every clock of this process. */
  wakeups(): number {
    let total = 0;
    for (const clock of this.#clocks) total += clock.wakeups;
    return total;
  }
}
