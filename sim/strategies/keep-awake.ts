import { sessionHeartbeat } from './baseline.js';
import { every } from './interval.js';
import type { Strategy } from './strategy.js';

/**
 * Option 3: the baseline heartbeat, plus self-made activity in the session every
 * `keepAwake.interval` so the host never sees it quiet. Costs one action per interval, and a
 * host that idles sessions after a maximum lifetime clears the pinger along with the heartbeat.
 */
export function keepAwakeStrategy(): Strategy {
  return {
    name: 'keep-awake',
    startOrchestrator: (orchestrator, world) => {
      const leadership = sessionHeartbeat(orchestrator, world, { renew: true });
      every(orchestrator.session, world.scenario.keepAwake.intervalMs, () => {
        world.metrics.count('keepAwakeActions');
        orchestrator.host.activity(0);
      });
      return leadership;
    },
  };
}
