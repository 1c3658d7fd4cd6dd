import type { Clock } from '../../src/clock.js';

/** `setInterval` on a `Clock`: runs `fn` every `intervalMs` until the returned stop is called or the clock's timers are cleared. */
export function every(clock: Clock, intervalMs: number, fn: () => void): () => void {
  let stopped = false;
  let handle = clock.setTimeout(function tick() {
    if (stopped) return;
    handle = clock.setTimeout(tick, intervalMs);
    fn();
  }, intervalMs);
  return () => {
    stopped = true;
    clock.clearTimeout(handle);
  };
}
