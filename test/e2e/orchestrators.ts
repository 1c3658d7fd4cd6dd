/**
 * The orchestrator fixture (`test/fixtures/orchestrator.mjs`) as a real process on a real store
 * (`--store-url`, sidecar host): its JSON lines, bounded waits, the ways a production leader goes
 * away (SIGKILL of the owner, a crash of owner and sidecar together, SIGTERM), and cleanup that
 * leaves no process behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { readProcessStat } from '../../src/owner/process-owner.js';
import { lastOf } from './analysis.js';
export { waitUntil } from '../support/wait.js';
import { waitUntil } from '../support/wait.js';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const FIXTURE = join(REPO, 'test/fixtures/orchestrator.mjs');

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
  readonly sidecarPid?: number;
  readonly count?: number;
  readonly cleared?: number;
  readonly message?: string;
}


export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/** Whether `pid` (started at `startTime`) has exited: no such process, a zombie, or a reused PID. */
function hasExited(pid: number, startTime: number | null): boolean {
  const stat = readProcessStat(pid);
  return stat === null || stat.state === 'Z' || stat.state === 'X' || (startTime !== null && stat.startTime !== startTime);
}

const live = new Set<Orchestrator>();

/** A running orchestrator, leader of its own process group; its sidecar is in another group. */
export class Orchestrator {
  readonly lines: Line[] = [];
  readonly identity: string;
  /** When the test ended it (kill, crash, SIGTERM), on `Date.now()`. */
  endedAt: number | undefined;
  readonly #child: ChildProcess;
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
    });
  }

  /** Starts the fixture on `storeUrl` with the sidecar host and waits for its `started` line. */
  static async start(options: { storeUrl: string; key: string; identity: string; dist: string; timing: Timing }): Promise<Orchestrator> {
    const { timing } = options;
    const args = [
      FIXTURE, '--host', 'sidecar', '--store-url', options.storeUrl, '--key', options.key, '--identity', options.identity,
      '--dist', options.dist, '--ttl', String(timing.ttlMs), '--renew', String(timing.renewIntervalMs),
      '--deadline', String(timing.renewDeadlineMs), '--timeout', String(timing.requestTimeoutMs),
      '--idle-after', '300', '--action-every', '100',
    ];
    const child = spawn(process.execPath, args, { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    const orchestrator = new Orchestrator(child, options.identity);
    live.add(orchestrator);
    const started = await orchestrator.waitFor('started', 20_000, (line) => line.event === 'started' || line.event === 'error');
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

  /** Whether its sidecar has ended. */
  get sidecarExited(): boolean {
    return this.#sidecar === undefined || hasExited(this.#sidecar.pid, this.#sidecar.startTime);
  }

  /** Whether it believes it leads now: running, and its last leading/not-leading line is `leading`. */
  get leading(): boolean {
    if (!this.running || this.endedAt !== undefined) return false;
    const last = lastOf(this.lines, (line) => line.event === 'leading' || line.event === 'not-leading');
    return last?.event === 'leading';
  }

  /** Lines with this event (and matching `filter`). */
  events(event: string, filter: (line: Line) => boolean = () => true): Line[] {
    return this.lines.filter((line) => line.event === event && filter(line));
  }

  /** Resolves with the first line matching `match`; throws after `timeoutMs` with the output so far. */
  async waitFor(what: string, timeoutMs: number, match: (line: Line) => boolean): Promise<Line> {
    try {
      return await waitUntil(what, timeoutMs, () => this.lines.find(match) ?? (this.running ? undefined : Promise.reject(new Error('it exited'))));
    } catch (error) {
      throw new Error(`${this.identity}: ${(error as Error).message} waiting for ${what}\n${this.describe()}`);
    }
  }

  /** SIGKILL to the orchestrator's group: the owner dies, its detached sidecar lives on and must release. */
  kill(): number {
    this.endedAt = Date.now();
    process.kill(-this.pid, 'SIGKILL');
    return this.endedAt;
  }

  /** SIGKILL to the owner and its sidecar at once (a machine or container crash): the lease can only expire. */
  crash(): number {
    this.endedAt = Date.now();
    process.kill(-this.pid, 'SIGKILL');
    if (this.#sidecar !== undefined && !hasExited(this.#sidecar.pid, this.#sidecar.startTime)) process.kill(this.#sidecar.pid, 'SIGKILL');
    return this.endedAt;
  }

  /** SIGTERM to the orchestrator: it stops gracefully (handle.stop() → release) and exits 0. */
  terminate(): number {
    this.endedAt = Date.now();
    process.kill(this.pid, 'SIGTERM');
    return this.endedAt;
  }

  /** Kills the group and the sidecar if still there, and waits until both are gone. */
  async dispose(): Promise<void> {
    live.delete(this);
    // Only while not yet reaped: a reaped PID may already name someone else's process group.
    try {
      if (this.running) process.kill(-this.pid, 'SIGKILL');
    } catch {
      // already gone
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

  /** Its recent lines other than actions and renewals, and its stderr: for failure messages. */
  describe(): string {
    const quiet = new Set(['action', 'action-checked', 'renewed']);
    const tail = this.lines.filter((line) => !quiet.has(line.event)).slice(-15);
    return `${this.identity} (pid ${this.pid}, running ${this.running}) lines:\n${tail.map((l) => JSON.stringify(l)).join('\n')}\nstderr: ${this.#stderr}`;
  }
}

/** Disposes every orchestrator still running. Call in `afterEach`. */
export async function disposeAll(): Promise<void> {
  await Promise.all([...live].map((orchestrator) => orchestrator.dispose()));
}
