/** A scenario's `keeper:` timing is checked at load with the keeper's own rules, named as the YAML names them. */
import { describe, expect, it } from 'vitest';
import { ScenarioError } from '../../../sim/scenario/scenario-error.js';
import { incident } from '../../support/scenario.js';

function loadError(extra: string): ScenarioError {
  try {
    incident(extra, '[sidecar]');
  } catch (error) {
    if (error instanceof ScenarioError) return error;
    throw error;
  }
  throw new Error(`loaded without an error: ${extra}`);
}

describe('scenario keeper timing', () => {
  it('a renew deadline past the lease margin fails at load, at its own line and column, in YAML names', () => {
    const error = loadError('keeper: { renewDeadline: 175s }');
    // incident() puts the extra line after nine lines of its own: line 10, the value at column 26.
    expect(error.message).toMatch(/^test\.yaml:10:26: keeper\.renewDeadline: expected at most lease\.ttl − driftMargin − clockUncertainty − keeper\.requestTimeout/);
    expect(error.message).toMatch(/, got "175s"$/);
    expect(error.message).toContain('= 2m47s180ms');
    expect(error.message).not.toMatch(/renewDeadlineMs|ttlMs|\d\.\d{3,}/);
  });

  it('a renew interval not shorter than the deadline names both YAML fields', () => {
    const error = loadError('keeper: { renewInterval: 2m, renewDeadline: 1m }');
    expect(error.message).toBe('test.yaml:10:26: keeper.renewInterval: expected shorter than keeper.renewDeadline (1m), got "2m"');
  });

  it('valid timing loads as before', () => {
    expect(incident('keeper: { renewInterval: 30s, renewDeadline: 90s }', '[sidecar]').keeper).toEqual({
      renewIntervalMs: 30_000,
      renewDeadlineMs: 90_000,
      requestTimeoutMs: undefined,
    });
  });
});
