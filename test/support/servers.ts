/**
 * Real Redis, PostgreSQL and etcd servers for tests: each on 127.0.0.1 with random free ports, a
 * temp data dir, a bounded readiness wait, and `stop()` / `start()` / `restart()` on the same port
 * and data dir (for "survives restart" and outage tests). A missing binary skips that store's
 * suite with a printed hint, unless HEARTBEAT_LAB_REQUIRE_SERVERS=1, where it is an error.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, chownSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export type ServerKind = 'redis' | 'postgres' | 'etcd';

/** A running (or stopped) test server. */
export interface TestServer {
  readonly kind: ServerKind;
  /** Store URL for `openLeaseStore`, e.g. `redis://127.0.0.1:41234`. */
  readonly url: string;
  /** Stops the process (graceful signal, then SIGKILL after 10 s). Data dir and port are kept. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data dir and waits until it answers. */
  start(): Promise<void>;
  restart(): Promise<void>;
  /**
   * Sends `signal` to the server process (a fault: `SIGKILL`, `SIGSTOP`, `SIGCONT`). After SIGKILL
   * it waits for the exit; `start()` brings it back on the same port and data dir.
   */
  signal(signal: NodeJS.Signals): Promise<void>;
  /** PID of the running server process, or undefined while it is stopped. */
  readonly pid: number | undefined;
  /** Stops it and removes the data dir. */
  dispose(): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const HINT: Record<ServerKind, { binary: string; apt: string }> = {
  redis: { binary: 'redis-server', apt: 'redis-server' },
  postgres: { binary: 'postgres (and initdb)', apt: 'postgresql' },
  etcd: { binary: 'etcd', apt: 'etcd-server' },
};

/**
 * Returns `null` when the server can run here, else a message naming the missing binary and the
 * Debian package. Throws instead when `HEARTBEAT_LAB_REQUIRE_SERVERS=1`, so CI fails.
 */
export function missingServer(kind: ServerKind): string | null {
  const found = kind === 'postgres' ? postgresBin('postgres') && postgresBin('initdb') : binary(kind === 'redis' ? 'redis-server' : 'etcd');
  if (found) return null;
  const message = `${kind} tests skipped: ${HINT[kind].binary} not found on PATH or in the usual places — install it with \`apt-get install -y ${HINT[kind].apt}\` (or run .ci/install-servers.sh)`;
  if (process.env.HEARTBEAT_LAB_REQUIRE_SERVERS === '1') throw new Error(`HEARTBEAT_LAB_REQUIRE_SERVERS=1 but ${message}`);
  return message;
}

/**
 * Redis with AOF (`appendfsync always`), so tokens survive restarts; with `persistence: 'none'`,
 * without AOF or snapshots (a restart forgets everything).
 */
export async function startRedis({ persistence = 'aof' }: { persistence?: 'aof' | 'none' } = {}): Promise<TestServer> {
  const file = need('redis', binary('redis-server'));
  const aof = persistence === 'aof' ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  return launch('redis', 1, (dir, [port]) => ({
    file,
    args: ['--port', `${port}`, '--bind', '127.0.0.1', '--dir', dir, ...aof,
      '--save', '', '--protected-mode', 'no', '--daemonize', 'no', '--loglevel', 'warning'],
    url: `redis://127.0.0.1:${port}`,
    ready: () => redisPing(port as number),
    stopSignal: 'SIGTERM',
  }));
}

/** PostgreSQL (initdb into a temp dir, trust auth); runs as the `postgres` user when we are root. */
export async function startPostgres(): Promise<TestServer> {
  const postgres = need('postgres', postgresBin('postgres'));
  const initdb = need('postgres', postgresBin('initdb'));
  const user = process.getuid?.() === 0 ? (systemUser('postgres') ?? systemUser('nobody')) : undefined;
  if (process.getuid?.() === 0 && user === undefined) throw new Error('running as root but there is no postgres or nobody user to run PostgreSQL as');
  return launch('postgres', 1, (dir, [port]) => ({
    file: postgres,
    args: ['-D', join(dir, 'data'), '-p', `${port}`, '-h', '127.0.0.1', '-k', dir, '-c', 'fsync=off', '-c', 'full_page_writes=off',
      '-c', 'synchronous_commit=off', '-c', 'max_connections=200', '-c', 'shared_buffers=16MB'],
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    ready: () => postgresReady(port as number),
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
export async function startEtcd(): Promise<TestServer> {
  const file = need('etcd', binary('etcd'));
  return launch('etcd', 2, (dir, [client, peer]) => ({
    file,
    args: ['--name', 'hl', '--data-dir', join(dir, 'etcd'), '--listen-client-urls', `http://127.0.0.1:${client}`,
      '--advertise-client-urls', `http://127.0.0.1:${client}`, '--listen-peer-urls', `http://127.0.0.1:${peer}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`, '--initial-cluster', `hl=http://127.0.0.1:${peer}`,
      '--initial-cluster-state', 'new', '--heartbeat-interval', '10', '--election-timeout', '100', '--log-level', 'error'],
    url: `etcd://127.0.0.1:${client}`,
    ready: () => etcdHealthy(client as number),
    stopSignal: 'SIGTERM',
  }));
}

interface Spec {
  file: string;
  args: string[];
  url: string;
  ready: () => Promise<boolean>;
  stopSignal: NodeJS.Signals;
  uid?: number;
  gid?: number;
  prepare?: () => void;
}

async function launch(kind: ServerKind, portCount: number, specFor: (dir: string, ports: number[]) => Spec): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), `heartbeat-lab-${kind}-`));
  let spec: Spec | undefined;
  let child: ChildProcess | undefined;
  let output = '';

  const spawnOnce = async (): Promise<void> => {
    const current = spec as Spec;
    output = '';
    const proc = spawn(current.file, current.args, {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(current.uid === undefined ? {} : { uid: current.uid, gid: current.gid }),
    });
    child = proc;
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-4_000);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
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

  const stop = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill((spec as Spec).stopSignal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };

  const start = async (): Promise<void> => {
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
      spec = specFor(dir, await freePorts(portCount));
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

  const signal = async (sig: NodeJS.Signals): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    if (sig !== 'SIGKILL') {
      proc.kill(sig);
      return;
    }
    child = undefined;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGKILL');
    await exited;
  };

  return {
    kind,
    url: spec.url,
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

function inUse(message: string): boolean {
  return /in use|EADDRINUSE|could not bind|bind:/i.test(message);
}

/** Finds `count` distinct free ports by binding to port 0. */
async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) {
    ports.add(
      await new Promise<number>((resolve, reject) => {
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

function binary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/local/bin', '/usr/sbin'];
  return dirs.map((d) => join(d, name)).find(executable);
}

function postgresBin(name: string): string | undefined {
  const onPath = binary(name);
  if (onPath) return onPath;
  const root = '/usr/lib/postgresql';
  let versions: string[] = [];
  try {
    versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  } catch {
    return undefined;
  }
  return versions.map((v) => join(root, v, 'bin', name)).find(executable);
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function need(kind: ServerKind, path: string | undefined): string {
  if (path) return path;
  throw new Error(missingServer(kind) ?? `${kind} binary not found`);
}

/** uid/gid of a system user, from /etc/passwd; postgres refuses to run as root. */
function systemUser(name: string): { uid: number; gid: number } | undefined {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  const [, , uid, gid] = line?.split(':') ?? [];
  return uid === undefined || gid === undefined ? undefined : { uid: Number(uid), gid: Number(gid) };
}

function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    const done = (ok: boolean): void => {
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

async function postgresReady(port: number): Promise<boolean> {
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

async function etcdHealthy(port: number): Promise<boolean> {
  const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1_000) });
  const body = (await response.json()) as { health?: unknown };
  return body.health === 'true' || body.health === true;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
