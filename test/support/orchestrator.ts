/**
 * The orchestrator fixture (`test/fixtures/orchestrator.mjs`) as a real process, leader of its own
 * process group, for the host tests (file store) and the store end-to-end tests (`--store-url`):
 * its JSON lines, bounded waits, the ways a leader goes away (SIGKILL of the owner, a crash of owner
 * and sidecar together, SIGTERM, a signal to the group), and cleanup that leaves no process behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { readProcessStat } from '../../src/owner/process-owner.js';
import { waitUntil } from './wait.js';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const FIXTURE = join(REPO, 'test/fixtures/orchestrator.mjs');
const START_TIMEOUT_MS = 20_000;

/** Lease timing passed to every orchestrator of one store. */
export interface Timing {
  readonly ttlMs: number;
  readonly renewIntervalMs: number;
  readonly renewDeadlineMs: number;
  readonly requestTimeoutMs: number;
}

/** One JSON line printed by the fixture. */
export interface Line {
  readonly event: string;
  readonly t: number;
  readonly token?: number;
  readonly validUntil?: number;
  readonly storeToken?: number;
  readonly storeHolder?: string | null;
  readonly readMs?: number;
  readonly why?: string;
  readonly reason?: string;
  readonly identity?: string;
  readonly pid?: number;
  readonly sidecarPid?: number;
  readonly count?: number;
  readonly cleared?: number;
  readonly message?: string;
}

/** How to start one orchestrator: its host, its store (a lease file, or a store URL and key), and timing. */
export interface OrchestratorOptions {
  readonly host: string;
  readonly identity: string;
  /** The compiled library the fixture imports. */
  readonly dist: string;
  readonly timing: Timing;
  readonly store: { readonly file: string } | { readonly url: string; readonly key: string };
  /** Further fixture flags, e.g. `['--idle-after', '700']`. */
  readonly args?: readonly string[];
}

/** Whether `pid` (started at `startTime`) has exited: no such process, a zombie, or a reused PID. */
export function hasExited(pid: number, startTime: number | null): boolean {
  const stat = readProcessStat(pid);
  return stat === null || stat.state === 'Z' || stat.state === 'X' || (startTime !== null && stat.startTime !== startTime);
}

const live = new Set<Orchestrator>();

/** A running orchestrator, leader of its own process group; a sidecar host's sidecar is in another group. */
export class Orchestrator {
  readonly lines: Line[] = [];
  readonly identity: string;
  /** When the test ended it (kill, crash, SIGTERM), on `Date.now()`. */
  endedAt: number | undefined;
  readonly #child: ChildProcess;
  readonly #waiters = new Set<() => void>();
  #stderr = '';
  #sidecar: { pid: number; startTime: number | null } | undefined;

  private constructor(child: ChildProcess, identity: string) {
    this.#child = child;
    this.identity = identity;
    child.stderr?.on('data', (chunk: Buffer) => (this.#stderr = (this.#stderr + chunk.toString()).slice(-8_000)));
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
  static async start(options: OrchestratorOptions): Promise<Orchestrator> {
    const { timing, store } = options;
    const args = [
      FIXTURE, '--host', options.host, ...('file' in store ? ['--file', store.file] : ['--store-url', store.url, '--key', store.key]),
      '--identity', options.identity, '--dist', options.dist, '--ttl', String(timing.ttlMs), '--renew', String(timing.renewIntervalMs),
      '--deadline', String(timing.renewDeadlineMs), '--timeout', String(timing.requestTimeoutMs), ...(options.args ?? []),
    ];
    const child = spawn(process.execPath, args, { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    const orchestrator = new Orchestrator(child, options.identity);
    live.add(orchestrator);
    const started = await orchestrator.waitFor('started', START_TIMEOUT_MS, (line) => line.event === 'started' || line.event === 'error');
    if (started.event === 'error') throw new Error(`orchestrator ${options.identity} failed to start: ${started.message}`);
    if (started.sidecarPid !== undefined) {
      orchestrator.#sidecar = { pid: started.sidecarPid, startTime: readProcessStat(started.sidecarPid)?.startTime ?? null };
    }
    return orchestrator;
  }

  get pid(): number {
    return this.#child.pid as number;
  }

  /** Whether the orchestrator process is still running. */
  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  get exitCode(): number | null {
    return this.#child.exitCode;
  }

  /** The sidecar process (sidecar host only). */
  get sidecar(): { pid: number; startTime: number | null } {
    if (this.#sidecar === undefined) throw new Error(`${this.identity} has no sidecar`);
    return this.#sidecar;
  }

  /** Whether its sidecar has ended (true when it has none). */
  get sidecarExited(): boolean {
    return this.#sidecar === undefined || hasExited(this.#sidecar.pid, this.#sidecar.startTime);
  }

  /** Whether it believes it leads now: running, and its last leading/not-leading line is `leading`. */
  get leading(): boolean {
    if (!this.running || this.endedAt !== undefined) return false;
    for (let i = this.lines.length - 1; i >= 0; i--) {
      const event = this.lines[i]?.event;
      if (event === 'leading' || event === 'not-leading') return event === 'leading';
    }
    return false;
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
        else if (!this.running) finish(() => reject(this.#failure(what, 'it exited')));
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

  /** SIGKILL to the orchestrator's group: the owner dies, its detached sidecar lives on and must release. */
  kill(): number {
    this.endedAt = Date.now();
    this.signalGroup('SIGKILL');
    return this.endedAt;
  }

  /** SIGKILL to the owner and its sidecar at once (a machine or container crash): the lease can only expire. */
  crash(): number {
    this.endedAt = Date.now();
    this.signalGroup('SIGKILL');
    if (this.#sidecar !== undefined && !hasExited(this.#sidecar.pid, this.#sidecar.startTime)) process.kill(this.#sidecar.pid, 'SIGKILL');
    return this.endedAt;
  }

  /** SIGTERM to the orchestrator: it stops gracefully (handle.stop() → release) and exits 0. */
  terminate(): number {
    this.endedAt = Date.now();
    process.kill(this.pid, 'SIGTERM');
    return this.endedAt;
  }

  /** Kills the group (resumed first, in case it was stopped) and the sidecar if still there; waits until both are gone. */
  async dispose(): Promise<void> {
    live.delete(this);
    // Only while not yet reaped: a reaped PID may already name someone else's process group.
    for (const signal of ['SIGCONT', 'SIGKILL'] as const) {
      try {
        if (this.running) this.signalGroup(signal);
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
    await waitUntil(`${this.identity} to exit`, 10_000, () => !this.running && this.sidecarExited);
  }

  /** Its recent lines other than actions and renewals, process states, and its stderr: for failure messages. */
  describe(): string {
    const quiet = new Set(['action', 'action-checked', 'renewed']);
    const tail = this.lines.filter((line) => !quiet.has(line.event)).slice(-15);
    const state = (pid: number | undefined): string => (pid === undefined ? '-' : (readProcessStat(pid)?.state ?? 'gone'));
    const states = `pid ${this.#child.pid}, process state ${state(this.#child.pid)}, sidecar state ${state(this.#sidecar?.pid)}`;
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
