#!/usr/bin/env node
// Store scale: N LeaseKeepers in one process (N = 10, 100, 1000), each holding its own key with a
// short TTL, renewing against ONE store (one Redis connection, one PostgreSQL pool, one etcd
// client, one file store). Renewals/s, renew latency p50/p99 (the keeper's own `renewed` latency),
// lost leases (must be 0), client CPU per renewal — and the ratio to the store's raw throughput for a
// comparable command on the same server, measured in this same run: `redis-benchmark -t set`, a
// bare UPDATE loop on the same pg pool, bare puts on etcd, raw write+fsync+rename for the file.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { envNumber, fmt, machine, percentile, printTable, printTargets, ratio, REPO_DIR, round, sleep, target, writeResult } from './lib/common.js';
import { binary, startEtcd, startPostgres, startRedis } from '../test/support/servers.js';

const dist = (path) => import(pathToFileURL(join(REPO_DIR, 'dist', 'src', path)).href);
const { LeaseKeeper } = await dist('keeper/lease-keeper.js');
const { openLeaseStore } = await dist('store/open-store.js');
const { PostgresLeaseStore } = await dist('store/postgres-store.js');

const TTL_MS = envNumber('BENCH_SCALE_TTL_MS', 3000);
const WINDOW_S = envNumber('BENCH_SCALE_WINDOW_S', 10);
const RAW_S = envNumber('BENCH_SCALE_RAW_S', 4);
const RAW_CONCURRENCY = 16;
const sizes = (text) => text.split(',').map(Number);
/**
 * Keepers per store. The top size of each server store is its issue-15 target (SERVER_TARGETS).
 * Override with BENCH_SCALE_N (all stores) or BENCH_SCALE_N_<STORE>, e.g. BENCH_SCALE_N_FILE=10,100.
 */
const DEFAULT_SIZES = { redis: '10,1000,10000', postgres: '10,1000,10000', etcd: '10,100,1000', file: '10,100,300' };
const sizesFor = (store) => sizes(process.env[`BENCH_SCALE_N_${store.toUpperCase()}`] ?? process.env.BENCH_SCALE_N ?? DEFAULT_SIZES[store]);
/** A size whose keepers do not all lead by then is measured anyway (and loses leases); bounds a failing size's cost. */
const READY_TIMEOUT_MS = 30_000;

const dir = mkdtempSync(join(tmpdir(), 'heartbeat-lab-bench-scale-'));

/** Runs `count` keepers on `store` and measures one window. */
async function measureKeepers(store, count, label) {
  const renewIntervalMs = TTL_MS / 3;
  const keepers = [];
  let counting = false;
  const window = { renewals: 0, latencies: [], renewFailures: 0, lost: 0 };
  let lostBeforeWindow = 0;
  let leading = 0;
  let everLed = 0;
  for (let i = 0; i < count; i++) {
    const keeper = new LeaseKeeper(store, { key: `bench/scale/${label}/${count}/${i}`, identity: `bench-${process.pid}-${i}`, ttlMs: TTL_MS });
    let led = false;
    keeper.on('started-leading', () => {
      leading += 1;
      if (!led) everLed += 1;
      led = true;
    });
    keeper.on('stopped-leading', (reason) => {
      leading -= 1;
      if (reason === 'stopped') return;
      if (counting) window.lost += 1;
      else lostBeforeWindow += 1;
    });
    keeper.on('renewed', ({ latencyMs }) => {
      if (!counting) return;
      window.renewals += 1;
      window.latencies.push(latencyMs);
    });
    keeper.on('renew-failed', () => {
      if (counting) window.renewFailures += 1;
    });
    keepers.push(keeper);
  }
  // Starts spread over one TTL, as independent processes coming up would be.
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    keepers[i].start();
    const due = t0 + ((i + 1) * TTL_MS) / count;
    if (performance.now() < due - 1) await sleep(due - performance.now());
  }
  const deadline = performance.now() + READY_TIMEOUT_MS;
  while (leading < count && performance.now() < deadline) await sleep(50);
  const readyMs = performance.now() - t0;
  const allLeading = leading === count;
  await sleep(1000);
  counting = true;
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  await sleep(WINDOW_S * 1000);
  counting = false;
  const seconds = (performance.now() - w0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const leadingAtEnd = leading;
  await Promise.all(keepers.map((k) => k.stop()));
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return {
    n: count,
    allLeadingBeforeWindow: allLeading,
    readyMs: round(readyMs, 0),
    windowS: round(seconds, 2),
    renewalsPerSec: round(window.renewals / seconds, 1),
    expectedRenewalsPerSec: round((count / renewIntervalMs) * 1000, 1),
    renewP50Ms: round(percentile(window.latencies, 50), 2),
    renewP99Ms: round(percentile(window.latencies, 99), 2),
    renewMaxMs: round(window.latencies.length ? window.latencies.reduce((a, b) => Math.max(a, b), -Infinity) : NaN, 2),
    renewFailures: window.renewFailures,
    lostLeases: window.lost + lostBeforeWindow,
    lostLeasesInWindow: window.lost,
    lostLeasesDuringStart: lostBeforeWindow,
    neverLed: count - everLed,
    leadingAtEnd,
    clientCpuMsPerRenewal: window.renewals ? round(cpuMs / window.renewals, 3) : null,
    clientCpuPercent: round((cpuMs / (seconds * 1000)) * 100, 1),
  };
}

/** Calls `op` from `concurrency` loops for `seconds`; ops/s and latency percentiles. */
async function rawLoop(seconds, concurrency, op) {
  const latencies = [];
  const end = performance.now() + seconds * 1000;
  let i = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        await op(i++);
        latencies.push(performance.now() - s);
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  return { opsPerSec: round(latencies.length / elapsed, 1), p50Ms: round(percentile(latencies, 50), 3), p99Ms: round(percentile(latencies, 99), 3), concurrency, seconds: round(elapsed, 2) };
}

function redisBenchmark(url) {
  const port = new URL(url).port;
  const tool = binary('redis-benchmark');
  if (!tool) return { error: 'redis-benchmark not found' };
  const out = spawnSync(tool, ['-h', '127.0.0.1', '-p', port, '-t', 'set', '-n', '20000', '-c', '50', '-r', '1000', '--csv'], { encoding: 'utf8', timeout: 120_000 });
  // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  const lines = out.stdout.trim().split('\n').map((l) => l.split(',').map((c) => c.replace(/"/g, '')));
  const head = lines[0];
  const row = lines.find((l) => l[0] === 'SET');
  if (!row) return { error: `redis-benchmark gave no SET row: ${out.stdout} ${out.stderr}` };
  const col = (name) => Number(row[head.indexOf(name)]);
  return { command: `redis-benchmark -t set -n 20000 -c 50 -r 1000 (same server, appendfsync always)`, opsPerSec: col('rps'), p50Ms: col('p50_latency_ms'), p99Ms: col('p99_latency_ms'), concurrency: 50 };
}

const STORES = [
  {
    name: 'redis',
    async setup() {
      this.server = await startRedis();
    },
    open() {
      return openLeaseStore(this.server.url);
    },
    raw() {
      return redisBenchmark(this.server.url);
    },
  },
  {
    name: 'postgres',
    async setup() {
      this.server = await startPostgres();
      const { default: pg } = await import('pg');
      // The pool PostgresLeaseStore.connect() builds (max 4), shared by the keepers and the raw loop.
      this.pool = new pg.Pool({ connectionString: this.server.url, max: 4, connectionTimeoutMillis: 2000, query_timeout: 3000, idleTimeoutMillis: 10_000, keepAlive: true });
      this.pool.on('error', () => undefined);
    },
    open() {
      return new PostgresLeaseStore(this.pool);
    },
    async raw() {
      await this.pool.query('CREATE TABLE IF NOT EXISTS bench_raw (k integer PRIMARY KEY, v bigint NOT NULL, at timestamptz NOT NULL)');
      await this.pool.query('INSERT INTO bench_raw SELECT g, 0, now() FROM generate_series(0, 999) g ON CONFLICT DO NOTHING');
      const loop = await rawLoop(RAW_S, RAW_CONCURRENCY, (i) => this.pool.query('UPDATE bench_raw SET v = v + 1, at = now() WHERE k = $1', [i % 1000]));
      return { command: `UPDATE bench_raw SET v = v + 1, at = now() WHERE k = $1 (same pool, max 4; ${RAW_CONCURRENCY} in flight)`, ...loop };
    },
    async teardown() {
      await this.pool.end();
    },
  },
  {
    name: 'etcd',
    async setup() {
      this.server = await startEtcd();
      const { Etcd3 } = await import('etcd3');
      this.client = new Etcd3({ hosts: `http://127.0.0.1:${this.server.ports[0]}` });
    },
    open() {
      return openLeaseStore(this.server.url);
    },
    async raw() {
      const value = JSON.stringify({ holder: 'bench-raw-holder-identity', token: 1, ttlMs: TTL_MS });
      const loop = await rawLoop(RAW_S, RAW_CONCURRENCY, (i) => this.client.put(`bench/raw/${i % 1000}`).value(value));
      return { command: `etcd3 put (${RAW_CONCURRENCY} in flight)`, ...loop };
    },
    async teardown() {
      this.client.close();
    },
  },
  {
    name: 'file',
    async setup() {
      this.path = join(dir, 'leases.json');
    },
    open() {
      return openLeaseStore(pathToFileURL(this.path).href);
    },
    async raw() {
      // What one file-store write costs without the store: temp write + fsync, rename over, directory fsync.
      let size = 4096;
      try {
        size = statSync(this.path).size;
      } catch {}
      const payload = Buffer.alloc(size, 'x');
      const target = join(dir, 'raw.json');
      const loop = await rawLoop(RAW_S, 1, async (i) => {
        const temp = `${target}.${i}.tmp`;
        const fh = await open(temp, 'w');
        await fh.writeFile(payload);
        await fh.sync();
        await fh.close();
        await rename(temp, target);
        const d = await open(dirname(target), 'r');
        await d.sync();
        await d.close();
      });
      return { command: `write ${size} B + fsync + rename + dir fsync (the store's write path; payload = lease file size at the largest N; sequential)`, payloadBytes: size, ...loop };
    },
  },
];

/** Only the stores named in BENCH_SCALE_STORES (comma-separated, e.g. `file`), else all. */
const selectedStores = () => {
  const only = process.env.BENCH_SCALE_STORES?.split(',').map((name) => name.trim());
  return only === undefined ? STORES : STORES.filter((s) => only.includes(s.name));
};

/**
 * Issue 15's file-store target: the most keepers one process held on one `FileLeaseStore` with 0
 * lost leases (every keeper led, none lost one) among the sizes run.
 */
function fileTargets(results) {
  const file = results.find((r) => r.store === 'file');
  if (file === undefined) return [];
  const held = file.sizes.filter((x) => x.lostLeases + x.neverLed === 0).map((x) => x.n);
  const note = `sizes run: ${file.sizes.map((x) => `${x.n} (${x.lostLeases + x.neverLed} lost)`).join(', ')}; TTL ${TTL_MS} ms, renew every ${Math.round(TTL_MS / 3)} ms`;
  return [target('file store: keepers in one process with 0 lost leases', held.length ? Math.max(...held) : 0, '>=', 300, note)];
}

const results = [];
try {
  for (const s of selectedStores()) {
    const started = performance.now();
    await s.setup();
    // Raw throughput first, on the fresh server (the file store's raw write needs the lease file's size, so it runs last).
    let raw = s.name === 'file' ? undefined : await s.raw();
    const rows = [];
    for (const n of sizesFor(s.name)) {
      const store = await s.open();
      try {
        rows.push(await measureKeepers(store, n, s.name));
      } finally {
        await store.close();
      }
      process.stderr.write(`store-scale: ${s.name} N=${n} done (${rows.at(-1).renewalsPerSec}/s, lost ${rows.at(-1).lostLeases})\n`);
    }
    raw ??= await s.raw();
    for (const r of rows) {
      r.ratioToRawThroughput = ratio(r.renewalsPerSec, raw.opsPerSec, 4);
      r.ratioRenewP50ToRawP50 = ratio(r.renewP50Ms, raw.p50Ms);
      r.ratioToExpectedRenewals = ratio(r.renewalsPerSec, r.expectedRenewalsPerSec);
    }
    results.push({ store: s.name, raw, sizes: rows, seconds: round((performance.now() - started) / 1000, 1) });
    await s.teardown?.();
    await s.server?.dispose();
  }
} finally {
  for (const s of STORES) await s.server?.dispose().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}

/** Issue 15: keepers on one server-store client, 0 lost, renewals at least 0.95x the expected rate. */
const SERVER_TARGETS = { redis: 10_000, postgres: 10_000, etcd: 1_000 };

function serverStoreTargets(results) {
  return Object.entries(SERVER_TARGETS).flatMap(([store, n]) => {
    const row = results.find((r) => r.store === store)?.sizes.find((x) => x.n === n);
    const note = row === undefined ? `size ${n} not run (BENCH_SCALE_N_${store.toUpperCase()})` : '';
    return [
      target(`${store}: ${n} keepers, lost leases`, row === undefined ? null : row.lostLeases + row.neverLed, '<=', 0, note || 'one client, TTL 3 s; lost during start-up or window, or never led'),
      target(`${store}: ${n} keepers, renewals ÷ expected`, row?.ratioToExpectedRenewals ?? null, '>=', 0.95, note || 'renewals/s in the window ÷ N / renew interval'),
    ];
  });
}

const lost = results.reduce((sum, r) => sum + r.sizes.reduce((a, x) => a + x.lostLeases + x.neverLed, 0), 0);
const result = {
  bench: 'store-scale',
  generatedAt: new Date().toISOString(),
  machine: machine(),
  ttlMs: TTL_MS,
  renewIntervalMs: round(TTL_MS / 3, 1),
  requestTimeoutMs: round(Math.min(TTL_MS / 10, 10_000), 1),
  windowS: WINDOW_S,
  sizes: Object.fromEntries(selectedStores().map((s) => [s.name, sizesFor(s.name)])),
  stores: results,
  lostLeases: lost,
  targets: [...serverStoreTargets(results), ...fileTargets(results)],
  notes: [
    'one process, one store client shared by all N keepers; keepers start spread over one renew interval; the window opens once all lead',
    'latency = the keeper\'s own renew latency (sent → answered), as in its `renewed` event',
    'ratioToRawThroughput = keeper renewals/s ÷ raw ops/s of the comparable command on the same server: the share of the store\'s capacity the keepers use',
  ],
};
const file = writeResult('store-scale', result);
printTable(
  `Store scale — TTL ${TTL_MS} ms (renew every ${Math.round(TTL_MS / 3)} ms), ${WINDOW_S} s window per size; lost leases: ${lost}`,
  ['store', 'N', 'renewals/s', '÷ expected', 'renew p50', 'renew p99', 'lost', 'client CPU', 'raw ops/s', 'renewals ÷\nraw ops/s'],
  results.flatMap((r) =>
    r.sizes.map((x) => [r.store, x.n, fmt.num(x.renewalsPerSec, 1), fmt.x(x.ratioToExpectedRenewals, 2), fmt.ms(x.renewP50Ms, 2), fmt.ms(x.renewP99Ms, 2), x.lostLeases + x.neverLed, `${fmt.num(x.clientCpuPercent, 1)} %`, fmt.int(r.raw.opsPerSec), fmt.num(x.ratioToRawThroughput, 4)]),
  ),
);
printTable(
  'Raw store throughput (baselines, same servers, same run)',
  ['store', 'command', 'ops/s', 'p50', 'p99'],
  results.map((r) => [r.store, r.raw.command ?? r.raw.error, fmt.int(r.raw.opsPerSec), fmt.ms(r.raw.p50Ms, 3), fmt.ms(r.raw.p99Ms, 3)]),
);
if (result.targets.length > 0) printTargets('Targets (issue 15)', result.targets);
process.stdout.write(`wrote ${file}\n`);
if (lost > 0) {
  process.stderr.write(`store-scale: ${lost} lease(s) lost\n`);
  process.exitCode = 1;
}
