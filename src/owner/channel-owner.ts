import type { MessagePort } from 'node:worker_threads';
import { ALIVE, type OwnerLiveness, type OwnerStatus } from './owner-liveness.js';

type Listener = (reason: string) => void;

/**
 * An owner whose death is a channel closing: the IPC channel to the parent of a
 * `child_process.fork`ed process (`disconnect`), or a `MessagePort` such as a worker's
 * `parentPort` (`close`). The kernel closes the channel when the owner dies by any means,
 * SIGKILL included, so this is the prompt signal; {@link watch} pushes it.
 */
export class ChannelOwner implements OwnerLiveness {
  readonly #listeners = new Set<Listener>();
  #deadReason: string | undefined;

  private constructor(deadReason: string | undefined) {
    this.#deadReason = deadReason;
  }

  /**
   * The parent of this process, over the IPC channel of `child_process.fork`.
   * Dead at once when the process has no IPC channel.
   */
  static forProcess(proc: NodeJS.Process = process): ChannelOwner {
    const owner = new ChannelOwner(proc.connected ? undefined : 'no IPC channel to the owner process');
    proc.once('disconnect', () => owner.#die('the IPC channel to the owner process was closed (owner exited or disconnected)'));
    return owner;
  }

  /**
   * The other end of any channel that reports its own close: `onClose` registers a callback the
   * channel calls once, when it closes (e.g. a simulated channel).
   */
  static of(onClose: (close: (reason: string) => void) => void): ChannelOwner {
    const owner = new ChannelOwner(undefined);
    onClose((reason) => owner.#die(reason));
    return owner;
  }

  /** The other end of `port` (e.g. `parentPort` in a worker): dead once the port closes. */
  static forPort(port: MessagePort): ChannelOwner {
    const owner = new ChannelOwner(undefined);
    port.once('close', () => owner.#die('the message port to the owner was closed'));
    return owner;
  }

  check(): OwnerStatus {
    return this.#deadReason === undefined ? ALIVE : { alive: false, reason: this.#deadReason };
  }

  watch(onDead: (reason: string) => void): () => void {
    let called = false;
    const listener: Listener = (reason) => {
      if (called) return;
      called = true;
      this.#listeners.delete(listener);
      onDead(reason);
    };
    this.#listeners.add(listener);
    // Already dead: tell on a later turn, so the caller finishes subscribing first.
    const reason = this.#deadReason;
    if (reason !== undefined) queueMicrotask(() => this.#listeners.has(listener) && listener(reason));
    return () => void this.#listeners.delete(listener);
  }

  #die(reason: string): void {
    if (this.#deadReason !== undefined) return;
    this.#deadReason = reason;
    for (const listener of [...this.#listeners]) listener(reason);
  }
}
