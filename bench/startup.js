#!/usr/bin/env node
// Start-up: whole-process wall time of `node bin/sim.js --help` and `node bin/sim.js run <tiny
// scenario>` against `node -e 0` (the floor any Node CLI pays), median of N interleaved runs;
// then `node bin/sim.js run scenarios/idle.yaml` with default flags (issue 15's "under 1 s")
// against `node -e 0`, fewer rounds since each takes seconds.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { envNumber, fmt, machine, median, percentile, printTable, printTargets, ratio, REPO_DIR, round, target, writeResult } from './lib/common.js';

const N = envNumber('BENCH_STARTUP_N', 21);
const IDLE_N = envNumber('BENCH_STARTUP_IDLE_N', 5);
const IDLE = 'scenarios/idle.yaml';
const WARMUP = 2;
const TINY = 'bench/fixtures/tiny.yaml';
const cases = [
  { name: 'node -e 0', args: ['-e', '0'], baseline: true },
  { name: 'sim --help', args: ['bin/sim.js', '--help'] },
  { name: `sim run ${TINY}`, args: ['bin/sim.js', 'run', TINY] },
  { name: `sim run ${TINY} --json`, args: ['bin/sim.js', 'run', TINY, '--json'] },
];

function once(args) {
  const t0 = performance.now();
  const child = spawnSync(process.execPath, args, { cwd: REPO_DIR, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = performance.now() - t0;
  if (child.status !== 0) throw new Error(`node ${args.join(' ')} exited ${child.status}: ${child.stderr}`);
  return ms;
}

const samples = new Map(cases.map((c) => [c.name, []]));
for (let i = 0; i < WARMUP + N; i++) {
  // Interleaved, so load drift hits every case alike; the first WARMUP rounds fill the page cache.
  for (const c of cases) {
    const ms = once(c.args);
    if (i >= WARMUP) samples.get(c.name).push(ms);
  }
}
const base = median(samples.get(cases[0].name));
const rows = cases.map((c) => {
  const list = samples.get(c.name);
  const med = median(list);
  return {
    case: c.name,
    command: `node ${c.args.join(' ')}`,
    medianMs: round(med, 1),
    p90Ms: round(percentile(list, 90), 1),
    minMs: round(Math.min(...list), 1),
    ratioVsNodeE0: ratio(med, base),
    overMsVsNodeE0: round(med - base, 1),
  };
});
// `sim run scenarios/idle.yaml`, default flags (so the default worker pool), beside `node -e 0` in the same rounds.
const idleSamples = { base: [], idle: [] };
for (let i = 0; i < 1 + IDLE_N; i++) {
  const base = once(['-e', '0']);
  const idle = once(['bin/sim.js', 'run', IDLE]);
  if (i >= 1) {
    idleSamples.base.push(base);
    idleSamples.idle.push(idle);
  }
}
const idleMs = median(idleSamples.idle);
const idleBaseMs = median(idleSamples.base);
const idleRun = {
  command: `node bin/sim.js run ${IDLE}`,
  rounds: IDLE_N,
  medianMs: round(idleMs, 1),
  minMs: round(Math.min(...idleSamples.idle), 1),
  nodeE0MedianMs: round(idleBaseMs, 1),
  ratioVsNodeE0: ratio(idleMs, idleBaseMs),
};
const targets = [
  target(`sim run ${IDLE} (default flags) ÷ node -e 0, wall`, idleRun.ratioVsNodeE0, '<=', 18, 'same rounds'),
  target(`sim run ${IDLE} (default flags), wall ms`, idleRun.medianMs, '<=', 1000, 'absolute: meant for a quiet 2-core machine'),
];

const result = { bench: 'startup', generatedAt: new Date().toISOString(), machine: machine(), n: N, warmup: WARMUP, baseline: cases[0].name, cases: rows, idleRun, targets };
const file = writeResult('startup', result);
printTable(
  `Start-up — whole process, median of ${N} (after ${WARMUP} warm-up rounds), baseline \`node -e 0\``,
  ['command', 'median', 'p90', 'min', '+ vs node -e 0', 'ratio'],
  rows.map((r) => [r.command, fmt.ms(r.medianMs), fmt.ms(r.p90Ms), fmt.ms(r.minMs), fmt.ms(r.overMsVsNodeE0), fmt.x(r.ratioVsNodeE0)]),
);
printTable(
  `\`${idleRun.command}\` (default flags) beside \`node -e 0\`, median of ${IDLE_N} interleaved rounds after 1 warm-up`,
  ['command', 'median', 'min', 'ratio'],
  [
    ['node -e 0', fmt.ms(idleRun.nodeE0MedianMs), '—', '1.00×'],
    [idleRun.command, fmt.ms(idleRun.medianMs), fmt.ms(idleRun.minMs), fmt.x(idleRun.ratioVsNodeE0)],
  ],
);
printTargets('targets', targets);
process.stdout.write(`wrote ${file}\n`);
