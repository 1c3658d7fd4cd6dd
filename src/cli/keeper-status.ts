import Table from 'cli-table3';
import { SystemClock, withTimeout } from '../clock.js';
import { formatDurationMs } from '../duration.js';
import { ConfigError, HeartbeatLabError } from '../errors.js';
import { redactUrl } from '../store/drivers.js';
import type { LeaseInfo } from '../store/lease-store.js';
import { parseDurationFlag } from './common.js';
import { escapeControl } from './escape.js';
import type { MainIo } from './io.js';
import { EXIT } from './keeper-errors.js';
import { isStoreFailure, openStore } from './keeper-store.js';

/** Options of `keeper status` as commander parses them. */
export interface StatusFlags {
  readonly store: string;
  readonly key: string;
  readonly json?: boolean;
  readonly timeout?: string;
}

export type LeaseState = 'held' | 'expired' | 'free' | 'never-held';

/** What `keeper status --json` prints. */
export interface StatusDocument {
  readonly key: string;
  readonly store: string;
  readonly state: LeaseState;
  readonly holder: string | null;
  /** Last fencing token issued for the key (0 when none ever was). */
  readonly token: number;
  readonly ttlMs: number | null;
  /** Time left on the store's clock; negative: expired this long ago; null when free or never held. */
  readonly expiresInMs: number | null;
}

export function describeLease(key: string, store: string, info: LeaseInfo | null): StatusDocument {
  if (info === null) return { key, store, state: 'never-held', holder: null, token: 0, ttlMs: null, expiresInMs: null };
  if (info.holder === null) return { key, store, state: 'free', holder: null, token: info.token, ttlMs: info.ttlMs, expiresInMs: null };
  return {
    key,
    store,
    state: info.expiresInMs > 0 ? 'held' : 'expired',
    holder: info.holder,
    token: info.token,
    ttlMs: info.ttlMs,
    expiresInMs: info.expiresInMs,
  };
}

/** `keeper status`: exit 0 with the lease state, 3 when the store cannot be read. */
export async function statusCommand(flags: StatusFlags, io: MainIo): Promise<number> {
  const timeoutMs = parseDurationFlag('--timeout', flags.timeout ?? '5s');
  if (typeof flags.key !== 'string' || flags.key === '') throw new HeartbeatLabError('E_INPUT', 'invalid option --key: must be a non-empty string');
  if (/^memory:/i.test(flags.store)) {
    throw new ConfigError('--store', 'memory: is a new, empty store inside this process: there is no lease of another process to show', flags.store);
  }
  const store = await openStore(flags.store); // ConfigError (exit 2): unknown scheme, missing driver
  let info: LeaseInfo | null;
  try {
    info = await withTimeout(new SystemClock(), 'read', timeoutMs, store.read(flags.key));
  } catch (error) {
    if (!isStoreFailure(error)) throw error;
    io.err(`keeper: cannot read lease ${JSON.stringify(flags.key)} from ${redactUrl(flags.store)}: ${error.message}\n`);
    return EXIT.storeUnavailable;
  } finally {
    await store.close().catch(() => undefined);
  }
  const doc = describeLease(flags.key, store.kind, info);
  io.out(flags.json ? `${JSON.stringify(doc)}\n` : `${formatStatus(doc)}\n`);
  return EXIT.ok;
}

export function formatStatus(doc: StatusDocument): string {
  const table = new Table({ style: { head: [], border: [], compact: true } });
  const time =
    doc.expiresInMs === null
      ? ['time left', '—']
      : doc.expiresInMs > 0
        ? ['time left', formatDurationMs(doc.expiresInMs)]
        : ['expired for', formatDurationMs(-doc.expiresInMs)];
  table.push(
    { key: escapeControl(doc.key) },
    { state: doc.state },
    { holder: doc.holder === null ? '(none)' : escapeControl(doc.holder) },
    { token: String(doc.token) },
    { ttl: doc.ttlMs === null ? '—' : formatDurationMs(doc.ttlMs) },
    { [time[0] as string]: time[1] as string },
    { store: doc.store },
  );
  return table.toString();
}
