import type { LeaseInfo } from '../../src/store/lease-store.js';
import type { Orchestrator } from '../actors/orchestrator.js';
import type { WatchdogLoopVariant } from '../scenario/types.js';
import type { SimProcess, ThreadClock } from '../sim-process.js';
import { AgentRegistry } from './agent-registry.js';
import { sessionHeartbeat } from './baseline.js';
import { every } from './interval.js';
import type { Strategy, StrategyWorld } from './strategy.js';

/** The role option 2's loop looks up in the agent registry. */
const ROLE = 'orchestrator';

/**
 * Option 2: the watchdog process renews the lease in its own shell-like loop, every heartbeat
 * interval. The orchestrator only acquires. Variants:
 * - `never-stopped`: one loop for the watchdog's life, renewing whoever holds the lease;
 * - `restarted`: a loop per orchestrator, stopped when the watchdog kills it, started for the next;
 * - `pid-checked`: like `restarted`, but renews only while `kill(pid, 0)` succeeds;
 * - `first-registered`: option 2 as it was built (see {@link firstRegisteredLoop}).
 */
export function watchdogLoopStrategy(variant: WatchdogLoopVariant, name: string): Strategy {
  let watchdogProc: SimProcess | undefined;
  let clock: ThreadClock | undefined;
  const loops = new Map<string, () => void>();

  const renewFor = (world: StrategyWorld, holder: string): void => {
    const info: LeaseInfo | null = world.server.read(world.key);
    if (info === null || info.holder !== holder || watchdogProc === undefined) return;
    void world.server
      .call('watchdog-loop', watchdogProc.main, () =>
        world.server.renew('watchdog-loop', { key: world.key, holder, token: info.token, version: info.version, ttlMs: world.scenario.lease.ttlMs }),
      )
      .then((result) => {
        if (result.ok) world.metrics.count('loopRenewals');
      })
      .catch(() => undefined);
  };

  if (variant === 'first-registered') return firstRegisteredLoop(name, renewFor, (proc) => (watchdogProc = proc));

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
    startOrchestrator(orchestrator: Orchestrator, world: StrategyWorld) {
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

/**
 * Option 2 as it was built: a loop the watchdog starts with each orchestrator it spawns and stops
 * when it replaces it. Every heartbeat interval it takes the *first agent registered with the
 * orchestrator role* in the agent registry, refreshes that entry, and renews the lease only if
 * that agent holds it ("not the leader, skipping lease refresh" otherwise). The orchestrator keeps
 * its own session heartbeat. Once the pick is a dead agent, the loop keeps its entry alive and
 * renews nothing.
 */
function firstRegisteredLoop(
  name: string,
  renewFor: (world: StrategyWorld, holder: string) => void,
  setProc: (proc: SimProcess) => void,
): Strategy {
  let clock: ThreadClock | undefined;
  let registry: AgentRegistry | undefined;
  let stop: (() => void) | undefined;
  const stopLoop = (): void => {
    stop?.();
    stop = undefined;
  };

  const beat = (world: StrategyWorld): void => {
    const pick = registry?.firstRegistered(ROLE);
    if (pick === undefined) return;
    registry?.refresh(pick);
    const holder = world.server.read(world.key)?.holder ?? null;
    if (holder === pick) renewFor(world, pick);
    else if (world.trace.enabled) world.trace.emit('watchdog-loop', 'loop-skip', { pick, holder });
  };

  return {
    name,
    setupWorld(world) {
      const proc = world.spawnProcess('watchdog');
      setProc(proc);
      clock = proc.clock(proc.main);
      registry = new AgentRegistry(world.clock, world.scenario.registry.timeoutMs);
      for (let i = world.scenario.registry.staleEntries; i >= 1; i--) registry.register(`stale-${i}`, ROLE, () => false);
    },
    startOrchestrator(orchestrator, world) {
      const leadership = sessionHeartbeat(orchestrator, world, { renew: true });
      registry?.register(orchestrator.identity, ROLE, () => orchestrator.proc.alive);
      orchestrator.proc.onExit(() => registry?.lastSeen(orchestrator.identity));
      if (stop === undefined && clock !== undefined) stop = every(clock, world.scenario.heartbeat.intervalMs, () => beat(world));
      return leadership;
    },
    beforeWatchdogKill: stopLoop,
    onWatchdogRespawn: stopLoop,
    worldWakeups: () => clock?.wakeups ?? 0,
  };
}
