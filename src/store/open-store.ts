import { fileURLToPath } from 'node:url';
import { SystemClock, type Clock } from '../clock.js';
import { ConfigError } from '../errors.js';
import { redactUrl } from './drivers.js';
import type { FileIo } from './file-io.js';
import type { LeaseStore } from './lease-store.js';

/** Options of {@link openLeaseStore}. */
export interface OpenLeaseStoreOptions {
  /** Clock of the `memory:` and `file:` stores (server stores use the server's clock). @default new SystemClock() */
  readonly clock?: Clock;
  /** File-system calls of the `file:` store (`syncFileIo` only in a thread that does nothing but keep leases). @default asyncFileIo */
  readonly fileIo?: FileIo;
}

const ACCEPTED = 'memory:, file:///abs/path.json, redis://, rediss://, postgres://, postgresql://, etcd://host:port[,host:port], etcds://';

/**
 * Opens the lease store a URL names:
 * - `memory:` — in-process `MemoryLeaseStore` (tests, simulator);
 * - `file:///abs/path.json` — `FileLeaseStore`, one machine;
 * - `redis://[user:password@]host:port[/db]`, `rediss://` (TLS) — `RedisLeaseStore`, needs `ioredis`;
 * - `postgres://…`, `postgresql://…` — `PostgresLeaseStore`, needs `pg`;
 * - `etcd://[user:password@]host:port[,host:port]`, `etcds://` (TLS) — `EtcdLeaseStore`, needs `etcd3`.
 *
 * Store modules and drivers are imported only when chosen. A missing driver or an unknown scheme
 * throws `ConfigError`; passwords never appear in messages.
 */
export async function openLeaseStore(url: string, options: OpenLeaseStoreOptions = {}): Promise<LeaseStore> {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'memory': {
      const { MemoryLeaseStore } = await import('./memory-store.js');
      return new MemoryLeaseStore(options.clock ?? new SystemClock());
    }
    case 'file': {
      const { FileLeaseStore } = await import('./file-store.js');
      return new FileLeaseStore(filePath(url), {
        ...(options.clock === undefined ? {} : { clock: options.clock }),
        ...(options.fileIo === undefined ? {} : { io: options.fileIo }),
      });
    }
    case 'redis':
    case 'rediss': {
      const { RedisLeaseStore } = await import('./redis-store.js');
      return RedisLeaseStore.connect(url);
    }
    case 'postgres':
    case 'postgresql': {
      const { PostgresLeaseStore } = await import('./postgres-store.js');
      return PostgresLeaseStore.connect(url);
    }
    case 'etcd':
    case 'etcds': {
      const { EtcdLeaseStore } = await import('./etcd-store.js');
      return EtcdLeaseStore.connect(url);
    }
    default:
      throw new ConfigError('store', `the URL scheme must be one of ${ACCEPTED}`, redactUrl(url));
  }
}

function filePath(url: string): string {
  // file:lease.json and file:./x are not relative paths to the URL parser: they become /lease.json.
  if (!/^file:\/\/(localhost)?\//i.test(url)) {
    throw new ConfigError('store', 'a file: store URL must be absolute, like file:///var/lib/app/lease.json (three slashes, then the absolute path)', url);
  }
  try {
    return fileURLToPath(url);
  } catch (error) {
    throw new ConfigError('store', `a file: store URL must be absolute, like file:///var/lib/app/lease.json (${String(error)})`, url);
  }
}
