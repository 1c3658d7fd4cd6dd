import { agentConfig, type AgentConfig } from '../../src/hosts/host-protocol.js';
import { runKeeperAgent, type AgentSeams } from '../../src/hosts/keeper-agent.js';
import type { KeeperHandle, KeeperHandleOptions } from '../../src/hosts/keeper-handle.js';
import { runSidecarAgent } from '../../src/hosts/sidecar-agent.js';
import { SidecarKeeperHandle } from '../../src/hosts/sidecar-host.js';
import { WorkerKeeperHandle } from '../../src/hosts/worker-host.js';
import type { LeaseKeeper } from '../../src/keeper/lease-keeper.js';
import type { ProcessTable } from '../../src/owner/process-owner.js';
import type { LeaseStore } from '../../src/store/lease-store.js';
import type { Orchestrator } from '../actors/orchestrator.js';
import type { StrategySpec } from '../scenario/types.js';
import { machineClock, SimChannel, type SimHost } from '../sim-channel.js';
import type { SimProcess, SimThread, ThreadClock } from '../sim-process.js';
import type { Leadership, Strategy, StrategyWorld } from './strategy.js';

/**
 * Option 1, the shipped fix, as shipped: the `KeeperHandle` of `src/hosts/` in the orchestrator and
 * the keeper agent (`runKeeperAgent`, `runSidecarAgent`) in its host, talking over a simulated
 * channel, on simulated clocks and the simulated store. `worker` runs the agent on a thread of the
 * orchestrator's process (immune to the session's timers being cleared, frozen with the process);
 * `sidecar` runs it in a process of its own bound to the orchestrator by the channel and its PID
 * (immune to both; releases when the owner dies). Only the seams are simulated.
 */

/** What the hosts are started with: the scenario's keeper timing, the orchestrator's identity. */
function hostConfig(orchestrator: Orchestrator, world: StrategyWorld, spec: StrategySpec, owner?: AgentConfig['owner']): AgentConfig {
  const { scenario } = world;
  return agentConfig(
    {
      storeUrl: 'sim:',
      keeper: {
        key: world.key,
        identity: orchestrator.identity,
        ttlMs: scenario.lease.ttlMs,
        renewIntervalMs: scenario.keeper.renewIntervalMs,
        renewDeadlineMs: scenario.keeper.renewDeadlineMs,
        requestTimeoutMs: scenario.keeper.requestTimeoutMs,
        maxProgressSilenceMs: spec.maxProgressSilenceMs,
      },
    },
    owner,
  );
}

/** The agent's seams: the keeper's thread clock, its store client, a seeded jitter stream, the trace. */
function agentSeams(orchestrator: Orchestrator, world: StrategyWorld, clock: ThreadClock, store: LeaseStore): AgentSeams {
  const rng = world.rng.fork(`keeper:${orchestrator.identity}`);
  return {
    clock,
    openStore: () => Promise.resolve(store),
    random: () => rng.next(),
    ...(world.trace.enabled ? { observe: (keeper: LeaseKeeper) => traceKeeper(world, `${orchestrator.identity}/keeper`, keeper) } : {}),
  };
}

function traceKeeper(world: StrategyWorld, actor: string, keeper: LeaseKeeper): void {
  keeper.on('stopped-leading', (reason) => world.trace.emit(actor, 'step-down', { reason }));
  keeper.on('pause', ({ lateMs }) => world.trace.emit(actor, 'pause', { lateMs }));
  keeper.on('stuck', (info) => world.trace.emit(actor, 'stuck', info));
}

/** The handle's clocks: the machine's, read on the orchestrator's own thread (not its session's timers). */
function handleOptions(orchestrator: Orchestrator, machine: SimProcess): KeeperHandleOptions {
  const clock = machineClock(orchestrator.proc.clock(orchestrator.proc.main), machine);
  return { clock, stopClock: clock };
}

/** The orchestrator acts on what its handle believes; the metrics see the belief and until when it holds. */
function leadershipOf(handle: KeeperHandle, orchestrator: Orchestrator, world: StrategyWorld, machine: SimProcess, clock: ThreadClock, client: string): Leadership {
  const believe = (): void => orchestrator.believe(true, world.clock.now() + handle.validityLeftMs() / machine.clockRate);
  handle.on('started-leading', believe);
  handle.on('renewed', believe);
  handle.on('stopped-leading', () => orchestrator.believe(false));
  return {
    leaderToken: () => handle.token,
    // A planned restart is a graceful handoff: drain up to 5 s of pending work, then release.
    terminate: () => handle.handoff({ drainMs: 5_000 }),
    wakeups: () => clock.wakeups,
    reportWork: (pending, progressed) => (progressed ? handle.progress(pending) : handle.setPendingWork(pending)),
    keeper: { thread: clock.thread, client },
  };
}

export function workerStrategy(spec: StrategySpec): Strategy {
  return {
    name: 'worker',
    startOrchestrator(orchestrator, world) {
      const proc = orchestrator.proc;
      const thread = proc.thread('keeper');
      const clock = proc.clock(thread);
      const client = `${orchestrator.identity}/keeper`;
      const store = world.server.client(client, thread);
      // A worker ends with its thread: terminated, or its loop drained once the agent returned.
      const host: SimHost = { thread, onExit: (fn) => thread.onExit(fn), finish: () => thread.kill(), kill: () => thread.kill() };
      const channel = new SimChannel(proc.main, host);
      const config = hostConfig(orchestrator, world, spec);
      const handle = new WorkerKeeperHandle(channel.ownerEnd(), config, handleOptions(orchestrator, proc), 0);
      const end = (): void => thread.kill();
      void runKeeperAgent(config, channel.hostEnd(), [], agentSeams(orchestrator, world, clock, store)).then(end, end);
      return leadershipOf(handle, orchestrator, world, proc, clock, client);
    },
  };
}

/** The simulated machine's processes, as the sidecar's `ProcessOwner` looks them up. */
function simProcesses(world: StrategyWorld): ProcessTable {
  return {
    exists: (pid) => world.pidAlive(pid),
    stat: (pid) => {
      const proc = world.processByPid(pid);
      return proc === undefined ? null : { state: proc.frozen ? 'T' : 'S', startTime: proc.startedAtMs };
    },
    hasStat: true,
  };
}

/** Builds the channel between an orchestrator and its sidecar (tests swap in a broken one). */
export type ChannelFactory = (owner: SimThread, host: SimHost) => SimChannel;

const shippedChannel: ChannelFactory = (owner, host) => new SimChannel(owner, host);

export function sidecarStrategy(spec: StrategySpec, makeChannel: ChannelFactory = shippedChannel): Strategy {
  return {
    name: 'sidecar',
    startOrchestrator(orchestrator, world) {
      const sidecar = world.spawnProcess(`${orchestrator.identity}-sidecar`);
      const clock = sidecar.clock(sidecar.main);
      const client = `${orchestrator.identity}/sidecar`;
      const store = world.server.client(client, sidecar.main);
      // The sidecar exits once its agent returns (sidecar-main.ts); `finish` only disconnects.
      const host: SimHost = { thread: sidecar.main, onExit: (fn) => sidecar.onExit(fn), finish: () => undefined, kill: () => sidecar.kill() };
      const channel = makeChannel(orchestrator.proc.main, host);
      const config = hostConfig(orchestrator, world, spec, { pid: orchestrator.proc.pid, startTime: orchestrator.proc.startedAtMs });
      const handle = new SidecarKeeperHandle(channel.ownerEnd(), config, handleOptions(orchestrator, sidecar), sidecar.pid);
      const exit = (): void => sidecar.kill();
      void runSidecarAgent(channel.hostEnd(), { ...agentSeams(orchestrator, world, clock, store), processes: simProcesses(world) }).then(exit, exit);
      return leadershipOf(handle, orchestrator, world, sidecar, clock, client);
    },
  };
}
