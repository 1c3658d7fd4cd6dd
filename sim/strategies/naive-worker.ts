import type { LeaseGrant } from '../../src/store/lease-store.js';
import { every } from './interval.js';
import type { Strategy } from './strategy.js';

/**
 * A deliberately broken option 1, kept to prove the checkers catch real bugs: a background
 * thread that renews every heartbeat interval with no renew deadline, no request timeout, no
 * local validity and no owner binding. It believes it leads until the store refuses a renewal,
 * so a leader cut off from the store goes on acting after its lease expired.
 */
export function naiveWorkerStrategy(): Strategy {
  return {
    name: 'naive-worker',
    startOrchestrator(orchestrator, world) {
      const thread = orchestrator.proc.thread('naive-keeper');
      const clock = orchestrator.proc.clock(thread);
      const client = `${orchestrator.identity}/keeper`;
      const store = world.server.client(client, thread);
      const ttlMs = world.scenario.lease.ttlMs;
      let lease: LeaseGrant | undefined;
      every(clock, world.scenario.heartbeat.intervalMs, () => {
        const current = lease;
        const request =
          current === undefined
            ? store.acquire({ key: world.key, holder: orchestrator.identity, ttlMs })
            : store.renew({ ...current, ttlMs });
        void request.then(
          (result) => {
            if (result.ok) {
              lease = result.lease;
              orchestrator.believe(true);
            } else if (current !== undefined && lease === current) {
              lease = undefined;
              orchestrator.believe(false);
            }
          },
          () => undefined,
        );
      });
      void store.acquire({ key: world.key, holder: orchestrator.identity, ttlMs }).then(
        (result) => {
          if (result.ok && lease === undefined) {
            lease = result.lease;
            orchestrator.believe(true);
          }
        },
        () => undefined,
      );
      return {
        leaderToken: () => lease?.token ?? null,
        terminate: async () => {},
        wakeups: () => clock.wakeups,
        keeper: { thread, client },
      };
    },
  };
}
