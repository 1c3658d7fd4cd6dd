// Shared helpers of the benches: statistics, machine facts, /proc readers, result files and tables.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Table from 'cli-table3';

export const BENCH_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
export const REPO_DIR = dirname(BENCH_DIR);
export const RESULTS_DIR = join(BENCH_DIR, 'results');

export function median(values) {
  return percentile(values, 50);
}

/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN when empty. */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

/** Rounds to `digits` significant decimals for the result files (keeps them diff-friendly). */
export function round(value, digits = 3) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** `a / b`, rounded; null when b is 0 or either is missing. */
export function ratio(a, b, digits = 3) {
  if (typeof a !== 'number' || typeof b !== 'number' || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return round(a / b, digits);
}

/** Machine facts for the result files and the README: nproc, memory, CPU model, Node. */
export function machine() {
  const cpuinfo = safeRead('/proc/cpuinfo');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
  let nproc = cpus().length;
  try {
    nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
  } catch {}
  return {
    nproc,
    cpuModel: model,
    memTotalGiB: round(totalmem() / 2 ** 30, 1),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    // Other work on the machine skews absolute figures (ratios less so): the 1-minute load when the result was written.
    loadAvg1m: round(loadavg()[0], 2),
  };
}

/** `free -h` as printed (for the README). */
export function freeH() {
  try {
    return execFileSync('free', ['-h'], { encoding: 'utf8' }).trimEnd();
  } catch {
    return '(free not available)';
  }
}

export function safeRead(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime+stime of a process (all its threads) in ms, from /proc/<pid>/stat; null when gone. */
export function procCpuMs(pid) {
  const stat = safeRead(`/proc/${pid}/stat`);
  if (stat === '') return null;
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / CLK_TCK;
}

/**
 * CPU time of every live thread of a process in ms, from /proc/<pid>/task/<tid>/schedstat (ns
 * resolution, unlike the 10 ms ticks of utime+stime); null when unavailable.
 */
export function procRuntimeMs(pid) {
  let total = 0;
  let found = false;
  for (const tid of listDir(`/proc/${pid}/task`)) {
    const text = safeRead(`/proc/${pid}/task/${tid}/schedstat`);
    if (text === '') continue;
    total += Number(text.split(' ')[0]) / 1e6;
    found = true;
  }
  return found ? total : null;
}

/** Voluntary/involuntary context switches (whole process) and VmRSS from /proc/<pid>/status. */
export function procStatus(pid) {
  const text = safeRead(`/proc/${pid}/status`);
  if (text === '') return null;
  const field = (name) => Number(new RegExp(`^${name}:\\s*(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  // The top-level counts are the main thread's only; sum every thread's from /proc/<pid>/task/*/status.
  let voluntary = 0;
  let involuntary = 0;
  let threads = 0;
  for (const tid of listDir(`/proc/${pid}/task`)) {
    const t = safeRead(`/proc/${pid}/task/${tid}/status`);
    const v = /^voluntary_ctxt_switches:\s*(\d+)/m.exec(t)?.[1];
    const n = /^nonvoluntary_ctxt_switches:\s*(\d+)/m.exec(t)?.[1];
    if (v === undefined) continue;
    voluntary += Number(v);
    involuntary += Number(n ?? 0);
    threads += 1;
  }
  return { rssKiB: field('VmRSS'), voluntary, involuntary, threads };
}

/**
 * Every thread of `pid`: its id, its name (`/proc/<pid>/task/<tid>/comm`, e.g. `node`, `libuv-worker`,
 * `V8 DefaultWorke`) and its voluntary context switches so far.
 */
export function procThreads(pid) {
  const threads = [];
  for (const tid of listDir(`/proc/${pid}/task`)) {
    const v = /^voluntary_ctxt_switches:\s*(\d+)/m.exec(safeRead(`/proc/${pid}/task/${tid}/status`))?.[1];
    if (v === undefined) continue;
    threads.push({ tid: Number(tid), comm: safeRead(`/proc/${pid}/task/${tid}/comm`).trim(), voluntary: Number(v) });
  }
  return threads;
}

function listDir(path) {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

/** JSON with keys sorted at every level, two-space indent, trailing newline: stable in git. */
export function stableJson(value) {
  const sort = (v) => {
    if (Array.isArray(v)) return v.map(sort);
    if (v !== null && typeof v === 'object') {
      const out = {};
      for (const key of Object.keys(v).sort()) out[key] = sort(v[key]);
      return out;
    }
    return v;
  };
  return `${JSON.stringify(sort(value), null, 2)}\n`;
}

export function writeResult(name, value) {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${name}.json`);
  writeFileSync(file, stableJson(value));
  return file;
}

/** Prints a cli-table3 table (plain, no colours) with a title line. */
export function printTable(title, head, rows) {
  const table = new Table({ head, style: { head: [], border: [] } });
  for (const row of rows) table.push(row.map((cell) => (cell === null || cell === undefined ? '—' : String(cell))));
  process.stdout.write(`\n${title}\n${table.toString()}\n`);
}

export const fmt = {
  int: (v) => (typeof v === 'number' && Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '—'),
  num: (v, d = 2) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '—'),
  x: (v, d = 2) => (typeof v === 'number' && Number.isFinite(v) ? `${v.toFixed(d)}×` : '—'),
  ms: (v, d = 1) => (typeof v === 'number' && Number.isFinite(v) ? `${v.toFixed(d)} ms` : '—'),
};

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Reads an integer environment knob (lets the README's quick mode shrink windows). */
export function envNumber(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${JSON.stringify(raw)}`);
  return value;
}

/**
 * One issue-15 target: `measured` against `limit` with `op` ('>=' or '<='). Every bench puts its
 * targets in its result JSON under `targets` (an array of these); `bench/run.js` prints them all,
 * and the run fails when one is missed. `note` says what the ratio is of (e.g. "÷ bare node").
 */
export function target(name, measured, op, limit, note = '') {
  if (op !== '>=' && op !== '<=') throw new Error(`target ${name}: op must be '>=' or '<=', got ${op}`);
  const ok = typeof measured === 'number' && Number.isFinite(measured);
  const pass = ok && (op === '>=' ? measured >= limit : measured <= limit);
  return { name, measured: ok ? round(measured, 3) : null, op, limit, pass, note };
}

/** Prints targets as a table: name, measured, target, pass/FAIL. */
export function printTargets(title, targets) {
  printTable(
    title,
    ['target', 'measured', 'wanted', 'result', 'note'],
    targets.map((t) => [t.name, t.measured, `${t.op} ${t.limit}`, t.pass ? 'pass' : 'FAIL', t.note]),
  );
}
