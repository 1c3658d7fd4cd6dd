/**
 * What goes wrong with each option, and whether the runs show it: a table of small checkers,
 * one per strategy kind (`kind` or `kind:variant`), each with the claim it tests. Kinds without
 * an entry get the general check: every sign of trouble the runs have.
 */
import type { StrategySpec } from '../scenario/types.js';
import type { StrategySummary } from '../summary.js';
import { codeSpan } from './markdown.js';
import { modelIncidents } from './models.js';
import { fmtMs, fmtNum } from './numbers.js';
import { formatBound, list, plural, rate, scenarioRef, strategyRef, text, timeValue, unique } from './prose.js';
import type { ReportInput } from './report-types.js';
import { roleOf, rowByKey, rowByName, sightings, strategiesOf, strategyKey, type Sighting } from './scenario-rows.js';

export interface TrapFinding {
  /** true: the runs show the trap; false: they show it does not bite; null: not exercised. */
  readonly shown: boolean | null;
  /** One line per scenario that bears on the claim. */
  readonly evidence: readonly string[];
  /** The worst finding in a few words with its numbers, for the decision section. */
  readonly worst: string | null;
}

export interface Trap extends TrapFinding {
  readonly spec: StrategySpec;
  readonly claim: string;
  /** Whether `claim` names a trap (else it is the design's promise, checked for any trouble). */
  readonly isTrap: boolean;
}

/** What every checker may compare against: the shipped strategy's name and the models' incident scenarios. */
interface TrapContext {
  readonly shipped: string;
  readonly incidents: readonly ReportInput[];
}

/** The sighting on a model's incident scenario when there is one, else the first. */
function onIncident(list: readonly Sighting[], ctx: TrapContext): Sighting | undefined {
  return list.find((x) => ctx.incidents.includes(x.input)) ?? list[0];
}

interface TrapCheck {
  readonly claim: string;
  /** false when the claim is the design's promise rather than a trap (the runs look for any trouble). */
  readonly isTrap: boolean;
  readonly check: (seen: readonly Sighting[], ctx: TrapContext) => TrapFinding;
}

const respawnLine = ({ input, row }: Sighting): string =>
  `${scenarioRef(input)}: ${rate(row.summary.respawnsPerHour)} respawns/h, ${rate(row.summary.spuriousRespawnsPerHour)} of them of a live orchestrator; leaderless ${fmtMs(row.summary.leaderlessMsPerHour)}/h`;

/** ` (sidecar: …)`: the shipped strategy's figure in the same scenario, when it ran there. */
function besideShipped(x: Sighting, shippedName: string, pick: (s: StrategySummary) => string): string {
  const shipped = rowByName(x.input, shippedName);
  return shipped === undefined || shipped.spec.name === x.row.spec.name ? '' : ` (${strategyRef(shipped.spec.name)}: ${pick(shipped.summary)})`;
}

const failoverLine = (x: Sighting, shipped: string): string =>
  `${scenarioRef(x.input)}: after ${plural(x.row.summary.crashes, 'crash', 'crashes')}, failover p50 ${fmtMs(x.row.summary.failoverP50Ms)}, max ${fmtMs(x.row.summary.failoverMaxMs)}; zombie lease ${fmtMs(x.row.summary.zombieLeaseMsPerHour)}/h` +
  besideShipped(x, shipped, (s) => `p50 ${fmtMs(s.failoverP50Ms)}, max ${fmtMs(s.failoverMaxMs)}, zombie ${fmtMs(s.zombieLeaseMsPerHour)}/h`);

const crashesOf = (seen: readonly Sighting[]): Sighting[] => seen.filter((x) => roleOf(x.input.scenario) === 'crash');

function checkBaseline(seen: readonly Sighting[], ctx: TrapContext): TrapFinding {
  const bitten = seen.filter((x) => x.row.summary.spuriousRespawnsPerHour > 0);
  const incident = onIncident(bitten, ctx);
  return {
    shown: seen.length === 0 ? null : bitten.length > 0,
    evidence: seen.map(respawnLine),
    worst: incident === undefined ? null : `${rate(incident.row.summary.respawnsPerHour)} respawns/h on ${text(incident.input.scenario.name)}`,
  };
}

function checkWorker(seen: readonly Sighting[], { shipped }: TrapContext): TrapFinding {
  const freezes = seen.filter((x) => x.input.scenario.session.idleEffect === 'freeze');
  const bitten = freezes.filter((x) => x.row.summary.respawnsPerHour > 0);
  const first = bitten[0];
  return {
    shown: freezes.length === 0 ? null : bitten.length > 0,
    evidence: [
      ...freezes.map((x) => respawnLine(x) + besideShipped(x, shipped, (s) => `${rate(s.respawnsPerHour)} respawns/h`)),
      ...crashesOf(seen).map((x) => failoverLine(x, shipped)),
    ],
    worst: first === undefined ? null : `${rate(first.row.summary.respawnsPerHour)} respawns/h on ${text(first.input.scenario.name)}, where the host freezes processes`,
  };
}

/** The loop variants that can renew a dead leader's lease forever. */
function checkLoopThatOutlivesItsLeader(seen: readonly Sighting[], { shipped }: TrapContext): TrapFinding {
  const crashes = crashesOf(seen);
  const never = crashes.filter((x) => x.row.summary.failoverMaxMs === 'never');
  const restarts = seen.filter((x) => roleOf(x.input.scenario) === 'restart');
  const first = never[0];
  return {
    shown: crashes.length === 0 ? null : never.length > 0,
    evidence: [
      ...crashes.map((x) => failoverLine(x, shipped)),
      ...restarts.map((x) => `${scenarioRef(x.input)}: zombie lease ${fmtMs(x.row.summary.zombieLeaseMsPerHour)}/h, leaderless ${fmtMs(x.row.summary.leaderlessMsPerHour)}/h, ${rate(x.row.summary.respawnsPerHour)} respawns/h`),
    ],
    worst: first === undefined ? null : `no failover after a crash on ${text(first.input.scenario.name)}, zombie lease ${fmtMs(first.row.summary.zombieLeaseMsPerHour)}/h`,
  };
}

function checkPidCheckedLoop(seen: readonly Sighting[], { shipped }: TrapContext): TrapFinding {
  const crashes = crashesOf(seen);
  const slower = crashes.filter((x) => {
    const ref = rowByName(x.input, shipped);
    return ref !== undefined && timeValue(x.row.summary.failoverP50Ms) > timeValue(ref.summary.failoverP50Ms);
  });
  const first = slower[0];
  return {
    shown: crashes.length === 0 ? null : slower.length > 0,
    evidence: crashes.map((x) => failoverLine(x, shipped)),
    worst: first === undefined ? null : `failover p50 ${fmtMs(first.row.summary.failoverP50Ms)} after a crash on ${text(first.input.scenario.name)}`,
  };
}

/** Option 2 as it was built: compared with the baseline of the same scenario. */
function checkFirstRegisteredLoop(seen: readonly Sighting[], ctx: TrapContext): TrapFinding {
  const lines = seen.map((x) => {
    const baseline = rowByKey(x.input, 'baseline');
    return respawnLine(x) + (baseline === undefined ? '' : ` (${strategyRef(baseline.spec.name)}: ${rate(baseline.summary.respawnsPerHour)} respawns/h)`);
  });
  const bitten = seen.filter((x) => x.row.summary.respawnsPerHour > 0);
  const first = onIncident(bitten, ctx);
  return {
    shown: seen.length === 0 ? null : bitten.length > 0,
    evidence: lines,
    worst: first === undefined ? null : `${rate(first.row.summary.respawnsPerHour)} respawns/h on ${text(first.input.scenario.name)}: it renews nothing`,
  };
}

function checkKeepAwake(seen: readonly Sighting[], ctx: TrapContext): TrapFinding {
  const costly = seen.filter((x) => x.row.summary.keepAwakeActionsPerHour > 0);
  const first = onIncident(costly, ctx);
  return {
    shown: seen.length === 0 ? null : costly.length > 0,
    evidence: seen.map(
      (x) =>
        `${scenarioRef(x.input)}: ${fmtNum(x.row.summary.keepAwakeActionsPerHour, 1)} self-made actions/h, ${fmtNum(x.row.summary.wakeupsPerHour, 1)} wake-ups/h, ${rate(x.row.summary.respawnsPerHour)} respawns/h`,
    ),
    worst: first === undefined ? null : `${fmtNum(first.row.summary.keepAwakeActionsPerHour, 1)} self-made actions/h and ${fmtNum(first.row.summary.wakeupsPerHour, 1)} wake-ups/h on ${text(first.input.scenario.name)}, for as long as the host idles only quiet sessions`,
  };
}

/** Every sign of trouble in the runs without injected faults (those are checked for every kind). */
function checkForAnyTrouble(seen: readonly Sighting[]): TrapFinding {
  const evidence: string[] = [];
  let worst: string | null = null;
  for (const x of seen.filter((y) => roleOf(y.input.scenario) !== 'chaos')) {
    const s = x.row.summary;
    const bad: string[] = [];
    if (s.spuriousRespawnsPerHour > 0) bad.push(`${rate(s.spuriousRespawnsPerHour)} respawns/h of a live orchestrator`);
    if (s.failoverMaxMs === 'never') bad.push('a crash never failed over');
    if (s.splitBrains > 0) bad.push(plural(s.splitBrains, 'split brain'));
    if (s.staleActions > 0) bad.push(plural(s.staleActions, 'stale leader action'));
    const crash = roleOf(x.input.scenario) === 'crash' ? `, failover p50 ${fmtMs(s.failoverP50Ms)}, max ${fmtMs(s.failoverMaxMs)}` : '';
    evidence.push(
      `${scenarioRef(x.input)}: ${rate(s.respawnsPerHour)} respawns/h${crash}, ${plural(s.splitBrains, 'split brain')}, ${plural(s.staleActions, 'stale action')}, ${fmtNum(s.storeWritesPerHour, 1)} store writes/h` +
        (bad.length > 0 ? `: **${bad.join(', ')}**` : ''),
    );
    if (bad.length > 0 && worst === null) worst = `${bad.join(', ')} on ${text(x.input.scenario.name)}`;
  }
  return { shown: seen.length === 0 ? null : worst !== null, evidence, worst };
}

const KEEPER_CLAIM =
  'renews while the owner is idle, and releases the lease when the owner dies. With the progress check on (`maxProgressSilence`) it also releases the lease of a leader whose work waits and nothing gets done.';

const TRAPS: Readonly<Record<string, TrapCheck>> = {
  baseline: {
    isTrap: true,
    claim:
      'The heartbeat is a `setInterval` inside the session. When the host idles the session the timer goes with it; the process lives on and believes it leads, but stops renewing, so the watchdog finds a stale lease and respawns a healthy orchestrator.',
    check: checkBaseline,
  },
  sidecar: {
    isTrap: false,
    claim: `The keeper runs in a child process bound to its owner by an IPC channel and a PID check: it ${KEEPER_CLAIM} It costs one extra process.`,
    check: checkForAnyTrouble,
  },
  worker: {
    isTrap: true,
    claim:
      "The keeper runs on a worker thread of the orchestrator's process: the session's timers being cleared does not touch it, but a host that freezes the process freezes the thread too, and nothing releases the lease when the process dies, so a successor waits out the TTL.",
    check: checkWorker,
  },
  'naive-worker': {
    isTrap: true,
    claim:
      'A deliberately broken keeper thread, kept to prove that the checkers catch real bugs: no renew deadline, no request timeout, no owner binding. Cut off from the store, it goes on acting as leader after its lease expired.',
    check: checkForAnyTrouble,
  },
  supervisor: {
    isTrap: false,
    claim: `The keeper holds the lease and runs the session as its child: a session that exits when it idles is restarted in place without the lease being let go (bounded restart rate, backoff), so the watchdog sees a live child and a healthy lease. Like the sidecar, it ${KEEPER_CLAIM}`,
    check: checkForAnyTrouble,
  },
  'watchdog-loop:never-stopped': {
    isTrap: true,
    claim:
      'One loop in the watchdog renews whoever holds the lease, for the life of the watchdog: when the leader dies without the watchdog killing it, its lease is renewed forever and no successor can take over.',
    check: checkLoopThatOutlivesItsLeader,
  },
  'watchdog-loop:restarted': {
    isTrap: true,
    claim:
      "The loop is stopped only when the watchdog itself kills the orchestrator: a crash the watchdog did not cause leaves the loop renewing a dead leader's lease forever.",
    check: checkLoopThatOutlivesItsLeader,
  },
  'watchdog-loop:pid-checked': {
    isTrap: true,
    claim:
      "The loop renews only while `kill(pid, 0)` answers. A dead leader's lease does expire, but only after a full TTL (nothing releases it), and a PID that answers says nothing about whether the orchestrator still works.",
    check: checkPidCheckedLoop,
  },
  'watchdog-loop:first-registered': {
    isTrap: true,
    claim:
      'Option 2 as it was built: the loop refreshes the registry entry of the first agent registered with the orchestrator role and renews the lease only if that agent holds it. Once its pick is a long-dead orchestrator it renews nothing, and the respawns go on at the rate of no fix at all.',
    check: checkFirstRegisteredLoop,
  },
  'keep-awake': {
    isTrap: true,
    claim:
      'The session pings itself every keep-awake interval so the host never sees it quiet. It works only while the host idles sessions on quietness alone, and it costs a self-made action per interval and extra wake-ups, forever.',
    check: checkKeepAwake,
  },
};

/** Zombie lease below this per hour is noise (a release racing a renewal), not a finding. */
const ZOMBIE_NOTICE_MS = 1_000;

/** What the checkers and metrics hold against a strategy in a fault-injection scenario. */
export function faultTrouble(s: StrategySummary): string[] {
  const out: string[] = [];
  if (s.safetyViolations > 0) out.push(`**${plural(s.safetyViolations, 'safety violation')}**`);
  if (s.livenessViolations > 0) out.push(`**${plural(s.livenessViolations, 'liveness violation')}**`);
  if (s.failoverMaxMs === 'never') out.push('**no failover**');
  if (s.zombieLeaseMsPerHour >= ZOMBIE_NOTICE_MS) out.push(`**zombie lease ${fmtMs(s.zombieLeaseMsPerHour)}/h**`);
  return out;
}

/**
 * When a scenario's own targets assert a problem for this strategy (a `min` bound that holds),
 * the trouble is the trap the scenario was written to show: say so next to it.
 */
export function expectedNote(input: ReportInput, strategy: string): string {
  const expected = input.report.targets.filter((t) => t.strategy === strategy && t.expected.min !== undefined && t.ok);
  if (expected.length === 0) return '';
  return ` (as this scenario's targets expect: ${list(expected.map((t) => `${codeSpan(t.metric)} ${formatBound(t.metric, t.expected)}`))})`;
}

/** The checkers' verdicts under injected faults, for any kind. */
function checkUnderFaults(seen: readonly Sighting[], strategy: string): TrapFinding {
  const chaos = seen.filter((x) => roleOf(x.input.scenario) === 'chaos');
  const troubled = chaos.filter((x) => faultTrouble(x.row.summary).length > 0);
  const clean = chaos.filter((x) => !troubled.includes(x));
  const evidence = troubled.map(
    (x) =>
      `${scenarioRef(x.input)} (${text(list(unique(x.input.scenario.faults.map((f) => f.kind))))}): ${faultTrouble(x.row.summary).join(', ')}${expectedNote(x.input, strategy)}`,
  );
  if (clean.length > 0) evidence.push(`no violation, zombie lease or lost failover under the faults of ${list(clean.map((x) => text(x.input.scenario.name)))}`);
  const first = troubled[0];
  return {
    shown: chaos.length === 0 ? null : troubled.length > 0,
    evidence,
    worst: first === undefined ? null : `${faultTrouble(first.row.summary).join(', ')} on ${text(first.input.scenario.name)}`,
  };
}

/** How a variant's options differ from the first strategy of its kind, as phrases. */
function differences(spec: StrategySpec, first: StrategySpec): string[] {
  const out: string[] = [];
  if (spec.maxProgressSilenceMs !== first.maxProgressSilenceMs) {
    out.push(spec.maxProgressSilenceMs === undefined ? 'no progress check' : `the progress check on (\`maxProgressSilence\` ${fmtMs(spec.maxProgressSilenceMs)})`);
  }
  if (spec.restart !== first.restart) out.push(`sessions restarted ${spec.restart ?? 'on-exit'} (\`restart: ${spec.restart ?? 'on-exit'}\`)`);
  if (spec.maxRestarts?.count !== first.maxRestarts?.count || spec.maxRestarts?.windowMs !== first.maxRestarts?.windowMs) {
    out.push(spec.maxRestarts === undefined ? 'the default restart budget' : `at most ${spec.maxRestarts.count} restarts per ${fmtMs(spec.maxRestarts.windowMs)}`);
  }
  return out;
}

/**
 * The claim in full for the first strategy of a kind; a later strategy of the same kind (a
 * variant under another name) is described by how its options differ.
 */
function claimFor(spec: StrategySpec, check: TrapCheck | undefined, first: StrategySpec | undefined): string {
  if (first !== undefined && first.name !== spec.name) {
    const diff = differences(spec, first);
    return diff.length === 0
      ? `The same configuration as ${strategyRef(first.name)}, run under its own name.`
      : `${strategyRef(first.name)} with ${list(diff)}.`;
  }
  if (check === undefined) return `A strategy of kind ${codeSpan(strategyKey(spec))}, which the report has no claim for.`;
  return check.claim;
}

/** The trap of one strategy (by name), checked against every scenario that runs it. */
export function trapOf(inputs: readonly ReportInput[], spec: StrategySpec, shipped: string): Trap {
  const ctx: TrapContext = { shipped, incidents: modelIncidents(inputs).map((i) => i.input) };
  const seen = sightings(inputs, spec.name);
  const key = strategyKey(spec);
  const entry = TRAPS[key];
  const first = strategiesOf(inputs).find((s) => strategyKey(s) === key);
  const own = (entry?.check ?? checkForAnyTrouble)(seen, ctx);
  const faults = checkUnderFaults(seen, spec.name);
  const shown = own.shown === true || faults.shown === true ? true : own.shown ?? faults.shown;
  return {
    spec,
    claim: claimFor(spec, entry, first),
    isTrap: entry?.isTrap ?? false,
    shown,
    evidence: [...own.evidence, ...faults.evidence],
    worst: own.worst ?? faults.worst,
  };
}
