/**
 * Section 3: what ships and the evidence for it, every figure read from the shipped strategy's
 * own rows (a variant of the same kind under another name is named as itself).
 */
import { fmtMs, fmtNum } from './numbers.js';
import { list, plural, rate, scenarioName, strategyRef, text, timeValue, unique } from './prose.js';
import type { TargetResult } from '../targets.js';
import { incidentRow, type ModelIncident } from './models.js';
import type { ColumnSources } from './options-table.js';
import type { ReportInput } from './report-types.js';
import { rowByKey, rowByName, rowsOf, sightings, type Row } from './scenario-rows.js';
import { optionOf, SHIP_CANDIDATES, type ShipChoice } from './seed-options.js';
import { supported } from './ship-choice.js';
import { expectedNote, faultTrouble, type Trap } from './traps.js';

export interface DecisionContext {
  readonly inputs: readonly ReportInput[];
  readonly sources: ColumnSources;
  readonly traps: readonly Trap[];
  readonly targets: readonly TargetResult[];
  readonly shipped: ShipChoice;
}

function incidentBullets(ctx: DecisionContext): string[] {
  return ctx.sources.incidents.flatMap((incident) => {
    const found = incidentRow(ctx.inputs, incident, ctx.shipped.strategy);
    const { model } = incident;
    if (found === undefined) return [`Under ${model.name}, no scenario where sessions only idle runs ${strategyRef(ctx.shipped.strategy)}: these runs say nothing about it there.`];
    const baseline = rowByKey(found.input, 'baseline') as Row;
    const ours = rate(found.row.summary.respawnsPerHour);
    const theirs = `${rate(baseline.summary.respawnsPerHour)} for ${strategyRef(baseline.spec.name)}`;
    return [
      found.row.summary.respawnsPerHour === 0
        ? `**It removes the incident** under ${model.name}: ${ours} respawns per hour on ${scenarioName(found.input)}, against ${theirs}.`
        : `**It does not remove the incident under ${model.name}**: ${ours} respawns per hour on ${scenarioName(found.input)}, against ${theirs}.`,
    ];
  });
}

function crashBullet({ model, input }: ModelIncident, choice: ShipChoice, models: number): string | null {
  const shipped = rowByName(input, choice.strategy);
  if (shipped === undefined) {
    return `**After a crash**${models === 1 ? '' : ` under ${model.name}`}: ${scenarioName(input)} does not run ${strategyRef(choice.strategy)}, so these runs do not show how it recovers from one.`;
  }
  const s = shipped.summary;
  if (s.failoverP50Ms === null && s.crashes > 0 && s.sessionRestartsPerHour === 0) {
    return `**After a crash**${models === 1 ? '' : ` under ${model.name}`} on ${scenarioName(input)}: ${plural(s.crashes, 'crash', 'crashes')}, but no failover and no session restart was measured for ${strategyRef(shipped.spec.name)}; these runs do not show how it recovers.`;
  }
  const inPlace = s.failoverP50Ms === null && s.crashes > 0;
  // Within a second of the shipped strategy's p50 is as fast, not slower.
  const slowerThanShipped = (r: Row): boolean => timeValue(r.summary.failoverP50Ms) >= timeValue(s.failoverP50Ms) + 1_000;
  const others = rowsOf(input).filter((r) => r.spec.name !== shipped.spec.name && r.spec.kind !== 'baseline' && (inPlace ? r.summary.failoverP50Ms !== null : slowerThanShipped(r)));
  const asFast = inPlace ? [] : rowsOf(input).filter((r) => r.spec.name !== shipped.spec.name && r.spec.kind !== 'baseline' && r.summary.failoverP50Ms !== null && !slowerThanShipped(r));
  const never = others.filter((r) => r.summary.failoverP50Ms === 'never');
  const slower = others.filter((r) => r.summary.failoverP50Ms !== 'never');
  const where = `${models === 1 ? '' : ` under ${model.name}`} on ${scenarioName(input)}`;
  const mine = inPlace
    ? `**A crashed session needs no failover**${where}: its ${plural(s.crashes, 'crash', 'crashes')} were restarted in place (${rate(s.sessionRestartsPerHour)} restarts per hour), ${fmtMs(s.leaderlessInPracticeMsPerHour)} per hour without a working leader`
    : `**${models === 1 ? 'A' : `Under ${model.name}, a`} dead owner hands over at once** on ${scenarioName(input)}: after ${plural(s.crashes, 'crash', 'crashes')}, failover p50 ${fmtMs(s.failoverP50Ms)}, max ${fmtMs(s.failoverMaxMs)}`;
  const rest = [
    ...(slower.length === 0 ? [] : [`${list(slower.map((r) => `${strategyRef(r.spec.name)} ${fmtMs(r.summary.failoverP50Ms)}`))} (p50)`]),
    ...(never.length === 0 ? [] : [`${list(never.map((r) => strategyRef(r.spec.name)))} never hand over`]),
  ];
  const lead = inPlace ? 'the others must fail over' : asFast.length === 0 ? 'the others take longer' : `${list(asFast.map((r) => strategyRef(r.spec.name)))} ${asFast.length === 1 ? 'is' : 'are'} as fast; the others take longer`;
  return `${mine}${rest.length === 0 ? '; no other option does better.' : `; ${lead}: ${rest.join(', and ')}.`}`;
}

function freezeBullet(freeze: ReportInput, choice: ShipChoice): string | null {
  const shipped = rowByName(freeze, choice.strategy);
  if (shipped === undefined) return `**A host that freezes processes**: ${scenarioName(freeze)} does not run ${strategyRef(choice.strategy)}.`;
  const alternative = rowByName(freeze, choice.alternative.strategy);
  const against =
    alternative === undefined
      ? ''
      : alternative.summary.respawnsPerHour > shipped.summary.respawnsPerHour
        ? `, where ${strategyRef(alternative.spec.name)} gets ${rate(alternative.summary.respawnsPerHour)}`
        : ` (${strategyRef(alternative.spec.name)}: ${rate(alternative.summary.respawnsPerHour)})`;
  return `**A host that freezes processes**: ${rate(shipped.summary.respawnsPerHour)} respawns per hour on ${scenarioName(freeze)}${against}.`;
}

function faultBullets(ctx: DecisionContext): string[] {
  const own = ctx.sources.faults.flatMap((input) => rowByName(input, ctx.shipped.strategy) ?? []);
  const out: string[] = [];
  if (own.length === 0 && ctx.sources.faults.length > 0) {
    const which = ctx.sources.faults.length === 1 ? 'the one scenario with faults does not run' : `none of the ${ctx.sources.faults.length} scenarios with faults runs`;
    out.push(`**Injected faults**: ${which} ${strategyRef(ctx.shipped.strategy)}, so the checkers have not tried it under faults.`);
  }
  if (own.length > 0) {
    const safety = own.reduce((a, r) => a + r.summary.safetyViolations, 0);
    const liveness = own.reduce((a, r) => a + r.summary.livenessViolations, 0);
    const never = own.filter((r) => r.summary.failoverMaxMs === 'never').length;
    out.push(
      `**Injected faults**: the checkers find ${plural(safety, 'safety violation')} and ${plural(liveness, 'liveness violation')} for ${strategyRef(ctx.shipped.strategy)} over ${plural(own.length, 'scenario')}${never === 0 ? ', and it always fails over' : `; in ${never} it never fails over`}.`,
    );
  }
  // Variants of the shipped keeper under other names (e.g. without the progress check) answer for themselves.
  const shippedKind = sightings(ctx.inputs, ctx.shipped.strategy)[0]?.row.spec.kind;
  for (const input of ctx.sources.faults) {
    const variants = input.scenario.strategies.filter((s) => s.kind === shippedKind && s.name !== ctx.shipped.strategy).map((s) => rowByName(input, s.name) as Row);
    const troubled = variants.filter((r) => faultTrouble(r.summary).length > 0);
    if (troubled.length === 0) continue;
    const fine = variants.filter((r) => !troubled.includes(r));
    const what = troubled.map((r) => {
      const check = r.spec.maxProgressSilenceMs === undefined ? 'without the progress check' : `with the progress check at ${fmtMs(r.spec.maxProgressSilenceMs)}`;
      return `${check} (${strategyRef(r.spec.name)}) it shows ${faultTrouble(r.summary).join(', ')}${expectedNote(input, r.spec.name)}`;
    });
    const ok = fine.map((r) => `${r.spec.maxProgressSilenceMs === undefined ? 'without it' : `with the progress check at ${fmtMs(r.spec.maxProgressSilenceMs)}`} (${strategyRef(r.spec.name)}) none`);
    const faults = list(unique(input.scenario.faults.map((f) => text(f.kind))));
    out.push(`**The same keeper on ${text(input.scenario.name)}** (faults: ${faults}): ${[...what, ...ok].join('; ')}.`);
  }
  return out;
}

function targetBullet(ctx: DecisionContext): string {
  const own = ctx.targets.filter((t) => t.strategy === ctx.shipped.strategy);
  const failed = own.filter((t) => !t.ok);
  if (own.length === 0) return `**Targets**: no scenario sets a target for ${strategyRef(ctx.shipped.strategy)}; the decision rests on the figures above alone.`;
  if (failed.length === 0) return `**Targets**: all ${own.length} targets set for ${strategyRef(ctx.shipped.strategy)} hold, in ${plural(unique(own.map((t) => t.scenario)).length, 'scenario')}.`;
  return `**${failed.length} of ${own.length} targets for ${strategyRef(ctx.shipped.strategy)} fail** (${list(failed.map((t) => `${text(t.scenario)} ${t.metric}`))}): the runs do not support the decision as it stands.`;
}

function costBullet(ctx: DecisionContext): string | null {
  const first = ctx.sources.incidents[0];
  const found = first === undefined ? undefined : incidentRow(ctx.inputs, first, ctx.shipped.strategy);
  if (found === undefined) return null;
  const baseline = rowByKey(found.input, 'baseline') as Row;
  const restarts = found.row.summary.sessionRestartsPerHour > 0 ? `, ${rate(found.row.summary.sessionRestartsPerHour)} session restarts per hour` : '';
  return `**Cost**: one extra process per orchestrator and ${fmtNum(found.row.summary.storeWritesPerHour, 1)} store writes per hour${restarts} on ${scenarioName(found.input)}, against ${fmtNum(baseline.summary.storeWritesPerHour, 1)} writes for ${strategyRef(baseline.spec.name)}.`;
}

function rejectedLine(ctx: DecisionContext): string {
  const kept = [ctx.shipped.strategy, ctx.shipped.alternative.strategy].flatMap((name) => sightings(ctx.inputs, name).slice(0, 1).map((x) => x.row.spec.kind));
  const rejected = ctx.traps.filter((t) => !kept.includes(t.spec.kind));
  const shown = rejected.filter((t) => t.shown === true && t.worst !== null);
  const rest = rejected.filter((t) => !shown.includes(t));
  const lines: string[] = [];
  if (shown.length > 0) lines.push(`**Rejected**, for what the runs show (section 8): ${shown.map((t) => `${strategyRef(t.spec.name)} (${t.worst})`).join('; ')}.`);
  if (rest.length > 0) lines.push(`**Not chosen**, though the runs show no trap: ${list(rest.map((t) => strategyRef(t.spec.name)))}.`);
  return lines.join(' ');
}

export function decisionSection(ctx: DecisionContext): string {
  const shippedSeen = sightings(ctx.inputs, ctx.shipped.strategy);
  const out = ['## 3. What we ship, and the evidence', ''];
  const first = shippedSeen[0];
  if (first === undefined) {
    out.push(`We ship ${strategyRef(ctx.shipped.strategy)}, but no scenario given runs it: these runs cannot support the decision.`);
    return out.join('\n');
  }
  const option = optionOf(first.row.spec);
  const alternative = sightings(ctx.inputs, ctx.shipped.alternative.strategy).length > 0 ? ` The alternative, for ${ctx.shipped.alternative.when}, is ${strategyRef(ctx.shipped.alternative.strategy)}: ${ctx.shipped.alternative.what}.` : '';
  const caveat = supported(ctx.inputs, ctx.shipped)
    ? ''
    : ` **The runs do not support it under every model**: none of the candidates (${list(SHIP_CANDIDATES.map((c) => strategyRef(c.strategy)))}) removes the respawns without a zombie lease everywhere, so this is the last of them; the bullets say where it falls short.`;
  out.push(`We ship **${option === undefined ? 'a strategy none of the options lists' : `option ${option.number}`} as ${strategyRef(ctx.shipped.strategy)}**: ${ctx.shipped.what}.${alternative}${caveat}`, '');
  const bullets = [
    ...incidentBullets(ctx),
    ...ctx.sources.crashes.map((crash) => crashBullet(crash, ctx.shipped, ctx.sources.crashes.length)),
    ...(ctx.sources.freeze === undefined ? [] : [freezeBullet(ctx.sources.freeze, ctx.shipped)]),
    ...faultBullets(ctx),
    targetBullet(ctx),
    costBullet(ctx),
  ].filter((b): b is string => b !== null);
  out.push(...bullets.map((b) => `- ${b}`));
  const rejected = rejectedLine(ctx);
  if (rejected !== '') out.push('', rejected);
  return out.join('\n');
}

