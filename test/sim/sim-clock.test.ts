import FakeTimers from '@sinonjs/fake-timers';
import { describe, expect, it } from 'vitest';
import { DeepStepError, dueOffsetMs, PROBE_TURNS, QUIET_TURNS, QuietStepError, SimClock } from '../../sim/sim-clock.js';

/** The minimal clock surface both drivers share, so one program runs on either. */
interface TestClock {
  now(): number;
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * A small async program: timers whose callbacks start promise chains of various depths that read
 * the time and set further timers (0 ms ones included), clear timers, and log what ran when.
 */
function program(clock: TestClock, log: string[]): void {
  const chain = async (name: string, depth: number): Promise<void> => {
    for (let i = 0; i < depth; i++) await Promise.resolve();
    log.push(`${name}:cont@${clock.now()}`);
  };
  let cancel: unknown;
  clock.setTimeout(() => log.push(`zero@${clock.now()}`), 0);
  for (let i = 0; i < 6; i++) {
    clock.setTimeout(() => {
      log.push(`t${i}@${clock.now()}`);
      void chain(`t${i}`, i).then(() => {
        clock.setTimeout(() => log.push(`t${i}:0ms@${clock.now()}`), 0);
        clock.setTimeout(() => log.push(`t${i}:frac@${clock.now()}`), 2.7);
        if (i === 2) clock.clearTimeout(cancel);
      });
    }, 10 * (i % 3) + 0.5);
  }
  cancel = clock.setTimeout(() => log.push('cancelled timer ran'), 21);
  clock.setTimeout(() => log.push(`end@${clock.now()}`), 100);
}

describe('SimClock.runUntil: the order of fake-timers tickAsync, without a macrotask hop per timer', () => {
  it('fires timers and settles continuations in the same order as tickAsync', async () => {
    const expected: string[] = [];
    const fake = FakeTimers.withGlobal(globalThis).createClock(0, 1_000_000);
    program({ now: () => fake.now, setTimeout: (cb, ms) => fake.setTimeout(cb, ms), clearTimeout: (h) => fake.clearTimeout(h as FakeTimers.TimerId) }, expected);
    await fake.tickAsync(100);

    const actual: string[] = [];
    const clock = new SimClock({ onDeepStep: 'throw' });
    program(clock, actual);
    await clock.runUntil(100);

    expect(actual).toEqual(expected);
    expect(actual).toContain('end@100');
    expect(actual).not.toContain('cancelled timer ran');
    expect(clock.now()).toBe(100);
    expect(clock.stats.deepSteps).toBe(0);
  });

  it('fires a timer due exactly at the end, also one set at the end by a timer due then', async () => {
    const clock = new SimClock();
    const log: string[] = [];
    clock.setTimeout(() => {
      log.push('a');
      clock.setTimeout(() => log.push('b (due 1 ms later)'), 0);
    }, 50);
    clock.setTimeout(() => log.push('c'), 50);
    await clock.runUntil(50);
    expect(log).toEqual(['a', 'c']);
    expect(clock.pendingTimers()).toBe(1);
    await clock.runUntil(51);
    expect(log).toEqual(['a', 'c', 'b (due 1 ms later)']);
    expect(clock.pendingTimers()).toBe(0);
  });

  for (const kind of ['fake-timers', 'world'] as const) {
    it(`keeps firing after a callback throws, and rejects with the first error at the end (${kind} timers)`, async () => {
      const clock = new SimClock();
      const set = (callback: () => void, delayMs: number): unknown =>
        kind === 'world' ? clock.setWorldTimeout(callback, delayMs) : clock.setTimeout(callback, delayMs);
      const log: number[] = [];
      set(() => {
        throw new Error('first');
      }, 1);
      set(() => {
        throw new Error('second');
      }, 2);
      set(() => log.push(clock.now()), 3);
      await expect(clock.runUntil(10)).rejects.toThrow('first');
      expect(log).toEqual([3]);
      expect(clock.now()).toBe(10);
    });
  }
});

/** A timer whose continuation stays silent (touches no clock) for `silentTurns` turns, then reads the time. */
function deepStep(clock: SimClock, silentTurns: number, log: string[]): void {
  clock.setTimeout(() => {
    void (async () => {
      for (let i = 0; i < silentTurns; i++) await undefined;
      log.push(`deep continuation@${clock.now()}`);
    })();
  }, 5);
  clock.setTimeout(() => log.push(`next timer@${clock.now()}`), 5);
}

describe('SimClock.runUntil: a step deeper than the microtask chain is detected', () => {
  const deeper = QUIET_TURNS + 2;

  it('throws DeepStepError in strict mode', async () => {
    const clock = new SimClock({ onDeepStep: 'throw' });
    deepStep(clock, deeper, []);
    const error = await clock.runUntil(10).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeepStepError);
    expect((error as DeepStepError).code).toBe('SIM_DEEP_STEP');
    expect(clock.stats.deepSteps).toBe(1);
  });

  it('by default settles it with a real macrotask hop, so the order stays that of tickAsync', async () => {
    const clock = new SimClock();
    const log: string[] = [];
    deepStep(clock, deeper, log);
    await clock.runUntil(10);
    expect(log).toEqual(['deep continuation@5', 'next timer@5']);
    expect(clock.stats.deepSteps).toBe(1);
  });

  it('does not count a step that goes quiet within the chain', async () => {
    const clock = new SimClock({ onDeepStep: 'throw' });
    const log: string[] = [];
    deepStep(clock, QUIET_TURNS - 2, log);
    await clock.runUntil(10);
    expect(log).toEqual(['deep continuation@5', 'next timer@5']);
    expect(clock.stats.deepSteps).toBe(0);
    expect(clock.stats.maxActiveTurns).toBe(QUIET_TURNS - 2);
  });

  it('verify mode catches activity beyond the probe window with a real macrotask hop', async () => {
    const clock = new SimClock({ onDeepStep: 'throw', verify: true });
    deepStep(clock, QUIET_TURNS + PROBE_TURNS + 5, []);
    await expect(clock.runUntil(10)).rejects.toBeInstanceOf(DeepStepError);
  });
});

describe('SimClock.setQuietTimeout: a timer that starts no promise work is not settled', () => {
  /** Quiet timers that only read the time and set timers, between two ordinary ones, all at 5 ms. */
  function quietProgram(clock: SimClock, log: string[], quiet: (callback: () => void, delayMs: number) => void): void {
    clock.setTimeout(() => void Promise.resolve().then(() => log.push(`a:cont@${clock.now()}`)), 5);
    for (let i = 0; i < 3; i++) quiet(() => log.push(`q${i}@${clock.now()}`), 5);
    quiet(() => clock.setTimeout(() => log.push(`q:0ms@${clock.now()}`), 0), 5);
    clock.setTimeout(() => log.push(`b@${clock.now()}`), 5);
  }

  it('fires in the same order as ordinary timers, with no settling turns after the quiet ones', async () => {
    const expected: string[] = [];
    const plain = new SimClock({ onDeepStep: 'throw' });
    quietProgram(plain, expected, (cb, ms) => plain.setTimeout(cb, ms));
    await plain.runUntil(10);

    const actual: string[] = [];
    const clock = new SimClock({ onDeepStep: 'throw', verify: true });
    quietProgram(clock, actual, (cb, ms) => clock.setQuietTimeout(cb, ms));
    await clock.runUntil(10);

    expect(actual).toEqual(expected);
    expect(actual).toEqual(['a:cont@5', 'q0@5', 'q1@5', 'q2@5', 'b@5', 'q:0ms@6']);
    expect(clock.stats).toMatchObject({ steps: plain.stats.steps, quietSteps: 4 });
  });

  it('verify mode fails a quiet timer that starts promise work without settleThisStep', async () => {
    const clock = new SimClock({ verify: true });
    clock.setQuietTimeout(() => void Promise.resolve().then(() => clock.now()), 5);
    const error = await clock.runUntil(10).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QuietStepError);
    expect((error as QuietStepError).code).toBe('SIM_QUIET_STEP');
  });

  it('settleThisStep: the quiet timer that starts promise work has its step settled before the next timer', async () => {
    const clock = new SimClock({ onDeepStep: 'throw', verify: true });
    const log: string[] = [];
    clock.setQuietTimeout(() => {
      clock.settleThisStep();
      void Promise.resolve().then(() => log.push(`cont@${clock.now()}`));
    }, 5);
    clock.setTimeout(() => log.push(`next@${clock.now()}`), 5);
    await clock.runUntil(10);
    expect(log).toEqual(['cont@5', 'next@5']);
    expect(clock.stats.quietSteps).toBe(0);
  });
});

describe('dueOffsetMs: the whole milliseconds fake-timers would make a delay due after', () => {
  it('matches fake-timers for fractional, tiny, huge and non-finite delays', () => {
    const delays = [0, -5, 0.5, 1, 1.9999, 2.7, 5e-7, 1e-300, 1234.5678, 2 ** 31 - 1, 2 ** 31, 1e21, Number.NaN, Number.POSITIVE_INFINITY];
    for (const running of [false, true]) {
      for (const delay of delays) {
        const fake = FakeTimers.withGlobal(globalThis).createClock(0, 10);
        let firedAt = -1;
        const fire = (): void => {
          firedAt = fake.now;
        };
        if (running) fake.setTimeout(() => fake.setTimeout(fire, Math.max(0, delay)), 0);
        else fake.setTimeout(fire, Math.max(0, delay));
        fake.runAll();
        expect({ delay, running, at: firedAt }).toEqual({ delay, running, at: dueOffsetMs(delay, running) });
      }
    }
  });
});

describe('SimClock world timers: a side queue merged in the order fake-timers would fire them', () => {
  /**
   * Timers of both kinds due at the same instants, set in an interleaved order before and during
   * the run (0 ms ones included), with `world` choosing the kind of the odd-numbered ones.
   */
  function mixedProgram(clock: SimClock, log: string[], world: boolean): void {
    const set = (name: string, delayMs: number, then?: () => void): void => {
      const fire = (label: string): void => {
        log.push(`${label}@${clock.now()}`);
        then?.();
      };
      if (world) clock.setWorldTimeout(fire, delayMs, name);
      else clock.setTimeout(() => fire(name), delayMs);
    };
    clock.setTimeout(() => log.push(`f0@${clock.now()}`), 5);
    set('w1', 5);
    clock.setTimeout(() => log.push(`f2@${clock.now()}`), 5);
    set('w3', 5, () => {
      clock.setTimeout(() => log.push(`f5@${clock.now()}`), 0);
      set('w6', 0);
      clock.setTimeout(() => log.push(`f7@${clock.now()}`), 0.4);
    });
    set('w4', 4.9);
    clock.setTimeout(() => log.push(`f8@${clock.now()}`), 6);
    set('w9', 10, () => set('w10', 0)); // due at the end of the run, and one set then
  }

  it('fires ties between the two queues in creation order, as if every timer were fake-timers', async () => {
    const expected: string[] = [];
    const plain = new SimClock({ onDeepStep: 'throw' });
    mixedProgram(plain, expected, false);
    await plain.runUntil(10);

    const actual: string[] = [];
    const clock = new SimClock({ onDeepStep: 'throw' });
    mixedProgram(clock, actual, true);
    await clock.runUntil(10);

    expect(actual).toEqual(expected);
    expect(actual).toEqual(['w4@4', 'f0@5', 'w1@5', 'f2@5', 'w3@5', 'f8@6', 'f5@6', 'w6@6', 'f7@6', 'w9@10']);
    expect(clock.stats.steps).toBe(plain.stats.steps);
    expect(clock.pendingTimers()).toBe(1); // w10, due 1 ms after the end
    await clock.runUntil(11);
    expect(actual.at(-1)).toBe('w10@11');
    expect(clock.pendingTimers()).toBe(0);
  });

  it('passes its argument, and a cleared world timer never fires nor counts as pending', async () => {
    const clock = new SimClock({ onDeepStep: 'throw' });
    const log: string[] = [];
    const record = (label: string): void => void log.push(`${label}@${clock.now()}`);
    const cleared = clock.setWorldTimeout(record, 3, 'cleared');
    clock.setQuietWorldTimeout(record, 3, 'kept');
    const clearedLater = clock.setWorldTimeout(record, 8, 'cleared later');
    clock.setTimeout(() => clock.clearTimeout(clearedLater), 4);
    clock.clearTimeout(cleared);
    clock.clearTimeout(cleared); // twice is harmless
    expect(clock.pendingTimers()).toBe(3);
    await clock.runUntil(10);
    expect(log).toEqual(['kept@3']);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('settles a world step that starts promise work before the next timer, as an ordinary step', async () => {
    const clock = new SimClock({ onDeepStep: 'throw', verify: true });
    const log: string[] = [];
    clock.setWorldTimeout(() => {
      void (async () => {
        for (let i = 0; i < QUIET_TURNS - 2; i++) await undefined;
        log.push(`cont@${clock.now()}`);
        clock.setTimeout(() => log.push(`set by cont@${clock.now()}`), 0);
      })();
    }, 5);
    clock.setTimeout(() => log.push(`next@${clock.now()}`), 5);
    clock.setQuietWorldTimeout(() => log.push(`quiet@${clock.now()}`), 5);
    await clock.runUntil(10);
    expect(log).toEqual(['cont@5', 'next@5', 'quiet@5', 'set by cont@6']);
    expect(clock.stats).toMatchObject({ steps: 4, quietSteps: 1, deepSteps: 0 });
  });

  it('detects a deep world step, and a quiet world timer that starts promise work (verify)', async () => {
    const deep = new SimClock({ onDeepStep: 'throw' });
    deep.setWorldTimeout(() => {
      void (async () => {
        for (let i = 0; i < QUIET_TURNS + 2; i++) await undefined;
        deep.now();
      })();
    }, 5);
    deep.setTimeout(() => {}, 5);
    await expect(deep.runUntil(10)).rejects.toBeInstanceOf(DeepStepError);

    const quiet = new SimClock({ verify: true });
    quiet.setQuietWorldTimeout(() => void Promise.resolve().then(() => quiet.now()), 5);
    await expect(quiet.runUntil(10)).rejects.toBeInstanceOf(QuietStepError);
  });
});
