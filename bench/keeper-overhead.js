#!/usr/bin/env node
// Keeper overhead: over one real-time window, the CPU time (utime+stime from /proc/<pid>/stat),
// wake-ups (voluntary context switches of every thread, /proc/<pid>/task/*/status), store ops and
// RSS of an owner process holding a lease through each shipped host — worker thread
// (startWorkerKeeper) and sidecar process (startSidecarKeeper, owner + sidecar counted) — against
// a bare `node` process doing nothing and a shell `while sleep 1; do :; done` loop, all measured in
// the same window, side by side. Figures are scaled per hour; ratios are against both baselines.
// Stores: the file store (embedded default) and Redis (started here like the tests do); PostgreSQL
// and etcd hold a sidecar each too, for the sidecar's RSS on every store (rssOnlyStores).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { BENCH_DIR, CLK_TCK, envNumber, fmt, machine, printTable, printTargets, procCpuMs, procRuntimeMs, procStatus, procThreads, ratio, REPO_DIR, round, safeRead, sleep, target, writeResult } from './lib/common.js';
import { missingServer, startEtcd, startPostgres, startRedis } from '../test/support/servers.js';

// 60 s (~180 renewals at TTL 1 s): in a 20 s window the worker host's V8 helper threads, still
// compiling the keeper thread's code, added 0.6-0.9 wake-ups per renewal (0.13 over 100 s).
const WINDOW_S = envNumber('BENCH_KEEPER_WINDOW_S', 60);
const TTL_MS = envNumber('BENCH_KEEPER_TTL_MS', 1000);
// The window opens once start-up is over: V8's memory reducer runs a few full GCs ~8-10 s after a
// process starts (every helper thread wakes for them), a one-off that a lease held for hours never
// sees again; counting it would add 1-2 wake-ups per renewal to a 20 s window.
const SETTLE_MS = envNumber('BENCH_KEEPER_SETTLE_S', 12) * 1000;
const TIME = '/usr/bin/time';

const dir = mkdtempSync(join(tmpdir(), 'heartbeat-lab-bench-keeper-'));
const redis = await startRedis();
// Each file-store subject gets its own lease file, so the two hosts never wait on each other's lock.
const stores = [
  { name: 'file', url: (host) => pathToFileURL(join(dir, `${host}-leases.json`)).href },
  { name: 'redis', url: () => redis.url },
];
const rssOnly = await rssOnlyStores();
const children = [];

function track(child) {
  children.push(child);
  return child;
}

/** A subject that talks JSON lines (keeper-subject.js). */
function keeperSubject(host, store) {
  const child = track(
    spawn(process.execPath, [join(BENCH_DIR, 'lib', 'keeper-subject.js'), host, store.url(host), `bench/overhead/${host}-${store.name}`, String(store.ttlMs ?? TTL_MS)], {
      cwd: REPO_DIR,
      stdio: ['pipe', 'pipe', 'inherit'],
    }),
  );
  const replies = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (type) => {
    for (;;) {
      const { value, done } = await replies.next();
      if (done) throw new Error(`${host}/${store.name} subject ended before '${type}'`);
      const message = JSON.parse(value);
      if (message.type === type) return message;
    }
  };
  return {
    name: `${host} host, ${store.name} store`,
    kind: 'keeper',
    host,
    store: store.name,
    child,
    async ready() {
      const message = await next('ready');
      this.pids = [message.pid, ...(message.sidecarPid ? [message.sidecarPid] : [])];
      this.keeperTids = new Set(message.keeperTids);
    },
    async mark() {
      child.stdin.write('mark\n');
      return next('marked');
    },
    async stop() {
      child.stdin.write('stop\n');
      const message = await next('stopped');
      child.stdin.end();
      return message;
    },
  };
}

function bareNode() {
  const child = track(spawn(process.execPath, ['-e', 'setInterval(() => {}, 2 ** 31 - 1)'], { stdio: 'ignore' }));
  return { name: 'bare node (baseline)', kind: 'node', child, pids: [child.pid], async ready() {}, async stop() { child.kill('SIGTERM'); } };
}

/**
 * `while sleep 1; do :; done`. Its `sleep` children come and go, so CPU includes reaped children
 * (cutime+cstime); their wake-ups are only visible to getrusage, so the loop runs under GNU time
 * (`%w`, shell + every reaped child, whole lifetime) when /usr/bin/time exists.
 */
function shellLoop() {
  const useTime = existsSync(TIME);
  const script = 'trap "exit 0" TERM; while sleep 1; do :; done';
  const child = track(
    useTime
      ? spawn(TIME, ['-f', '%e %U %S %w %c %M', 'sh', '-c', script], { stdio: ['ignore', 'ignore', 'pipe'] })
      : spawn('sh', ['-c', script], { stdio: 'ignore' }),
  );
  let timeLine = '';
  child.stderr?.on('data', (chunk) => (timeLine += chunk.toString('utf8')));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    name: 'shell while-sleep-1 loop',
    kind: 'shell',
    child,
    useTime,
    async ready() {
      // Under GNU time the shell is time's child.
      for (let i = 0; i < 100 && this.pids === undefined; i++) {
        const kids = useTime ? safeRead(`/proc/${child.pid}/task/${child.pid}/children`).trim().split(/\s+/).filter(Boolean) : [String(child.pid)];
        if (kids.length > 0) this.pids = [Number(kids[0])];
        else await sleep(10);
      }
      this.startedAt = performance.now();
    },
    async stop() {
      process.kill(this.pids[0], 'SIGTERM');
      await exited;
      const lifetimeS = (performance.now() - this.startedAt) / 1000;
      const [elapsed, user, sys, voluntary, involuntary, maxRssKiB] = timeLine.trim().split('\n').pop().split(' ').map(Number);
      return useTime ? { lifetime: { elapsedS: elapsed, cpuMs: (user + sys) * 1000, voluntary, involuntary, maxRssKiB, measuredS: lifetimeS } } : {};
    },
  };
}

/** utime+stime (+ reaped children for the shell) and per-thread context switches of the subject's processes. */
function snapshot(subject) {
  let cpuMs = 0;
  let runtimeMs = 0;
  let voluntary = 0;
  let involuntary = 0;
  let rssKiB = 0;
  let threads = 0;
  const rssKiBByPid = [];
  for (const pid of subject.pids) {
    const cpu = procCpuMs(pid);
    const status = procStatus(pid);
    if (cpu === null || status === null) throw new Error(`${subject.name}: process ${pid} is gone`);
    cpuMs += cpu;
    runtimeMs += procRuntimeMs(pid) ?? NaN;
    if (subject.kind === 'shell') {
      cpuMs += childCpuMs(pid);
      runtimeMs += childCpuMs(pid); // reaped children are only in the tick counts
    }
    voluntary += status.voluntary;
    involuntary += status.involuntary;
    rssKiB += status.rssKiB;
    rssKiBByPid.push(status.rssKiB);
    threads += status.threads;
  }
  return { at: performance.now(), cpuMs, runtimeMs, voluntary, involuntary, rssKiB, rssKiBByPid, threads, perPid: subject.pids.map(procThreads) };
}

/** Node's V8 platform pool (`--v8-pool-size`, default 4), started with the process right after its main thread. */
const V8_POOL_SIZE = 4;

/**
 * What a thread of a subject's process is. Node 20 names every thread `node`, so they are told
 * apart by creation order (thread ids grow): the main thread, V8's platform pool, then V8's
 * delayed-task scheduler and Node's SIGUSR1 watcher (these 1 + 4 + 2 are what a bare `node` has),
 * then the libuv threadpool (started at the first threadpool job) and, in the worker host, the
 * keeper's worker thread (its id reported by the subject). A later Node that names its threads
 * (`V8 DefaultWorke`, `libuv-worker`) keeps those names.
 */
function threadRole(pid, rank, thread, keeperTids) {
  if (thread.tid === pid) return 'main thread';
  if (keeperTids?.has(thread.tid)) return 'keeper worker thread';
  if (thread.comm !== 'node' && thread.comm !== '') return thread.comm;
  if (rank <= V8_POOL_SIZE) return 'V8 platform workers';
  if (rank <= V8_POOL_SIZE + 2) return 'V8 delayed tasks + SIGUSR1 watcher';
  return 'libuv threadpool';
}

/**
 * The window's wake-ups thread by thread: per process (`owner`, `sidecar`) and role (see
 * `threadRole`; threads of one role summed), ÷ renewals. A thread born in the window counts from 0.
 */
function perThreadWakeups(subject, before, after, renewals) {
  const rows = [];
  subject.pids.forEach((pid, p) => {
    const process = p === 0 ? 'owner' : 'sidecar';
    const was = new Map(before.perPid[p].map((t) => [t.tid, t.voluntary]));
    const groups = new Map();
    const sorted = [...after.perPid[p]].sort((a, b) => a.tid - b.tid);
    sorted.forEach((t, rank) => {
      const thread = threadRole(pid, rank, t, subject.keeperTids);
      const group = groups.get(thread) ?? { process, thread, threads: 0, wakeups: 0 };
      group.threads += 1;
      group.wakeups += t.voluntary - (was.get(t.tid) ?? 0);
      groups.set(thread, group);
    });
    for (const group of groups.values()) rows.push({ ...group, wakeupsPerRenewal: renewals > 0 ? round(group.wakeups / renewals, 2) : null });
  });
  return rows;
}

function childCpuMs(pid) {
  const stat = safeRead(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[13]) + Number(fields[14]);
  return (ticks * 1000) / CLK_TCK;
}

/** The timer-floor variants (bench/lib/timer-floor.js), each in its own process, at the keeper's renew interval and request timeout. */
const FLOOR_VARIANTS = ['timer', 'cleared-same-turn', 'cleared-next-turn', 'reply', 'wait-async'];

function timerFloor(periodMs, timeoutMs, windowMs) {
  const ticks = Math.max(10, Math.floor(windowMs / periodMs) - 6);
  return FLOOR_VARIANTS.map((variant) => {
    const child = track(spawn(process.execPath, [join(BENCH_DIR, 'lib', 'timer-floor.js'), variant, String(periodMs), String(timeoutMs), String(ticks)], { stdio: ['ignore', 'pipe', 'inherit'] }));
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk.toString('utf8')));
    return new Promise((resolve) => child.once('exit', () => resolve(out.trim() === '' ? { variant, error: 'no output' } : JSON.parse(out))));
  });
}


/**
 * The sidecar's RSS on the other stores (`BENCH_KEEPER_RSS_STORES`, default `postgres,etcd`; a
 * store whose server is not installed is left out): a sidecar subject each, in the same window,
 * for the RSS target only. Its driver is the one thing that differs between stores. etcd's TTLs
 * are whole seconds and its expiry checks ~500 ms apart, so its sidecar holds a 3 s lease.
 */
async function rssOnlyStores() {
  const starters = { postgres: startPostgres, etcd: startEtcd };
  const names = (process.env.BENCH_KEEPER_RSS_STORES ?? 'postgres,etcd').split(',').filter((name) => name in starters && missingServer(name) === null);
  const servers = await Promise.all(names.map((name) => starters[name]()));
  return {
    stores: names.map((name, i) => ({ name, url: () => servers[i].url, ...(name === 'etcd' ? { ttlMs: 3000 } : {}) })),
    dispose: () => Promise.all(servers.map((server) => server.dispose())),
  };
}

const subjects = [
  bareNode(),
  shellLoop(),
  ...stores.flatMap((store) => [keeperSubject('worker', store), keeperSubject('sidecar', store)]),
  ...rssOnly.stores.map((store) => keeperSubject('sidecar', store)),
];
let rows;
let timerFloorRows;
try {
  await Promise.all(subjects.map((s) => s.ready()));
  await sleep(SETTLE_MS);
  const marks0 = await Promise.all(subjects.map((s) => s.mark?.()));
  const before = subjects.map(snapshot);
  const floors = timerFloor(Math.round(TTL_MS / 3), Math.round(Math.min(TTL_MS / 10, 10_000)), WINDOW_S * 1000);
  await sleep(WINDOW_S * 1000);
  const after = subjects.map(snapshot);
  const marks1 = await Promise.all(subjects.map((s) => s.mark?.()));
  const stops = [];
  for (const s of subjects) stops.push(await s.stop());
  timerFloorRows = await Promise.all(floors);
  rows = subjects.map((s, i) => {
    const a = before[i];
    const b = after[i];
    const seconds = (b.at - a.at) / 1000;
    const perHour = (v) => round((v / seconds) * 3600, 1);
    // The keeper's lifetime renewals at its steady rate (renewals ÷ time leading), over the window.
    const renewals = s.kind === 'keeper' && stops[i].stats ? ((marks1[i].at - marks0[i].at) * stops[i].stats.renewals) / stops[i].leadingMs : 0;
    const row = {
      subject: s.name,
      kind: s.kind,
      host: s.host ?? null,
      store: s.store ?? null,
      pids: s.pids.length,
      threads: b.threads,
      windowS: round(seconds, 2),
      cpuMsPerHour: perHour(b.cpuMs - a.cpuMs),
      cpuMsPerHourSchedstat: perHour(b.runtimeMs - a.runtimeMs),
      wakeupsPerHour: perHour(b.voluntary - a.voluntary),
      involuntaryPerHour: perHour(b.involuntary - a.involuntary),
      storeOpsPerHour: perHour(renewals),
      renewalsInWindow: round(renewals, 1),
      // Voluntary context switches of every thread (sidecar: owner + sidecar) per renewal heard of.
      wakeupsPerRenewal: renewals > 0 ? round((b.voluntary - a.voluntary) / renewals, 2) : null,
      rssMiB: round(b.rssKiB / 1024, 1),
      // The sidecar process alone (pids[1]); null for the other subjects.
      sidecarRssMiB: s.host === 'sidecar' ? round(b.rssKiBByPid[1] / 1024, 1) : null,
      lostLeases: s.kind === 'keeper' ? marks1[i].lost - marks0[i].lost : 0,
    };
    if (s.kind === 'keeper') {
      row.keeperStatsLifetime = stops[i].stats;
      row.perThread = perThreadWakeups(s, a, b, renewals);
    }
    if (s.kind === 'shell' && stops[i].lifetime) {
      // Wake-ups of the shell's short-lived `sleep` children: only getrusage sees them (whole lifetime, per hour).
      const l = stops[i].lifetime;
      row.wakeupsPerHourShellOnly = row.wakeupsPerHour;
      row.wakeupsPerHour = round((l.voluntary / l.measuredS) * 3600, 1);
      row.wakeupsSource = 'GNU time %w (shell + reaped sleep children), lifetime';
      row.cpuMsPerHourWithChildrenLifetime = round((l.cpuMs / l.measuredS) * 3600, 1);
      row.maxRssMiBWithChildren = round(l.maxRssKiB / 1024, 1);
    }
    return row;
  });
} finally {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await redis.dispose();
  await rssOnly.dispose();
  rmSync(dir, { recursive: true, force: true });
}

const node = rows.find((r) => r.kind === 'node');
const shell = rows.find((r) => r.kind === 'shell');
const shellWakeups = shell.wakeupsPerHour;
for (const r of rows) {
  r.ratios = {
    cpuVsBareNode: ratio(r.cpuMsPerHour, node.cpuMsPerHour),
    cpuSchedstatVsBareNode: ratio(r.cpuMsPerHourSchedstat, node.cpuMsPerHourSchedstat),
    cpuSchedstatVsShellLoop: ratio(r.cpuMsPerHourSchedstat, shell.cpuMsPerHourSchedstat),
    cpuVsShellLoop: ratio(r.cpuMsPerHour, shell.cpuMsPerHour),
    wakeupsVsBareNode: ratio(r.wakeupsPerHour, node.wakeupsPerHour),
    wakeupsVsShellLoop: ratio(r.wakeupsPerHour, shellWakeups),
    rssVsBareNode: ratio(r.rssMiB, node.rssMiB),
    sidecarRssVsBareNode: r.sidecarRssMiB === null ? null : ratio(r.sidecarRssMiB, node.rssMiB),
  };
  r.overBareNode = {
    cpuMsPerHour: round(r.cpuMsPerHour - node.cpuMsPerHour, 1),
    wakeupsPerHour: round(r.wakeupsPerHour - node.wakeupsPerHour, 1),
    rssMiB: round(r.rssMiB - node.rssMiB, 1),
  };
}
const lost = rows.reduce((s, r) => s + r.lostLeases, 0);
/** A ratio for the table; against a baseline of exactly 0 (an idle node really does nothing) it is unbounded. */
function vsZero(value, numerator, denominator) {
  if (value !== null) return fmt.x(value, 1);
  if (denominator === 0) return numerator === 0 ? '1.0× (both 0)' : '∞ (base 0)';
  return '—';
}
const subjectRow = (host, store) => rows.find((r) => r.host === host && r.store === store);
const targets = [
  ...['file', 'redis', ...rssOnly.stores.map((store) => store.name)].map((store) =>
    target(`sidecar process RSS ÷ bare node, ${store} store`, subjectRow('sidecar', store).ratios.sidecarRssVsBareNode, '<=', 1.15, `${subjectRow('sidecar', store).sidecarRssMiB} MiB ÷ ${node.rssMiB} MiB (the sidecar alone, its default flags)`),
  ),
  ...[['redis', 3], ['file', 10]].flatMap(([store, limit]) =>
    ['worker', 'sidecar'].map((host) =>
      target(
        `wake-ups per renewal, ${host} host, ${store} store`,
        subjectRow(host, store).wakeupsPerRenewal,
        '<=',
        limit,
        `voluntary context switches of every thread${host === 'sidecar' ? ' (owner + sidecar)' : ''} ÷ renewals${store === 'redis' ? `; floor ≈ 3.5: keeper thread 3 (timer, reply, the cleared request timeout's expiry: timerFloor) + owner's lapse timer 0.5 (perThread)` : ''}`,
      ),
    ),
  ),
];
const result = {
  bench: 'keeper-overhead',
  generatedAt: new Date().toISOString(),
  machine: machine(),
  windowS: WINDOW_S,
  ttlMs: TTL_MS,
  keeperDefaults: { renewIntervalMs: round(TTL_MS / 3, 1), requestTimeoutMs: round(Math.min(TTL_MS / 10, 10_000), 1) },
  baselines: ['bare node (baseline)', 'shell while-sleep-1 loop'],
  // A ratio is null where its baseline measured exactly 0 (an idle node: no CPU, no wake-ups in the window).
  bareNodeZero: { cpu: node.cpuMsPerHourSchedstat === 0, wakeups: node.wakeupsPerHour === 0 },
  subjects: rows,
  // The floor of a renewal's wake-ups in plain Node (bench/lib/timer-floor.js): main-thread wake-ups per tick.
  timerFloor: timerFloorRows,
  lostLeases: lost,
  targets,
  notes: [
    'all subjects run at the same time, in one window; figures are window deltas scaled to one hour',
    'wake-ups = voluntary context switches summed over every thread of the subject\'s processes (sidecar: owner + sidecar)',
    'store ops = renewals in the window (one store call each when none fails): the keeper\'s lifetime renewals (its stats at stop) at their rate over the time leading; the owner has no `renewed` listener, so no message tells it of a routine renewal',
    'perThread: the window\'s wake-ups per thread role (Node 20 names every thread `node`: roles by creation order, the keeper worker by the id the subject reports); timerFloor: bench/lib/timer-floor.js in the same window, at the renew interval and request timeout',
    'the shell loop\'s sleep children exit every second: CPU includes reaped children; its wakeupsPerHour is from GNU time (%w: shell + reaped children) over its lifetime, wakeupsPerHourShellOnly is the /proc window figure',
  ],
};
const file = writeResult('keeper-overhead', result);
printTable(
  `Keeper overhead — ${WINDOW_S} s window, TTL ${TTL_MS} ms (renew every ~${Math.round(TTL_MS / 3)} ms), per hour; lost leases: ${lost}`,
  ['subject', 'CPU ms/h\n(utime+stime)', 'CPU ms/h\n(schedstat)', '× bare\nnode', '× shell\nloop', 'wake-ups/h', '× bare\nnode', '× shell\nloop', 'store\nops/h', 'wake-ups /\nrenewal', 'RSS', '× bare\nnode', 'sidecar\nalone', 'threads'],
  rows.map((r) => [
    r.subject,
    fmt.int(r.cpuMsPerHour),
    fmt.num(r.cpuMsPerHourSchedstat, 1),
    vsZero(r.ratios.cpuSchedstatVsBareNode, r.cpuMsPerHourSchedstat, node.cpuMsPerHourSchedstat),
    fmt.x(r.ratios.cpuSchedstatVsShellLoop, 2),
    fmt.int(r.wakeupsPerHour),
    vsZero(r.ratios.wakeupsVsBareNode, r.wakeupsPerHour, node.wakeupsPerHour),
    fmt.x(r.ratios.wakeupsVsShellLoop, 2),
    fmt.int(r.storeOpsPerHour),
    r.wakeupsPerRenewal === null ? '—' : fmt.num(r.wakeupsPerRenewal, 2),
    `${fmt.num(r.rssMiB, 1)} MiB`,
    fmt.x(r.ratios.rssVsBareNode, 2),
    r.sidecarRssMiB === null ? '—' : `${fmt.num(r.sidecarRssMiB, 1)} MiB (${fmt.x(r.ratios.sidecarRssVsBareNode, 2)})`,
    r.threads,
  ]),
);
printTable(
  'Wake-ups per renewal, thread by thread (window deltas of /proc/<pid>/task/<tid>/status; threads of one name summed)',
  ['subject', 'process', 'thread', 'threads', 'wake-ups', 'per renewal'],
  rows.filter((r) => r.perThread).flatMap((r) => r.perThread.map((t) => [r.subject, t.process, t.thread, t.threads, t.wakeups, t.wakeupsPerRenewal === null ? '—' : fmt.num(t.wakeupsPerRenewal, 2)])),
);
printTable(
  `Floor: a thread ticking every ${Math.round(TTL_MS / 3)} ms with a ${Math.round(Math.min(TTL_MS / 10, 10_000))} ms timeout cancelled before it is due (bench/lib/timer-floor.js), same window`,
  ['variant', 'ticks', 'wake-ups / tick'],
  timerFloorRows.map((f) => [f.variant, f.ticks ?? '—', f.wakeupsPerTick === undefined ? f.error : fmt.num(f.wakeupsPerTick, 2)]),
);
printTargets('Keeper overhead targets (issue 15)', targets);
process.stdout.write(`wrote ${file}\n`);
if (lost > 0) {
  process.stderr.write(`keeper-overhead: ${lost} lease(s) lost during the window\n`);
  process.exitCode = 1;
}
