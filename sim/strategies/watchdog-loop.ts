import type { LeaseInfo } from '../../src/store/lease-store.js';
import type { Orchestrator } from '../actors/orchestrator.js';
import type { WatchdogLoopVariant } from '../scenario/types.js';
import type { SimProcess, ThreadClock } from '../sim-process.js';
import type { World } from '../world.js';
import { sessionHeartbeat } from './baseline.js';
import { every } from './interval.js';
import type { Strategy } from './strategy.js';

/**
 * Option 2: the watchdog process renews the lease in its own shell-like loop, every heartbeat
 * interval. The orchestrator only acquires. Variants:
 * - `never-stopped`: one loop for the watchdog's life, renewing whoever holds the lease;
 * - `restarted`: a loop per orchestrator, stopped when the watchdog kills it, started for the next;
 * - `pid-checked`: like `restarted`, but renews only while `kill(pid, 0)` succeeds.
 */
export function watchdogLoopStrategy(variant: WatchdogLoopVariant, name: string): Strategy {
  let watchdogProc: SimProcess | undefined;
  let clock: ThreadClock | undefined;
  const loops = new Map<string, () => void>();

  const renewFor = (world: World, holder: string): void => {
    const info: LeaseInfo | null = world.server.read(world.key);
    if (info === null || info.holder !== holder || watchdogProc === undefined) return;
    void world.server
      .call('watchdog-loop', watchdogProc.main, () =>
        world.server.renew('watchdog-loop', { key: world.key, holder, token: info.token, version: info.version, ttlMs: world.scenario.lease.ttlMs }),
      )
      .catch(() => undefined);
  };

  return {
    name,
    setupWorld(world) {
      watchdogProc = world.spawnProcess('watchdog');
      clock = watchdogProc.clock(watchdogProc.main);
      if (variant === 'never-stopped') {
        const loopClock = clock;
        every(loopClock, world.scenario.heartbeat.intervalMs, () => {
          const holder = world.server.read(world.key)?.holder;
          if (holder) renewFor(world, holder);
        });
      }
    },
    startOrchestrator(orchestrator: Orchestrator, world: World) {
      const leadership = sessionHeartbeat(orchestrator, world, { renew: false });
      if (variant !== 'never-stopped' && clock !== undefined) {
        const pid = orchestrator.proc.pid;
        const stop = every(clock, world.scenario.heartbeat.intervalMs, () => {
          if (variant === 'pid-checked' && !world.pidAlive(pid)) {
            stop();
            loops.delete(orchestrator.identity);
            return;
          }
          renewFor(world, orchestrator.identity);
        });
        loops.set(orchestrator.identity, stop);
      }
      return { ...leadership, wakeups: () => 0 };
    },
    beforeWatchdogKill(orchestrator) {
      loops.get(orchestrator.identity)?.();
      loops.delete(orchestrator.identity);
    },
    worldWakeups: () => clock?.wakeups ?? 0,
  };
}
