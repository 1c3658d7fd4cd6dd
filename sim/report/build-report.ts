/**
 * The root-cause report: markdown and an SVG chart, computed entirely from simulator runs.
 * A pure function of its inputs (scenarios, their reports with the traces of run 0, and the
 * command-line overrides), so regeneration gives the same bytes.
 */
import { basename } from 'node:path';
import { formatDurationMs } from '../../src/duration.js';
import type { ScenarioReport } from '../run-scenario.js';
import type { Bound, Scenario, StrategySpec } from '../scenario/types.js';
import type { StrategySummary } from '../summary.js';
import type { TargetResult } from '../targets.js';
import type { TraceEvent } from '../trace.js';
import { codeBlock, codeSpan, escapeMarkdown, shellQuote, table, type Align } from './markdown.js';
import { decaySequenceDiagram } from './mermaid.js';
import { fmtClock, fmtInt, fmtMin, fmtMs, fmtNum, fmtRange } from './numbers.js';
import { leaseAgeSvg } from './svg.js';
import { decayCycles, leaseAgeSamples, leaseAgeStats, spread, type DecayCycle } from './trace-analysis.js';

/** One scenario as run for the report: the loaded scenario (after overrides) and its report. */
export interface ReportInput {
  readonly scenario: Scenario;
  /** Must carry the trace of run 0 (`runScenario(scenario, { traceRun: 0 })`). */
  readonly report: ScenarioReport;
}

/** One exploration result (filled by `sim explore`): randomized runs of a scenario and how many failed. */
export interface ExploreSummary {
  readonly scenario: string;
  readonly strategy: string;
  /** Simulated duration of each generated schedule. */
  readonly durationMs: number;
  readonly runs: number;
  readonly failures: number;
  readonly seed: number;
  /** The first violation of the shrunk schedule, when one was found. */
  readonly violation?: string;
}

/** Results from other tools that the Validation section reports when given. */
export interface ValidationExtras {
  readonly explore?: readonly ExploreSummary[];
}

export interface ReportOptions {
  /** Path of the markdown file as the user wrote it (shown in the reproduce commands). */
  readonly output: string;
  /** Whether `output` is the default (then the commands leave `-o` out). */
  readonly defaultOutput: boolean;
  /** Link from the markdown to the chart (relative to the markdown file). */
  readonly chartHref: string;
  /** Command-line overrides, normalized, in the order `--seed`, `--runs`, `--duration`. */
  readonly overrideArgs: readonly string[];
  readonly extras?: ValidationExtras;
}

export interface BuiltReport {
  readonly markdown: string;
  readonly svg: string;
}

/** Chart window and sampling. */
export const CHART_WINDOW_MS = 3_600_000;
export const CHART_STEP_MS = 5_000;
const SIM = 'node bin/sim.js';
const DECISION = 'sidecar';
const ALTERNATIVE = 'worker';

// ---------------------------------------------------------------------------------------------
// Lookups

interface Row {
  readonly spec: StrategySpec;
  readonly summary: StrategySummary;
}

/**
 * What a scenario exercises: `chaos` (injected faults), `crash`, `restart`, `freeze`, `stall`,
 * or `incident` (the plain incident: a host that clears idle sessions' timers, nothing else).
 */
type Role = 'incident' | 'crash' | 'restart' | 'freeze' | 'stall' | 'chaos';

/** Injected faults (`faults:` in the YAML); read defensively, older scenarios have none. */
function faultsOf(s: Scenario): ReadonlyArray<{ readonly kind: string; readonly everyMs?: number | undefined; readonly for?: { readonly minMs: number; readonly maxMs: number } }> {
  return (s as { faults?: ReadonlyArray<{ kind: string; everyMs?: number | undefined; for?: { minMs: number; maxMs: number } }> }).faults ?? [];
}

function role(s: Scenario): Role {
  if (faultsOf(s).length > 0) return 'chaos';
  if (s.crash !== undefined) return 'crash';
  if (s.restart !== undefined) return 'restart';
  if (s.session.idleEffect === 'freeze') return 'freeze';
  if (s.session.idleEffect === 'stall') return 'stall';
  return 'incident';
}

function rows(input: ReportInput): Row[] {
  const out: Row[] = [];
  for (const summary of input.report.results) {
    const spec = input.scenario.strategies.find((s) => s.name === summary.strategy);
    if (spec !== undefined) out.push({ spec, summary });
  }
  return out;
}

/** Strategy identity independent of its display name: `kind` or `kind:variant`. */
function kindOf(spec: StrategySpec): string {
  return spec.kind === 'watchdog-loop' ? `watchdog-loop:${spec.variant ?? 'restarted'}` : spec.kind;
}

function find(input: ReportInput, kind: string): Row | undefined {
  return rows(input).find((r) => kindOf(r.spec) === kind);
}

function traceOf(input: ReportInput, strategy: string): readonly TraceEvent[] | undefined {
  return input.report.traces.find((t) => t.strategy === strategy)?.events;
}

function firstOfRole(inputs: readonly ReportInput[], wanted: Role, kind?: string): ReportInput | undefined {
  return inputs.find((i) => role(i.scenario) === wanted && (kind === undefined || find(i, kind) !== undefined));
}

// ---------------------------------------------------------------------------------------------
// Text helpers

const md = escapeMarkdown;
/**
 * A scenario-controlled identifier (strategy name, file path): a code span when it has only
 * plain identifier characters, otherwise escaped text, so nothing in it is ever read as markup.
 */
const ident = (text: string): string => (/^[A-Za-z0-9_.:/+-]+$/.test(text) ? codeSpan(text) : md(text));
const sc = (input: ReportInput): string => `**${md(input.scenario.name)}** (${ident(input.scenario.file)})`;
const st = ident;
const rate = (v: number): string => fmtNum(v, 3);
const dur = (ms: number): string => formatDurationMs(ms);
const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
const timeValue = (v: number | 'never' | null): number => (v === null ? NaN : v === 'never' ? Infinity : v);

function list(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

function effectText(s: Scenario): string {
  switch (s.session.idleEffect) {
    case 'clear-timers':
      return 'clears every timer the session registered (the process lives on)';
    case 'freeze':
      return 'freezes the whole process, every thread, until work arrives';
    case 'stall':
      return `blocks its event loop for ${fmtRange(s.session.stallFor, dur)}`;
    case 'exit':
      return "ends the session's process";
  }
}

function conditions(s: Scenario): string {
  const parts = [
    `idle after ${fmtRange(s.session.idleAfter, dur)} without work, then ${s.session.idleEffect}`,
    s.session.workArrivalsPerHour > 0 ? `work arrives ${fmtNum(s.session.workArrivalsPerHour, 1)}/h` : 'no work arrives',
  ];
  if (s.session.maxLifetime !== undefined) parts.push(`sessions idled after ${fmtRange(s.session.maxLifetime, dur)} of lifetime`);
  if (s.crash !== undefined) parts.push(`crashes every ${dur(s.crash.meanEveryMs)} on average`);
  if (s.restart !== undefined) parts.push(`planned restarts every ${dur(s.restart.meanEveryMs)} on average`);
  for (const f of faultsOf(s)) {
    const every = f.everyMs === undefined ? '' : ` every ${dur(f.everyMs)}`;
    const lasting = f.for === undefined || f.for.maxMs === 0 ? '' : ` for ${fmtRange(f.for, dur)}`;
    parts.push(`fault ${f.kind}${every}${lasting}`);
  }
  parts.push(
    `lease TTL ${dur(s.lease.ttlMs)}, heartbeat ${dur(s.heartbeat.intervalMs)}, watchdog poll ${dur(s.watchdog.intervalMs)} + grace ${dur(s.watchdog.graceMs)}, respawn delay ${fmtRange(s.watchdog.respawnDelay, dur)}`,
  );
  parts.push(`seed ${s.seed}, ${plural(s.runs, 'run')} × ${dur(s.durationMs)}`);
  return parts.join('; ');
}

// ---------------------------------------------------------------------------------------------
// Metric table

interface MetricFormat {
  readonly label: string;
  readonly format: (v: unknown) => string;
}

const asTime = (v: unknown): string => fmtMs(v as number | 'never' | null);
const asRate3 = (v: unknown): string => fmtNum(v as number, 3);
const asRate1 = (v: unknown): string => fmtNum(v as number, 1);
const asInt = (v: unknown): string => fmtInt(v as number);

/** Every figure of {@link StrategySummary}, in table order. Unknown (newer) figures follow, generically formatted. */
const METRICS: Readonly<Record<string, MetricFormat>> = {
  runs: { label: 'runs', format: asInt },
  respawnsPerHour: { label: 'respawns per hour, mean', format: asRate3 },
  respawnsPerHourP95: { label: 'respawns per hour, p95 of runs', format: asRate3 },
  spuriousRespawnsPerHour: { label: 'spurious respawns per hour (victim alive)', format: asRate3 },
  restartsPerHour: { label: 'planned restarts per hour', format: asRate3 },
  crashes: { label: 'crashes, all runs', format: asInt },
  failoverP50Ms: { label: 'failover after a crash, p50', format: asTime },
  failoverMaxMs: { label: 'failover after a crash, max', format: asTime },
  zombieLeaseMsPerHour: { label: 'zombie lease (dead holder) per hour', format: asTime },
  leaderlessMsPerHour: { label: 'leaderless per hour', format: asTime },
  splitBrains: { label: 'split brains, all runs', format: asInt },
  splitBrainMs: { label: 'split-brain time, all runs', format: asTime },
  leaderActions: { label: 'leader actions, all runs', format: asInt },
  staleActions: { label: 'stale leader actions, all runs', format: asInt },
  storeWritesPerHour: { label: 'store writes per hour', format: asRate1 },
  wakeupsPerHour: { label: 'timer wake-ups per hour', format: asRate1 },
  keepAwakeActionsPerHour: { label: 'keep-awake actions per hour', format: asRate1 },
  minRenewalMarginMs: { label: 'smallest lease time left at a renewal', format: asTime },
  safetyViolations: { label: 'safety violations, all runs', format: asInt },
  livenessViolations: { label: 'liveness violations, all runs', format: asInt },
};

function genericFormat(key: string): MetricFormat {
  return {
    label: key,
    format: (v) => {
      if (v === null || v === undefined) return '—';
      if (v === 'never') return 'never';
      if (typeof v === 'number') return key.endsWith('Ms') || key.includes('MsPer') ? fmtMs(v) : Number.isInteger(v) ? String(v) : fmtNum(v, 3);
      return md(String(v));
    },
  };
}

function metricKeys(results: readonly StrategySummary[]): string[] {
  const keys = Object.keys(METRICS);
  for (const summary of results) {
    for (const key of Object.keys(summary)) if (key !== 'strategy' && !keys.includes(key)) keys.push(key);
  }
  return keys;
}

function metricTable(input: ReportInput): string {
  const results = input.report.results;
  const head = ['figure', ...results.map((r) => st(r.strategy))];
  const body = metricKeys(results).map((key) => {
    const f = METRICS[key] ?? genericFormat(key);
    return [
      `${md(f.label)} (${codeSpan(key)})`,
      ...results.map((r) => {
        const value = (r as unknown as Record<string, unknown>)[key];
        const targets = input.report.targets.filter((t) => t.strategy === r.strategy && t.metric === key);
        const mark = targets.length === 0 ? '' : targets.every((t) => t.ok) ? ' ✓' : ' ✗';
        return `${f.format(value)}${mark}`;
      }),
    ];
  });
  return table(head, body, ['left', ...results.map((): Align => 'right')]);
}

// ---------------------------------------------------------------------------------------------
// Traps: what goes wrong with each option, with its evidence from the runs

interface Trap {
  readonly strategy: string;
  readonly kind: string;
  readonly claim: string;
  /** true: the runs show the trap; false: they show it does not bite; null: not exercised. */
  readonly shown: boolean | null;
  readonly evidence: readonly string[];
  /** One line with numbers, for the decision section. */
  readonly short: string | null;
}

const CLAIMS: Readonly<Record<string, string>> = {
  baseline:
    'The heartbeat is a `setInterval` inside the session. When the host idles the session it takes the timer with it; the process lives on, believes it leads, and stops renewing, so the watchdog kills and respawns a healthy orchestrator.',
  sidecar:
    'The keeper runs in a child process bound to its owner by an IPC channel (plus a PID check): it keeps renewing while the owner is idle or frozen, and releases the lease the moment the owner dies. Cost: one extra process and its store writes.',
  worker:
    "The keeper runs on a worker thread of the orchestrator's process: immune to the session's timers being cleared, but a host that freezes the process freezes the thread too, and nothing releases the lease when the process dies, so a successor waits for the TTL.",
  'watchdog-loop:never-stopped':
    'One loop in the watchdog renews whoever holds the lease, for the life of the watchdog: when the leader dies without the watchdog killing it, its lease is renewed forever and no successor can take over.',
  'watchdog-loop:restarted':
    'The loop is stopped only when the watchdog itself kills the orchestrator: a crash the watchdog did not cause leaves the loop renewing a dead leader\'s lease forever.',
  'watchdog-loop:pid-checked':
    'The loop renews only while `kill(pid, 0)` answers. A dead leader\'s lease does expire, but only after a full TTL (nothing releases it), and a PID that answers says nothing about whether the orchestrator still works.',
  'keep-awake':
    'The session pings itself every keep-awake interval so the host never sees it quiet. It works only while the host idles on quietness alone, and it costs a self-made action per interval and extra wake-ups, forever.',
};

interface Seen {
  readonly input: ReportInput;
  readonly row: Row;
}

function sightings(inputs: readonly ReportInput[], strategy: string): Seen[] {
  const out: Seen[] = [];
  for (const input of inputs) {
    const row = rows(input).find((r) => r.spec.name === strategy);
    if (row !== undefined) out.push({ input, row });
  }
  return out;
}

function versus(input: ReportInput, strategy: string, kind: string, pick: (s: StrategySummary) => string): string {
  const other = find(input, kind);
  return other === undefined || other.spec.name === strategy ? '' : ` (${st(other.spec.name)}: ${pick(other.summary)})`;
}

function trapOf(inputs: readonly ReportInput[], strategy: string, spec: StrategySpec): Trap {
  const kind = kindOf(spec);
  const seen = sightings(inputs, strategy);
  const evidence: string[] = [];
  let shown: boolean | null = null;
  let short: string | null = null;
  const respawnLine = ({ input, row }: Seen): string =>
    `${sc(input)}: ${rate(row.summary.respawnsPerHour)} respawns/h, ${rate(row.summary.spuriousRespawnsPerHour)} of them spurious; leaderless ${fmtMs(row.summary.leaderlessMsPerHour)}/h`;
  const failoverLine = ({ input, row }: Seen): string =>
    `${sc(input)}: after ${plural(row.summary.crashes, 'crash', 'crashes')}, failover p50 ${fmtMs(row.summary.failoverP50Ms)}, max ${fmtMs(row.summary.failoverMaxMs)}; zombie lease ${fmtMs(row.summary.zombieLeaseMsPerHour)}/h` +
    versus(input, strategy, DECISION, (s) => `p50 ${fmtMs(s.failoverP50Ms)}, max ${fmtMs(s.failoverMaxMs)}, zombie ${fmtMs(s.zombieLeaseMsPerHour)}/h`);
  const crashes = seen.filter((x) => role(x.input.scenario) === 'crash');

  switch (kind) {
    case 'baseline': {
      for (const x of seen) evidence.push(respawnLine(x));
      const worst = seen.filter((x) => x.row.summary.spuriousRespawnsPerHour > 0);
      shown = seen.length === 0 ? null : worst.length > 0;
      const incident = seen.find((x) => role(x.input.scenario) === 'incident') ?? worst[0];
      if (incident !== undefined) {
        short = `${rate(incident.row.summary.respawnsPerHour)} respawns/h on ${md(incident.input.scenario.name)} (${rate(incident.row.summary.spuriousRespawnsPerHour)}/h spurious)`;
      }
      break;
    }
    case 'worker': {
      const freezes = seen.filter((x) => x.input.scenario.session.idleEffect === 'freeze');
      for (const x of freezes) {
        evidence.push(`${respawnLine(x)}${versus(x.input, strategy, DECISION, (s) => `${rate(s.respawnsPerHour)} respawns/h`)}`);
      }
      for (const x of crashes) evidence.push(failoverLine(x));
      const bitten = freezes.filter((x) => x.row.summary.respawnsPerHour > 0);
      shown = freezes.length === 0 ? null : bitten.length > 0;
      const first = bitten[0];
      if (first !== undefined) short = `${rate(first.row.summary.respawnsPerHour)} respawns/h on ${md(first.input.scenario.name)}, where the host freezes processes`;
      break;
    }
    case 'watchdog-loop:never-stopped':
    case 'watchdog-loop:restarted': {
      for (const x of crashes) evidence.push(failoverLine(x));
      for (const x of seen.filter((y) => role(y.input.scenario) === 'restart')) {
        evidence.push(`${sc(x.input)}: zombie lease ${fmtMs(x.row.summary.zombieLeaseMsPerHour)}/h, leaderless ${fmtMs(x.row.summary.leaderlessMsPerHour)}/h, ${rate(x.row.summary.respawnsPerHour)} respawns/h`);
      }
      const never = crashes.filter((x) => x.row.summary.failoverMaxMs === 'never');
      shown = crashes.length === 0 ? null : never.length > 0;
      const first = never[0];
      if (first !== undefined) {
        short = `failover after a crash: never on ${md(first.input.scenario.name)}, zombie lease ${fmtMs(first.row.summary.zombieLeaseMsPerHour)}/h`;
      }
      break;
    }
    case 'watchdog-loop:pid-checked': {
      for (const x of crashes) evidence.push(failoverLine(x));
      const slower = crashes.filter((x) => {
        const ref = find(x.input, DECISION);
        return ref !== undefined && timeValue(x.row.summary.failoverP50Ms) > timeValue(ref.summary.failoverP50Ms);
      });
      shown = crashes.length === 0 ? null : slower.length > 0;
      const first = slower[0];
      if (first !== undefined) short = `failover p50 ${fmtMs(first.row.summary.failoverP50Ms)} after a crash on ${md(first.input.scenario.name)}, zombie lease ${fmtMs(first.row.summary.zombieLeaseMsPerHour)}/h`;
      break;
    }
    case 'keep-awake': {
      for (const x of seen) {
        evidence.push(
          `${sc(x.input)}: ${fmtNum(x.row.summary.keepAwakeActionsPerHour, 1)} keep-awake actions/h, ${fmtNum(x.row.summary.wakeupsPerHour, 1)} wake-ups/h` +
            versus(x.input, strategy, 'baseline', (s) => `${fmtNum(s.wakeupsPerHour, 1)} wake-ups/h`) +
            `, ${rate(x.row.summary.respawnsPerHour)} respawns/h`,
        );
      }
      const costly = seen.filter((x) => x.row.summary.keepAwakeActionsPerHour > 0);
      shown = seen.length === 0 ? null : costly.length > 0;
      const first = costly[0];
      if (first !== undefined) short = `${fmtNum(first.row.summary.keepAwakeActionsPerHour, 1)} self-made actions/h and ${fmtNum(first.row.summary.wakeupsPerHour, 1)} wake-ups/h on ${md(first.input.scenario.name)}, for as long as the host only idles quiet sessions`;
      break;
    }
    default: {
      // sidecar and kinds without a catalogued trap: show every sign of trouble the runs have.
      for (const x of seen.filter((y) => role(y.input.scenario) !== 'chaos')) {
        const s = x.row.summary;
        const bad: string[] = [];
        if (s.spuriousRespawnsPerHour > 0) bad.push(`${rate(s.spuriousRespawnsPerHour)} spurious respawns/h`);
        if (s.failoverMaxMs === 'never') bad.push('a crash never failed over');
        if (s.splitBrains > 0) bad.push(`${s.splitBrains} split brains`);
        if (s.staleActions > 0) bad.push(`${s.staleActions} stale leader actions`);
        const crash = role(x.input.scenario) === 'crash' ? `, failover p50 ${fmtMs(s.failoverP50Ms)}, max ${fmtMs(s.failoverMaxMs)}` : '';
        evidence.push(
          `${sc(x.input)}: ${rate(s.respawnsPerHour)} respawns/h (${rate(s.spuriousRespawnsPerHour)} spurious)${crash}, ${s.splitBrains} split brains, ${s.staleActions} stale actions, ${fmtNum(s.storeWritesPerHour, 1)} store writes/h` +
            (bad.length > 0 ? `: **${bad.join(', ')}**` : ''),
        );
        if (bad.length > 0 && short === null) short = `${bad.join(', ')} on ${md(x.input.scenario.name)}`;
      }
      shown = seen.length === 0 ? null : short !== null;
    }
  }
  // Injected faults: the checkers' verdicts, whatever the kind.
  const chaos = seen.filter((x) => role(x.input.scenario) === 'chaos');
  const troubled = chaos.filter((x) => chaosTrouble(x.row.summary).length > 0);
  for (const x of troubled) {
    evidence.push(
      `${sc(x.input)} (${md(list(unique(faultsOf(x.input.scenario).map((f) => f.kind))))}): ${chaosTrouble(x.row.summary).join(', ')}${expectedNote(x.input, strategy)}`,
    );
  }
  if (chaos.length > troubled.length) {
    const clean = chaos.filter((x) => !troubled.includes(x));
    evidence.push(`no safety or liveness violation, zombie lease or lost failover under the faults of ${list(clean.map((x) => md(x.input.scenario.name)))}`);
  }
  const firstTrouble = troubled[0];
  if (firstTrouble !== undefined) {
    if (short === null) short = `${chaosTrouble(firstTrouble.row.summary).join(', ')} on ${md(firstTrouble.input.scenario.name)}`;
    shown = true;
  } else if (shown === null && chaos.length > 0) {
    shown = false;
  }
  return { strategy, kind, claim: CLAIMS[kind] ?? `No trap is catalogued for ${codeSpan(kind)}; the runs show:`, shown, evidence, short };
}

/** A figure of a summary by name, when it is a number (newer summaries carry more figures). */
function figure(summary: StrategySummary, key: string): number | undefined {
  const value = (summary as unknown as Record<string, unknown>)[key];
  return typeof value === 'number' ? value : undefined;
}

/** What the checkers and metrics hold against a strategy in a fault-injection scenario. */
function chaosTrouble(s: StrategySummary): string[] {
  const out: string[] = [];
  const safety = figure(s, 'safetyViolations') ?? 0;
  const liveness = figure(s, 'livenessViolations') ?? 0;
  if (safety > 0) out.push(`**${plural(safety, 'safety violation')}**`);
  if (liveness > 0) out.push(`**${plural(liveness, 'liveness violation')}**`);
  if (s.failoverMaxMs === 'never') out.push('**failover never happened**');
  if (s.zombieLeaseMsPerHour >= ZOMBIE_NOTICE_MS) out.push(`**zombie lease ${fmtMs(s.zombieLeaseMsPerHour)}/h**`);
  return out;
}

/** Zombie lease below this per hour is noise (a release racing a renewal), not a finding. */
const ZOMBIE_NOTICE_MS = 1_000;

/**
 * When a scenario's own targets assert a problem for this strategy (a `min` bound that holds),
 * the trouble is the trap the scenario was written to show: say so next to it.
 */
function expectedNote(input: ReportInput, strategy: string): string {
  const expected = input.report.targets.filter((t) => t.strategy === strategy && t.expected.min !== undefined && t.ok);
  if (expected.length === 0) return '';
  return ` (the trap this scenario's targets expect: ${list(expected.map((t) => `${codeSpan(t.metric)} ${formatBound(t.metric, t.expected)}`))})`;
}

function allStrategies(inputs: readonly ReportInput[]): StrategySpec[] {
  const out: StrategySpec[] = [];
  for (const input of inputs) for (const spec of input.scenario.strategies) if (!out.some((s) => s.name === spec.name)) out.push(spec);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Sections

interface Context {
  readonly inputs: readonly ReportInput[];
  readonly options: ReportOptions;
  /** The scenario that shows the incident (sections 2-4), with its baseline. */
  readonly incident: { input: ReportInput; baseline: Row; cycles: DecayCycle[] } | undefined;
  readonly traps: readonly Trap[];
  readonly targets: readonly TargetResult[];
}

function pickIncident(inputs: readonly ReportInput[]): Context['incident'] {
  const candidates = [...inputs].sort((a, b) => Number(role(a.scenario) !== 'incident') - Number(role(b.scenario) !== 'incident'));
  for (const input of candidates) {
    const baseline = find(input, 'baseline');
    if (baseline === undefined) continue;
    const events = traceOf(input, baseline.spec.name) ?? [];
    const cycles = decayCycles(events, { ttlMs: input.scenario.lease.ttlMs, heartbeatMs: input.scenario.heartbeat.intervalMs });
    if (cycles.length > 0 || role(input.scenario) === 'incident') return { input, baseline, cycles };
  }
  return undefined;
}

function header(ctx: Context): string {
  const names = list(ctx.inputs.map(sc));
  return [
    '# Root cause: the leader lease decays when the orchestrator\'s session idles',
    '',
    `_Generated by ${codeSpan('sim report')} from simulator runs of ${plural(ctx.inputs.length, 'scenario')}: ${names}. Every figure, timestamp and verdict below is computed from those runs; do not edit by hand. Regenerate or check with the commands in [How to reproduce](#8-how-to-reproduce)._`,
  ].join('\n');
}

function summarySection(ctx: Context): string {
  const out: string[] = ['## 1. Summary', ''];
  const bullets: string[] = [];
  const inc = ctx.incident;
  if (inc !== undefined) {
    const b = inc.baseline.summary;
    bullets.push(
      `**The incident, reproduced.** On ${sc(inc.input)} the ${st(inc.baseline.spec.name)} heartbeat (a ${codeSpan('setInterval')} in the session) gets the orchestrator respawned **${rate(b.respawnsPerHour)} times per hour** (p95 of runs ${rate(b.respawnsPerHourP95)}/h, ${plural(b.runs, 'run')} × ${dur(inc.input.scenario.durationMs)}); ${rate(b.spuriousRespawnsPerHour)}/h of them are spurious (the victim was alive). The service is leaderless ${fmtMs(b.leaderlessMsPerHour)} per hour.`,
    );
    const fix = find(inc.input, DECISION);
    if (fix !== undefined) {
      bullets.push(
        `**The shipped fix.** ${st(fix.spec.name)} (the shipped ${codeSpan('LeaseKeeper')} in a sidecar process bound to its owner), same runs: **${rate(fix.summary.respawnsPerHour)} respawns per hour**, leaderless ${fmtMs(fix.summary.leaderlessMsPerHour)} per hour, ${fmtNum(fix.summary.storeWritesPerHour, 1)} store writes per hour (baseline ${fmtNum(b.storeWritesPerHour, 1)}).`,
      );
    }
  }
  const crash = firstOfRole(ctx.inputs, 'crash', DECISION);
  if (crash !== undefined) {
    const fix = find(crash, DECISION) as Row;
    const never = rows(crash).filter((r) => r.summary.failoverMaxMs === 'never');
    const neverText =
      never.length === 0
        ? ' Every strategy failed over after every crash.'
        : ` Never for ${list(never.map((r) => `${st(r.spec.name)} (zombie lease ${fmtMs(r.summary.zombieLeaseMsPerHour)} per hour)`))}.`;
    bullets.push(
      `**Failover after a crash.** On ${sc(crash)}, with ${plural(fix.summary.crashes, 'crash', 'crashes')} over all runs, ${st(fix.spec.name)} hands leadership over in p50 **${fmtMs(fix.summary.failoverP50Ms)}**, max **${fmtMs(fix.summary.failoverMaxMs)}** (lease TTL ${fmtMs(crash.scenario.lease.ttlMs)}).${neverText}`,
    );
  }
  const freeze = firstOfRole(ctx.inputs, 'freeze', ALTERNATIVE);
  if (freeze !== undefined) {
    const w = find(freeze, ALTERNATIVE) as Row;
    bullets.push(
      `**Frozen processes.** On ${sc(freeze)}, where the host freezes the whole idle process, ${st(w.spec.name)} is respawned **${rate(w.summary.respawnsPerHour)} times per hour**${versus(freeze, w.spec.name, DECISION, (s) => `${rate(s.respawnsPerHour)}/h`)}.`,
    );
  }
  const restart = firstOfRole(ctx.inputs, 'restart', DECISION);
  if (restart !== undefined) {
    const fix = find(restart, DECISION) as Row;
    bullets.push(
      `**Planned restarts.** On ${sc(restart)}, with ${rate(fix.summary.restartsPerHour)} restarts per hour, ${st(fix.spec.name)} is leaderless ${fmtMs(fix.summary.leaderlessMsPerHour)} per hour with ${rate(fix.summary.respawnsPerHour)} respawns per hour${versus(restart, fix.spec.name, 'baseline', (s) => `${rate(s.respawnsPerHour)} respawns/h, leaderless ${fmtMs(s.leaderlessMsPerHour)}/h`)}.`,
    );
  }
  const chaosInputs = ctx.inputs.filter((i) => role(i.scenario) === 'chaos');
  const chaosTotals = allStrategies(chaosInputs).map((spec) => violationTotals(chaosInputs, spec.name));
  if (chaosTotals.length > 0 && chaosTotals.some((t) => t.known)) {
    bullets.push(
      `**Injected faults.** Safety / liveness violations found by the checkers over ${plural(chaosInputs.length, 'fault-injection scenario')}: ${list(chaosTotals.map((t) => `${st(t.strategy)} ${t.safety} / ${t.liveness} (${plural(t.scenarios, 'scenario')})`))}.`,
    );
  }
  const failed = ctx.targets.filter((t) => !t.ok);
  bullets.push(
    `**Targets.** ${ctx.targets.length - failed.length} of ${ctx.targets.length} targets hold across ${plural(ctx.inputs.length, 'scenario')}` +
      (failed.length === 0 ? '.' : `; failing: ${list(failed.map((t) => `${md(t.scenario)} ${st(t.strategy)} ${codeSpan(t.metric)}`))}.`),
  );
  bullets.push(`**Decision.** ${st(DECISION)}, with ${st(ALTERNATIVE)} for hosts that never freeze processes; see [Decision and why](#6-decision-and-why).`);
  out.push(...bullets.map((b) => `- ${b}`));
  out.push('', '### Runs behind this report', '');
  out.push(
    table(
      ['scenario', 'file', 'seed', 'runs', 'simulated per run', 'traced run', 'strategies'],
      ctx.inputs.map((i) => [
        md(i.scenario.name),
        ident(i.scenario.file),
        String(i.scenario.seed),
        String(i.scenario.runs),
        dur(i.scenario.durationMs),
        '0',
        i.scenario.strategies.map((s) => st(s.name)).join(', '),
      ]),
      ['left', 'left', 'right', 'right', 'right', 'right', 'left'],
    ),
  );
  return out.join('\n');
}

function decaySection(ctx: Context): string {
  const out: string[] = ['## 2. The decay mechanism', ''];
  const inc = ctx.incident;
  const cycle = inc?.cycles.find((c) => c.respawn.victimAlive) ?? inc?.cycles[0];
  if (inc === undefined || cycle === undefined) {
    out.push('No scenario given has a baseline trace with a complete decay cycle (session idle, lease expiry, respawn, new acquisition), so this section has no diagram.');
    return out.join('\n');
  }
  const s = inc.input.scenario;
  out.push(
    `One decay cycle, as it happened in run 0 of ${sc(inc.input)} with ${st(inc.baseline.spec.name)}: the first cycle in the trace whose victim was alive. Times are simulated (${codeSpan('t')} since the start of the run); a store request lands a few milliseconds after it is sent. Lease expiry is the last renewal plus the TTL (${fmtMs(s.lease.ttlMs)}).`,
  );
  out.push('');
  out.push(codeBlock(decaySequenceDiagram(cycle, { ttlMs: s.lease.ttlMs, heartbeatMs: s.heartbeat.intervalMs, graceMs: s.watchdog.graceMs }), 'mermaid'));
  out.push('');
  const steps: Array<[string, number, string]> = [
    [`${md(cycle.victim)} acquires the lease`, cycle.acquire.t, `token ${cycle.acquire.token}`],
    [`last heartbeat (renewal ${cycle.renewals} of ${cycle.renewals})`, cycle.lastGrant.t, `${fmtMs(cycle.idle.t - cycle.lastGrant.t)} before the session idles`],
    ['the host idles the session', cycle.idle.t, md(`${cycle.idle.effect}${cycle.idle.timersCleared === null ? '' : `, ${cycle.idle.timersCleared} timer(s) cleared`}`)],
    ['the lease expires', cycle.expiryT, `last renewal + TTL ${fmtMs(s.lease.ttlMs)}`],
    ['the watchdog declares the leader dead and kills it', cycle.respawn.t, cycle.respawn.expiredForMs === null ? 'no lease' : `expired for ${fmtMs(cycle.respawn.expiredForMs)} > grace ${fmtMs(s.watchdog.graceMs)}; victim ${cycle.respawn.victimAlive ? 'alive' : 'dead'}`],
    [`${md(cycle.successor)} is spawned`, cycle.spawnT, `respawn delay ${fmtMs(cycle.spawnT - cycle.respawn.t)}`],
    [`${md(cycle.successor)} acquires the lease`, cycle.successorAcquire.t, `token ${cycle.successorAcquire.token}; ${fmtMs(cycle.successorAcquire.t - cycle.expiryT)} without a lease`],
  ];
  out.push(table(['step', 'simulated time', 'detail'], steps.map(([a, t, c]) => [a, fmtClock(t), c]), ['left', 'right', 'left']));
  out.push('');
  const cycles = inc.cycles;
  const idleToRespawn = spread(cycles.map((c) => c.respawn.t - c.idle.t));
  const gap = spread(cycles.map((c) => c.successorAcquire.t - c.expiryT));
  const period = spread(cycles.slice(1).map((c, i) => c.respawn.t - (cycles[i] as DecayCycle).respawn.t));
  const alive = cycles.filter((c) => c.respawn.victimAlive).length;
  const parts = [
    `The traced run (${dur(s.durationMs)}) has ${plural(cycles.length, 'such cycle')}; in ${alive} of them the killed orchestrator was alive.`,
  ];
  if (idleToRespawn !== null) parts.push(`From session idle to respawn: min ${fmtMs(idleToRespawn.min)}, mean ${fmtMs(idleToRespawn.mean)}, max ${fmtMs(idleToRespawn.max)}.`);
  if (gap !== null) parts.push(`Without a lease after expiry: min ${fmtMs(gap.min)}, mean ${fmtMs(gap.mean)}, max ${fmtMs(gap.max)}.`);
  if (period !== null) parts.push(`One respawn every ${fmtMin(period.mean)} on average.`);
  out.push(parts.join(' '));
  return out.join('\n');
}

interface ChartData {
  readonly svg: string;
  readonly text: string;
}

function chartSection(ctx: Context): ChartData {
  const out: string[] = ['## 3. Lease age over time', ''];
  const inc = ctx.incident;
  const s = inc?.input.scenario;
  const windowMs = s === undefined ? CHART_WINDOW_MS : Math.min(CHART_WINDOW_MS, s.durationMs);
  const wanted = inc === undefined ? [] : [inc.baseline, find(inc.input, DECISION)].filter((r): r is Row => r !== undefined);
  const series = wanted.map((r) => ({
    row: r,
    events: (inc && traceOf(inc.input, r.spec.name)) ?? [],
  }));
  const ttlMs = s?.lease.ttlMs ?? 0;
  const graceMs = s?.watchdog.graceMs ?? 0;
  const svg = leaseAgeSvg({
    title: wanted.length === 0 ? 'Lease age over time' : `Lease age over time: ${wanted.map((r) => r.spec.name).join(' vs ')}`,
    subtitle: s === undefined ? 'no scenario with a baseline was given' : `run 0 of ${s.name}, first ${dur(windowMs)}, sampled every ${dur(CHART_STEP_MS)}`,
    windowMs,
    ttlMs,
    graceMs,
    series: series.map(({ row, events }) => ({ name: row.spec.name, points: leaseAgeSamples(events, windowMs, CHART_STEP_MS) })),
  });
  const alt = s === undefined ? 'Lease age over time (no data)' : `Lease age over time in run 0 of ${s.name}: ${wanted.map((r) => r.spec.name).join(' vs ')}`;
  out.push(`![${md(alt)}](${ctx.options.chartHref})`);
  out.push('');
  if (inc === undefined || s === undefined) {
    out.push('No scenario given has a baseline strategy, so the chart is empty.');
    return { svg, text: out.join('\n') };
  }
  out.push(
    `Lease age is the time since the last successful acquisition or renewal, whoever the holder, from the ${codeSpan('acquire')} and ${codeSpan('renew')} events of the trace of run 0 of ${sc(inc.input)}, sampled every ${fmtMs(CHART_STEP_MS)} over the first ${dur(windowMs)}. Above the TTL (${fmtMs(ttlMs)}, dashed) the lease has expired; above TTL + grace (${fmtMs(ttlMs + graceMs)}, dotted) the watchdog's next poll declares the leader dead. Exact figures from the events over the same window:`,
  );
  out.push('');
  for (const { row, events } of series) {
    const stats = leaseAgeStats(events, windowMs, ttlMs);
    if (stats === null) {
      out.push(`- ${st(row.spec.name)}: no acquisition or renewal in the window.`);
      continue;
    }
    const over = stats.overLimit === 0 ? 'never passed the TTL' : `passed the TTL ${plural(stats.overLimit, 'time')}`;
    out.push(`- ${st(row.spec.name)}: ${plural(stats.grants, 'acquisition or renewal', 'acquisitions and renewals')}; the lease age peaked at ${fmtMs(stats.maxAgeMs)} and ${over}.`);
  }
  return { svg, text: out.join('\n') };
}

function rootCauseSection(ctx: Context): string {
  const out: string[] = ['## 4. Root cause in plain words', ''];
  const inc = ctx.incident;
  if (inc === undefined) {
    out.push(
      'The orchestrator renews its leader lease from a heartbeat timer that lives inside its session. When the session host idles the session, the timer goes with it while the process lives on; the lease expires, and the watchdog kills and respawns a healthy orchestrator. (No scenario given reproduces the incident, so this section has no figures.)',
    );
    return out.join('\n');
  }
  const s = inc.input.scenario;
  const b = inc.baseline.summary;
  const everyMin = b.respawnsPerHour > 0 ? ` (one every ${fmtMin(3_600_000 / b.respawnsPerHour)} on average)` : '';
  out.push(
    `The orchestrator keeps its leadership by renewing a lease (TTL ${dur(s.lease.ttlMs)}) from a ${codeSpan('setInterval')} heartbeat, every ${dur(s.heartbeat.intervalMs)}, registered **inside its session**. The session host idles a session after ${fmtRange(s.session.idleAfter, dur)} without work and, when it does, ${effectText(s)}. The heartbeat goes with it.`,
  );
  out.push('');
  out.push(
    `Nothing else renews the lease. The orchestrator is still alive and still believes it leads, but ${dur(s.lease.ttlMs)} after its last renewal the lease expires. The watchdog polls every ${dur(s.watchdog.intervalMs)} and treats a lease expired for more than ${dur(s.watchdog.graceMs)} as a dead leader: it kills the orchestrator and spawns a new one ${fmtRange(s.watchdog.respawnDelay, dur)} later. The new one acquires the lease, has no work, is idled, and the cycle starts again: ${rate(b.respawnsPerHour)} respawns per hour${everyMin}, ${rate(b.spuriousRespawnsPerHour)} per hour of them killing a live orchestrator.`,
  );
  out.push('');
  out.push(
    "The lease, the store and the watchdog all do their job. The fault is where the heartbeat lives: its lifetime is tied to the session's activity, while what it must prove is that the **process** is alive and able to lead. An idle leader is the normal case, and the heartbeat reports it as dead. The fix is to renew from something whose lifetime is the orchestrator process's lifetime: not shorter (the session), not longer (the watchdog).",
  );
  return out.join('\n');
}

function strategiesSection(ctx: Context): string {
  const out: string[] = ['## 5. The strategies compared', ''];
  out.push(
    `Every figure of ${codeSpan('StrategySummary')} for every strategy of every scenario (rates per simulated hour, times in seconds). ✓ / ✗: a target of the scenario holds / fails for that figure (see [Validation](#7-validation)).`,
  );
  for (const input of ctx.inputs) {
    out.push('', `### ${md(input.scenario.name)}`, '');
    out.push(`${ident(input.scenario.file)}: ${md(conditions(input.scenario))}.`);
    out.push('');
    out.push(metricTable(input));
  }
  out.push('', "### Each option's trap", '');
  for (const trap of ctx.traps) {
    const verdict =
      trap.shown === null
        ? 'not exercised by the scenarios given'
        : trap.kind === DECISION || !(trap.kind in CLAIMS)
          ? trap.shown
            ? '**trouble seen in the runs**'
            : 'no trouble seen in the runs'
          : trap.shown
            ? '**shown by the runs**'
            : 'not shown by the runs';
    out.push(`- ${st(trap.strategy)}${trap.kind === trap.strategy ? '' : ` (${codeSpan(trap.kind)})`}: ${trap.claim} Verdict: ${verdict}.`);
    for (const e of trap.evidence) out.push(`  - ${e}`);
  }
  return out.join('\n');
}

function violationTotals(inputs: readonly ReportInput[], strategy: string): { strategy: string; safety: number; liveness: number; scenarios: number; known: boolean } {
  const seen = sightings(inputs, strategy);
  let safety = 0;
  let liveness = 0;
  let known = false;
  for (const x of seen) {
    const a = figure(x.row.summary, 'safetyViolations');
    const b = figure(x.row.summary, 'livenessViolations');
    if (a !== undefined || b !== undefined) known = true;
    safety += a ?? 0;
    liveness += b ?? 0;
  }
  return { strategy, safety, liveness, scenarios: seen.length, known };
}

function decisionSection(ctx: Context): string {
  const out: string[] = ['## 6. Decision and why', ''];
  out.push(
    `**Decision: ${st(DECISION)}**, the shipped ${codeSpan('LeaseKeeper')} (${codeSpan('src/keeper/lease-keeper.ts')}) running in a sidecar process bound to its owner. **Alternative: ${st(ALTERNATIVE)}** (the same keeper on a worker thread) for hosts that never freeze processes.`,
  );
  out.push('', 'What the runs say:', '');
  const bullets: string[] = [];
  const fixSeen = ctx.inputs.flatMap((input) => {
    const row = find(input, DECISION);
    return row === undefined ? [] : [{ input, row }];
  });
  if (fixSeen.length === 0) {
    out.push(`- No scenario given runs ${st(DECISION)}: these runs cannot support the decision.`);
    return out.join('\n');
  }
  const fixTargets = ctx.targets.filter((t) => fixSeen.some((x) => x.input.report.scenario === t.scenario && x.row.spec.name === t.strategy));
  const fixFailed = fixTargets.filter((t) => !t.ok);
  if (fixTargets.length === 0) bullets.push(`No targets are set for ${st(DECISION)} in the scenarios given, so the decision rests on the figures below alone.`);
  else if (fixFailed.length === 0) {
    const where = list(unique(fixTargets.map((t) => md(t.scenario))));
    bullets.push(
      fixTargets.length === 1
        ? `The one target set for ${st(DECISION)} holds, in ${where}.`
        : `All ${fixTargets.length} targets set for ${st(DECISION)} hold, in ${where}.`,
    );
  } else {
    bullets.push(
      `**${fixFailed.length} of ${fixTargets.length} targets for ${st(DECISION)} fail** (${list(fixFailed.map((t) => `${md(t.scenario)} ${codeSpan(t.metric)} = ${formatActual(t)}, expected ${formatBound(t.metric, t.expected)}`))}): the runs given do not support the decision as it stands.`,
    );
  }
  const inc = ctx.incident;
  const incFix = inc === undefined ? undefined : find(inc.input, DECISION);
  if (inc !== undefined && incFix !== undefined) {
    const b = inc.baseline.summary;
    bullets.push(
      incFix.summary.respawnsPerHour < b.respawnsPerHour
        ? `It removes the incident: on ${sc(inc.input)} it is respawned ${rate(incFix.summary.respawnsPerHour)} times per hour, against ${rate(b.respawnsPerHour)} for ${st(inc.baseline.spec.name)}.`
        : `It does **not** remove the incident: on ${sc(inc.input)} it is respawned ${rate(incFix.summary.respawnsPerHour)} times per hour, against ${rate(b.respawnsPerHour)} for ${st(inc.baseline.spec.name)}.`,
    );
  }
  const calmFix = fixSeen.filter((x) => role(x.input.scenario) !== 'chaos');
  const spurious = calmFix.filter((x) => x.row.summary.spuriousRespawnsPerHour > 0);
  if (calmFix.length > 0) {
    bullets.push(
      spurious.length === 0
        ? `Without injected faults the watchdog never kills a live ${st(DECISION)} orchestrator: 0 spurious respawns per hour in ${calmFix.length === 1 ? 'the one scenario' : `all ${calmFix.length} scenarios`} (${list(calmFix.map((x) => md(x.input.scenario.name)))}).`
        : `The watchdog still kills live orchestrators without injected faults: ${list(spurious.map((x) => `${rate(x.row.summary.spuriousRespawnsPerHour)}/h on ${md(x.input.scenario.name)}`))}.`,
    );
  }
  const chaosFix = ctx.inputs.filter((i) => role(i.scenario) === 'chaos' && find(i, DECISION) !== undefined);
  if (chaosFix.length > 0) {
    const totals = { safety: 0, liveness: 0 };
    for (const i of chaosFix) {
      const summary = (find(i, DECISION) as Row).summary;
      totals.safety += figure(summary, 'safetyViolations') ?? 0;
      totals.liveness += figure(summary, 'livenessViolations') ?? 0;
    }
    const troubled = chaosFix.filter((i) => chaosTrouble((find(i, DECISION) as Row).summary).length > 0);
    bullets.push(
      troubled.length === 0
        ? `Under injected faults (${list(chaosFix.map((i) => md(i.scenario.name)))}) the checkers find ${totals.safety} safety and ${totals.liveness} liveness violations, no zombie lease and no lost failover.`
        : `Under injected faults the checkers hold this against it: ${list(
            troubled.map((i) => {
              const row = find(i, DECISION) as Row;
              return `${chaosTrouble(row.summary).join(', ')} on ${md(i.scenario.name)}${expectedNote(i, row.spec.name)}`;
            }),
          )}.`,
    );
  }
  for (const input of ctx.inputs.filter((i) => role(i.scenario) === 'crash')) {
    const fix = find(input, DECISION);
    if (fix === undefined) continue;
    const slower = rows(input).filter((r) => r !== fix && r.spec.kind !== 'baseline' && timeValue(r.summary.failoverP50Ms) > timeValue(fix.summary.failoverP50Ms));
    const mine = `on ${sc(input)} it fails over in p50 ${fmtMs(fix.summary.failoverP50Ms)}, max ${fmtMs(fix.summary.failoverMaxMs)}`;
    bullets.push(
      slower.length === 0
        ? `A dead owner: ${mine}; no other fix is faster.`
        : `A dead owner releases its lease at once: ${mine}, against ${list(slower.map((r) => `${fmtMs(r.summary.failoverP50Ms)} for ${st(r.spec.name)}`))} (p50), which wait out the TTL or never hand over.`,
    );
  }
  for (const input of ctx.inputs.filter((i) => role(i.scenario) === 'freeze')) {
    const fix = find(input, DECISION);
    if (fix === undefined) continue;
    const alt = find(input, ALTERNATIVE);
    bullets.push(
      `A frozen owner: on ${sc(input)} it is respawned ${rate(fix.summary.respawnsPerHour)} times per hour` +
        (alt === undefined ? '.' : `, ${st(alt.spec.name)} ${rate(alt.summary.respawnsPerHour)} times per hour.`),
    );
  }
  const splits = fixSeen.reduce((a, x) => a + x.row.summary.splitBrains, 0);
  const stale = fixSeen.reduce((a, x) => a + x.row.summary.staleActions, 0);
  const actions = fixSeen.reduce((a, x) => a + x.row.summary.leaderActions, 0);
  bullets.push(`Safety: ${plural(splits, 'split brain')} and ${stale} stale of ${plural(actions, 'leader action')} across all its runs.`);
  if (inc !== undefined && incFix !== undefined) {
    bullets.push(
      `Cost: one extra process per orchestrator, ${fmtNum(incFix.summary.storeWritesPerHour, 1)} store writes and ${fmtNum(incFix.summary.wakeupsPerHour, 1)} wake-ups per hour on ${md(inc.input.scenario.name)} (the baseline: ${fmtNum(inc.baseline.summary.storeWritesPerHour, 1)} and ${fmtNum(inc.baseline.summary.wakeupsPerHour, 1)}).`,
    );
  }
  out.push(...bullets.map((b) => `- ${b}`));

  // The alternative.
  const altSeen = ctx.inputs.flatMap((input) => {
    const row = find(input, ALTERNATIVE);
    return row === undefined ? [] : [{ input, row }];
  });
  out.push('', `Why ${st(ALTERNATIVE)} is only the alternative:`, '');
  if (altSeen.length === 0) {
    out.push(`- No scenario given runs ${st(ALTERNATIVE)}.`);
  } else {
    const calm = altSeen.filter((x) => ['incident', 'restart', 'stall'].includes(role(x.input.scenario)));
    const calmOk = calm.filter((x) => x.row.summary.respawnsPerHour === 0);
    if (calm.length > 0) {
      out.push(
        calmOk.length === calm.length
          ? `- Where processes are not frozen it matches ${st(DECISION)}: 0 respawns per hour on ${list(calm.map((x) => md(x.input.scenario.name)))}, without an extra process.`
          : `- Even without frozen processes it is respawned: ${list(calm.filter((x) => x.row.summary.respawnsPerHour > 0).map((x) => `${rate(x.row.summary.respawnsPerHour)}/h on ${md(x.input.scenario.name)}`))}.`,
      );
    }
    for (const x of altSeen.filter((y) => role(y.input.scenario) === 'freeze')) {
      out.push(
        x.row.summary.respawnsPerHour > 0
          ? `- A host that freezes processes freezes its thread too: ${rate(x.row.summary.respawnsPerHour)} respawns per hour on ${sc(x.input)}. Use it only on hosts that never freeze processes.`
          : `- On ${sc(x.input)} it was not respawned (${rate(x.row.summary.respawnsPerHour)}/h): the freeze trap did not show in these runs.`,
      );
    }
    for (const x of altSeen.filter((y) => role(y.input.scenario) === 'crash')) {
      const fix = find(x.input, DECISION);
      out.push(
        `- Nothing releases its lease when the process dies: on ${sc(x.input)} failover p50 ${fmtMs(x.row.summary.failoverP50Ms)}, max ${fmtMs(x.row.summary.failoverMaxMs)}` +
          (fix === undefined ? '.' : ` (${st(fix.spec.name)}: ${fmtMs(fix.summary.failoverP50Ms)}, ${fmtMs(fix.summary.failoverMaxMs)}).`),
      );
    }
  }
  const rejected = ctx.traps.filter((t) => t.kind !== DECISION && t.kind !== ALTERNATIVE);
  if (rejected.length > 0) {
    out.push('', 'Rejected:', '');
    for (const t of rejected) {
      const why = t.shown === true && t.short !== null ? t.short : t.shown === null
          ? 'its trap is not exercised by the scenarios given, so these runs neither show nor rule it out'
          : 'its trap did not show in these runs, so this rejection rests on design grounds alone';
      out.push(`- ${st(t.strategy)}: ${why}.`);
    }
  }
  return out.join('\n');
}

function unique(items: readonly string[]): string[] {
  return items.filter((x, i) => items.indexOf(x) === i);
}

const isTime = (metric: string): boolean => metric.endsWith('Ms') || metric.endsWith('MsPerHour');

function formatActual(t: TargetResult): string {
  if (isTime(t.metric)) return fmtMs(t.actual);
  return t.actual === null ? '—' : t.actual === 'never' ? 'never' : String(t.actual);
}

function formatBound(metric: string, bound: Bound): string {
  const f = (v: number): string => (isTime(metric) ? fmtMs(v) : String(v));
  const parts: string[] = [];
  if (bound.min !== undefined) parts.push(`≥ ${f(bound.min)}`);
  if (bound.max !== undefined) parts.push(`≤ ${f(bound.max)}`);
  return parts.join(' and ');
}

function validationSection(ctx: Context): string {
  const out: string[] = ['## 7. Validation', ''];
  const failed = ctx.targets.filter((t) => !t.ok).length;
  out.push(`Targets written in the scenario files, checked against the runs above: ${ctx.targets.length - failed} of ${ctx.targets.length} hold.`);
  out.push('');
  if (ctx.targets.length === 0) out.push('No scenario given sets targets.');
  else {
    out.push(
      table(
        ['scenario', 'strategy', 'figure', 'expected', 'actual', 'result'],
        ctx.targets.map((t) => [md(t.scenario), st(t.strategy), codeSpan(t.metric), formatBound(t.metric, t.expected), formatActual(t), t.ok ? 'pass' : '**FAIL**']),
        ['left', 'left', 'left', 'left', 'right', 'left'],
      ),
    );
  }
  out.push('', '### Exploration', '');
  const explore = ctx.options.extras?.explore;
  if (explore === undefined) {
    out.push(`Exploration (${codeSpan('sim explore')}: randomized scenarios checked for safety and liveness) was not run for this report; it has no exploration results.`);
  } else if (explore.length === 0) {
    out.push('Exploration was run and returned no results.');
  } else {
    out.push(
      table(
        ['scenario', 'strategy', 'seed', 'schedules', 'each', 'violation found'],
        explore.map((e) => [
          md(e.scenario),
          st(e.strategy),
          String(e.seed),
          String(e.runs),
          md(formatDurationMs(e.durationMs)),
          e.violation === undefined ? 'none' : md(e.violation),
        ]),
        ['left', 'left', 'right', 'right', 'right', 'left'],
      ),
    );
    out.push(
      '',
      `Each schedule is a random set of the scenario's faults within its bounds, checked for safety, then liveness. A strategy expected to fail (the deliberately broken ${codeSpan('naive-worker')}) shows that the checkers catch real bugs; the shipped keeper must show none. Larger budgets: ${codeSpan(`${SIM} explore FILE --strategy NAME --runs 10000 --duration 6h`)}.`,
    );
  }
  return out.join('\n');
}

function reproduceSection(ctx: Context): string {
  const out: string[] = ['## 8. How to reproduce', ''];
  const files = ctx.inputs.map((i) => shellQuote(i.scenario.file)).join(' ');
  const over = ctx.options.overrideArgs.join(' ');
  const outArg = ctx.options.defaultOutput ? '' : ` -o ${shellQuote(ctx.options.output)}`;
  const withOver = (cmd: string): string => (over === '' ? cmd : `${cmd} ${over}`);
  out.push(
    `Everything is deterministic: the same files, seeds, run counts and durations give the same bytes. Build once with ${codeSpan('npx tsc -p tsconfig.json')}.`,
  );
  out.push('');
  const lines = [
    '# this report and the chart beside it',
    withOver(`${SIM} report ${files}`) + outArg,
    '# CI: exit 1 when the files on disk differ from a fresh run',
    withOver(`${SIM} report --check ${files}`) + outArg,
    '# the targets of section 7',
    withOver(`${SIM} gate ${files}`),
  ];
  for (const input of ctx.inputs) {
    const s = input.scenario;
    const exact = `--seed ${s.seed} --runs ${s.runs} --duration ${dur(s.durationMs)}`;
    lines.push(`# ${input.scenario.file.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, ' ')}: the figures of section 5 (add --json for a machine-readable copy)`);
    lines.push(`${SIM} run ${shellQuote(s.file)} ${exact}`);
    if (input === ctx.incident?.input) {
      const traceFile = shellQuote(`${safeFileStem(basename(s.file).replace(/\.ya?ml$/i, ''))}-trace.jsonl`);
      lines.push('# sections 2 and 3: the trace of run 0 (JSON lines; keep the lines of one strategy)');
      lines.push(`${SIM} run ${shellQuote(s.file)} ${exact} --trace ${traceFile} --trace-run 0`);
      for (const r of [ctx.incident.baseline, find(input, DECISION)]) {
        if (r === undefined) continue;
        lines.push(`grep -F ${shellQuote(`"strategy":${JSON.stringify(r.spec.name)},`)} ${traceFile}`);
      }
    }
  }
  out.push(codeBlock(lines.join('\n'), 'sh'));
  out.push('');
  out.push(
    `Section 2 is the first complete decay cycle (session idle, lease expiry, respawn, new acquisition) with a live victim in the ${ctx.incident === undefined ? 'baseline' : st(ctx.incident.baseline.spec.name)} lines; section 3 samples the lease age every ${fmtMs(CHART_STEP_MS)} from the ${codeSpan('acquire')}/${codeSpan('renew')} lines with ${codeSpan('"ok":true')}.`,
  );
  return out.join('\n');
}

function safeFileStem(name: string): string {
  const stem = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '');
  return stem === '' ? 'scenario' : stem;
}

/** Builds the report and its chart. */
export function buildReport(inputs: readonly ReportInput[], options: ReportOptions): BuiltReport {
  const incident = pickIncident(inputs);
  const traps = allStrategies(inputs).map((spec) => trapOf(inputs, spec.name, spec));
  const ctx: Context = { inputs, options, incident, traps, targets: inputs.flatMap((i) => i.report.targets) };
  const chart = chartSection(ctx);
  const sections = [
    header(ctx),
    summarySection(ctx),
    decaySection(ctx),
    chart.text,
    rootCauseSection(ctx),
    strategiesSection(ctx),
    decisionSection(ctx),
    validationSection(ctx),
    reproduceSection(ctx),
  ];
  return { markdown: `${sections.join('\n\n')}\n`, svg: chart.svg };
}
