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
import { mechanismSection, tracedIncident } from './mechanism-section.js';
import { columnSources, optionsTable } from './options-table.js';
import { optionsDetailSection } from './options-detail-section.js';
import type { BuiltReport, ReportInput, ReportOptions } from './report-types.js';
import { strategiesOf } from './scenario-rows.js';
import { seedVsRealSection } from './seed-vs-real-section.js';
import { trapOf } from './traps.js';


function optionsSection(inputs: readonly ReportInput[]): string {
  return [
    "## 2. The seed's three options compared",
    '',
    'Option 1: a background worker or keeper renews the lease apart from the session. Option 2: a shell loop in the watchdog renews it. Option 3: the main loop is kept from idling. Each runs in the variants below.',
    '',
    optionsTable(inputs),
  ].join('\n');
}

/** Builds the report and its chart. */
export function buildReport(inputs: readonly ReportInput[], options: ReportOptions): BuiltReport {
  const sources = columnSources(inputs);
  const traps = strategiesOf(inputs).map((spec) => trapOf(inputs, spec));
  const targets = inputs.flatMap((i) => i.report.targets);
  const seedIncident = sources.incidents.find((i) => i.model.id === 'seed') ?? sources.incidents[0];
  const traced = tracedIncident(seedIncident?.input);
  const chart = chartSection(traced, options.chartHref);
  const sections = [
    header(inputs),
    whatHappenedSection(inputs),
    optionsSection(inputs),
    decisionSection({ inputs, sources, traps, targets }),
    howSureSection(inputs, targets, options.extras),
    mechanismSection(traced),
    chart.text,
    seedVsRealSection(inputs, sources.incidents),
    optionsDetailSection(traps),
    runsAppendix(inputs),
    figuresAppendix(inputs),
    targetsAppendix(targets),
    explorationAppendix(options.extras),
    reproduceAppendix(inputs, options, traced),
  ];
  return { markdown: `${sections.join('\n\n')}\n`, svg: chart.svg };
}
