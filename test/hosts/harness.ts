/**
 * Test support for the keeper hosts: the shared orchestrator fixture harness
 * (test/support/orchestrator.ts), the hosts' short lease timing, a per-test workspace with a file
 * store, and lease sampling.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterEach, beforeAll, beforeEach } from 'vitest';
import { FileLeaseStore } from '../../src/store/file-store.js';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
export { disposeAll, hasExited, Orchestrator, type Line } from '../support/orchestrator.js';
import { disposeAll } from '../support/orchestrator.js';
export { waitUntil } from '../support/wait.js';

export { buildHosts } from './build-hosts.js';
import { buildHosts } from './build-hosts.js';

export const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/**
 * Short lease timing used by every host test. The request timeout is 200 ms rather than 100 ms:
 * on a loaded 2-core machine a file-store renewal (lock + write + two fsyncs) sometimes takes
 * longer than 100 ms several times in a row, and the resulting renew-deadline step-down (a new
 * token) would be blamed on the host. Budget: 600 + 200 + 10 (drift) < 1000.
 */
export const TIMING = { ttlMs: 1000, renewIntervalMs: 250, renewDeadlineMs: 600, requestTimeoutMs: 200 } as const;

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
