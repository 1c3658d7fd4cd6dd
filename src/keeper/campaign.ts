import { NotLeaderError } from '../errors.js';
import type { LeaseGrant } from '../store/lease-store.js';
import type { StepDownReason } from './keeper-options.js';

/** What {@link waitForLeadership} needs from a keeper: `LeaseKeeper` fits. */
export interface Campaigner {
  readonly state: 'idle' | 'following' | 'leading' | 'stopped';
  isLeading(): boolean;
  currentLease(): LeaseGrant | undefined;
  on(event: 'started-leading', listener: (lease: LeaseGrant) => void): unknown;
  on(event: 'stopped', listener: (reason: StepDownReason) => void): unknown;
  off(event: 'started-leading', listener: (lease: LeaseGrant) => void): unknown;
  off(event: 'stopped', listener: (reason: StepDownReason) => void): unknown;
}

/**
 * Resolves with the lease once `keeper` leads (at once when it already does). Rejects with
 * `NotLeaderError` when the keeper stops before it leads, and with the signal's reason when
 * `signal` aborts first; the keeper itself keeps contending after an abort.
 */
export function waitForLeadership(keeper: Campaigner, signal?: AbortSignal): Promise<LeaseGrant> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  const lease = keeper.isLeading() ? keeper.currentLease() : undefined;
  if (lease !== undefined) return Promise.resolve(lease);
  if (keeper.state === 'stopped') return Promise.reject(new NotLeaderError('the keeper is stopped: it will not lead again (create a new LeaseKeeper)'));
  return new Promise<LeaseGrant>((resolve, reject) => {
    const cleanup = (): void => {
      keeper.off('started-leading', onLead);
      keeper.off('stopped', onStop);
      signal?.removeEventListener('abort', onAbort);
    };
    const onLead = (grant: LeaseGrant): void => {
      cleanup();
      resolve(grant);
    };
    const onStop = (reason: StepDownReason): void => {
      cleanup();
      reject(new NotLeaderError(`the keeper stopped (${reason}) before it led`));
    };
    const onAbort = (): void => {
      cleanup();
      reject(signal?.reason);
    };
    keeper.on('started-leading', onLead);
    keeper.on('stopped', onStop);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
