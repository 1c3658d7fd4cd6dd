import { describe, expect, it } from 'vitest';
import { SystemClock } from '../../src/clock.js';
import { waitUntil } from './wait.js';

describe('SystemClock', () => {
  it('does not fire a timer longer than 2^31 − 1 ms early (Node alone fires it after 1 ms)', async () => {
    const clock = new SystemClock({ unref: true });
    let longFired = false;
    const long = clock.setTimeout(() => {
      longFired = true;
    }, 3 * 2_147_483_647);
    // A 20 ms timer armed after it: had the long one been cut to 1 ms, it would have fired first.
    let shortFired = false;
    clock.setTimeout(() => {
      shortFired = true;
    }, 20);
    await waitUntil('the 20 ms timer', 5_000, () => shortFired);
    expect(longFired).toBe(false);
    clock.clearTimeout(long);
  });
});
