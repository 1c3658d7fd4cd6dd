/**
 * Appendices C and D: every target of the scenario files against the runs, and the exploration
 * results (`sim explore`) when the report was given them.
 */
import { formatDurationMs } from '../../src/duration.js';
import type { TargetResult } from '../targets.js';
import { codeSpan, table } from './markdown.js';
import { formatActual, formatBound, SIM_COMMAND, strategyRef, text } from './prose.js';
import type { ValidationExtras } from './report-types.js';

export function targetsAppendix(targets: readonly TargetResult[]): string {
  const failed = targets.filter((t) => !t.ok).length;
  const out = ['## Appendix C. Targets', '', `Targets written in the scenario files, checked against the runs: ${targets.length - failed} of ${targets.length} hold.`, ''];
  if (targets.length === 0) out.push('No scenario given sets targets.');
  else {
    out.push(
      table(
        ['scenario', 'strategy', 'figure', 'expected', 'actual', 'result'],
        targets.map((t) => [text(t.scenario), strategyRef(t.strategy), codeSpan(t.metric), formatBound(t.metric, t.expected), formatActual(t), t.ok ? 'pass' : '**FAIL**']),
        ['left', 'left', 'left', 'left', 'right', 'left'],
      ),
    );
  }
  return out.join('\n');
}

export function explorationAppendix(extras: ValidationExtras | undefined): string {
  const out = ['## Appendix D. Exploration', ''];
  const explore = extras?.explore;
  if (explore === undefined) {
    out.push(`Exploration (${codeSpan('sim explore')}: randomized scenarios checked for safety and liveness) was not run for this report; it has no exploration results.`);
    return out.join('\n');
  }
  if (explore.length === 0) {
    out.push('Exploration was run and returned no results.');
    return out.join('\n');
  }
  out.push(
    table(
      ['scenario', 'strategy', 'seed', 'schedules', 'each', 'violation found'],
      explore.map((e) => [text(e.scenario), strategyRef(e.strategy), String(e.seed), String(e.runs), text(formatDurationMs(e.durationMs)), e.violation === undefined ? 'none' : text(e.violation)]),
      ['left', 'left', 'right', 'right', 'right', 'left'],
    ),
    '',
    `Each schedule is a random set of the scenario's faults within its bounds, checked for safety, then liveness. A strategy expected to fail (the deliberately broken ${codeSpan('naive-worker')}) shows that the checkers catch real bugs; the shipped keeper must show none. Larger budgets: ${codeSpan(`${SIM_COMMAND} explore FILE --strategy NAME --runs 10000 --duration 6h`)}.`,
  );
  return out.join('\n');
}
