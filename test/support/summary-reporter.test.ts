import { describe, expect, it } from 'vitest';
import { countOutcomes } from './summary-reporter.js';

describe('the closing summary line', () => {
  it('counts the tests of a file whose beforeAll failed as failed, not skipped', () => {
    expect(countOutcomes([{ state: 'failed', tests: ['skipped', 'skipped', 'skipped'] }])).toEqual({ passed: 0, failed: 3, skipped: 0 });
  });

  it('counts a failed file with no tests as one failure', () => {
    expect(countOutcomes([{ state: 'failed', tests: [] }])).toEqual({ passed: 0, failed: 1, skipped: 0 });
  });

  it('keeps real skips as skips in a file that passed', () => {
    expect(countOutcomes([{ state: 'passed', tests: ['passed', 'skipped'] }, { state: 'failed', tests: ['passed', 'failed'] }])).toEqual({
      passed: 2,
      failed: 1,
      skipped: 1,
    });
  });
});
