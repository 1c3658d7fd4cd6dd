import type { LeaseGrant } from '../../src/store/lease-store.js';
import type { Orchestrator } from '../actors/orchestrator.js';
import { every } from './interval.js';
import type { Leadership, Strategy, StrategyWorld } from './strategy.js';

/**
 * The incident's code: acquire, then a `setInterval` heartbeat registered in the session.
 * When the host clears the session's timers, the heartbeat is gone for good.
 * Exported for reuse by strategies that only change who renews.
 */
export function sessionHeartbeat(orchestrator: Orchestrator, world: StrategyWorld, options: { renew: boolean }): Leadership & { lease(): LeaseGrant | undefined } {
  const clock = orchestrator.session;
  const store = orchestrator.sessionStore;
  const { intervalMs } = world.scenario.heartbeat;
  const ttlMs = world.scenario.lease.ttlMs;
  let lease: LeaseGrant | undefined;

  const acquire = async (): Promise<void> => {
    try {
      const result = await store.acquire({ key: world.key, holder: orchestrator.identity, ttlMs });
      if (result.ok) {
        lease = result.lease;
        orchestrator.believe(true);
        if (options.renew) every(clock, intervalMs, () => void renew());
        return;
      }
    } catch {
      // store trouble: try again at the next interval
    }
    clock.setTimeout(() => void acquire(), intervalMs);
  };

  const renew = async (): Promise<void> => {
    const current = lease;
    if (current === undefined) return;
    try {
      const result = await store.renew({ ...current, ttlMs });
      if (!result.ok && lease === current) {
        lease = undefined;
        orchestrator.believe(false);
        void acquire();
      }
    } catch {
      // the incident's code just waits for the next tick
    }
  };

  void acquire();
  return {
    leaderToken: () => lease?.token ?? null,
    terminate: async () => {},
    wakeups: () => clock.wakeups,
    keeper: { thread: clock.thread, client: orchestrator.identity },
    lease: () => lease,
  };
}

export function baselineStrategy(): Strategy {
  return {
    name: 'baseline',
    startOrchestrator: (orchestrator, world) => sessionHeartbeat(orchestrator, world, { renew: true }),
  };
}
