// verify-real: the simulator's claims about the real mechanics, checked against real processes at
// a compressed timescale (all times ÷ --scale). Real parts: our shell watchdog implementing
// respawn-if-gone (watchdog.sh), a stand-in orchestrator whose session exits when idle
// (orchestrator.mjs), the real file store, and the real `keeper run --restart on-exit` for the
// shipped fix. The simulator runs programmatically on the same scenario (same parameters).
//
// Usage: node bench/verify-real/verify-real.js [--scenario FILE] [--scale N] [--hours H] [--json]
// (needs a built dist/; `npm run verify-real` builds first). Exit 0 when real and simulated
// figures agree (the simulator's baseline rate inside the real run's 95 % interval widened by
// 15 %, and 0 respawns for the supervisor in both), 1 when they do not, 2 for bad arguments.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Table from 'cli-table3';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = dirname(dirname(HERE));
const WATCHDOG = join(HERE, 'watchdog.sh');
const ORCHESTRATOR = join(HERE, 'orchestrator.mjs');
const KEEPER = join(REPO, 'bin/keeper.js');
const HOUR_MS = 3_600_000;
/** Tolerance on the real run's interval. */
export const WIDEN = 0.15;
const Z95 = 1.959964;

/**
 * 95 % interval of a Poisson count `n` (Wilson–Hilferty approximation of the exact chi-square
 * bounds; within 1 % of them from n = 1). A renewal process as regular as the watchdog's loop
 * varies less than a Poisson one, so this interval is, if anything, too wide.
 */
export function poissonInterval95(n) {
  const lower = n === 0 ? 0 : n * (1 - 1 / (9 * n) - Z95 / (3 * Math.sqrt(n))) ** 3;
  const m = n + 1;
  const upper = m * (1 - 1 / (9 * m) + Z95 / (3 * Math.sqrt(m))) ** 3;
  return [lower, upper];
}

function ageStats(values) {
  if (values.length === 0) return { count: 0, minMs: null, meanMs: null, maxMs: null };
  const sum = values.reduce((a, b) => a + b, 0);
  return { count: values.length, minMs: Math.min(...values), meanMs: sum / values.length, maxMs: Math.max(...values) };
}

/** The simulator on the scenario, with its strategies replaced by the two compared here. */
export async function simulate(scenarioFile) {
  const { loadScenarioFile } = await import(pathToFileURL(join(REPO, 'dist/sim/scenario/load-scenario.js')).href);
  const { runScenario } = await import(pathToFileURL(join(REPO, 'dist/sim/run-scenario.js')).href);
  const loaded = await loadScenarioFile(scenarioFile);
  const scenario = {
    ...loaded,
    strategies: [
      { name: 'baseline', kind: 'baseline' },
      { name: 'supervisor', kind: 'supervisor', restart: 'on-exit' },
    ],
    targets: [],
  };
  const report = await runScenario(scenario);
  const row = (name) => report.results.find((r) => r.strategy === name);
  return { scenario, baseline: row('baseline'), supervisor: row('supervisor') };
}

/** The scenario's parameters, scaled for the real run. */
export function realParameters(scenario, scale) {
  const s = (ms) => Math.max(1, Math.round(ms / scale));
  const { lease, heartbeat, session, watchdog } = scenario;
  if (session.idleEffect !== 'exit' || watchdog.policy !== 'respawn-if-gone') {
    throw new Error(`verify-real needs a scenario with session.idleEffect: exit and watchdog.policy: respawn-if-gone (got ${session.idleEffect}, ${watchdog.policy})`);
  }
  return {
    scale,
    ttlMs: s(lease.ttlMs),
    heartbeatMs: s(heartbeat.intervalMs),
    idle: { minMs: s(session.idleAfter.minMs), maxMs: s(session.idleAfter.maxMs) },
    onIdle: session.onIdle ?? 'none',
    checkIntervalMs: s(watchdog.intervalMs),
    graceMs: s(watchdog.graceMs),
    startupDelayMs: s(watchdog.startupDelayMs ?? 0),
    startup: { minMs: s(watchdog.respawnDelay.minMs), maxMs: s(watchdog.respawnDelay.maxMs) },
    hourMs: HOUR_MS / scale,
  };
}

/** One real run: the shell watchdog over the stand-in (baseline) or over keeper run --restart (supervisor). */
export async function realRun(p, { supervised, durationMs, workDir }) {
  const dir = mkdtempSync(join(workDir ?? tmpdir(), supervised ? 'verify-real-sup-' : 'verify-real-base-'));
  const leaseFile = join(dir, 'lease.json');
  const log = join(dir, 'events.log');
  const orchestrator = [process.execPath, ORCHESTRATOR];
  // The shipped fix, at the same scale: renew every ttl/3 (the heartbeat), a request timeout of ttl/18
  // (10 s at 180 s), the default restart budget (30 per hour) and backoff (1 s to 30 s), all scaled.
  const command = supervised
    ? [
        process.execPath, KEEPER, 'run', '--store', pathToFileURL(leaseFile).href, '--id', 'orch', '--ttl', `${p.ttlMs}ms`,
        '--renew-interval', `${p.heartbeatMs}ms`, '--request-timeout', `${Math.max(1, Math.round(10_000 / p.scale))}ms`,
        '--restart', 'on-exit', '--max-restarts', `30/${Math.round(p.hourMs)}ms`,
        '--restart-delay', `${Math.max(1, Math.round(1_000 / p.scale))}ms`, '--restart-delay-max', `${Math.max(1, Math.round(30_000 / p.scale))}ms`,
        '--', ...orchestrator,
      ]
    : orchestrator;
  const env = {
    ...process.env,
    PIDFILE: join(dir, 'orchestrator.pid'),
    LEASE_FILE: leaseFile,
    CHECK_INTERVAL_MS: String(p.checkIntervalMs),
    GRACE_MS: String(p.graceMs),
    STARTUP_DELAY_MS: String(p.startupDelayMs),
    CMDLINE_MATCH: supervised ? KEEPER : ORCHESTRATOR,
    LOG: log,
    MAX_LOOPS: String(Math.ceil(durationMs / p.checkIntervalMs) + 10),
    TTL_MS: String(p.ttlMs),
    HEARTBEAT_MS: String(p.heartbeatMs),
    STARTUP_MIN_MS: String(p.startup.minMs),
    STARTUP_MAX_MS: String(p.startup.maxMs),
    IDLE_MIN_MS: String(p.idle.minMs),
    IDLE_MAX_MS: String(p.idle.maxMs),
    ON_IDLE: p.onIdle,
  };
  const watchdog = spawn('bash', [WATCHDOG, ...command], { env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  watchdog.stderr.on('data', (chunk) => (stderr += chunk.toString('utf8')));
  const exited = new Promise((done) => watchdog.once('exit', done));
  await new Promise((done) => setTimeout(done, durationMs));
  stop(watchdog.pid, 'SIGTERM');
  await Promise.race([exited, new Promise((done) => setTimeout(done, 2_000))]);
  stop(watchdog.pid, 'SIGKILL');
  const pids = new Set();
  let text = '';
  try {
    text = readFileSync(log, 'utf8');
  } catch {}
  const respawnAges = [];
  let respawns = 0;
  let sessions = 0;
  let idleExits = 0;
  for (const line of text.split('\n')) {
    const [, event, ...fields] = line.split(' ');
    const kv = Object.fromEntries(fields.map((f) => f.split('=')));
    if (kv.pid) pids.add(Number(kv.pid));
    if (event === 'respawn') {
      respawns += 1;
      if (kv.lease_age_ms !== 'none') respawnAges.push(Number(kv.lease_age_ms) * p.scale);
    } else if (event === 'acquired' || event === 'ready') sessions += 1;
    else if (event === 'idle-exit') idleExits += 1;
  }
  // Whatever the watchdog started is stopped with it (keeper's reaper takes the supervised command).
  for (const pid of pids) stop(pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  const scaledHours = durationMs / p.hourMs;
  const [lo, hi] = poissonInterval95(respawns);
  return {
    supervised,
    scaledHours,
    respawns,
    respawnsPerHour: respawns / scaledHours,
    interval95: [lo / scaledHours, hi / scaledHours],
    leaseAgeAtRespawn: ageStats(respawnAges),
    sessions,
    idleExits,
    restartsInPlacePerHour: supervised ? Math.max(0, sessions - 1 - respawns) / scaledHours : 0,
    watchdogStderr: stderr.trim(),
  };
}

function stop(pid, signal) {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, signal);
    } catch {}
  }
}

/** Whether the real and simulated figures agree (see the file comment). */
export function agreement(sim, real) {
  const [lo, hi] = real.baseline.interval95;
  const widened = [lo * (1 - WIDEN), hi * (1 + WIDEN)];
  const simRate = sim.baseline.respawnsPerHour;
  const checks = [
    { check: `sim baseline ${simRate.toFixed(2)}/h within real 95 % interval ±15 % [${widened[0].toFixed(2)}, ${widened[1].toFixed(2)}]`, ok: simRate >= widened[0] && simRate <= widened[1] },
    { check: `supervisor: 0 respawns real (${real.supervisor.respawns}) and simulated (${sim.supervisor.respawnsPerHour}/h)`, ok: real.supervisor.respawns === 0 && sim.supervisor.respawnsPerHour === 0 },
    { check: `supervisor: its command was restarted in place (${real.supervisor.sessions} runs, ${real.supervisor.idleExits} idle exits)`, ok: real.supervisor.sessions >= 2 },
  ];
  const realAge = real.baseline.leaseAgeAtRespawn.meanMs;
  const simAge = sim.baseline.leaseAgeAtRespawn;
  if (realAge !== null && simAge.minMs !== null) {
    const band = [simAge.minMs * (1 - WIDEN), simAge.maxMs * (1 + WIDEN)];
    checks.push({ check: `baseline mean lease age at respawn ${(realAge / 1000).toFixed(1)}s within the simulated band ±15 % [${(band[0] / 1000).toFixed(1)}s, ${(band[1] / 1000).toFixed(1)}s]`, ok: realAge >= band[0] && realAge <= band[1] });
  }
  return { ok: checks.every((c) => c.ok), checks, widened };
}

/** Runs both models and both real setups (in parallel) and compares. */
export async function verifyReal({ scenarioFile = join(REPO, 'scenarios/real-incident.yaml'), scale = 60, hours = 5, workDir } = {}) {
  const sim = await simulate(scenarioFile);
  const p = realParameters(sim.scenario, scale);
  const durationMs = hours * p.hourMs;
  const [baseline, supervisor] = await Promise.all([
    realRun(p, { supervised: false, durationMs, workDir }),
    realRun(p, { supervised: true, durationMs, workDir }),
  ]);
  const real = { baseline, supervisor };
  const simFigures = (row) => ({
    respawnsPerHour: row.respawnsPerHour,
    sessionRestartsPerHour: row.sessionRestartsPerHour,
    leaderlessInPracticeMsPerHour: row.leaderlessInPracticeMsPerHour,
    leaderGapMaxMs: row.leaderGapMaxMs,
    leaseAgeAtRespawn: { minMs: row.leaseAgeAtRespawnMs?.min ?? null, meanMs: row.leaseAgeAtRespawnMs?.mean ?? null, maxMs: row.leaseAgeAtRespawnMs?.max ?? null },
  });
  const simOut = { baseline: simFigures(sim.baseline), supervisor: simFigures(sim.supervisor), runs: sim.scenario.runs, hours: sim.scenario.durationMs / HOUR_MS };
  return { scenario: scenarioFile, parameters: p, hours, sim: simOut, real, agreement: agreement(simOut, real) };
}

function seconds(ms) {
  return ms === null || ms === undefined ? '—' : `${(ms / 1000).toFixed(1)}s`;
}

function printTable(result) {
  const table = new Table({ head: ['', 'respawns/h', 'real 95 % interval', 'lease age at respawn min / mean / max', 'runs of the command'] });
  const { sim, real } = result;
  const r = (x) => x.toFixed(2);
  table.push(
    ['baseline · real', `${r(real.baseline.respawnsPerHour)} (${real.baseline.respawns} in ${real.baseline.scaledHours.toFixed(2)} h)`, `${r(real.baseline.interval95[0])} – ${r(real.baseline.interval95[1])}`, ['minMs', 'meanMs', 'maxMs'].map((k) => seconds(real.baseline.leaseAgeAtRespawn[k])).join(' / '), String(real.baseline.sessions)],
    ['baseline · simulated', r(sim.baseline.respawnsPerHour), '', ['minMs', 'meanMs', 'maxMs'].map((k) => seconds(sim.baseline.leaseAgeAtRespawn[k])).join(' / '), ''],
    ['supervisor · real', `${r(real.supervisor.respawnsPerHour)} (${real.supervisor.respawns})`, `${r(real.supervisor.interval95[0])} – ${r(real.supervisor.interval95[1])}`, '—', `${real.supervisor.sessions}: ${r(real.supervisor.restartsInPlacePerHour)} restarts in place/h`],
    ['supervisor · simulated', r(sim.supervisor.respawnsPerHour), '', '—', `${r(sim.supervisor.sessionRestartsPerHour)} restarts in place/h`],
  );
  const p = result.parameters;
  console.log(`verify-real: ${result.scenario} at 1/${p.scale} time (ttl ${p.ttlMs} ms, heartbeat ${p.heartbeatMs} ms, idle ${p.idle.minMs}-${p.idle.maxMs} ms, check every ${p.checkIntervalMs} ms, grace ${p.graceMs} ms, startup sleep ${p.startupDelayMs} ms, start-up ${p.startup.minMs}-${p.startup.maxMs} ms); ${result.hours} scaled hours real, simulator ${sim.runs} runs × ${sim.hours} h. Times below in real-scale seconds.`);
  console.log(table.toString());
  for (const c of result.agreement.checks) console.log(`${c.ok ? 'ok  ' : 'FAIL'} ${c.check}`);
}

async function main(argv) {
  const opt = (name, fallback) => {
    const i = argv.indexOf(name);
    return i === -1 ? fallback : argv[i + 1];
  };
  const scale = Number(opt('--scale', '60'));
  const hours = Number(opt('--hours', '5'));
  if (!(scale >= 1) || !(hours > 0)) {
    process.stderr.write('verify-real: --scale must be >= 1 and --hours > 0\n');
    return 2;
  }
  const result = await verifyReal({ scenarioFile: opt('--scenario', undefined), scale, hours });
  if (argv.includes('--json')) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else printTable(result);
  return result.agreement.ok ? 0 : 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
