/** A pool thread holds its next task while it plays one (pool.ts, TASKS_PER_THREAD); run-worker.ts must still play them one after another. */
import { describe, expect, it } from 'vitest';
import { TASKS_PER_THREAD } from '../../../sim/parallel/pool.js';
import { inTurn } from '../../../sim/parallel/run-worker.js';

describe('tasks on one pool thread', () => {
  it('a thread is handed more than one task at a time', () => {
    expect(TASKS_PER_THREAD).toBeGreaterThan(1);
  });

  it('start only when the task before them has settled, failed ones included', async () => {
    const log: string[] = [];
    let release: () => void = () => {};
    const first = inTurn(async () => {
      log.push('first start');
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      log.push('first end');
      throw new Error('first failed');
    });
    const second = inTurn(async () => {
      log.push('second start');
      return 2;
    });
    // Several event-loop turns: the second task must still be waiting for the first.
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual(['first start']);
    release();
    await expect(first).rejects.toThrow('first failed');
    expect(await second).toBe(2);
    expect(log).toEqual(['first start', 'first end', 'second start']);
  });
});
