// `npm run chaos-real`: a Jepsen-style run of the shipped `keeper run` against real servers.
//
// Per store (Redis, PostgreSQL, etcd; each started on loopback in a temp dir): three contenders
// `keeper run --ttl 1s -- writer.js` whose commands do fenced writes to one register on the same
// server and log them; a nemesis that every 2.5-5 s (seeded) pauses or kills the leader's command
// or keeper, kill -9s and restarts the server, pauses the server, or runs Redis DEBUG SLEEP; then a
// checker over the recorded history. Writes <out>/<store>.history.jsonl and <out>/summary.json.
//
//   node bench/chaos-real/chaos-real.js [--seconds 300] [--stores redis,postgres,etcd] [--seed 1]
//                                        [--out DIR] [--check]
// --check exits 1 unless (b) and (e) are zero for every store (the CI short version: --seconds 60).
//
// Checks, each counted per store:
//  (a) a write accepted from an older token after a newer token's command started (its tenure):
//      the fence allows this until the newer holder writes; documented in README "Guarantees";
//  (b) a write accepted from an older token after a newer token's write was acknowledged: must be 0;
//  (c) leaderless gaps between accepted writes longer than the bound, outside server faults and
//      command pauses (the bound: failoverWindow().afterCrashMs on this store + 1 s command start);
//  (d) a leader killed or frozen whose successor started later than that bound (a lease outliving
//      its holder), outside server faults;
//  (e) regressions: a leadership starting with a token not above every earlier one, or a fence
//      reporting a current token below one it had already acknowledged: must be 0.
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEtcd, startPostgres, startRedis } from '../../test/support/servers.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const KEEPER = join(REPO, 'bin/keeper.js');
const WRITER = join(REPO, 'bench/chaos-real/writer.js');
const CONTENDERS = 3;
const TTL = '1s';
const COMMAND_START_MS = 1_000;

const args = parseArgs(process.argv.slice(2));
const now = () => Number(process.hrtime.bigint() / 1000n) / 1000;
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

function parseArgs(argv) {
  const out = { seconds: 300, stores: ['redis', 'postgres', 'etcd'], seed: 1, out: undefined, check: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--seconds') out.seconds = Number(argv[++i]);
    else if (a === '--stores') out.stores = String(argv[++i]).split(',');
    else if (a === '--seed') out.seed = Number(argv[++i]);
    else if (a === '--out') out.out = argv[++i];
    else if (a === '--check') out.check = true;
    else {
      process.stderr.write(`chaos-real: unknown argument ${JSON.stringify(a)}\n`);
      process.exit(2);
    }
  }
  if (!(out.seconds > 0) || out.seconds > 3_600) {
    process.stderr.write('chaos-real: --seconds must be in (0, 3600]\n');
    process.exit(2);
  }
  return out;
}

/** mulberry32: the nemesis schedule is replayable from --seed. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STARTERS = { redis: () => startRedis({ debugCommand: true }), postgres: startPostgres, etcd: startEtcd };

async function runStore(kind, out, random) {
  const server = await STARTERS[kind]();
  const history = join(out, `${kind}.history.jsonl`);
  writeFileSync(history, '');
  const log = (event) => appendFileSync(history, `${JSON.stringify(event)}\n`);
  const keepers = new Map(); // id -> current keeper ChildProcess
  let running = true;
  const keeperLog = join(out, `${kind}.keepers.log`);

  const contend = async (id) => {
    while (running) {
      const proc = spawn(process.execPath, [KEEPER, 'run', '--store', server.url, '--key', 'chaos', '--id', id, '--ttl', TTL, '--',
        process.execPath, WRITER, kind, server.url, history], { stdio: ['ignore', 'ignore', 'pipe'], cwd: REPO });
      proc.stderr.on('data', (chunk) => appendFileSync(keeperLog, chunk));
      keepers.set(id, proc);
      const code = await new Promise((done) => proc.once('exit', (c, s) => done(c ?? s)));
      log({ ev: 'keeper-exit', t: now(), id, keeperPid: proc.pid, code });
      if (running) await sleep(100);
    }
  };
  const contenders = Array.from({ length: CONTENDERS }, (_, i) => contend(`c${i + 1}`));

  /** The current leader: the latest command start whose keeper is still running. */
  const leader = () => {
    const starts = readHistory(history).filter((e) => e.ev === 'start');
    for (let i = starts.length - 1; i >= 0; i--) {
      const keeperPid = Number(String(starts[i].holder).split('/')[1]?.split('-')[0]);
      const proc = [...keepers.values()].find((p) => p.pid === keeperPid && p.exitCode === null && p.signalCode === null);
      if (proc) return { commandPid: starts[i].pid, keeper: proc, token: starts[i].token };
    }
    return undefined;
  };
  const pause = async (pid, ms) => {
    try {
      process.kill(pid, 'SIGSTOP');
      await sleep(ms);
    } finally {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // gone meanwhile
      }
    }
  };
  const between = (lo, hi) => lo + (hi - lo) * random();

  const faults = {
    'pause-command': async (l) => pause(l.commandPid, between(1_500, 3_000)),
    'kill-command': async (l) => process.kill(l.commandPid, 'SIGKILL'),
    'pause-keeper': async (l) => pause(l.keeper.pid, between(1_500, 3_000)),
    'kill-keeper': async (l) => l.keeper.kill('SIGKILL'),
    'server-kill': async () => {
      await server.signal('SIGKILL');
      await sleep(between(500, 1_500));
      await server.start();
    },
    'server-pause': async () => pause(server.pid, between(1_000, 2_000)),
    ...(kind === 'redis'
      ? {
          'redis-debug-sleep': async () => {
            const { Redis } = await import('ioredis');
            const raw = new Redis(server.url, { maxRetriesPerRequest: 0, lazyConnect: true });
            raw.on('error', () => undefined);
            try {
              await raw.connect();
              await raw.call('DEBUG', 'SLEEP', '2');
            } finally {
              raw.disconnect();
            }
          },
        }
      : {}),
  };
  const names = Object.keys(faults);
  const endAt = now() + args.seconds * 1_000;
  await sleep(3_000); // a first leader
  while (now() < endAt) {
    await sleep(between(2_500, 5_000));
    if (now() >= endAt) break;
    const name = names[Math.floor(random() * names.length)];
    const l = leader();
    const needsLeader = !name.startsWith('server') && !name.startsWith('redis');
    if (needsLeader && l === undefined) continue;
    const at = now();
    try {
      await faults[name](l);
      log({ ev: 'fault', kind: name, t: at, until: now(), target: needsLeader ? { commandPid: l.commandPid, keeperPid: l.keeper.pid, token: l.token } : 'server' });
    } catch (error) {
      log({ ev: 'fault', kind: name, t: at, until: now(), error: String(error).slice(0, 80) });
    }
  }
  running = false;
  for (const proc of keepers.values()) if (proc.exitCode === null) proc.kill('SIGTERM');
  await Promise.race([Promise.all(contenders), sleep(10_000)]);
  for (const proc of keepers.values()) if (proc.exitCode === null) proc.kill('SIGKILL');
  await sleep(500);
  await server.dispose();
  return { store: kind, ...check(readHistory(history), await boundMs(kind)) };
}

function readHistory(file) {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .flatMap((line) => {
      try {
        return [JSON.parse(line)];
      } catch {
        return []; // a line torn by a SIGKILL mid-append
      }
    });
}

/** failoverWindow().afterCrashMs for `keeper run --ttl 1s` on this store, from the built library. */
async function boundMs(kind) {
  const { resolveKeeperOptions, failoverWindow } = await import('../../dist/src/keeper/keeper-options.js');
  const o = resolveKeeperOptions({ key: 'chaos', identity: 'bound', ttlMs: 1_000 });
  const expiry = kind === 'etcd' ? 1_000 + 750 : 1_000; // EtcdLeaseStore.expiryBoundMs(1000)
  return failoverWindow(o, expiry).afterCrashMs + COMMAND_START_MS;
}

/** The checker over one store's history (`bound`: the documented failover bound in ms). */
export function check(events, bound) {
  const starts = events.filter((e) => e.ev === 'start').sort((x, y) => x.t - y.t);
  const writes = events.filter((e) => e.ev === 'write');
  const applied = writes.filter((w) => w.applied).sort((x, y) => x.t0 - y.t0);
  const faults = events.filter((e) => e.ev === 'fault');
  const blocking = faults.filter((f) => f.kind.startsWith('server') || f.kind === 'redis-debug-sleep' || f.kind === 'pause-command');
  const overlaps = (from, to, list) => list.some((f) => f.t < to && (f.until ?? f.t) + bound > from);

  // (a) and (b)
  let a = 0;
  let b = 0;
  const ackedByToken = new Map(); // token -> earliest acknowledgement (t1) of an applied write
  for (const w of applied) ackedByToken.set(w.token, Math.min(ackedByToken.get(w.token) ?? Infinity, w.t1));
  for (const w of applied) {
    if (starts.some((s) => s.token > w.token && s.t < w.t0)) a++;
    for (const [token, ackedAt] of ackedByToken) {
      if (token > w.token && ackedAt < w.t0) {
        b++;
        break;
      }
    }
  }
  // (c) gaps between accepted writes
  let longestGapMs = 0;
  let c = 0;
  for (let i = 1; i < applied.length; i++) {
    const from = applied[i - 1].t1;
    const to = applied[i].t0;
    const gap = to - from;
    if (gap > longestGapMs) longestGapMs = gap;
    if (gap > bound && !overlaps(from, to, blocking)) c++;
  }
  // (d) killed or frozen leaders whose successor came late
  let d = 0;
  const serverFaults = faults.filter((f) => f.kind.startsWith('server') || f.kind === 'redis-debug-sleep');
  for (const f of faults.filter((x) => ['kill-keeper', 'kill-command', 'pause-keeper'].includes(x.kind) && x.target?.token !== undefined)) {
    const next = starts.find((s) => s.t > f.t && s.token > f.target.token);
    if (next === undefined) continue;
    if (next.t - f.t > bound && !overlaps(f.t, next.t, serverFaults)) d++;
  }
  // (e) regressions
  let e = 0;
  let maxStart = 0;
  for (const s of starts) {
    if (s.token <= maxStart) e++;
    maxStart = Math.max(maxStart, s.token);
  }
  const acked = writes.filter((w) => typeof w.current === 'number').sort((x, y) => x.t0 - y.t0);
  for (const w of acked) {
    const earlierMax = Math.max(0, ...[...ackedByToken].filter(([, at]) => at < w.t0).map(([token]) => token));
    if (w.current < earlierMax) e++;
  }
  const byKind = {};
  for (const f of faults) byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
  return {
    faults: byKind,
    faultsTotal: faults.length,
    leaderships: starts.length,
    maxToken: maxStart,
    writes: { applied: applied.length, refused: writes.length - applied.length, errors: events.filter((x) => x.ev === 'write-error').length },
    a,
    b,
    c,
    d,
    e,
    longestGapMs: Math.round(longestGapMs),
    boundMs: Math.round(bound),
  };
}

async function main() {
  const out = args.out ?? mkdtempSync(join(tmpdir(), 'heartbeat-lab-chaos-'));
  mkdirSync(out, { recursive: true });
  const random = rng(args.seed);
  const results = [];
  for (const kind of args.stores) {
    if (!STARTERS[kind]) {
      process.stderr.write(`chaos-real: unknown store ${JSON.stringify(kind)} (redis, postgres, etcd)\n`);
      process.exit(2);
    }
    process.stdout.write(`chaos-real: ${kind} for ${args.seconds} s (seed ${args.seed}) …\n`);
    const result = await runStore(kind, out, random);
    results.push(result);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
  const summary = { seconds: args.seconds, seed: args.seed, contenders: CONTENDERS, ttl: TTL, results };
  writeFileSync(join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  process.stdout.write(`chaos-real: history and summary in ${out}\n`);
  const bad = results.filter((r) => r.b > 0 || r.e > 0);
  if (args.check && bad.length > 0) {
    process.stderr.write(`chaos-real: FAIL — (b) or (e) not zero for ${bad.map((r) => r.store).join(', ')}\n`);
    process.exit(1);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
