import type { Clock, TimerHandle } from '../src/clock.js';
import type { FromKeeper, ToKeeper } from '../src/hosts/host-protocol.js';
import type { AgentChannel } from '../src/hosts/keeper-agent.js';
import type { LinkEvents, OwnerChannel } from '../src/hosts/keeper-handle.js';
import { ChannelOwner } from '../src/owner/channel-owner.js';
import type { SimProcess, SimThread, ThreadClock } from './sim-process.js';

/** How the host at the far end of a {@link SimChannel} ends: its thread alone (a worker) or its process (a sidecar). */
export interface SimHost {
  readonly thread: SimThread;
  /** Registers what runs when the host ends, by any means. */
  onExit(fn: () => void): void;
  /** The host ends on its own after `stopped` (a worker's loop drains; a sidecar disconnects). */
  finish(): void;
  /** Killed from outside (`worker.terminate()`, SIGKILL). */
  kill(): void;
}

/**
 * The channel between an owner and its keeper host, as a real one behaves: each message runs on
 * the receiving thread (queued while that thread is blocked, lost once it is dead); the owner hears
 * of the host's end on its own thread; the host hears the channel close, on its thread, when the
 * owner's process dies. The shipped `KeeperHandle` holds one end, the shipped agent the other.
 */
export class SimChannel {
  readonly #owner: SimThread;
  readonly #host: SimHost;
  readonly #toHost: Array<(message: ToKeeper) => void> = [];
  #events: LinkEvents | undefined;
  #closeHost: ((reason: string) => void) | undefined;

  constructor(owner: SimThread, host: SimHost) {
    this.#owner = owner;
    this.#host = host;
    owner.process.onExit(() => this.#host.thread.deliver(() => this.#closeHost?.('the channel to the owner closed (owner exited)')));
    host.onExit(() => this.#owner.deliver(() => this.#events?.onExit('keeper host exited')));
  }

  /** The owner's end, for the `KeeperHandle`. */
  ownerEnd(): OwnerChannel {
    return {
      send: (message) => this.#host.thread.deliver(() => this.#toHost.forEach((listener) => listener(message))),
      listen: (events) => {
        this.#events = events;
      },
      finish: () => this.#host.finish(),
      kill: () => this.#host.kill(),
    };
  }

  /** The host's end, for the keeper agent. */
  hostEnd(): AgentChannel {
    return {
      send: (message: FromKeeper) => {
        // Code of a dead host cannot send (a promise chain may outlive its simulated thread).
        if (this.#host.thread.alive) this.#owner.deliver(() => this.#events?.onMessage(message));
        return Promise.resolve();
      },
      onMessage: (listener) => this.#toHost.push(listener),
      owner: ChannelOwner.of((close) => {
        this.#closeHost = close;
      }),
    };
  }
}

/**
 * One machine's monotonic clock as read from `timers`' thread: the shipped hosts judge the keeper's
 * `validUntil` on it. The simulator takes the keeper's process as the machine's reading (clock
 * faults aimed at the keeper move it); timers run on `timers`' thread.
 */
export function machineClock(timers: ThreadClock, machine: SimProcess): Clock {
  return {
    now: () => machine.localNow(),
    wallNow: () => timers.wallNow(),
    setTimeout: (callback: () => void, delayMs: number): TimerHandle => timers.setTimeout(callback, delayMs),
    clearTimeout: (handle: TimerHandle) => timers.clearTimeout(handle),
  };
}
