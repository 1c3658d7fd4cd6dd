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

  it('keeps firing after a callback throws, and rejects with the first error at the end', async () => {
    const clock = new SimClock();
    const log: number[] = [];
    clock.setTimeout(() => {
      throw new Error('first');
    }, 1);
    clock.setTimeout(() => {
      throw new Error('second');
    }, 2);
    clock.setTimeout(() => log.push(clock.now()), 3);
    await expect(clock.runUntil(10)).rejects.toThrow('first');
    expect(log).toEqual([3]);
    expect(clock.now()).toBe(10);
  });
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
