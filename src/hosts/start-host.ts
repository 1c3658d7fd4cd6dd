import { formatDurationMs } from '../duration.js';
import { MachineClock } from './host-protocol.js';
import type { KeeperHandle } from './keeper-handle.js';

const clock = new MachineClock();

/**
 * Waits until `handle`'s host says it runs. On a start error or after `timeoutMs`, `kill`s the
 * host and rejects, so a failed start never leaves a keeper behind.
 */
export async function awaitReady(handle: KeeperHandle, timeoutMs = 10_000, kill: () => void): Promise<void> {
  let timer: ReturnType<typeof clock.setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = clock.setTimeout(() => reject(new Error(`lease keeper host did not start within ${formatDurationMs(timeoutMs)}`)), timeoutMs);
  });
  try {
    await Promise.race([handle.ready(), timeout]);
  } catch (error) {
    kill();
    throw error;
  } finally {
    if (timer !== undefined) clock.clearTimeout(timer);
  }
}
