/**
 * The root-cause report: markdown and an SVG chart, computed entirely from simulator runs. A
 * pure function of its inputs (scenarios, their reports with the traces of run 0, and the
 * command-line overrides), so regeneration gives the same bytes.
 *
 * Layout: a first screen (sections 1-4: what happened and why, the options compared, what ships
 * and its evidence, how sure we are), then the mechanism, the chart, where the seed's text and
 * the real code differ, each option's trap, and the appendices with every table.
 */
import { explorationAppendix, targetsAppendix } from './appendix-validation.js';
import { figuresAppendix, runsAppendix } from './appendix-figures.js';
import { reproduceAppendix } from './appendix-reproduce.js';
import { chartSection } from './chart-section.js';
import { decisionSection } from './decision-section.js';
import { header, howSureSection, whatHappenedSection } from './first-screen.js';
import { tracedExitIncident } from './exit-cycle-section.js';
import { mechanismSection, tracedIncident } from './mechanism-section.js';
import { columnSources, optionsTable } from './options-table.js';
import { optionsDetailSection } from './options-detail-section.js';
import type { BuiltReport, ReportInput, ReportOptions } from './report-types.js';
import { strategiesOf } from './scenario-rows.js';
import { seedVsRealSection } from './seed-vs-real-section.js';
import { chooseShipped } from './ship-choice.js';
import { trapOf } from './traps.js';


function optionsSection(inputs: readonly ReportInput[], shipped: string): string {
  return ["## 2. The seed's three options compared", '', optionsTable(inputs, shipped)].join('\n');
}

/** Builds the report and its chart. */
export function buildReport(inputs: readonly ReportInput[], options: ReportOptions): BuiltReport {
  const sources = columnSources(inputs);
  const shipped = chooseShipped(inputs);
  const traps = strategiesOf(inputs).map((spec) => trapOf(inputs, spec, shipped.strategy));
  const targets = inputs.flatMap((i) => i.report.targets);
  const traced = tracedIncident(sources.incidents.find((i) => i.model.id === 'seed')?.input);
  const tracedExit = tracedExitIncident(sources.incidents.find((i) => i.model.id === 'real')?.input);
  // The chart leads with the real mechanics when the runs model them.
  const charted = tracedExit === undefined ? (traced === undefined ? undefined : { ...traced, model: 'seed' as const }) : { ...tracedExit, model: 'real' as const };
  const chart = chartSection(charted, options.chartHref, shipped.strategy);
  const sections = [
    header(inputs),
    whatHappenedSection(inputs),
    optionsSection(inputs, shipped.strategy),
    decisionSection({ inputs, sources, traps, targets, shipped }),
    howSureSection(inputs, targets, options.extras, shipped.strategy),
    mechanismSection(traced, tracedExit),
    chart.text,
    seedVsRealSection(inputs, sources.incidents),
    optionsDetailSection(traps),
    runsAppendix(inputs),
    figuresAppendix(inputs),
    targetsAppendix(targets),
    explorationAppendix(options.extras),
    reproduceAppendix(inputs, options, [tracedExit, traced].filter((x) => x !== undefined), shipped.strategy),
  ];
  return { markdown: `${sections.join('\n\n')}\n`, svg: chart.svg };
}
