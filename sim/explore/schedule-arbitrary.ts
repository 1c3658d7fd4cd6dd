import fc from 'fast-check';
import type { FaultSpec, Scenario } from '../scenario/types.js';

/** One concrete run to check: a world seed and a list of fault occurrences at fixed times. */
export interface Schedule {
  readonly seed: number;
  readonly faults: readonly FaultSpec[];
}

/** Most occurrences one fault template may get in a generated schedule. */
export const MAX_OCCURRENCES_PER_FAULT = 6;

/**
 * Schedules within the scenario's bounds: for every fault template, 0 to N occurrences, each at
 * a time inside the template's `at` range (or anywhere in the run when it repeats with `every`)
 * and lasting a time inside its `for` range; plus a world seed for everything else (idle times,
 * latencies, respawn delays). fast-check shrinks toward fewer, earlier, shorter faults.
 */
export function scheduleArbitrary(scenario: Scenario): fc.Arbitrary<Schedule> {
  const perTemplate = scenario.faults.map((template) => {
    const at = template.everyMs === undefined && template.at !== undefined ? template.at : { minMs: 0, maxMs: scenario.durationMs };
    const count = template.everyMs === undefined ? 1 : Math.min(MAX_OCCURRENCES_PER_FAULT, Math.ceil(scenario.durationMs / template.everyMs));
    const occurrence = fc
      .record({ atMs: fc.integer({ min: at.minMs, max: at.maxMs }), forMs: fc.integer({ min: template.for.minMs, max: template.for.maxMs }) })
      .map(({ atMs, forMs }): FaultSpec => ({
        ...template,
        at: { minMs: atMs, maxMs: atMs },
        everyMs: undefined,
        for: { minMs: forMs, maxMs: forMs },
        probability: 1,
      }));
    return fc.array(occurrence, { minLength: 0, maxLength: count });
  });
  return fc.record({
    seed: fc.integer({ min: 0, max: 0xffffffff }),
    faults: fc.tuple(...perTemplate).map((lists) => lists.flat().sort((a, b) => (a.at as { minMs: number }).minMs - (b.at as { minMs: number }).minMs)),
  });
}
