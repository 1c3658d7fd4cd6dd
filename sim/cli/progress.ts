import { SystemClock } from '../../src/clock.js';
import type { MainIo } from '../../src/cli/io.js';
import { escapeControl } from '../../src/cli/escape.js';

/** Shown only after this long, so short runs print nothing extra. */
const SHOW_AFTER_MS = 1_000;
const WIDTH = 24;

/**
 * A one-line progress bar (runs done / total, ETA) on a TTY's stderr. Wall time is used only
 * for display; it never reaches results.
 */
export function createProgress(io: MainIo, enabled: boolean, label: string): { update: (done: number, total: number) => void; done: () => void } {
  if (!enabled) return { update: () => {}, done: () => {} };
  const clock = new SystemClock();
  const startedAt = clock.now();
  let shown = false;
  return {
    update(done, total) {
      const elapsed = clock.now() - startedAt;
      if (elapsed < SHOW_AFTER_MS && !shown) return;
      shown = true;
      const filled = Math.round((done / total) * WIDTH);
      const etaS = done === 0 ? 0 : ((elapsed / done) * (total - done)) / 1000;
      io.err(`\r${escapeControl(label)} [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${done}/${total} ETA ${etaS.toFixed(0)}s `);
    },
    done() {
      if (shown) io.err('\r\x1b[2K');
    },
  };
}
