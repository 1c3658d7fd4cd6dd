#!/usr/bin/env node
// Simulator throughput: simulated timer events per wall second and simulated hours per wall second
// for scenarios/idle.yaml, against raw @sinonjs/fake-timers firing the SAME number of timer
// callbacks (same clock construction, same concurrency of pending timers, same tickAsync driving)
// with no model; then whole `sim run` processes with the worker pool (sim/parallel, --workers 1
// and 2) against the same command in-process (--workers 0). Every figure is a ratio to a baseline measured in this same process.
//
// Events are counted in a separate counting pass (SimClock.prototype's four timer setters wrapped by this
// bench only); the timed passes run the untouched simulator. Runs are deterministic, so the count
// is exact for every timed pass.
import FakeTimers from '@sinonjs/fake-timers';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { envNumber, fmt, machine, median, printTable, printTargets, ratio, REPO_DIR, round, target, writeResult } from './lib/common.js';
import { builtCheckout, timedNode } from './lib/timed-process.js';

const dist = (path) => import(pathToFileURL(join(REPO_DIR, 'dist', path)).href);
const { SimClock } = await dist('sim/sim-clock.js');
const { World } = await dist('sim/world.js');
const { loadScenarioFile } = await dist('sim/scenario/load-scenario.js');
const { runScenario } = await dist('sim/run-scenario.js');
const { reportJson } = await dist('sim/cli/format.js');

const SCENARIO = process.env.BENCH_SIM_SCENARIO ?? 'scenarios/idle.yaml';
const REPEATS = envNumber('BENCH_SIM_REPEATS', 3);
/** Stop repeating (keeping at least one repeat) when another would end past this many seconds: keeps `npm run bench` in budget on a busy machine. */
const MAX_S = envNumber('BENCH_SIM_MAX_S', 60);
const benchStart = performance.now();
process.chdir(REPO_DIR); // scenario paths as `sim run` sees them (the report names the file)
const scenario = await loadScenarioFile(SCENARIO);
const totalRuns = scenario.runs * scenario.strategies.length;
const simHours = (totalRuns * scenario.durationMs) / 3_600_000;

// ---- counting pass: timer callbacks fired per run, and how many timers were pending on average.
const perRun = [];
{
  const proto = SimClock.prototype;
  // Every way of setting a timer: quiet timers do not go through setTimeout, and the world's own
  // machinery sets its timers in SimClock's side queue (setWorldTimeout, setQuietWorldTimeout).
  const setters = ['setTimeout', 'setQuietTimeout', 'setWorldTimeout', 'setQuietWorldTimeout'];
  const originals = setters.map((name) => proto[name]);
  let fired = 0;
  let pendingSum = 0;
  let current;
  const counting = (set) =>
    function counted(callback, delayMs, ...arg) {
      const clock = this;
      return set.call(
        this,
        (value) => {
          fired += 1;
          if (clock === current) pendingSum += clock.pendingTimers();
          callback(value);
        },
        delayMs,
        ...arg,
      );
    };
  setters.forEach((name, i) => {
    proto[name] = counting(originals[i]);
  });
  try {
    for (const spec of scenario.strategies) {
      for (let run = 0; run < scenario.runs; run++) {
        fired = 0;
        pendingSum = 0;
        const world = new World({ scenario, strategy: spec, run });
        current = world.clock;
        await world.run();
        perRun.push({ strategy: spec.name, run, fired, meanPending: fired === 0 ? 0 : pendingSum / fired });
      }
    }
  } finally {
    setters.forEach((name, i) => {
      proto[name] = originals[i];
    });
  }
}
const totalEvents = perRun.reduce((sum, r) => sum + r.fired, 0);

// ---- the passes. Each returns { wallMs, cpuMs }.
async function timed(fn) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** The simulator as `sim run` plays it, in this thread (runScenario without an executor). */
let inProcessJson;
const inProcess = () =>
  timed(async () => {
    inProcessJson = JSON.stringify(reportJson(await runScenario(scenario)));
  });

/**
 * Raw fake-timers: per simulated run, a clock built like SimClock's, `k` self-rescheduling timer
 * chains (k = that run's mean number of pending timers) that fire exactly that run's event count
 * within the scenario's duration, driven by one tickAsync over the duration like SimClock.runUntil.
 * No model: each callback only counts and re-arms.
 */
/** fake-timers as SimClock builds it: real globals except a number-returning setTimeout, so timer ids are plain numbers. */
const numericIdTimers = FakeTimers.withGlobal(Object.create(globalThis, { setTimeout: { value: () => 0 }, clearTimeout: { value: () => undefined } }));

function rawRun(events, chains, durationMs, mode) {
  const clock = (mode === 'numeric' ? numericIdTimers : FakeTimers.withGlobal(globalThis)).createClock(0, 1_000_000);
  const k = Math.max(1, Math.min(events, Math.round(chains)));
  const period = Math.max(1, Math.floor((durationMs * k) / (events + k)));
  let scheduled = 0;
  let fired = 0;
  const tick = () => {
    fired += 1;
    if (scheduled < events) {
      scheduled += 1;
      clock.setTimeout(tick, period);
    }
  };
  for (let j = 0; j < k && scheduled < events; j++) {
    scheduled += 1;
    clock.setTimeout(tick, 1 + Math.floor((j * period) / k));
  }
  const check = () => {
    if (fired !== events) throw new Error(`raw baseline fired ${fired} callbacks, expected ${events}`);
  };
  if (mode === 'sync') {
    clock.tick(durationMs);
    check();
    return undefined;
  }
  return clock.tickAsync(durationMs).then(check);
}

const raw = (mode) =>
  timed(async () => {
    for (const r of perRun) await rawRun(r.fired, r.meanPending, scenario.durationMs, mode);
  });

/**
 * The same scenario through the real CLI, one fresh process per pass (cold start, like a user's
 * run): `node bin/sim.js run <scenario> --json --workers n`. n = 0 is in-process; the pool passes
 * include starting the pool. Output must be byte-identical across n.
 */
const cliOutputs = {};
function cli(workers) {
  const run = timedNode(['bin/sim.js', 'run', SCENARIO, '--json', '--workers', String(workers)]);
  if (run.status !== 0) throw new Error(`sim run --workers ${workers} exited ${run.status}: ${run.stderr}`);
  cliOutputs[workers] ??= run.stdout;
  if (cliOutputs[workers] !== run.stdout) throw new Error(`sim run --workers ${workers} printed different output on a repeat`);
  return { wallMs: run.wallMs, cpuMs: run.cpuMs };
}

const samples = { inProcess: [], rawAsync: [], rawAsyncNumericIds: [], rawSync: [], cli0: [], cli1: [], cli2: [] };
let repeats = 0;
for (let rep = 0; rep < REPEATS; rep++) {
  const repStart = performance.now();
  // Interleaved, so drift in machine load hits every pass alike.
  samples.inProcess.push(await inProcess());
  samples.rawAsync.push(await raw('async'));
  samples.rawAsyncNumericIds.push(await raw('numeric'));
  samples.rawSync.push(await raw('sync'));
  samples.cli0.push(cli(0));
  samples.cli1.push(cli(1));
  samples.cli2.push(cli(2));
  repeats += 1;
  const now = performance.now();
  if (rep + 1 < REPEATS && now + (now - repStart) - benchStart > MAX_S * 1000) {
    process.stderr.write(`sim-throughput: stopping after ${repeats} of ${REPEATS} repeats to stay within ${MAX_S} s\n`);
    break;
  }
}
const identical = { workers1: cliOutputs[1] === cliOutputs[0], workers2: cliOutputs[2] === cliOutputs[0] };
if (!identical.workers1 || !identical.workers2) throw new Error('sim run --workers n printed different output from --workers 0');
if (`${inProcessJson}` !== JSON.stringify(JSON.parse(cliOutputs[0]).scenarios[0])) throw new Error('the in-process pass and `sim run` disagree');

// ---- `sim gate` and `sim report` (default flags) against the same commands of the commit before
// issue 15, extracted and built in a temp dir, timed in this same run (interleaved).
const BASELINE_COMMIT = process.env.BENCH_SIM_BASELINE_COMMIT ?? 'fde5b2c';
const COMMAND_REPEATS = envNumber('BENCH_SIM_COMMAND_REPEATS', 1);
const commands = { baselineCommit: BASELINE_COMMIT, repeats: COMMAND_REPEATS, gate: { before: [], now: [] }, report: { before: [], now: [] } };
{
  const before = builtCheckout(BASELINE_COMMIT);
  const out = mkdtempSync(join(tmpdir(), 'sim-report-bench-'));
  try {
    const gateOutputs = {};
    for (let rep = 0; rep < COMMAND_REPEATS; rep++) {
      for (const [side, cwd] of [['before', before.dir], ['now', REPO_DIR]]) {
        const gate = timedNode(['bin/sim.js', 'gate'], cwd);
        if (gate.status !== 0 && gate.status !== 1) throw new Error(`sim gate (${side}) exited ${gate.status}: ${gate.stderr}`);
        gateOutputs[side] = `${gate.status}\n${gate.stdout}`;
        commands.gate[side].push({ wallMs: gate.wallMs, cpuMs: gate.cpuMs });
      }
      for (const [side, cwd] of [['before', before.dir], ['now', REPO_DIR]]) {
        const report = timedNode(['bin/sim.js', 'report', '--output', join(out, `${side}.md`)], cwd);
        if (report.status !== 0) throw new Error(`sim report (${side}) exited ${report.status}: ${report.stderr}`);
        commands.report[side].push({ wallMs: report.wallMs, cpuMs: report.cpuMs });
      }
    }
    commands.gateOutputIdentical = gateOutputs.before === gateOutputs.now;
    if (!commands.gateOutputIdentical) throw new Error(`sim gate prints something else than at ${BASELINE_COMMIT}`);
  } finally {
    before.remove();
    rmSync(out, { recursive: true, force: true });
  }
  for (const name of ['gate', 'report']) {
    const c = commands[name];
    c.beforeWallMs = round(median(c.before.map((x) => x.wallMs)), 1);
    c.nowWallMs = round(median(c.now.map((x) => x.wallMs)), 1);
    c.beforeCpuMs = round(median(c.before.map((x) => x.cpuMs)), 1);
    c.nowCpuMs = round(median(c.now.map((x) => x.cpuMs)), 1);
    c.wallRatio = ratio(c.nowWallMs, c.beforeWallMs);
    c.cpuRatio = ratio(c.nowCpuMs, c.beforeCpuMs);
    delete c.before;
    delete c.now;
  }
}

const summarizePass = (list) => {
  const wallMs = median(list.map((s) => s.wallMs));
  const cpuMs = median(list.map((s) => s.cpuMs));
  return {
    wallMs: round(wallMs, 1),
    cpuMs: round(cpuMs, 1),
    eventsPerSec: round((totalEvents / wallMs) * 1000, 0),
    simHoursPerWallSec: round((simHours / wallMs) * 1000, 1),
    usPerEvent: round((wallMs * 1000) / totalEvents, 3),
  };
};
const passes = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summarizePass(v)]));
const P = passes;

const result = {
  bench: 'sim-throughput',
  generatedAt: new Date().toISOString(),
  machine: machine(),
  scenario: { file: SCENARIO, strategies: scenario.strategies.length, runsPerStrategy: scenario.runs, durationHours: scenario.durationMs / 3_600_000 },
  repeats,
  repeatsAsked: REPEATS,
  workload: {
    totalRuns,
    simulatedHours: simHours,
    timerCallbacks: totalEvents,
    meanPendingTimers: round(perRun.reduce((s, r) => s + r.meanPending * r.fired, 0) / totalEvents, 2),
    callbacksPerStrategy: Object.fromEntries(scenario.strategies.map((s) => [s.name, perRun.filter((r) => r.strategy === s.name).reduce((a, r) => a + r.fired, 0)])),
  },
  passes,
  ratios: {
    simVsRawFakeTimersEventsPerSec: ratio(P.inProcess.eventsPerSec, P.rawAsync.eventsPerSec),
    simCpuVsRawFakeTimersCpu: ratio(P.inProcess.cpuMs, P.rawAsync.cpuMs),
    simVsRawNumericIdsEventsPerSec: ratio(P.inProcess.eventsPerSec, P.rawAsyncNumericIds.eventsPerSec),
    rawNumericIdsVsRawEventsPerSec: ratio(P.rawAsyncNumericIds.eventsPerSec, P.rawAsync.eventsPerSec),
    rawTickAsyncVsRawSyncTickEventsPerSec: ratio(P.rawAsync.eventsPerSec, P.rawSync.eventsPerSec),
    simVsRawSyncTickEventsPerSec: ratio(P.inProcess.eventsPerSec, P.rawSync.eventsPerSec),
    simCpuVsRawSyncTickCpu: ratio(P.inProcess.cpuMs, P.rawSync.cpuMs),
    workers1SpeedupVsInProcess: ratio(P.cli0.wallMs, P.cli1.wallMs),
    workers2SpeedupVsInProcess: ratio(P.cli0.wallMs, P.cli2.wallMs),
    workers2SpeedupVsWorkers1: ratio(P.cli1.wallMs, P.cli2.wallMs),
    workers2CpuVsInProcessCpu: ratio(P.cli2.cpuMs, P.cli0.cpuMs),
  },
  cliOutputIdenticalAcrossWorkers: identical,
  commands,
  targets: [
    // Per CPU second: both passes are one thread, and on a busy machine their wall times differ by how much CPU each got (seen: raw sync 3.7 s wall for 2.4 s CPU).
    target('simulator events per CPU s ÷ raw fake-timers sync tick', ratio(P.rawSync.cpuMs, P.inProcess.cpuMs), '>=', 0.8, 'same callbacks, same pending timers; in-process, one thread; wall ratio in ratios.simVsRawSyncTickEventsPerSec'),
    target(`sim gate wall ÷ ${BASELINE_COMMIT}'s`, commands.gate.wallRatio, '<=', 0.333, 'default flags, every scenarios/*.yaml, same run'),
    target(`sim report wall ÷ ${BASELINE_COMMIT}'s`, commands.report.wallRatio, '<=', 0.333, 'default flags, same run'),
  ],
  notes: [
    'timer callbacks counted in a separate pass (the four timer setters of SimClock.prototype wrapped by the bench); timed passes run the unmodified simulator',
    'rawAsync: same number of callbacks per run, same pending-timer concurrency, same tickAsync driving, no model; fake-timers as shipped (withGlobal(globalThis): a handle object per timer)',
    'rawAsyncNumericIds: the same, on fake-timers built the way SimClock builds it (numeric timer ids): the model overhead alone',
    'rawSync: the same raw workload with clock.tick (no native macrotask hop per timer): what the tickAsync driving itself costs',
    'cli passes: whole `node bin/sim.js run <scenario> --json --workers n` processes (cold start, pool start-up included); CPU from GNU time (all threads)',
    'commands: `node bin/sim.js gate` and `node bin/sim.js report --output <tmp>` with default flags (so with the default worker pool now), against the same commands of the baseline commit extracted with git archive, node_modules symlinked, built with tsc; gate stdout and exit code must be identical',
  ],
};
const file = writeResult('sim-throughput', result);

printTable(
  `Simulator throughput — ${SCENARIO}: ${totalRuns} runs × ${scenario.durationMs / 3_600_000} h = ${simHours} simulated hours, ${fmt.int(totalEvents)} timer callbacks (median of ${repeats})`,
  ['pass', 'wall', 'CPU', 'events/s', 'sim h / wall s', 'µs/event', 'vs baseline'],
  [
    ['raw fake-timers, tickAsync (baseline)', fmt.ms(P.rawAsync.wallMs, 0), fmt.ms(P.rawAsync.cpuMs, 0), fmt.int(P.rawAsync.eventsPerSec), fmt.num(P.rawAsync.simHoursPerWallSec, 0), fmt.num(P.rawAsync.usPerEvent), '1.00×'],
    ['raw fake-timers, numeric ids (as SimClock)', fmt.ms(P.rawAsyncNumericIds.wallMs, 0), fmt.ms(P.rawAsyncNumericIds.cpuMs, 0), fmt.int(P.rawAsyncNumericIds.eventsPerSec), fmt.num(P.rawAsyncNumericIds.simHoursPerWallSec, 0), fmt.num(P.rawAsyncNumericIds.usPerEvent), fmt.x(result.ratios.rawNumericIdsVsRawEventsPerSec)],
    ['raw fake-timers, sync tick', fmt.ms(P.rawSync.wallMs, 0), fmt.ms(P.rawSync.cpuMs, 0), fmt.int(P.rawSync.eventsPerSec), fmt.num(P.rawSync.simHoursPerWallSec, 0), fmt.num(P.rawSync.usPerEvent), fmt.x(ratio(P.rawSync.eventsPerSec, P.rawAsync.eventsPerSec))],
    ['simulator, in-process', fmt.ms(P.inProcess.wallMs, 0), fmt.ms(P.inProcess.cpuMs, 0), fmt.int(P.inProcess.eventsPerSec), fmt.num(P.inProcess.simHoursPerWallSec, 0), fmt.num(P.inProcess.usPerEvent), fmt.x(result.ratios.simVsRawFakeTimersEventsPerSec)],
  ],
);
printTable(
  `Worker pool (sim/parallel, tinypool): \`node bin/sim.js run ${SCENARIO} --json --workers n\`, whole process — output identical: ${identical.workers1 && identical.workers2}`,
  ['--workers', 'wall', 'CPU (all threads)', 'sim h / wall s', 'speed-up vs in-process'],
  [
    ['0 (in-process, baseline)', fmt.ms(P.cli0.wallMs, 0), fmt.ms(P.cli0.cpuMs, 0), fmt.num(P.cli0.simHoursPerWallSec, 0), '1.00×'],
    ['1', fmt.ms(P.cli1.wallMs, 0), fmt.ms(P.cli1.cpuMs, 0), fmt.num(P.cli1.simHoursPerWallSec, 0), fmt.x(result.ratios.workers1SpeedupVsInProcess)],
    ['2', fmt.ms(P.cli2.wallMs, 0), fmt.ms(P.cli2.cpuMs, 0), fmt.num(P.cli2.simHoursPerWallSec, 0), fmt.x(result.ratios.workers2SpeedupVsInProcess)],
  ],
);
printTable(
  `\`sim gate\` and \`sim report\` (default flags, whole process) against the same commands at ${BASELINE_COMMIT} (median of ${COMMAND_REPEATS})`,
  ['command', `wall at ${BASELINE_COMMIT}`, 'wall now', 'ratio', `CPU at ${BASELINE_COMMIT}`, 'CPU now', 'ratio'],
  ['gate', 'report'].map((name) => {
    const c = commands[name];
    return [`sim ${name}`, fmt.ms(c.beforeWallMs, 0), fmt.ms(c.nowWallMs, 0), fmt.x(c.wallRatio), fmt.ms(c.beforeCpuMs, 0), fmt.ms(c.nowCpuMs, 0), fmt.x(c.cpuRatio)];
  }),
);
printTargets('targets', result.targets);
process.stdout.write(`wrote ${file}\n`);
