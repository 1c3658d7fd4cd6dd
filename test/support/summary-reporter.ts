import type { Reporter, TestModule } from 'vitest/node';

/** What the closing line needs of one test file: its state and its tests' states. */
export interface ModuleOutcome {
  readonly state: string;
  readonly tests: readonly string[];
}

/** The closing line's counts. */
export interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

/**
 * Counts test outcomes honestly: a test that did not run because its file failed (a `beforeAll`
 * that threw, an import that failed) is counted as failed, not skipped, and a failed file with no
 * tests at all counts as one failure, so a suite that could not start never reads as `0 failed`.
 */
export function countOutcomes(modules: Iterable<ModuleOutcome>): Counts {
  const counts: Counts = { passed: 0, failed: 0, skipped: 0 };
  for (const module of modules) {
    const moduleFailed = module.state === 'failed';
    for (const state of module.tests) {
      if (state === 'passed') counts.passed += 1;
      else if (state === 'failed' || moduleFailed) counts.failed += 1;
      else counts.skipped += 1;
    }
    if (moduleFailed && module.tests.length === 0) counts.failed += 1;
  }
  return counts;
}

/**
 * Prints one plain closing line, `tests: N passed, N failed, N skipped`, that any CI log reader
 * understands, after vitest's own summary.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const { passed, failed, skipped } = countOutcomes(
      testModules.map((module) => ({ state: module.state(), tests: [...module.children.allTests()].map((test) => test.result().state) })),
    );
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
