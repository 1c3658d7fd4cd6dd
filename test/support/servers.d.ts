// Types of servers.js (plain ESM so that bench/ and the tests share one server starter).

export type ServerKind = 'redis' | 'postgres' | 'etcd';

/** A running (or stopped) test server. */
export interface TestServer {
  readonly kind: ServerKind;
  /** Store URL for `openLeaseStore`, e.g. `redis://127.0.0.1:41234`. */
  readonly url: string;
  /** The ports it listens on (etcd: client, then peer). */
  readonly ports: readonly number[];
  /** Its temp data dir, removed by `dispose()`. */
  readonly dir: string;
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

/**
 * Returns `null` when the server can run here, else a message naming the missing binary and the
 * Debian package. Throws instead when `HEARTBEAT_LAB_REQUIRE_SERVERS=1`, so CI fails.
 */
export function missingServer(kind: ServerKind): string | null;

/** Absolute path of an executable on PATH or in the usual places, or undefined. */
export function binary(name: string): string | undefined;

/**
 * Redis with AOF (`appendfsync always`), so tokens survive restarts; with `persistence: 'none'`,
 * without AOF or snapshots (a restart forgets everything). `debugCommand: true` allows `DEBUG`.
 */
export function startRedis(options?: { persistence?: 'aof' | 'none'; debugCommand?: boolean }): Promise<TestServer>;

/** PostgreSQL (initdb into a temp dir, trust auth); runs as the `postgres` user when we are root. */
export function startPostgres(): Promise<TestServer>;

/** Single-node etcd with fast raft timings (so the minimum lease TTL is 1 s, not 2 s). */
export function startEtcd(): Promise<TestServer>;
