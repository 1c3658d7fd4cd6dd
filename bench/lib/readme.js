// Renders bench/results/*.json as Markdown into bench/README.md, between the figures markers.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, freeH, machine, RESULTS_DIR } from './common.js';

const START = '<!-- bench:figures:start (written by bench/run.js; edit outside these markers) -->';
const END = '<!-- bench:figures:end -->';

const load = (name) => {
  const file = join(RESULTS_DIR, `${name}.json`);
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
};

const n = (v, d = 0) => (typeof v === 'number' && Number.isFinite(v) ? v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : '—');
const x = (v, d = 2) => (typeof v === 'number' && Number.isFinite(v) ? `${v.toFixed(d)}×` : '—');
const ms = (v, d = 1) => (typeof v === 'number' && Number.isFinite(v) ? `${v.toFixed(d)} ms` : '—');

function table(head, rows) {
  const line = (cells) => `| ${cells.map((c) => String(c ?? '—').replace(/\|/g, '\\|').replace(/\n/g, ' ')).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

function stamp(r) {
  return `_${r.generatedAt.slice(0, 19).replace('T', ' ')} UTC, load average (1 min) ${r.machine.loadAvg1m} on ${r.machine.nproc} CPUs_`;
}

function simThroughput(r) {
  const P = r.passes;
  const R = r.ratios;
  return [
    `### 1. Simulator throughput (\`bench/sim-throughput.js\`)`,
    stamp(r),
    '',
    `\`${r.scenario.file}\`: ${r.workload.totalRuns} runs (${r.scenario.strategies} strategies × ${r.scenario.runsPerStrategy}) × ${r.scenario.durationHours} h = ${n(r.workload.simulatedHours)} simulated hours, ${n(r.workload.timerCallbacks)} timer callbacks, ${r.workload.meanPendingTimers} timers pending on average. Median of ${r.repeats} interleaved repeats.`,
    '',
    table(
      ['pass', 'wall', 'CPU', 'events/s', 'sim h / wall s', 'µs / event', 'ratio'],
      [
        ['raw fake-timers, tickAsync (**baseline**)', ms(P.rawAsync.wallMs, 0), ms(P.rawAsync.cpuMs, 0), n(P.rawAsync.eventsPerSec), n(P.rawAsync.simHoursPerWallSec), n(P.rawAsync.usPerEvent, 2), '1.00×'],
        ['raw fake-timers, numeric timer ids (built like `SimClock`)', ms(P.rawAsyncNumericIds.wallMs, 0), ms(P.rawAsyncNumericIds.cpuMs, 0), n(P.rawAsyncNumericIds.eventsPerSec), n(P.rawAsyncNumericIds.simHoursPerWallSec), n(P.rawAsyncNumericIds.usPerEvent, 2), x(R.rawNumericIdsVsRawEventsPerSec)],
        ['raw fake-timers, sync `tick`', ms(P.rawSync.wallMs, 0), ms(P.rawSync.cpuMs, 0), n(P.rawSync.eventsPerSec), n(P.rawSync.simHoursPerWallSec), n(P.rawSync.usPerEvent, 2), x(R.rawTickAsyncVsRawSyncTickEventsPerSec ? 1 / R.rawTickAsyncVsRawSyncTickEventsPerSec : null)],
        ['simulator, in-process', ms(P.inProcess.wallMs, 0), ms(P.inProcess.cpuMs, 0), n(P.inProcess.eventsPerSec), n(P.inProcess.simHoursPerWallSec), n(P.inProcess.usPerEvent, 2), x(R.simVsRawFakeTimersEventsPerSec)],
      ],
    ),
    '',
    `- simulator ÷ raw fake-timers, events/s: **${x(R.simVsRawFakeTimersEventsPerSec)}**; CPU for the same work: ${x(R.simCpuVsRawFakeTimersCpu)}`,
    `- simulator ÷ raw fake-timers built like \`SimClock\` (the model alone), events/s: ${x(R.simVsRawNumericIdsEventsPerSec)}`,
    `- raw tickAsync ÷ raw sync tick, events/s: ${x(R.rawTickAsyncVsRawSyncTickEventsPerSec)} (the per-timer event-loop turn of \`tickAsync\`)`,
    '',
    table(
      [`\`node bin/sim.js run ${r.scenario.file} --json --workers n\` (whole process)`, 'wall', 'CPU (all threads)', 'sim h / wall s', 'speed-up vs in-process'],
      [
        ['`--workers 0`, in-process (**baseline**)', ms(P.cli0.wallMs, 0), ms(P.cli0.cpuMs, 0), n(P.cli0.simHoursPerWallSec), '1.00×'],
        ['`--workers 1`', ms(P.cli1.wallMs, 0), ms(P.cli1.cpuMs, 0), n(P.cli1.simHoursPerWallSec), x(R.workers1SpeedupVsInProcess)],
        ['`--workers 2`', ms(P.cli2.wallMs, 0), ms(P.cli2.cpuMs, 0), n(P.cli2.simHoursPerWallSec), x(R.workers2SpeedupVsInProcess)],
      ],
    ),
    '',
    `- 2 workers ÷ 1 worker: ${x(R.workers2SpeedupVsWorkers1)}; CPU of 2 workers ÷ in-process CPU: ${x(R.workers2CpuVsInProcessCpu)}; output byte-identical for every n: ${r.cliOutputIdenticalAcrossWorkers.workers1 && r.cliOutputIdenticalAcrossWorkers.workers2}`,
    ...(R.simVsRawSyncTickEventsPerSec === undefined ? [] : [`- simulator ÷ raw fake-timers sync \`tick\`, events/s: **${x(R.simVsRawSyncTickEventsPerSec)}**; CPU for the same work: ${x(R.simCpuVsRawSyncTickCpu)}`]),
    ...(r.commands === undefined
      ? []
      : [
          '',
          table(
            [`whole process, default flags (median of ${r.commands.repeats})`, `wall at \`${r.commands.baselineCommit}\` (**baseline**)`, 'wall now', 'ratio', `CPU at \`${r.commands.baselineCommit}\``, 'CPU now', 'ratio'],
            ['gate', 'report'].map((name) => {
              const c = r.commands[name];
              return [`\`node bin/sim.js ${name}${name === 'report' ? ' --output <tmp>' : ''}\``, ms(c.beforeWallMs, 0), ms(c.nowWallMs, 0), x(c.wallRatio), ms(c.beforeCpuMs, 0), ms(c.nowCpuMs, 0), x(c.cpuRatio)];
            }),
          ),
          '',
          `- gate stdout and exit code identical to \`${r.commands.baselineCommit}\`'s: ${r.commands.gateOutputIdentical}`,
        ]),
  ].join('\n');
}

function startup(r) {
  return [
    `### 2. Start-up (\`bench/startup.js\`)`,
    stamp(r),
    '',
    `Whole process, median of ${r.n} interleaved runs after ${r.warmup} warm-up rounds.`,
    '',
    table(
      ['command', 'median', 'p90', 'min', '+ over `node -e 0`', 'ratio'],
      r.cases.map((c) => [`\`${c.command}\`${c.case === r.baseline ? ' (**baseline**)' : ''}`, ms(c.medianMs), ms(c.p90Ms), ms(c.minMs), ms(c.overMsVsNodeE0), x(c.ratioVsNodeE0)]),
    ),
    ...(r.idleRun === undefined
      ? []
      : [
          '',
          `A whole scenario with default flags (so the default worker pool), median of ${r.idleRun.rounds} rounds interleaved with \`node -e 0\`:`,
          '',
          table(
            ['command', 'median', 'min', 'ratio'],
            [
              ['`node -e 0` (**baseline**)', ms(r.idleRun.nodeE0MedianMs), '—', '1.00×'],
              [`\`${r.idleRun.command}\``, ms(r.idleRun.medianMs), ms(r.idleRun.minMs), x(r.idleRun.ratioVsNodeE0)],
            ],
          ),
        ]),
  ].join('\n');
}

function keeperOverhead(r) {
  const inf = (ratio, value, zero) => (ratio !== null ? x(ratio, 1) : zero ? (value === 0 ? '1.0× (both 0)' : '∞ (baseline 0)') : '—');
  return [
    `### 3. Keeper overhead (\`bench/keeper-overhead.js\`)`,
    stamp(r),
    '',
    `${r.windowS} s real-time window, every subject running side by side; TTL ${r.ttlMs} ms (renew every ~${Math.round(r.keeperDefaults.renewIntervalMs)} ms). Per hour. Lost leases: ${r.lostLeases}.`,
    '',
    table(
      ['subject', 'CPU ms/h (utime+stime)', 'CPU ms/h (schedstat)', '× bare node', '× shell loop', 'wake-ups/h', '× bare node', '× shell loop', 'store ops/h', 'wake-ups / renewal', 'RSS', '× bare node', 'sidecar alone', 'threads'],
      r.subjects.map((s) => [
        s.subject,
        n(s.cpuMsPerHour),
        n(s.cpuMsPerHourSchedstat),
        inf(s.ratios.cpuSchedstatVsBareNode, s.cpuMsPerHourSchedstat, r.bareNodeZero.cpu),
        x(s.ratios.cpuSchedstatVsShellLoop),
        n(s.wakeupsPerHour),
        inf(s.ratios.wakeupsVsBareNode, s.wakeupsPerHour, r.bareNodeZero.wakeups),
        x(s.ratios.wakeupsVsShellLoop),
        n(s.storeOpsPerHour),
        s.wakeupsPerRenewal == null ? '—' : n(s.wakeupsPerRenewal, 2),
        `${n(s.rssMiB, 1)} MiB`,
        x(s.ratios.rssVsBareNode),
        s.sidecarRssMiB == null ? '—' : `${n(s.sidecarRssMiB, 1)} MiB (${x(s.ratios.sidecarRssVsBareNode)})`,
        s.threads,
      ]),
    ),
  ].join('\n');
}

function storeScale(r) {
  return [
    `### 4. Store scale (\`bench/store-scale.js\`)`,
    stamp(r),
    '',
    `N keepers in one process sharing one store client, each with its own key; TTL ${r.ttlMs} ms (renew every ${Math.round(r.renewIntervalMs)} ms, request timeout ${r.requestTimeoutMs} ms); ${r.windowS} s window per size once all lead. Lost leases (start-up + window, plus any never acquired): ${r.lostLeases}.`,
    '',
    table(
      ['store', 'N', 'renewals/s', '÷ expected', 'renew p50', 'renew p99', 'lost', 'client CPU', 'client CPU / renewal', 'raw ops/s', 'renewals ÷ raw ops/s'],
      r.stores.flatMap((s) =>
        s.sizes.map((z) => [s.store, z.n, n(z.renewalsPerSec, 1), x(z.ratioToExpectedRenewals), ms(z.renewP50Ms, 2), ms(z.renewP99Ms, 2), z.lostLeases + z.neverLed, `${n(z.clientCpuPercent, 1)} %`, ms(z.clientCpuMsPerRenewal, 3), n(s.raw.opsPerSec), n(z.ratioToRawThroughput, 4)]),
      ),
    ),
    '',
    'Raw baselines (same servers, same run):',
    '',
    table(
      ['store', 'command', 'ops/s', 'p50', 'p99'],
      r.stores.map((s) => [s.store, s.raw.command ?? s.raw.error, n(s.raw.opsPerSec), ms(s.raw.p50Ms, 3), ms(s.raw.p99Ms, 3)]),
    ),
  ].join('\n');
}

export function renderFigures(run) {
  const m = machine();
  const parts = [
    START,
    '',
    '## Latest figures',
    '',
    `Machine: \`nproc\` = ${m.nproc}, CPU model (/proc/cpuinfo) \`${m.cpuModel}\`, Node ${m.node}, ${m.platform}. \`free -h\`:`,
    '',
    '```',
    freeH(),
    '```',
    '',
  ];
  if (run) parts.push(`Last \`npm run bench\`: ${run.timings.map((t) => `${t.name} ${t.seconds.toFixed(0)} s${t.code === 0 ? '' : ' (FAILED)'}`).join(', ')}; total ${run.totalSeconds.toFixed(0)} s.`, '');
  const renderers = [
    ['sim-throughput', simThroughput],
    ['startup', startup],
    ['keeper-overhead', keeperOverhead],
    ['store-scale', storeScale],
  ];
  const targetRows = [];
  for (const [name] of renderers) {
    for (const t of load(name)?.targets ?? []) targetRows.push([`${name}: ${t.name}`, t.measured ?? '—', `${t.op} ${t.limit}`, t.pass ? 'pass' : '**FAIL**', t.note]);
  }
  if (targetRows.length > 0) parts.push('### Targets (issue 15)', '', table(['target', 'measured', 'wanted', 'result', 'note'], targetRows), '');
  for (const [name, render] of renderers) {
    const result = load(name);
    parts.push(result ? render(result) : `### ${name}\n\n_not run yet_`, '');
  }
  parts.push(END);
  return parts.join('\n');
}

export function updateReadme(run) {
  const file = join(BENCH_DIR, 'README.md');
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const figures = renderFigures(run);
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  const next = start >= 0 && end > start ? `${text.slice(0, start)}${figures}${text.slice(end + END.length)}` : `${text.trimEnd()}\n\n${figures}\n`;
  writeFileSync(file, next);
}
