/**
 * The owner-liveness seam: the keeper renews only while its owner lives.
 * Implementations: `ProcessOwner` (PID + start time), `ChannelOwner` (IPC / worker port close),
 * `CheckInOwner` (owner must check in within `maxOwnerSilenceMs`), `allOwners(...)` combines them;
 * the simulator supplies its own.
 */

export type OwnerStatus = { readonly alive: true } | { readonly alive: false; readonly reason: string };

export interface OwnerLiveness {
  /** Called before every acquire and renew. Must be cheap and must not throw for a dead owner. */
  check(): OwnerStatus | Promise<OwnerStatus>;
  /**
   * Optional push notification, for owners whose death is an event (channel close, process exit).
   * Calls `onDead` at most once. Returns an unsubscribe function.
   */
  watch?(onDead: (reason: string) => void): () => void;
}

export const ALIVE: OwnerStatus = Object.freeze({ alive: true });
