/**
 * Loads a scenario YAML file (shape: scenarios/schema.json) into a validated {@link Scenario}.
 * Every problem is a {@link ScenarioError} pointing at `file:line:column` and naming the field.
 */

import { readFile } from 'node:fs/promises';
import { LineCounter, isMap, parseDocument } from 'yaml';
import { ConfigError, HeartbeatLabError } from '../../src/errors.js';
import { resolveKeeperTiming } from '../../src/keeper/keeper-options.js';
import { RESTART_POLICIES, parseRestartLimit } from '../../src/supervisor/supervisor-options.js';
import { ScenarioError } from './scenario-error.js';
import { Fields, Reader, formatScalar } from './yaml-reader.js';
import { loopVariant } from './types.js';
import type {
  Bound,
  FaultKind,
  FaultSpec,
  FaultTarget,
  IdleEffect,
  IdleHook,
  MetricName,
  RangeMs,
  Scenario,
  StrategyName,
  StrategySpec,
  TargetSpec,
  WatchdogLoopVariant,
  WatchdogPolicy,
} from './types.js';

/** Keys accepted at the top level of a scenario file, in documentation order. */
export const SCENARIO_KEYS = [
  'name', 'seed', 'duration', 'runs', 'lease', 'heartbeat', 'session', 'watchdog', 'registry',
  'store', 'keeper', 'keepAwake', 'crash', 'restart', 'faults', 'liveness', 'strategies', 'targets',
] as const;

/** Strategy kinds, as written in `strategies`. */
export const STRATEGY_KINDS: readonly StrategyName[] = ['baseline', 'worker', 'sidecar', 'watchdog-loop', 'keep-awake', 'naive-worker', 'supervisor'];

/** Variants of `watchdog-loop`, written `watchdog-loop:<variant>`. */
export const WATCHDOG_LOOP_VARIANTS: readonly WatchdogLoopVariant[] = ['never-stopped', 'restarted', 'pid-checked', 'first-registered'];

/** Idle effects, as written in `session.idleEffect`. */
export const IDLE_EFFECTS: readonly IdleEffect[] = ['clear-timers', 'freeze', 'stall', 'exit'];
/** Session-idle hooks, as written in `session.onIdle`. */
export const IDLE_HOOKS: readonly IdleHook[] = ['none', 'release'];
/** Watchdog policies, as written in `watchdog.policy`. */
export const WATCHDOG_POLICIES: readonly WatchdogPolicy[] = ['kill-if-stale', 'respawn-if-gone'];

/** Target metric names as written in YAML → metric, and whether the bounds are durations. */
export const TARGET_METRICS: Readonly<Record<string, { readonly metric: MetricName; readonly duration: boolean }>> = {
  respawnsPerHour: { metric: 'respawnsPerHour', duration: false },
  spuriousRespawnsPerHour: { metric: 'spuriousRespawnsPerHour', duration: false },
  failoverP50: { metric: 'failoverP50Ms', duration: true },
  failoverMax: { metric: 'failoverMaxMs', duration: true },
  zombieLeasePerHour: { metric: 'zombieLeaseMsPerHour', duration: true },
  leaderlessPerHour: { metric: 'leaderlessMsPerHour', duration: true },
  splitBrains: { metric: 'splitBrains', duration: false },
  staleActions: { metric: 'staleActions', duration: false },
  storeWritesPerHour: { metric: 'storeWritesPerHour', duration: false },
  wakeupsPerHour: { metric: 'wakeupsPerHour', duration: false },
  keepAwakeActionsPerHour: { metric: 'keepAwakeActionsPerHour', duration: false },
  minRenewalMargin: { metric: 'minRenewalMarginMs', duration: true },
  safetyViolations: { metric: 'safetyViolations', duration: false },
  livenessViolations: { metric: 'livenessViolations', duration: false },
  leaseAgeAtRespawnMin: { metric: 'leaseAgeAtRespawnMinMs', duration: true },
  leaseAgeAtRespawnMean: { metric: 'leaseAgeAtRespawnMeanMs', duration: true },
  leaseAgeAtRespawnMax: { metric: 'leaseAgeAtRespawnMaxMs', duration: true },
  noWorkingLeaderPerHour: { metric: 'leaderlessInPracticeMsPerHour', duration: true },
  sessionRestartsPerHour: { metric: 'sessionRestartsPerHour', duration: false },
  leaderGapMax: { metric: 'leaderGapMaxMs', duration: true },
  loopRenewalsPerHour: { metric: 'loopRenewalsPerHour', duration: false },
};

/** Fault kinds, as written in `faults[].kind`. */
export const FAULT_KINDS: readonly FaultKind[] = [
  'orchestrator-crash', 'orchestrator-freeze', 'keeper-crash', 'stall', 'clock-jump', 'clock-drift',
  'store-latency', 'store-outage', 'partition', 'watchdog-restart', 'pid-reuse', 'lease-corrupt', 'wedge',
];
const FAULT_TARGETS: readonly FaultTarget[] = ['orchestrator', 'keeper', 'machine'];
const FAULT_KEYS = ['kind', 'at', 'every', 'for', 'probability', 'target', 'by', 'rate', 'latency'];
/** The fault parameters each kind takes alone; on any other kind they would be ignored, so they are refused. */
const FAULT_PARAMS: ReadonlyArray<readonly [key: string, kind: FaultKind]> = [['by', 'clock-jump'], ['rate', 'clock-drift'], ['latency', 'store-latency']];

const MAX_SEED = 2 ** 32 - 1;

/** Reads and parses a scenario file. Throws {@link ScenarioError} for bad content. */
export async function loadScenarioFile(path: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new HeartbeatLabError('E_INPUT', `cannot read scenario file ${path}: ${(cause as Error).message}`, { cause });
  }
  return parseScenario(text, path);
}

/** Parses scenario YAML `text`; `file` is used in messages and kept as `Scenario.file`. Pure. */
export function parseScenario(text: string, file: string): Scenario {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, keepSourceTokens: true, prettyErrors: false });
  const r = new Reader(file, lines, doc);
  const first = doc.errors[0];
  if (first !== undefined) throw ScenarioError.malformed(r.at(first.pos[0]), first.message.split('\n')[0] ?? '');
  if (doc.contents === null) r.fail(0, '(document)', 'a mapping of scenario fields', 'nothing');

  const top = r.fields(doc.contents, '', SCENARIO_KEYS);
  const name = r.name(top.need('name'), 'name');
  const seed = r.integer(top.need('seed'), 'seed', 0, MAX_SEED);
  const durationMs = r.duration(top.need('duration'), 'duration', true);
  const runs = top.has('runs') ? r.integer(top.need('runs'), 'runs', 1, 100_000) : 1;
  const lease = r.fields(top.need('lease'), 'lease', ['ttl']);
  const ttlMs = r.duration(lease.need('ttl'), 'lease.ttl', true);
  const heartbeat = r.fields(top.need('heartbeat'), 'heartbeat', ['interval']);
  const intervalMs = r.duration(heartbeat.need('interval'), 'heartbeat.interval', true);
  if (intervalMs >= ttlMs) {
    const ttlText = formatScalar(lease.need('ttl'));
    r.fail(heartbeat.need('interval'), 'heartbeat.interval', `a duration shorter than lease.ttl (${ttlText})`);
  }
  const session = readSession(r, top.need('session'));
  const watchdog = readWatchdog(r, top.need('watchdog'));
  const registryFields = r.fields(top.get('registry'), 'registry', ['timeout', 'staleEntries'], true);
  const registry = {
    timeoutMs: optDuration(r, registryFields, 'timeout', 600_000),
    staleEntries: registryFields.has('staleEntries') ? r.integer(registryFields.need('staleEntries'), 'registry.staleEntries', 0, 100) : 0,
  };
  const store = r.fields(top.get('store'), 'store', ['latency'], true);
  const latency = optRange(r, store, 'latency', [2, 20]);
  const keeper = readKeeper(r, top.get('keeper'), ttlMs, lease.need('ttl'));
  const keepAwake = r.fields(top.get('keepAwake'), 'keepAwake', ['interval'], true);
  const keepAwakeMs = optDuration(r, keepAwake, 'interval', 60_000);
  const crash = readEvery(r, top.get('crash'), 'crash');
  const restart = readEvery(r, top.get('restart'), 'restart');
  const faults = top.has('faults') ? readFaults(r, top.need('faults')) : [];
  const livenessFields = r.fields(top.get('liveness'), 'liveness', ['failoverWithin'], true);
  const liveness = livenessFields.has('failoverWithin')
    ? { failoverWithinMs: r.duration(livenessFields.need('failoverWithin'), 'liveness.failoverWithin', true) }
    : undefined;
  const strategies = readStrategies(r, top.need('strategies'));
  const targets = top.has('targets') ? readTargets(r, top.need('targets'), strategies) : [];

  return {
    file,
    name,
    seed,
    durationMs,
    runs,
    lease: { ttlMs },
    heartbeat: { intervalMs },
    session,
    watchdog,
    registry,
    store: { latency },
    keeper,
    keepAwake: { intervalMs: keepAwakeMs },
    crash,
    restart,
    faults,
    liveness,
    strategies,
    targets,
  };
}

function readFaults(r: Reader, node: unknown): FaultSpec[] {
  return r.list(node, 'faults').map((item, i) => {
    const path = `faults[${i}]`;
    const f = r.fields(item, path, FAULT_KEYS);
    const kind = r.choice(f.need('kind'), `${path}.kind`, FAULT_KINDS);
    if (!f.has('at') && !f.has('every')) r.fail(item, path, 'at least one of at, every', 'neither');
    for (const [key, owner] of FAULT_PARAMS) {
      if (f.has(key) && kind !== owner) r.fail(f.need(key), `${path}.${key}`, `no ${key} on a ${kind} fault (only ${owner} takes one)`);
    }
    const probability = f.has('probability') ? r.number(f.need('probability'), `${path}.probability`, 0) : 1;
    if (probability > 1) r.fail(f.need('probability'), `${path}.probability`, 'a number from 0 to 1');
    const byMs = f.has('by') ? r.signedDuration(f.need('by'), `${path}.by`) : 0;
    const rate = f.has('rate') ? r.number(f.need('rate'), `${path}.rate`, 0.5) : 1;
    if (rate > 2) r.fail(f.need('rate'), `${path}.rate`, 'a number from 0.5 to 2');
    return {
      kind,
      at: f.has('at') ? r.range(f.need('at'), `${path}.at`) : undefined,
      everyMs: f.has('every') ? r.duration(f.need('every'), `${path}.every`, true) : undefined,
      for: optRange(r, f, 'for', [0, 0]),
      probability,
      target: f.has('target') ? r.choice(f.need('target'), `${path}.target`, FAULT_TARGETS) : 'orchestrator',
      byMs,
      rate,
      latencyMs: f.has('latency') ? r.duration(f.need('latency'), `${path}.latency`, false) : 0,
    };
  });
}

function readSession(r: Reader, node: unknown): Scenario['session'] {
  const keys = ['idleAfter', 'idleEffect', 'onIdle', 'stallFor', 'workload', 'maxLifetime'];
  const s = r.fields(node, 'session', keys);
  const work = r.fields(s.get('workload'), 'session.workload', ['arrivalsPerHour', 'duration'], true);
  const idleEffect = s.has('idleEffect') ? r.choice(s.need('idleEffect'), 'session.idleEffect', IDLE_EFFECTS) : 'clear-timers';
  const onIdle = s.has('onIdle') ? r.choice(s.need('onIdle'), 'session.onIdle', IDLE_HOOKS) : 'none';
  // The hook runs as the session's process ends; a session that lives on keeps its lease.
  if (onIdle !== 'none' && idleEffect !== 'exit') {
    r.fail(s.need('onIdle'), 'session.onIdle', `none (an idle hook runs only with idleEffect: exit, not ${idleEffect})`);
  }
  return {
    idleAfter: r.range(s.need('idleAfter'), 'session.idleAfter'),
    idleEffect,
    stallFor: optRange(r, s, 'stallFor', [10_000, 60_000]),
    workArrivalsPerHour: work.present ? r.number(work.need('arrivalsPerHour'), 'session.workload.arrivalsPerHour', 0) : 0,
    workDuration: optRange(r, work, 'duration', [1_000, 10_000]),
    maxLifetime: s.has('maxLifetime') ? r.range(s.need('maxLifetime'), 'session.maxLifetime') : undefined,
    onIdle,
  };
}

function readWatchdog(r: Reader, node: unknown): Scenario['watchdog'] {
  const w = r.fields(node, 'watchdog', ['policy', 'interval', 'grace', 'respawnDelay', 'startupDelay']);
  const policy = w.has('policy') ? r.choice(w.need('policy'), 'watchdog.policy', WATCHDOG_POLICIES) : 'kill-if-stale';
  // Only the shell loop sleeps after a spawn; the grid-polling watchdog has no such step.
  if (w.has('startupDelay') && policy !== 'respawn-if-gone') {
    r.fail(w.need('startupDelay'), 'watchdog.startupDelay', `no startupDelay (only policy respawn-if-gone sleeps after a spawn; policy is ${policy})`);
  }
  return {
    policy,
    intervalMs: r.duration(w.need('interval'), 'watchdog.interval', true),
    graceMs: w.has('grace') ? r.duration(w.need('grace'), 'watchdog.grace', false) : 0,
    respawnDelay: optRange(r, w, 'respawnDelay', [0, 0]),
    startupDelayMs: w.has('startupDelay') ? r.duration(w.need('startupDelay'), 'watchdog.startupDelay', false) : 0,
  };
}

/** The keeper's option names as the YAML spells them (retries run every renewInterval / 4). */
const KEEPER_YAML: Readonly<Record<string, string>> = {
  ttlMs: 'lease.ttl',
  renewIntervalMs: 'keeper.renewInterval',
  renewDeadlineMs: 'keeper.renewDeadline',
  requestTimeoutMs: 'keeper.requestTimeout',
  retryIntervalMs: 'keeper.renewInterval',
};

/**
 * `keeper:` timing, checked at load against the keeper's own rules (`resolveKeeperTiming`), so a
 * broken one fails here with the YAML's names and its file:line:column, not mid-run.
 */
function readKeeper(r: Reader, node: unknown, ttlMs: number, ttlNode: unknown): Scenario['keeper'] {
  const k = r.fields(node, 'keeper', ['renewInterval', 'renewDeadline', 'requestTimeout'], true);
  const opt = (key: string): number | undefined => (k.has(key) ? r.duration(k.need(key), k.child(key), true) : undefined);
  const keeper = { renewIntervalMs: opt('renewInterval'), renewDeadlineMs: opt('renewDeadline'), requestTimeoutMs: opt('requestTimeout') };
  if (!k.present) return keeper;
  try {
    resolveKeeperTiming({ key: 'scenario', identity: 'scenario', ttlMs, ...keeper });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const path = KEEPER_YAML[error.option] ?? `keeper (${error.option})`;
    const yamlKey = path.startsWith('keeper.') ? path.slice('keeper.'.length) : undefined;
    const where = path === 'lease.ttl' ? ttlNode : yamlKey !== undefined && k.has(yamlKey) ? k.need(yamlKey) : node;
    // The rule as the keeper states it, in the YAML's names: "expected at most lease.ttl − … = 2m47s180ms".
    let rule = error.message.slice(`invalid option ${error.option}: `.length).replace(/ \(got [^)]*\)$/, '').replace(/^must be /, '');
    for (const [option, yaml] of Object.entries(KEEPER_YAML)) rule = rule.replaceAll(option, yaml);
    r.fail(where, path, rule);
  }
  return keeper;
}

function readEvery(r: Reader, node: unknown, path: string): { readonly meanEveryMs: number } | undefined {
  if (node === undefined) return undefined;
  const f = r.fields(node, path, ['every']);
  return { meanEveryMs: r.duration(f.need('every'), `${path}.every`, true) };
}

function readStrategies(r: Reader, node: unknown): StrategySpec[] {
  const forms = [...STRATEGY_KINDS, ...WATCHDOG_LOOP_VARIANTS.map((v) => `watchdog-loop:${v}`)];
  const items = r.list(node, 'strategies');
  const seen = new Map<string, number>();
  return items.map((item, i) => {
    const path = `strategies[${i}]`;
    let spec: StrategySpec;
    let nameNode = item;
    if (isMap(item)) {
      const f = r.fields(item, path, ['kind', 'variant', 'name', 'maxProgressSilence', 'restart', 'maxRestarts']);
      const kind = r.choice(f.need('kind'), `${path}.kind`, STRATEGY_KINDS);
      let variant: WatchdogLoopVariant | undefined;
      if (f.has('variant')) {
        if (kind !== 'watchdog-loop') r.fail(f.need('variant'), `${path}.variant`, 'no variant (only watchdog-loop has variants)');
        variant = r.choice(f.need('variant'), `${path}.variant`, WATCHDOG_LOOP_VARIANTS);
      }
      if (f.has('name')) nameNode = f.need('name');
      const name = f.has('name') ? r.name(nameNode, `${path}.name`) : variant === undefined ? kind : `${kind}:${variant}`;
      spec = makeStrategy(name, kind, variant);
      if (f.has('maxProgressSilence')) {
        if (kind !== 'worker' && kind !== 'sidecar' && kind !== 'supervisor') {
          r.fail(f.need('maxProgressSilence'), `${path}.maxProgressSilence`, 'no progress check (only worker, sidecar and supervisor run the keeper)');
        }
        spec = { ...spec, maxProgressSilenceMs: r.duration(f.need('maxProgressSilence'), `${path}.maxProgressSilence`, true) };
      }
      spec = readSupervisorFields(r, f, path, kind, spec);
    } else {
      const form = r.choice(item, path, forms);
      const [kind, variant] = form.split(':') as [StrategyName, WatchdogLoopVariant | undefined];
      spec = makeStrategy(form, kind, variant);
    }
    const earlier = seen.get(spec.name);
    if (earlier !== undefined) {
      r.fail(nameNode, isMap(item) ? `${path}.name` : path, `a unique name ("${spec.name}" is already strategies[${earlier}])`);
    }
    seen.set(spec.name, i);
    return spec;
  });
}

/** `restart` and `maxRestarts` (supervisor only). */
function readSupervisorFields(r: Reader, f: Fields, path: string, kind: StrategyName, spec: StrategySpec): StrategySpec {
  for (const key of ['restart', 'maxRestarts']) {
    if (f.has(key) && kind !== 'supervisor') r.fail(f.need(key), `${path}.${key}`, `no ${key} (only supervisor restarts sessions)`);
  }
  let out = spec;
  if (f.has('restart')) out = { ...out, restart: r.choice(f.need('restart'), `${path}.restart`, RESTART_POLICIES) };
  if (f.has('maxRestarts')) {
    const node = f.need('maxRestarts');
    try {
      out = { ...out, maxRestarts: parseRestartLimit(`${path}.maxRestarts`, formatScalar(node)) };
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      r.fail(node, `${path}.maxRestarts`, 'COUNT/DURATION such as 30/1h');
    }
  }
  return out;
}

/** Builds a strategy; a `watchdog-loop` without a variant gets the documented default `restarted`. */
function makeStrategy(name: string, kind: StrategyName, variant: WatchdogLoopVariant | undefined): StrategySpec {
  if (kind !== 'watchdog-loop') return { name, kind };
  return { name, kind, variant: loopVariant({ variant }) };
}

function readTargets(r: Reader, node: unknown, strategies: readonly StrategySpec[]): TargetSpec[] {
  const names = strategies.map((s) => s.name);
  const byStrategy = r.fields(node, 'targets', names);
  const targets: TargetSpec[] = [];
  for (const strategy of byStrategy.keys) {
    const sPath = `targets.${strategy}`;
    const metrics = r.fields(byStrategy.need(strategy), sPath, Object.keys(TARGET_METRICS));
    for (const key of metrics.keys) {
      const { metric, duration } = TARGET_METRICS[key] as (typeof TARGET_METRICS)[string];
      const mPath = `${sPath}.${key}`;
      const b = r.fields(metrics.need(key), mPath, ['min', 'max']);
      if (b.keys.length === 0) r.fail(metrics.need(key), mPath, 'at least one of min, max', 'an empty mapping');
      const value = (k: string): number =>
        duration ? r.duration(b.need(k), `${mPath}.${k}`, false) : r.number(b.need(k), `${mPath}.${k}`);
      const bound: { min?: number; max?: number } = {};
      if (b.has('min')) bound.min = value('min');
      if (b.has('max')) bound.max = value('max');
      if (bound.min !== undefined && bound.max !== undefined && bound.min > bound.max) {
        r.fail(b.need('max'), `${mPath}.max`, `a value >= min (${formatScalar(b.need('min'))})`);
      }
      targets.push({ strategy, metric, bound: bound as Bound });
    }
  }
  return targets;
}

function optRange(r: Reader, f: Fields, key: string, [minMs, maxMs]: [number, number]): RangeMs {
  return f.has(key) ? r.range(f.need(key), f.child(key)) : { minMs, maxMs };
}

function optDuration(r: Reader, f: Fields, key: string, fallbackMs: number): number {
  return f.has(key) ? r.duration(f.need(key), f.child(key), true) : fallbackMs;
}
