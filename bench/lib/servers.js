// Real Redis, PostgreSQL and etcd for the benches: a plain-JS copy of the essentials of
// test/support/servers.ts (127.0.0.1, free ports, temp data dir, bounded readiness wait), with the
// same server settings, so bench figures are for the servers the tests and CI use
// (.ci/install-servers.sh installs them).
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, chownSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

const READY_TIMEOUT_MS = 30_000;

export function binary(name) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/local/bin', '/usr/sbin'];
  return dirs.map((d) => join(d, name)).find(executable);
}

export function postgresBin(name) {
  const onPath = binary(name);
  if (onPath) return onPath;
  let versions = [];
  try {
    versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
  } catch {
    return undefined;
  }
  return versions.map((v) => join('/usr/lib/postgresql', v, 'bin', name)).find(executable);
}

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function need(what, path) {
  if (path) return path;
  throw new Error(`${what} not found: install the servers with \`bash .ci/install-servers.sh\``);
}

function systemUser(name) {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  const [, , uid, gid] = line?.split(':') ?? [];
  return uid === undefined || gid === undefined ? undefined : { uid: Number(uid), gid: Number(gid) };
}

async function freePorts(count) {
  const ports = new Set();
  while (ports.size < count) {
    ports.add(
      await new Promise((resolve, reject) => {
        const server = createServer();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
          const { port } = server.address();
          server.close(() => resolve(port));
        });
      }),
    );
  }
  return [...ports];
}

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function launch(kind, portCount, specFor) {
  const dir = mkdtempSync(join(tmpdir(), `heartbeat-lab-bench-${kind}-`));
  for (let attempt = 0; ; attempt++) {
    const ports = await freePorts(portCount);
    const spec = specFor(dir, ports);
    if (attempt === 0) spec.prepare?.();
    const proc = spawn(spec.file, spec.args, {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(spec.user ? { uid: spec.user.uid, gid: spec.user.gid } : {}),
    });
    let output = '';
    const keep = (chunk) => {
      output = (output + chunk.toString('utf8')).slice(-4000);
    };
    proc.stdout.on('data', keep);
    proc.stderr.on('data', keep);
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let ready = false;
    while (!ready) {
      if (proc.exitCode !== null || proc.signalCode !== null) break;
      ready = await spec.ready().catch(() => false);
      if (ready || Date.now() > deadline) break;
      await Promise.race([delay(50), exited]);
    }
    if (ready) {
      let current = { proc, exited };
      const stop = async () => {
        const { proc, exited } = current;
        if (proc.exitCode !== null || proc.signalCode !== null) return;
        proc.kill('SIGCONT');
        proc.kill(spec.stopSignal);
        const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      };
      /** Sends a fault signal (SIGKILL waits for the exit; `start()` brings the server back). */
      const signal = async (sig) => {
        const { proc, exited } = current;
        if (proc.exitCode !== null || proc.signalCode !== null) return;
        proc.kill(sig);
        if (sig === 'SIGKILL') await exited;
      };
      /** Starts the server again on the same ports and data dir; waits until it answers (bounded). */
      const start = async () => {
        const again = spawn(spec.file, spec.args, {
          cwd: dir,
          stdio: ['ignore', 'ignore', 'ignore'],
          ...(spec.user ? { uid: spec.user.uid, gid: spec.user.gid } : {}),
        });
        current = { proc: again, exited: new Promise((resolve) => again.once('exit', resolve)) };
        const until = Date.now() + READY_TIMEOUT_MS;
        while (Date.now() < until && again.exitCode === null) {
          if (await spec.ready().catch(() => false)) return;
          await delay(50);
        }
        throw new Error(`${kind} did not come back after a restart`);
      };
      return {
        kind,
        url: spec.url,
        ports,
        get pid() {
          return current.proc.pid;
        },
        dir,
        signal,
        start,
        stop,
        dispose: async () => {
          await stop();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    proc.kill('SIGKILL');
    await exited;
    if (attempt >= 4 || !/in use|EADDRINUSE|could not bind|bind:/i.test(output)) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`${kind} did not start: ${output.trim()}`);
    }
  }
}

function redisPing(port) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

/** Redis with AOF (`appendfsync always`), as in test/support/servers.ts. */
export function startRedis() {
  const file = need('redis-server', binary('redis-server'));
  return launch('redis', 1, (dir, [port]) => ({
    file,
    args: ['--port', `${port}`, '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always',
      '--save', '', '--protected-mode', 'no', '--daemonize', 'no', '--loglevel', 'warning', '--enable-debug-command', 'yes'],
    url: `redis://127.0.0.1:${port}`,
    ready: () => redisPing(port),
    stopSignal: 'SIGTERM',
  }));
}

/** PostgreSQL (initdb into a temp dir, trust auth, fsync off), as the `postgres` user when root. */
export function startPostgres() {
  const postgres = need('postgres', postgresBin('postgres'));
  const initdb = need('initdb', postgresBin('initdb'));
  const user = process.getuid?.() === 0 ? (systemUser('postgres') ?? systemUser('nobody')) : undefined;
  return launch('postgres', 1, (dir, [port]) => ({
    file: postgres,
    args: ['-D', join(dir, 'data'), '-p', `${port}`, '-h', '127.0.0.1', '-k', dir, '-c', 'fsync=off', '-c', 'full_page_writes=off',
      '-c', 'synchronous_commit=off', '-c', 'max_connections=200', '-c', 'shared_buffers=16MB'],
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    ready: async () => {
      const { default: pg } = await import('pg');
      const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 1000 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('SELECT 1');
        return true;
      } finally {
        await client.end().catch(() => undefined);
      }
    },
    stopSignal: 'SIGINT',
    user,
    prepare: () => {
      if (user) chownSync(dir, user.uid, user.gid);
      const init = spawnSync(initdb, ['-D', join(dir, 'data'), '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions'], {
        encoding: 'utf8',
        ...(user ? { uid: user.uid, gid: user.gid } : {}),
      });
      if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout || init.error}`);
    },
  }));
}

/** Single-node etcd with fast raft timings, as in test/support/servers.ts. */
export function startEtcd() {
  const file = need('etcd', binary('etcd'));
  return launch('etcd', 2, (dir, [client, peer]) => ({
    file,
    args: ['--name', 'hl', '--data-dir', join(dir, 'etcd'), '--listen-client-urls', `http://127.0.0.1:${client}`,
      '--advertise-client-urls', `http://127.0.0.1:${client}`, '--listen-peer-urls', `http://127.0.0.1:${peer}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`, '--initial-cluster', `hl=http://127.0.0.1:${peer}`,
      '--initial-cluster-state', 'new', '--heartbeat-interval', '10', '--election-timeout', '100', '--log-level', 'error'],
    url: `etcd://127.0.0.1:${client}`,
    ready: async () => {
      const response = await fetch(`http://127.0.0.1:${client}/health`, { signal: AbortSignal.timeout(1000) });
      const body = await response.json();
      return body.health === 'true' || body.health === true;
    },
    stopSignal: 'SIGTERM',
  }));
}
