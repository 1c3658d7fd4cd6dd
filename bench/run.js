#!/usr/bin/env node
// `npm run bench`: builds dist/ (the benches measure the compiled code), runs every bench in its own
// process, one after another, within a 10-minute budget, then refreshes the figures in
// bench/README.md from bench/results/*.json.
//   node bench/run.js [bench ...]      e.g. node bench/run.js startup sim-throughput
// Knobs (environment): BENCH_SKIP_BUILD=1, BENCH_BUDGET_S (default 600), and each bench's own
// (see bench/README.md).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, envNumber, printTargets, REPO_DIR, RESULTS_DIR } from './lib/common.js';
import { updateReadme } from './lib/readme.js';

const ALL = ['startup', 'sim-throughput', 'keeper-overhead', 'store-scale'];
const chosen = process.argv.slice(2);
for (const name of chosen) if (!ALL.includes(name)) throw new Error(`unknown bench ${name}; choose from ${ALL.join(', ')}`);
const benches = chosen.length > 0 ? chosen : ALL;
const budgetMs = envNumber('BENCH_BUDGET_S', 600) * 1000;
const started = performance.now();

if (process.env.BENCH_SKIP_BUILD !== '1') {
  process.stdout.write('bench: building dist/ (tsc -p tsconfig.json)\n');
  const tsc = spawnSync(process.execPath, [join(REPO_DIR, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: REPO_DIR, stdio: 'inherit' });
  if (tsc.status !== 0) {
    // tsc still emits on type errors; go on only if the compiled entry points are there.
    if (!existsSync(join(REPO_DIR, 'dist', 'sim', 'cli', 'main.js'))) process.exit(tsc.status ?? 1);
    process.stderr.write('bench: tsc reported errors; measuring what it emitted\n');
  }
}

const timings = [];
let failed = false;
for (const name of benches) {
  const left = budgetMs - (performance.now() - started);
  if (left <= 0) {
    process.stderr.write(`bench: budget of ${budgetMs / 1000} s used up before ${name}\n`);
    failed = true;
    break;
  }
  process.stdout.write(`\n== bench ${name}\n`);
  const t0 = performance.now();
  const code = await new Promise((resolve) => {
    const child = spawn(process.execPath, [join(BENCH_DIR, `${name}.js`)], { cwd: REPO_DIR, stdio: 'inherit' });
    const timer = setTimeout(() => {
      process.stderr.write(`bench: ${name} ran past the ${budgetMs / 1000} s budget; stopping it\n`);
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    }, left);
    child.on('exit', (c, signal) => {
      clearTimeout(timer);
      resolve(signal === null ? c : 1);
    });
  });
  const seconds = (performance.now() - t0) / 1000;
  timings.push({ name, seconds, code });
  process.stdout.write(`== ${name}: ${code === 0 ? 'ok' : `FAILED (exit ${code})`} in ${seconds.toFixed(1)} s\n`);
  if (code !== 0) failed = true;
}

// Every target of every bench that ran, with its measured ratio and pass/fail; a miss fails the run.
const allTargets = [];
for (const { name, code } of timings) {
  if (code !== 0 && !existsSync(join(RESULTS_DIR, `${name}.json`))) continue;
  const result = JSON.parse(readFileSync(join(RESULTS_DIR, `${name}.json`), 'utf8'));
  for (const t of result.targets ?? []) allTargets.push({ ...t, name: `${name}: ${t.name}` });
}
if (allTargets.length > 0) printTargets('targets (issue 15)', allTargets);
const missed = allTargets.filter((t) => !t.pass);
if (missed.length > 0) {
  process.stderr.write(`bench: ${missed.length} of ${allTargets.length} targets missed: ${missed.map((t) => t.name).join('; ')}\n`);
  failed = true;
}

const total = (performance.now() - started) / 1000;
updateReadme({ totalSeconds: total, timings });
process.stdout.write(`\nbench: ${timings.length} benches in ${total.toFixed(1)} s (budget ${budgetMs / 1000} s); bench/README.md figures refreshed\n`);
process.exitCode = failed ? 1 : 0;
