import { NotLeaderError } from '../errors.js';
import type { StepDownReason } from '../keeper/keeper-options.js';

/**
 * What {@link runAsLeader} needs from a keeper: `LeaseKeeper` fits. `token` is the fencing token
 * while leading (validity checked on the keeper's monotonic clock), else `null`.
 */
export interface Leadership {
  readonly token: number | null;
  on(event: 'stopped-leading', listener: (reason: StepDownReason) => void): unknown;
  off(event: 'stopped-leading', listener: (reason: StepDownReason) => void): unknown;
}

export interface RunAsLeaderOptions {
  /** Also abort the action's signal when this one aborts (e.g. a request deadline). */
  readonly signal?: AbortSignal;
}

/**
 * Runs `action` only while `keeper` leads, with the current fencing token.
 *
 * - Not leading (or the lease's local validity already ran out): throws `NotLeaderError` and
 *   never calls `action`.
 * - The keeper steps down while `action` runs: the signal passed to `action` aborts with a
 *   `NotLeaderError` naming the reason. The action should stop at its next await; writes it has
 *   in flight must carry `token` to a fenced store write (`Fence.write` of `postgresFence`,
 *   `redisFence` or `etcdFence`), which refuses it once a newer leader has written.
 *
 * The signal is a prompt, not a guarantee: a process paused between its check and its write (GC,
 * SIGSTOP, a slow disk) still writes late. Only the store-side token comparison makes that safe.
 * The action's result (or error) is returned as is, even after an abort.
 */
export async function runAsLeader<T>(
  keeper: Leadership,
  action: (token: number, signal: AbortSignal) => Promise<T>,
  options: RunAsLeaderOptions = {},
): Promise<T> {
  options.signal?.throwIfAborted();
  const token = keeper.token;
  if (token === null) throw new NotLeaderError('not leading: this process does not hold a valid lease, so the action was not run');
  const controller = new AbortController();
  const onStepDown = (reason: StepDownReason): void => {
    controller.abort(new NotLeaderError(`stepped down (${reason}) while an action with fencing token ${token} was running`));
  };
  const onOuterAbort = (): void => controller.abort(options.signal?.reason);
  keeper.on('stopped-leading', onStepDown);
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  try {
    return await action(token, controller.signal);
  } finally {
    keeper.off('stopped-leading', onStepDown);
    options.signal?.removeEventListener('abort', onOuterAbort);
  }
}
