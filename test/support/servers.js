/**
 * Real Redis, PostgreSQL and etcd servers for the tests and the benches (one starter, so bench
 * figures are for the servers the tests and CI use): each on 127.0.0.1 with random free ports, a
 * temp data dir, a bounded readiness wait, and `stop()` / `start()` / `restart()` on the same port
 * and data dir (for "survives restart" and outage tests). A missing binary skips that store's
 * suite with a printed hint, unless HEARTBEAT_LAB_REQUIRE_SERVERS=1, where it is an error.
 * Plain ESM so that `bench/` (plain Node) and the TypeScript tests import the same file; the
 * types are in servers.d.ts beside it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, chownSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
/** @type {Record<import('./servers.js').ServerKind, { binary: string; apt: string }>} */
const HINT = {
  redis: { binary: 'redis-server', apt: 'redis-server' },
  postgres: { binary: 'postgres (and initdb)', apt: 'postgresql' },
  etcd: { binary: 'etcd', apt: 'etcd-server' },
};

/**
 * Returns `null` when the server can run here, else a message naming the missing binary and the
 * Debian package. Throws instead when `HEARTBEAT_LAB_REQUIRE_SERVERS=1`, so CI fails.
 */
export function missingServer(kind) {
  const found = kind === 'postgres' ? postgresBin('postgres') && postgresBin('initdb') : binary(kind === 'redis' ? 'redis-server' : 'etcd');
  if (found) return null;
  const message = `${kind} tests skipped: ${HINT[kind].binary} not found on PATH or in the usual places — install it with \`apt-get install -y ${HINT[kind].apt}\` (or run .ci/install-servers.sh)`;
  if (process.env.HEARTBEAT_LAB_REQUIRE_SERVERS === '1') throw new Error(`HEARTBEAT_LAB_REQUIRE_SERVERS=1 but ${message}`);
  return message;
}

/**
 * Redis with AOF (`appendfsync always`), so tokens survive restarts; with `persistence: 'none'`,
 * without AOF or snapshots (a restart forgets everything). `debugCommand: true` allows `DEBUG`
 * (the chaos bench's `DEBUG SLEEP`).
 */
export async function startRedis({ persistence = 'aof', debugCommand = false } = {}) {
  const file = need('redis', binary('redis-server'));
  const aof = persistence === 'aof' ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  return launch('redis', 1, (dir, [port]) => ({
    file,
    args: ['--port', `${port}`, '--bind', '127.0.0.1', '--dir', dir, ...aof,
      '--save', '', '--protected-mode', 'no', '--daemonize', 'no', '--loglevel', 'warning',
      ...(debugCommand ? ['--enable-debug-command', 'yes'] : [])],
    url: `redis://127.0.0.1:${port}`,
    ready: () => redisPing(port),
    stopSignal: 'SIGTERM',
  }));
}

/** PostgreSQL (initdb into a temp dir, trust auth); runs as the `postgres` user when we are root. */
export async function startPostgres() {
  const postgres = need('postgres', postgresBin('postgres'));
  const initdb = need('postgres', postgresBin('initdb'));
  const user = process.getuid?.() === 0 ? (systemUser('postgres') ?? systemUser('nobody')) : undefined;
  if (process.getuid?.() === 0 && user === undefined) throw new Error('running as root but there is no postgres or nobody user to run PostgreSQL as');
  return launch('postgres', 1, (dir, [port]) => ({
    file: postgres,
    args: ['-D', join(dir, 'data'), '-p', `${port}`, '-h', '127.0.0.1', '-k', dir, '-c', 'fsync=off', '-c', 'full_page_writes=off',
      '-c', 'synchronous_commit=off', '-c', 'max_connections=200', '-c', 'shared_buffers=16MB'],
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    ready: () => postgresReady(port),
    stopSignal: 'SIGINT',
    ...(user ?? {}),
    prepare: () => {
      if (user) chownSync(dir, user.uid, user.gid);
      const init = spawnSync(initdb, ['-D', join(dir, 'data'), '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions'], {
        encoding: 'utf8',
        ...(user ?? {}),
      });
      if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout || init.error}`);
    },
  }));
}

/** Single-node etcd with fast raft timings (so the minimum lease TTL is 1 s, not 2 s). */
export async function startEtcd() {
  const file = need('etcd', binary('etcd'));
  return launch('etcd', 2, (dir, [client, peer]) => ({
    file,
    args: ['--name', 'hl', '--data-dir', join(dir, 'etcd'), '--listen-client-urls', `http://127.0.0.1:${client}`,
      '--advertise-client-urls', `http://127.0.0.1:${client}`, '--listen-peer-urls', `http://127.0.0.1:${peer}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`, '--initial-cluster', `hl=http://127.0.0.1:${peer}`,
      '--initial-cluster-state', 'new', '--heartbeat-interval', '10', '--election-timeout', '100', '--log-level', 'error'],
    url: `etcd://127.0.0.1:${client}`,
    ready: () => etcdHealthy(client),
    stopSignal: 'SIGTERM',
  }));
}

/**
 * @typedef {{ file: string, args: string[], url: string, ready: () => Promise<boolean>, stopSignal: NodeJS.Signals,
 *   uid?: number, gid?: number, prepare?: () => void }} Spec
 */

/**
 * @param {import('./servers.js').ServerKind} kind
 * @param {number} portCount
 * @param {(dir: string, ports: number[]) => Spec} specFor
 * @returns {Promise<import('./servers.js').TestServer>}
 */
async function launch(kind, portCount, specFor) {
  const dir = mkdtempSync(join(tmpdir(), `heartbeat-lab-${kind}-`));
  /** @type {Spec | undefined} */
  let spec;
  /** @type {import('node:child_process').ChildProcess | undefined} */
  let child;
  /** @type {number[]} */
  let ports = [];
  let output = '';

  const spawnOnce = async () => {
    const current = /** @type {Spec} */ (spec);
    output = '';
    const proc = spawn(current.file, current.args, {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(current.uid === undefined ? {} : { uid: current.uid, gid: current.gid }),
    });
    child = proc;
    const keep = (chunk) => {
      output = (output + chunk.toString('utf8')).slice(-4_000);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    const exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`${kind} exited during start: ${output.trim()}`);
      if (await current.ready().catch(() => false)) return;
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        await exited;
        throw new Error(`${kind} did not become ready within ${READY_TIMEOUT_MS} ms: ${output.trim()}`);
      }
      await Promise.race([delay(50), exited]);
    }
  };

  const stop = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    proc.kill(/** @type {Spec} */ (spec).stopSignal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };

  const start = async () => {
    // Same port: it may linger briefly after a stop, so retry a few times.
    for (let attempt = 0; ; attempt++) {
      try {
        return await spawnOnce();
      } catch (error) {
        await stop();
        if (attempt >= 5 || !inUse(String(error))) throw error;
        await delay(300);
      }
    }
  };

  try {
    for (let attempt = 0; ; attempt++) {
      ports = await freePorts(portCount);
      spec = specFor(dir, ports);
      try {
        if (attempt === 0) spec.prepare?.();
        await spawnOnce();
        break;
      } catch (error) {
        await stop();
        if (attempt >= 4 || !inUse(String(error))) throw error;
      }
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  const signal = async (sig) => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    if (sig !== 'SIGKILL') {
      proc.kill(sig);
      return;
    }
    child = undefined;
    const exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGKILL');
    await exited;
  };

  return {
    kind,
    url: spec.url,
    ports,
    dir,
    get pid() {
      return child?.pid;
    },
    signal,
    stop,
    start,
    restart: async () => {
      await stop();
      await start();
    },
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function inUse(message) {
  return /in use|EADDRINUSE|could not bind|bind:/i.test(message);
}

/** Finds `count` distinct free ports by binding to port 0. */
async function freePorts(count) {
  const ports = new Set();
  while (ports.size < count) {
    ports.add(
      await new Promise((resolve, reject) => {
        const server = createServer();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
          const address = server.address();
          server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
        });
      }),
    );
  }
  return [...ports];
}

/** Absolute path of an executable on PATH or in the usual places, or undefined. */
export function binary(name) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/local/bin', '/usr/sbin'];
  return dirs.map((d) => join(d, name)).find(executable);
}

function postgresBin(name) {
  const onPath = binary(name);
  if (onPath) return onPath;
  const root = '/usr/lib/postgresql';
  let versions = [];
  try {
    versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  } catch {
    return undefined;
  }
  return versions.map((v) => join(root, v, 'bin', name)).find(executable);
}

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function need(kind, path) {
  if (path) return path;
  throw new Error(missingServer(kind) ?? `${kind} binary not found`);
}

/** uid/gid of a system user, from /etc/passwd; postgres refuses to run as root. */
function systemUser(name) {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  const [, , uid, gid] = line?.split(':') ?? [];
  return uid === undefined || gid === undefined ? undefined : { uid: Number(uid), gid: Number(gid) };
}

function redisPing(port) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

async function postgresReady(port) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 1_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function etcdHealthy(port) {
  const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1_000) });
  const body = await response.json();
  return body.health === 'true' || body.health === true;
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
