import type { Logger } from 'pino';
import type { LeaseKeeper } from './lease-keeper.js';

/**
 * Structured logs for a keeper's life: acquisitions, hand-offs and asked-for stops at info, other step-downs, pauses,
 * stuck owners and renew failures at warn, renewals at debug. Nothing secret is logged (no
 * store URLs). Returns a function that detaches the listeners.
 */
export function attachKeeperLog(keeper: LeaseKeeper, logger: Logger): () => void {
  const base = { key: keeper.options.key, identity: keeper.options.identity };
  const listeners = {
    'started-leading': (lease: { token: number }) => logger.info({ ...base, token: lease.token }, 'started leading'),
    // Asked for (stop, handoff) is normal life: info. Everything else lost a lease: warn.
    'stopped-leading': (reason: string) =>
      (reason === 'stopped' || reason === 'handoff' ? logger.info.bind(logger) : logger.warn.bind(logger))({ ...base, reason }, 'stopped leading'),
    'new-leader': (leader: string | null, token: number) => logger.info({ ...base, leader, token }, 'new leader'),
    renewed: (info: { token: number; marginMs: number; latencyMs: number }) => logger.debug({ ...base, ...info }, 'renewed'),
    'renew-failed': (error: unknown) => logger.warn({ ...base, err: error }, 'renew failed'),
    pause: (info: { lateMs: number }) => logger.warn({ ...base, ...info }, 'pause detected'),
    stuck: (info: { silentMs: number; pending: number }) => logger.warn({ ...base, ...info }, 'owner stuck: releasing'),
    handoff: (info: { drainMs: number; pending: number }) => logger.info({ ...base, ...info }, 'handoff'),
    stopped: (reason: string) => logger.info({ ...base, reason }, 'stopped'),
  } as const;
  for (const [event, listener] of Object.entries(listeners)) keeper.on(event as never, listener as never);
  return () => {
    for (const [event, listener] of Object.entries(listeners)) keeper.off(event as never, listener as never);
  };
}
