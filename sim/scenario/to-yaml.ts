import { formatDurationMs } from '../../src/duration.js';
import type { FaultSpec, RangeMs, Scenario, StrategySpec } from './types.js';

/** YAML text for a scenario, in the loader's format, so a generated scenario can be saved and run. */
export function scenarioToYaml(scenario: Scenario, comment: readonly string[] = []): string {
  const d = formatDurationMs;
  const lines = [
    '# yaml-language-server: $schema=./schema.json',
    ...comment.map((c) => `# ${c}`),
    `name: ${JSON.stringify(scenario.name)}`,
    `seed: ${scenario.seed}`,
    `duration: ${d(scenario.durationMs)}`,
    `runs: ${scenario.runs}`,
    `lease: { ttl: ${d(scenario.lease.ttlMs)} }`,
    `heartbeat: { interval: ${d(scenario.heartbeat.intervalMs)} }`,
    `session:`,
    `  idleAfter: ${range(scenario.session.idleAfter)}`,
    `  idleEffect: ${scenario.session.idleEffect}`,
    `  stallFor: ${range(scenario.session.stallFor)}`,
    `  workload: { arrivalsPerHour: ${scenario.session.workArrivalsPerHour}, duration: ${range(scenario.session.workDuration)} }`,
  ];
  if (scenario.session.maxLifetime !== undefined) lines.push(`  maxLifetime: ${range(scenario.session.maxLifetime)}`);
  if (scenario.session.onIdle !== 'none') lines.push(`  onIdle: ${scenario.session.onIdle}`);
  const w = scenario.watchdog;
  const shell = w.policy === 'respawn-if-gone' ? `policy: ${w.policy}, ` : '';
  const startup = w.policy === 'respawn-if-gone' ? `, startupDelay: ${d(w.startupDelayMs)}` : '';
  lines.push(`watchdog: { ${shell}interval: ${d(w.intervalMs)}, grace: ${d(w.graceMs)}, respawnDelay: ${range(w.respawnDelay)}${startup} }`);
  const reg = scenario.registry;
  if (reg.timeoutMs !== 600_000 || reg.staleEntries !== 0) lines.push(`registry: { timeout: ${d(reg.timeoutMs)}, staleEntries: ${reg.staleEntries} }`);
  lines.push(`store: { latency: ${range(scenario.store.latency)} }`);
  const k = scenario.keeper;
  const keeperParts = [
    k.renewIntervalMs === undefined ? '' : `renewInterval: ${d(k.renewIntervalMs)}`,
    k.renewDeadlineMs === undefined ? '' : `renewDeadline: ${d(k.renewDeadlineMs)}`,
    k.requestTimeoutMs === undefined ? '' : `requestTimeout: ${d(k.requestTimeoutMs)}`,
  ].filter((p) => p !== '');
  if (keeperParts.length > 0) lines.push(`keeper: { ${keeperParts.join(', ')} }`);
  lines.push(`keepAwake: { interval: ${d(scenario.keepAwake.intervalMs)} }`);
  if (scenario.crash !== undefined) lines.push(`crash: { every: ${d(scenario.crash.meanEveryMs)} }`);
  if (scenario.restart !== undefined) lines.push(`restart: { every: ${d(scenario.restart.meanEveryMs)} }`);
  if (scenario.faults.length > 0) {
    lines.push('faults:');
    for (const f of scenario.faults) lines.push(`  - ${fault(f)}`);
  }
  if (scenario.liveness !== undefined) lines.push(`liveness: { failoverWithin: ${d(scenario.liveness.failoverWithinMs)} }`);
  lines.push(`strategies: [${scenario.strategies.map(strategy).join(', ')}]`);
  return `${lines.join('\n')}\n`;
}

function range(r: RangeMs): string {
  return r.minMs === r.maxMs ? formatDurationMs(r.minMs) : `${formatDurationMs(r.minMs)}..${formatDurationMs(r.maxMs)}`;
}

function strategy(s: StrategySpec): string {
  const form = s.variant === undefined ? s.kind : `${s.kind}:${s.variant}`;
  if (s.name === form && s.maxProgressSilenceMs === undefined && s.restart === undefined && s.maxRestarts === undefined) return form;
  const parts = [`kind: ${s.kind}`];
  if (s.variant !== undefined) parts.push(`variant: ${s.variant}`);
  parts.push(`name: ${JSON.stringify(s.name)}`);
  if (s.maxProgressSilenceMs !== undefined) parts.push(`maxProgressSilence: ${formatDurationMs(s.maxProgressSilenceMs)}`);
  if (s.restart !== undefined) parts.push(`restart: ${s.restart}`);
  if (s.maxRestarts !== undefined) parts.push(`maxRestarts: ${s.maxRestarts.count}/${formatDurationMs(s.maxRestarts.windowMs)}`);
  return `{ ${parts.join(', ')} }`;
}

function fault(f: FaultSpec): string {
  const parts = [`kind: ${f.kind}`];
  if (f.at !== undefined) parts.push(`at: ${range(f.at)}`);
  if (f.everyMs !== undefined) parts.push(`every: ${formatDurationMs(f.everyMs)}`);
  if (f.for.maxMs > 0) parts.push(`for: ${range(f.for)}`);
  if (f.probability !== 1) parts.push(`probability: ${f.probability}`);
  if (f.target !== 'orchestrator') parts.push(`target: ${f.target}`);
  if (f.byMs !== 0) parts.push(`by: ${f.byMs < 0 ? '-' : ''}${formatDurationMs(Math.abs(f.byMs))}`);
  if (f.rate !== 1) parts.push(`rate: ${f.rate}`);
  if (f.latencyMs !== 0) parts.push(`latency: ${formatDurationMs(f.latencyMs)}`);
  return `{ ${parts.join(', ')} }`;
}
