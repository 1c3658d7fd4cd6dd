/**
 * Appendix E: the commands that regenerate the report and every figure in it. They use the
 * `sim` bin, so they work from a checkout (after a build) and from an installed package.
 */
import { basename } from 'node:path';
import { codeBlock, codeSpan, shellQuote } from './markdown.js';
import { fmtMs } from './numbers.js';
import { dur, SIM_COMMAND, strategyRef, unique } from './prose.js';
import type { ReportInput, ReportOptions } from './report-types.js';
import { rowByName, type Row } from './scenario-rows.js';
import { CHART_STEP_MS } from './chart-section.js';

function safeFileStem(name: string): string {
  const stem = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '');
  return stem === '' ? 'scenario' : stem;
}

/** A file name on one line inside a shell comment. */
const commentSafe = (value: string): string => value.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, ' ');

/** A scenario whose trace of run 0 sections 5 and 6 read, with its baseline. */
export interface TracedScenario {
  readonly input: ReportInput;
  readonly baseline: Row;
}

export function reproduceAppendix(inputs: readonly ReportInput[], options: ReportOptions, traced: readonly TracedScenario[], shipped: string): string {
  const files = inputs.map((i) => shellQuote(i.scenario.file)).join(' ');
  const over = options.overrideArgs.join(' ');
  const outArg = options.defaultOutput ? '' : ` -o ${shellQuote(options.output)}`;
  const withOver = (cmd: string): string => (over === '' ? cmd : `${cmd} ${over}`);
  const lines = [
    '# this report and the chart beside it',
    withOver(`${SIM_COMMAND} report ${files}`) + outArg,
    '# CI: exit 1 when the files on disk differ from a fresh run',
    withOver(`${SIM_COMMAND} report --check ${files}`) + outArg,
    '# the targets of Appendix C',
    withOver(`${SIM_COMMAND} gate ${files}`),
  ];
  for (const input of inputs) {
    const s = input.scenario;
    const exact = `--seed ${s.seed} --runs ${s.runs} --duration ${dur(s.durationMs)}`;
    lines.push(`# ${commentSafe(s.file)}: the figures of Appendix B (add --json for a machine-readable copy)`);
    lines.push(`${SIM_COMMAND} run ${shellQuote(s.file)} ${exact}`);
    const incident = traced.find((x) => x.input === input);
    if (incident === undefined) continue;
    const traceFile = shellQuote(`${safeFileStem(basename(s.file).replace(/\.ya?ml$/i, ''))}-trace.jsonl`);
    lines.push('# sections 5 and 6: the trace of run 0 (JSON lines; keep the lines of one strategy)');
    lines.push(`${SIM_COMMAND} run ${shellQuote(s.file)} ${exact} --trace ${traceFile} --trace-run 0`);
    for (const row of [incident.baseline, rowByName(input, shipped)]) {
      if (row !== undefined) lines.push(`grep -F ${shellQuote(`"strategy":${JSON.stringify(row.spec.name)},`)} ${traceFile}`);
    }
  }
  return [
    '## Appendix E. How to reproduce',
    '',
    `Everything is deterministic: the same files, seeds, run counts and durations give the same bytes. Run the commands from the directory that holds the scenario files: a checkout (after ${codeSpan('npm run build')}) or the installed package (${codeSpan('node_modules/heartbeat-lab')}).`,
    '',
    codeBlock(lines.join('\n'), 'sh'),
    '',
    `Section 5 draws the first complete cycle (session idle, respawn, new acquisition) from the ${unique(traced.map((x) => strategyRef(x.baseline.spec.name))).join(' and ') || 'baseline'} lines; section 6 samples the lease age every ${fmtMs(CHART_STEP_MS)} from the ${codeSpan('acquire')}/${codeSpan('renew')} lines with ${codeSpan('"ok":true')}.`,
  ].join('\n');
}
