import { defineConfig } from 'vitest/config';

/**
 * Two groups, run one after the other: deterministic unit and simulator tests in parallel, then
 * tests against real processes and servers one file at a time, so short TTLs are not starved
 * of CPU by the simulator on a 2-core machine.
 */
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/sim/**/*.test.ts', 'test/keeper/**/*.test.ts'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'realtime',
          include: ['test/**/*.test.ts'],
          exclude: ['test/sim/**', 'test/keeper/**'],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
