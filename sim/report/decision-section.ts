/**
 * Section 3: what ships and the evidence for it, every figure read from the shipped strategy's
 * own rows (a variant of the same kind under another name is named as itself).
 */
import { fmtMs, fmtNum } from './numbers.js';
import { list, plural, rate, scenarioName, strategyRef, text, timeValue, unique } from './prose.js';
import type { TargetResult } from '../targets.js';
import type { ColumnSources } from './options-table.js';
import type { ReportInput } from './report-types.js';
import { rowByKey, rowByName, sightings, type Row } from './scenario-rows.js';
import { ALTERNATIVE, optionOf, SHIPPED } from './seed-options.js';
import { expectedNote, faultTrouble, type Trap } from './traps.js';

export interface DecisionContext {
  readonly inputs: readonly ReportInput[];
  readonly sources: ColumnSources;
  readonly traps: readonly Trap[];
  readonly targets: readonly TargetResult[];
}

function incidentBullets(ctx: DecisionContext): string[] {
  return ctx.sources.incidents.flatMap(({ model, input }) => {
    const shipped = rowByName(input, SHIPPED.strategy);
    const baseline = rowByKey(input, 'baseline') as Row;
    if (shipped === undefined) return [`Under ${model.name}, ${scenarioName(input)} does not run ${strategyRef(SHIPPED.strategy)}: these runs say nothing about it there.`];
    const ours = rate(shipped.summary.respawnsPerHour);
    const theirs = `${rate(baseline.summary.respawnsPerHour)} for ${strategyRef(baseline.spec.name)}`;
    return [
      shipped.summary.respawnsPerHour === 0
        ? `**It removes the incident** under ${model.name}: ${ours} respawns per hour on ${scenarioName(input)}, against ${theirs}.`
        : `**It does not remove the incident under ${model.name}**: ${ours} respawns per hour on ${scenarioName(input)}, against ${theirs}.`,
    ];
  });
}

function crashBullet(crash: ReportInput): string | null {
  const shipped = rowByName(crash, SHIPPED.strategy);
  if (shipped === undefined) return null;
  const others = [...crash.report.results]
    .map((s) => rowByName(crash, s.strategy) as Row)
    .filter((r) => r !== shipped && r.spec.kind !== 'baseline' && timeValue(r.summary.failoverP50Ms) > timeValue(shipped.summary.failoverP50Ms));
  const never = others.filter((r) => r.summary.failoverP50Ms === 'never');
  const slower = others.filter((r) => r.summary.failoverP50Ms !== 'never');
  const mine = `after ${plural(shipped.summary.crashes, 'crash', 'crashes')} on ${scenarioName(crash)}, failover p50 ${fmtMs(shipped.summary.failoverP50Ms)}, max ${fmtMs(shipped.summary.failoverMaxMs)}`;
  const rest = [
    ...(slower.length === 0 ? [] : [`${list(slower.map((r) => strategyRef(r.spec.name)))} wait out the TTL (p50 ${list(unique(slower.map((r) => fmtMs(r.summary.failoverP50Ms))))})`]),
    ...(never.length === 0 ? [] : [`${list(never.map((r) => strategyRef(r.spec.name)))} never hand over`]),
  ];
  return `**A dead owner hands over at once**: ${mine}${rest.length === 0 ? '; no other option is faster.' : `; ${rest.join(', and ')}.`}`;
}

function freezeBullet(freeze: ReportInput): string | null {
  const shipped = rowByName(freeze, SHIPPED.strategy);
  if (shipped === undefined) return null;
  const alternative = rowByName(freeze, ALTERNATIVE.strategy);
  const against = alternative === undefined ? '' : `, where ${strategyRef(alternative.spec.name)} gets ${rate(alternative.summary.respawnsPerHour)}`;
  return `**A host that freezes processes**: ${rate(shipped.summary.respawnsPerHour)} respawns per hour on ${scenarioName(freeze)}${against}.`;
}

function faultBullets(ctx: DecisionContext): string[] {
  const own = ctx.sources.faults.flatMap((input) => rowByName(input, SHIPPED.strategy) ?? []);
  const out: string[] = [];
  if (own.length > 0) {
    const safety = own.reduce((a, r) => a + r.summary.safetyViolations, 0);
    const liveness = own.reduce((a, r) => a + r.summary.livenessViolations, 0);
    const never = own.filter((r) => r.summary.failoverMaxMs === 'never').length;
    out.push(
      `**Injected faults**: the checkers find ${plural(safety, 'safety violation')} and ${plural(liveness, 'liveness violation')} for ${strategyRef(SHIPPED.strategy)} over ${plural(own.length, 'scenario')}${never === 0 ? ', and it always fails over' : `; in ${never} it never fails over`}.`,
    );
  }
  // Variants of the shipped keeper under other names (e.g. without the progress check) answer for themselves.
  const shippedKind = sightings(ctx.inputs, SHIPPED.strategy)[0]?.row.spec.kind;
  for (const input of ctx.sources.faults) {
    const variants = input.scenario.strategies.filter((s) => s.kind === shippedKind && s.name !== SHIPPED.strategy).map((s) => rowByName(input, s.name) as Row);
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
  const own = ctx.targets.filter((t) => t.strategy === SHIPPED.strategy);
  const failed = own.filter((t) => !t.ok);
  if (own.length === 0) return `**Targets**: no scenario sets a target for ${strategyRef(SHIPPED.strategy)}; the decision rests on the figures above alone.`;
  if (failed.length === 0) return `**Targets**: all ${own.length} targets set for ${strategyRef(SHIPPED.strategy)} hold, in ${plural(unique(own.map((t) => t.scenario)).length, 'scenario')}.`;
  return `**${failed.length} of ${own.length} targets for ${strategyRef(SHIPPED.strategy)} fail** (${list(failed.map((t) => `${text(t.scenario)} ${t.metric}`))}): the runs do not support the decision as it stands.`;
}

function costBullet(ctx: DecisionContext): string | null {
  const first = ctx.sources.incidents[0];
  if (first === undefined) return null;
  const shipped = rowByName(first.input, SHIPPED.strategy);
  const baseline = rowByKey(first.input, 'baseline') as Row;
  if (shipped === undefined) return null;
  return `**Cost**: one extra process per orchestrator and ${fmtNum(shipped.summary.storeWritesPerHour, 1)} store writes per hour on ${scenarioName(first.input)}, against ${fmtNum(baseline.summary.storeWritesPerHour, 1)} for ${strategyRef(baseline.spec.name)}.`;
}

function rejectedLine(ctx: DecisionContext): string {
  const kept = [SHIPPED.strategy, ALTERNATIVE.strategy].flatMap((name) => sightings(ctx.inputs, name).slice(0, 1).map((x) => x.row.spec.kind));
  const rejected = ctx.traps.filter((t) => !kept.includes(t.spec.kind));
  const items = rejected.map((t) => {
    const why = t.shown === true && t.worst !== null ? t.worst : t.shown === null ? 'its trap is not exercised here' : 'its trap did not show here; rejected on design grounds';
    return `${strategyRef(t.spec.name)} (${why})`;
  });
  return items.length === 0 ? '' : `**Rejected**, for what the runs show (section 8): ${items.join('; ')}.`;
}

export function decisionSection(ctx: DecisionContext): string {
  const shippedSeen = sightings(ctx.inputs, SHIPPED.strategy);
  const out = ['## 3. What we ship, and the evidence', ''];
  const first = shippedSeen[0];
  if (first === undefined) {
    out.push(`We ship ${strategyRef(SHIPPED.strategy)}, but no scenario given runs it: these runs cannot support the decision.`);
    return out.join('\n');
  }
  const option = optionOf(first.row.spec);
  const alternative = sightings(ctx.inputs, ALTERNATIVE.strategy).length > 0 ? ` The alternative, for ${ALTERNATIVE.when}, is ${strategyRef(ALTERNATIVE.strategy)}: ${ALTERNATIVE.what}.` : '';
  out.push(`We ship **${option === undefined ? 'a strategy none of the options lists' : `option ${option.number}`} as ${strategyRef(SHIPPED.strategy)}**: ${SHIPPED.what}.${alternative}`, '');
  const bullets = [
    ...incidentBullets(ctx),
    ...(ctx.sources.crash === undefined ? [] : [crashBullet(ctx.sources.crash)]),
    ...(ctx.sources.freeze === undefined ? [] : [freezeBullet(ctx.sources.freeze)]),
    ...faultBullets(ctx),
    targetBullet(ctx),
    costBullet(ctx),
  ].filter((b): b is string => b !== null);
  out.push(...bullets.map((b) => `- ${b}`));
  const rejected = rejectedLine(ctx);
  if (rejected !== '') out.push('', rejected);
  return out.join('\n');
}

