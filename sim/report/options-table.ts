/**
 * The one comparison table of the first screen: a row per strategy (the seed's options and their
 * variants), a column per figure that decides between them. Each column reads one scenario role
 * (the incident of each model, a crash, a frozen host, injected faults).
 */
import type { StrategySpec } from '../scenario/types.js';
import { table, type Align } from './markdown.js';
import { modelIncidents, type ModelIncident } from './models.js';
import { fmtMs, fmtNum } from './numbers.js';
import { list, plural, rate, scenarioName, strategyRef } from './prose.js';
import type { ReportInput } from './report-types.js';
import { roleOf, rowByName, strategiesOf, type Row } from './scenario-rows.js';
import { inOptionOrder, optionOf, SHIPPED } from './seed-options.js';

interface Column {
  readonly head: string;
  readonly cell: (spec: StrategySpec) => string;
}

const NOT_RUN = '—';

/** The scenarios a column reads, named once under the table. */
export interface ColumnSources {
  readonly incidents: readonly ModelIncident[];
  readonly crash: ReportInput | undefined;
  readonly freeze: ReportInput | undefined;
  readonly faults: readonly ReportInput[];
}

export function columnSources(inputs: readonly ReportInput[]): ColumnSources {
  return {
    incidents: modelIncidents(inputs),
    crash: inputs.find((i) => roleOf(i.scenario) === 'crash'),
    freeze: inputs.find((i) => roleOf(i.scenario) === 'freeze'),
    faults: inputs.filter((i) => roleOf(i.scenario) === 'chaos'),
  };
}

/** A cell that reads the variant's row in one scenario, or says it was not run there. */
function cellIn(input: ReportInput, format: (row: Row) => string): (spec: StrategySpec) => string {
  return (spec) => {
    const row = rowByName(input, spec.name);
    return row === undefined ? NOT_RUN : format(row);
  };
}

function columns(inputs: readonly ReportInput[], sources: ColumnSources): Column[] {
  const out: Column[] = sources.incidents.map(({ model, input }) => ({
    head: sources.incidents.length === 1 ? 'respawns/h, incident' : `respawns/h, incident (${model.column})`,
    cell: cellIn(input, (row) => rate(row.summary.respawnsPerHour)),
  }));
  if (sources.freeze !== undefined) {
    out.push({ head: 'respawns/h, host freezes processes', cell: cellIn(sources.freeze, (row) => rate(row.summary.respawnsPerHour)) });
  }
  if (sources.crash !== undefined) {
    out.push(
      { head: 'failover after a crash, p50 / max', cell: cellIn(sources.crash, (row) => `${fmtMs(row.summary.failoverP50Ms)} / ${fmtMs(row.summary.failoverMaxMs)}`) },
      { head: 'zombie lease per hour, crashes', cell: cellIn(sources.crash, (row) => fmtMs(row.summary.zombieLeaseMsPerHour)) },
    );
  }
  if (sources.faults.length > 0) {
    out.push({
      head: 'safety / liveness violations, injected faults',
      cell: (spec) => {
        const rows = sources.faults.flatMap((i) => rowByName(i, spec.name) ?? []);
        if (rows.length === 0) return NOT_RUN;
        const safety = rows.reduce((a, r) => a + r.summary.safetyViolations, 0);
        const liveness = rows.reduce((a, r) => a + r.summary.livenessViolations, 0);
        return `${safety} / ${liveness} in ${rows.length}`;
      },
    });
  }
  out.push({
    head: 'cost per hour',
    cell: (spec) => {
      const where = [...sources.incidents.map((i) => i.input), ...inputs].find((i) => rowByName(i, spec.name) !== undefined);
      const row = where === undefined ? undefined : rowByName(where, spec.name);
      if (row === undefined) return NOT_RUN;
      const writes = `${fmtNum(row.summary.storeWritesPerHour, 1)} writes`;
      return row.summary.keepAwakeActionsPerHour > 0 ? `${writes}, ${fmtNum(row.summary.keepAwakeActionsPerHour, 1)} self-made actions` : writes;
    },
  });
  return out;
}

/** Strategies in option order, each once. */
export function strategiesByOption(inputs: readonly ReportInput[]): StrategySpec[] {
  return inOptionOrder(strategiesOf(inputs), (spec) => spec);
}

/** The table and the line under it that says where each column comes from. */
export function optionsTable(inputs: readonly ReportInput[]): string {
  const sources = columnSources(inputs);
  const cols = columns(inputs, sources);
  let previous: number | undefined = -1;
  const body = strategiesByOption(inputs).map((spec) => {
    const option = optionOf(spec);
    const label = option?.number === previous ? '' : option === undefined ? 'other' : option.number === 0 ? option.title : `${option.number}. ${option.title}`;
    previous = option?.number;
    const name = spec.name === SHIPPED.strategy ? `**${strategyRef(spec.name)}** (shipped)` : strategyRef(spec.name);
    return [label, name, ...cols.map((c) => c.cell(spec))];
  });
  const head = ['option', 'variant', ...cols.map((c) => c.head)];
  const align: Align[] = ['left', 'left', ...cols.map((): Align => 'right')];
  const from = [
    ...sources.incidents.map(({ model, input }) => `incident${sources.incidents.length === 1 ? '' : ` (${model.column})`} ${scenarioName(input)}`),
    ...(sources.freeze === undefined ? [] : [`frozen host ${scenarioName(sources.freeze)}`]),
    ...(sources.crash === undefined ? [] : [`crashes ${scenarioName(sources.crash)}`]),
    ...(sources.faults.length === 0 ? [] : [`injected faults: the sum over the ${plural(sources.faults.length, 'scenario')} with faults that run the variant`]),
  ];
  return [
    table(head, body, align),
    '',
    `Rates per simulated hour, means over all runs. Columns from: ${list(from)}; cost on the first incident that runs the variant. ${NOT_RUN}: not run there. Every figure of every scenario: [Appendix B](#appendix-b-every-figure-per-scenario).`,
  ].join('\n');
}
