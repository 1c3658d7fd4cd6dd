/**
 * The one comparison table of the first screen: a row per strategy (the seed's options and their
 * variants), a column per figure that decides between them. Each column reads one scenario role
 * (the incident of each model, a crash, a frozen host, injected faults).
 */
import type { StrategySpec } from '../scenario/types.js';
import { table, type Align } from './markdown.js';
import { incidentRow, MODELS, modelIncidents, type ModelIncident } from './models.js';
import { fmtMs, fmtNum } from './numbers.js';
import { list, plural, rate, scenarioName, strategyRef } from './prose.js';
import type { ReportInput } from './report-types.js';
import { roleOf, rowByName, strategiesOf, type Row } from './scenario-rows.js';
import { inOptionOrder, optionOf } from './seed-options.js';

interface Column {
  readonly head: string;
  readonly cell: (spec: StrategySpec) => string;
}

const NOT_RUN = '—';

/** The scenarios a column reads, named once under the table. */
export interface ColumnSources {
  readonly incidents: readonly ModelIncident[];
  /** The first crash scenario of each model that has one, in model order. */
  readonly crashes: readonly ModelIncident[];
  readonly freeze: ReportInput | undefined;
  readonly faults: readonly ReportInput[];
}

export function columnSources(inputs: readonly ReportInput[]): ColumnSources {
  return {
    incidents: modelIncidents(inputs),
    crashes: MODELS.flatMap((model) => {
      const input = inputs.find((i) => roleOf(i.scenario) === 'crash' && model.describes(i.scenario));
      return input === undefined ? [] : [{ model, input }];
    }),
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

/** One column over a scenario per model: the values joined `seed / real`, the models named in the head. */
function perModel(head: string, scenarios: readonly ModelIncident[], format: (row: Row) => string): Column[] {
  if (scenarios.length === 0) return [];
  const models = scenarios.length === 1 ? '' : ` (${scenarios.map((x) => x.model.short).join(' / ')})`;
  const cells = scenarios.map((x) => cellIn(x.input, format));
  const cell = (spec: StrategySpec): string => {
    const values = cells.map((c) => c(spec));
    return values.every((v) => v === NOT_RUN) ? NOT_RUN : values.join(' / ');
  };
  return [{ head: `${head}${models}`, cell }];
}

/** p50 of the failovers after crashes; `in place` when the crashed sessions were restarted without one. */
function failover(row: Row): string {
  const s = row.summary;
  if (s.failoverP50Ms === null && s.crashes > 0 && s.sessionRestartsPerHour > 0) return 'in place';
  return fmtMs(s.failoverP50Ms);
}

/** Marks a figure read from another idle-only scenario of the model (named under the table). */
const ELSEWHERE = '*';

/** Like {@link perModel} over the models' incidents, falling back to another idle-only scenario of the model (marked). */
function perIncident(inputs: readonly ReportInput[], head: string, incidents: readonly ModelIncident[], format: (row: Row) => string): Column[] {
  if (incidents.length === 0) return [];
  const models = incidents.length === 1 ? '' : ` (${incidents.map((x) => x.model.short).join(' / ')})`;
  const cell = (spec: StrategySpec): string => {
    const values = incidents.map((incident) => {
      const found = incidentRow(inputs, incident, spec.name);
      return found === undefined ? NOT_RUN : `${format(found.row)}${found.elsewhere ? ELSEWHERE : ''}`;
    });
    return values.every((v) => v === NOT_RUN) ? NOT_RUN : values.join(' / ');
  };
  return [{ head: `${head}${models}`, cell }];
}

/** The scenarios the marked cells come from, in input order. */
function elsewhereScenarios(inputs: readonly ReportInput[], incidents: readonly ModelIncident[]): ReportInput[] {
  const found = strategiesOf(inputs).flatMap((spec) => incidents.flatMap((incident) => incidentRow(inputs, incident, spec.name) ?? []).filter((x) => x.elsewhere).map((x) => x.input));
  return inputs.filter((i) => found.includes(i));
}

function columns(inputs: readonly ReportInput[], sources: ColumnSources): Column[] {
  const out: Column[] = [
    ...perIncident(inputs, 'respawns/h, incident', sources.incidents, (row) => rate(row.summary.respawnsPerHour)),
    ...perIncident(inputs, 'no working leader per hour, incident', sources.incidents, (row) => fmtMs(row.summary.leaderlessInPracticeMsPerHour)),
    ...perModel('failover after a crash, p50', sources.crashes, failover),
  ];
  if (sources.freeze !== undefined) {
    out.push({ head: 'respawns/h, host freezes processes', cell: cellIn(sources.freeze, (row) => rate(row.summary.respawnsPerHour)) });
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
export function optionsTable(inputs: readonly ReportInput[], shipped: string): string {
  const sources = columnSources(inputs);
  const cols = columns(inputs, sources);
  let previous: number | undefined = -1;
  const body = strategiesByOption(inputs).map((spec) => {
    const option = optionOf(spec);
    const label = option?.number === previous ? '' : option === undefined ? 'other' : option.number === 0 ? option.title : `${option.number}. ${option.title}`;
    previous = option?.number;
    const name = spec.name === shipped ? `**${strategyRef(spec.name)}** (shipped)` : strategyRef(spec.name);
    return [label, name, ...cols.map((c) => c.cell(spec))];
  });
  const head = ['option', 'variant', ...cols.map((c) => c.head)];
  const align: Align[] = ['left', 'left', ...cols.map((): Align => 'right')];
  const elsewhere = elsewhereScenarios(inputs, sources.incidents);
  const named = (what: string, list_: readonly ModelIncident[]): string[] =>
    list_.map(({ model, input }) => `${what}${list_.length === 1 ? '' : ` (${model.short})`} ${scenarioName(input)}`);
  const from = [
    ...named('incident', sources.incidents),
    ...named('crashes', sources.crashes),
    ...(sources.freeze === undefined ? [] : [`frozen host ${scenarioName(sources.freeze)}`]),
    ...(sources.faults.length === 0 ? [] : [`injected faults: the sum over the ${plural(sources.faults.length, 'scenario')} with faults that run the variant`]),
  ];
  return [
    table(head, body, align),
    '',
    `Rates per simulated hour, means over all runs. Columns from: ${list(from)}; cost on the first incident that runs the variant. ${NOT_RUN}: not run there.${
      ' No working leader: no valid lease, or a lease whose holder has no live, started session (a zombie lease and start-up time count); in place: the crashed session was restarted under a lease that was never let go.'
    }${elsewhere.length === 0 ? '' : ` ${ELSEWHERE}: not run on the incident; from ${list(elsewhere.map(scenarioName))}, where sessions also only idle.`} Every figure of every scenario: [Appendix B](#appendix-b-every-figure-per-scenario).`,
  ].join('\n');
}
