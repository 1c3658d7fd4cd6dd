/** How `keeper run` and `keeper status` open the lease store a `--store` URL names. */
import { ConfigError, HeartbeatLabError } from '../errors.js';
import type { LeaseStore } from '../store/lease-store.js';
import { openLeaseStore } from '../store/open-store.js';

/** An error reading the store before anything ran: a classified store error (exit 3), not bad input or a bug. */
export function isStoreFailure(error: unknown): error is HeartbeatLabError {
  return error instanceof HeartbeatLabError && error.code !== 'E_CONFIG' && error.code !== 'E_INPUT';
}

/** `openLeaseStore`, with its `ConfigError`s (unknown scheme, missing driver) naming the `--store` flag. */
export async function openStore(url: string): Promise<LeaseStore> {
  try {
    return await openLeaseStore(url);
  } catch (error) {
    if (error instanceof ConfigError && error.option === 'store') {
      throw new HeartbeatLabError('E_CONFIG', error.message.replace('invalid option store:', 'invalid option --store:'), { cause: error });
    }
    throw error;
  }
}
