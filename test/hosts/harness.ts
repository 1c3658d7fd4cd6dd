/**
 * Test support for the keeper hosts: the orchestrator fixture as a
 * real process (its own process group) with its JSON lines, bounded waits, and cleanup that
 * leaves no process behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterEach, beforeAll, beforeEach } from 'vitest';
import { FileLeaseStore } from '../../src/store/file-store.js';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { readProcessStat } from '../../src/owner/process-owner.js';
export { waitUntil } from '../support/wait.js';
import { waitUntil } from '../support/wait.js';

export { buildHosts } from './build-hosts.js';
import { buildHosts } from './build-hosts.js';

export const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const FIXTURE = join(REPO, 'test/fixtures/orchestrator.mjs');

/**
 * Short lease timing used by every host test. The request timeout is 200 ms rather than 100 ms:
 * on a loaded 2-core machine a file-store renewal (lock + write + two fsyncs) sometimes takes
 * longer than 100 ms several times in a row, and the resulting renew-deadline step-down (a new
 * token) would be blamed on the host. Budget: 600 + 200 + 10 (drift) < 1000.
 */
export const TIMING = { ttlMs: 1000, renewIntervalMs: 250, renewDeadlineMs: 600, requestTimeoutMs: 200 } as const;

/** One JSON line printed by the fixture. */
export interface Line {
  readonly event: string;
  readonly t: number;
  readonly token?: number;
  readonly reason?: string;
  readonly identity?: string;
  readonly pid?: number;
  readonly sidecarPid?: number;
  readonly count?: number;
  readonly cleared?: number;
  readonly message?: string;
}


/** Whether `pid` (started at `startTime`) has exited: no such process, a zombie, or a reused PID. */
export function hasExited(pid: number, startTime: number | null): boolean {
  const stat = readProcessStat(pid);
  return stat === null || stat.state === 'Z' || stat.state === 'X' || (startTime !== null && stat.startTime !== startTime);
}

const live = new Set<Orchestrator>();

/** A running `test/fixtures/orchestrator.mjs`, leader of its own process group. */
export class Orchestrator {
  readonly lines: Line[] = [];
  readonly identity: string;
  readonly #child: ChildProcess;
  readonly #waiters = new Set<() => void>();
  #stderr = '';
  #sidecar: { pid: number; startTime: number | null } | undefined;

  private constructor(child: ChildProcess, identity: string) {
    this.#child = child;
    this.identity = identity;
    child.stderr?.on('data', (chunk: Buffer) => (this.#stderr += chunk.toString()));
    createInterface({ input: child.stdout! }).on('line', (text) => {
      try {
        this.lines.push(JSON.parse(text) as Line);
      } catch {
        this.#stderr += `[stdout] ${text}\n`;
      }
      for (const wake of this.#waiters) wake();
    });
    child.once('exit', () => {
      for (const wake of this.#waiters) wake();
    });
  }

  /** Starts the fixture and waits for its `started` line. */
  static async start(options: { host: string; file: string; identity: string; dist: string; args?: string[] }): Promise<Orchestrator> {
    const args = [
      FIXTURE, '--host', options.host, '--file', options.file, '--identity', options.identity, '--dist', options.dist,
      '--ttl', String(TIMING.ttlMs), '--renew', String(TIMING.renewIntervalMs), '--deadline', String(TIMING.renewDeadlineMs),
      '--timeout', String(TIMING.requestTimeoutMs), ...(options.args ?? []),
    ];
    const child = spawn(process.execPath, args, { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    const orchestrator = new Orchestrator(child, options.identity);
    live.add(orchestrator);
    const started = await orchestrator.waitFor('started', 10_000, (line) => line.event === 'started' || line.event === 'error');
    if (started.event === 'error') throw new Error(`orchestrator ${options.identity} failed to start: ${started.message}`);
    if (started.sidecarPid !== undefined) {
      orchestrator.#sidecar = { pid: started.sidecarPid, startTime: readProcessStat(started.sidecarPid)?.startTime ?? null };
    }
    return orchestrator;
  }

  get pid(): number {
    return this.#child.pid as number;
  }

  /** The sidecar process (sidecar host only). */
  get sidecar(): { pid: number; startTime: number | null } {
    if (this.#sidecar === undefined) throw new Error(`${this.identity} has no sidecar`);
    return this.#sidecar;
  }

  /** Lines with this event (and matching `filter`). */
  events(event: string, filter: (line: Line) => boolean = () => true): Line[] {
    return this.lines.filter((line) => line.event === event && filter(line));
  }

  /** Resolves with the first line (already printed or not) matching `match`; throws after `timeoutMs` with the output so far. */
  waitFor(what: string, timeoutMs: number, match: (line: Line) => boolean): Promise<Line> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = this.lines.find(match);
        if (found !== undefined) finish(() => resolve(found));
        else if (this.#child.exitCode !== null || this.#child.signalCode !== null) finish(() => reject(this.#failure(what, 'it exited')));
      };
      // On timeout, read what is already in the pipe first (this process may itself have been starved).
      const timer = setTimeout(() => setImmediate(() => settled || finish(() => reject(this.#failure(what, `timed out after ${timeoutMs} ms`)))), timeoutMs);
      let settled = false;
      const finish = (settle: () => void): void => {
        settled = true;
        clearTimeout(timer);
        this.#waiters.delete(check);
        settle();
      };
      this.#waiters.add(check);
      check();
    });
  }

  /** Signals the whole process group of the orchestrator (as a session host or watchdog would). */
  signalGroup(signal: NodeJS.Signals): void {
    process.kill(-this.pid, signal);
  }

  /** Writes a command line to its stdin. */
  command(line: 'stop' | 'exit'): void {
    this.#child.stdin?.write(`${line}\n`);
  }

  /** Kills the group (resumed first, in case it was stopped) and the sidecar if still there. */
  async dispose(): Promise<void> {
    live.delete(this);
    const running = (): boolean => this.#child.exitCode === null && this.#child.signalCode === null;
    // Only while not yet reaped: a reaped PID may already name someone else's process group.
    for (const signal of ['SIGCONT', 'SIGKILL'] as const) {
      try {
        if (running()) this.signalGroup(signal);
      } catch {
        // already gone
      }
    }
    const sidecar = this.#sidecar;
    if (sidecar !== undefined && !hasExited(sidecar.pid, sidecar.startTime)) {
      try {
        process.kill(sidecar.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await waitUntil(`${this.identity} to exit`, 5000, () => !running());
  }

  /** Its recent lines other than actions and renewals, and its stderr: for failure messages. */
  describe(): string {
    const tail = this.lines.filter((line) => line.event !== 'action' && line.event !== 'renewed').slice(-12);
    const state = (pid: number | undefined): string => (pid === undefined ? '-' : (readProcessStat(pid)?.state ?? 'gone'));
    const states = `process state ${state(this.#child.pid)}, sidecar state ${state(this.#sidecar?.pid)}`;
    return `${this.identity} lines (${states}):\n${tail.map((l) => JSON.stringify(l)).join('\n')}\nstderr: ${this.#stderr}`;
  }

  #failure(what: string, why: string): Error {
    return new Error(`${this.identity}: ${why} waiting for ${what}\n${this.describe()}`);
  }
}

/** Disposes every orchestrator still running. Call in `afterEach`. */
export async function disposeAll(): Promise<void> {
  await Promise.all([...live].map((orchestrator) => orchestrator.dispose()));
}

/** Reads the lease every `everyMs` for `durationMs`; returns every reading. */
export async function sampleLease(
  read: () => Promise<{ holder: string | null; token: number; expiresInMs: number } | null>,
  durationMs: number,
  everyMs = 200,
): Promise<Array<{ holder: string | null; token: number; expiresInMs: number } | null>> {
  const readings = [];
  const end = Date.now() + durationMs;
  while (Date.now() < end) {
    readings.push(await read());
    await new Promise((done) => setTimeout(done, everyMs));
  }
  return readings;
}

/** PIDs of this process's live (non-zombie) children whose command line contains `match`. */
export function liveChildren(match: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== process.pid || fields[0] === 'Z') continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(match)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** What a host test works in: the compiled hosts, and per test a temp dir with a file store. */
export interface HostWorkspace {
  readonly dist: string;
  readonly dir: string;
  readonly file: string;
  readonly store: FileLeaseStore;
}

/**
 * Registers the hooks every host test file needs: build the hosts once, a fresh lease file per
 * test, and afterwards every started process killed and the dir removed. The returned object's
 * fields are filled in by the hooks.
 */
export function useHostWorkspace(prefix: string): HostWorkspace {
  const ws = {} as { dist: string; dir: string; file: string; store: FileLeaseStore };
  beforeAll(async () => {
    ws.dist = (await buildHosts()).dist;
  });
  beforeEach(async () => {
    ws.dir = await mkdtemp(join(tmpdir(), prefix));
    ws.file = join(ws.dir, 'lease.json');
    ws.store = new FileLeaseStore(ws.file);
  });
  afterEach(async () => {
    await disposeAll();
    await rm(ws.dir, { recursive: true, force: true });
  });
  return ws;
}
