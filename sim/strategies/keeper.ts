import { LeaseKeeper } from '../../src/keeper/lease-keeper.js';
import { ALIVE, type OwnerLiveness, type OwnerStatus } from '../../src/owner/owner-liveness.js';
import type { LeaseStore } from '../../src/store/lease-store.js';
import type { Orchestrator } from '../actors/orchestrator.js';
import type { StrategySpec } from '../scenario/types.js';
import type { SimProcess, SimThread, ThreadClock } from '../sim-process.js';
import type { World } from '../world.js';
import type { Leadership, Strategy } from './strategy.js';

/**
 * Option 1, the shipped fix: the real `LeaseKeeper` from `src/`, on a simulated clock.
 * Two hosts: `worker` runs it on a worker thread of the orchestrator's process (immune to the
 * session's timers being cleared, frozen with the process); `sidecar` runs it in a child process
 * bound to the orchestrator by an IPC channel (immune to both; releases when the owner dies).
 */
/**
 * The orchestrator's side of the keeper: what the keeper last told it over its channel (token
 * and validity left), judged on the orchestrator's own clock. The orchestrator never calls into
 * the keeper's thread, as with the real hosts: a stalled keeper cannot answer.
 */
class LeaseView {
  #token: number | null = null;
  #validUntil = -Infinity;
  readonly #orchestrator: Orchestrator;
  readonly #world: World;
  /** Where the keeper runs: its monotonic clock is the machine's, which the orchestrator shares. */
  readonly #keeperProc: SimProcess;

  constructor(orchestrator: Orchestrator, world: World, keeperProc: SimProcess) {
    this.#orchestrator = orchestrator;
    this.#world = world;
    this.#keeperProc = keeperProc;
  }

  /**
   * A message from the keeper: leading with `token` until `validUntil`, an absolute instant on
   * the machine's monotonic clock, so a message read late is not trusted for longer.
   */
  leading(token: number, validUntil: number): void {
    this.#token = token;
    this.#validUntil = validUntil;
    const leftMs = validUntil - this.#keeperProc.localNow();
    this.#orchestrator.believe(true, this.#world.clock.now() + leftMs / this.#keeperProc.clockRate);
  }

  notLeading(): void {
    this.#token = null;
    this.#validUntil = -Infinity;
    this.#orchestrator.believe(false);
  }

  token(): number | null {
    if (this.#token === null) return null;
    if (this.#keeperProc.localNow() < this.#validUntil) return this.#token;
    this.notLeading();
    return null;
  }
}

function runKeeper(
  orchestrator: Orchestrator,
  world: World,
  clock: ThreadClock,
  store: LeaseStore,
  maxProgressSilenceMs: number | undefined,
  owner?: OwnerLiveness,
): { keeper: LeaseKeeper; view: LeaseView } {
  const { scenario } = world;
  const rng = world.rng.fork(`keeper:${orchestrator.identity}`);
  const view = new LeaseView(orchestrator, world, clock.thread.process);
  const post = (fn: () => void): void => orchestrator.proc.main.deliver(fn);
  const keeper = new LeaseKeeper(store, {
    key: world.key,
    identity: orchestrator.identity,
    ttlMs: scenario.lease.ttlMs,
    renewIntervalMs: scenario.keeper.renewIntervalMs,
    renewDeadlineMs: scenario.keeper.renewDeadlineMs,
    requestTimeoutMs: scenario.keeper.requestTimeoutMs,
    clock,
    random: () => rng.next(),
    owner,
    maxProgressSilenceMs,
  });
  // Messages to the orchestrator carry the validity left; they arrive when its thread runs.
  const tell = (): void => {
    const token = keeper.token;
    const validUntil = clock.now() + keeper.validityLeftMs();
    post(() => (token === null ? view.notLeading() : view.leading(token, validUntil)));
  };
  keeper.on('started-leading', tell);
  keeper.on('renewed', tell);
  keeper.on('stopped-leading', () => post(() => view.notLeading()));
  if (world.trace.enabled) {
    keeper.on('stopped-leading', (reason) => world.trace.emit(`${orchestrator.identity}/keeper`, 'step-down', { reason }));
    keeper.on('pause', ({ lateMs }) => world.trace.emit(`${orchestrator.identity}/keeper`, 'pause', { lateMs }));
    keeper.on('stuck', (info) => world.trace.emit(`${orchestrator.identity}/keeper`, 'stuck', info));
  }
  keeper.start();
  return { keeper, view };
}

function leadershipOf({ keeper, view }: { keeper: LeaseKeeper; view: LeaseView }, clock: ThreadClock, client: string): Leadership {
  return {
    leaderToken: () => view.token(),
    // A planned restart is a graceful handoff: drain up to 5 s of pending work, then release.
    terminate: () => keeper.handoff({ drainMs: 5_000 }),
    wakeups: () => clock.wakeups,
    // Work reports travel to the keeper's thread (or sidecar) like any message.
    reportWork: (pending, progressed) =>
      clock.thread.deliver(() => (progressed ? keeper.progress(pending) : keeper.setPendingWork(pending))),
    keeper: { thread: clock.thread, client },
  };
}

export function workerStrategy(spec: StrategySpec): Strategy {
  return {
    name: 'worker',
    startOrchestrator(orchestrator, world) {
      const thread = orchestrator.proc.thread('keeper');
      const clock = orchestrator.proc.clock(thread);
      const client = `${orchestrator.identity}/keeper`;
      const store = world.server.client(client, thread);
      return leadershipOf(runKeeper(orchestrator, world, clock, store, spec.maxProgressSilenceMs), clock, client);
    },
  };
}

/** The owner seen from a sidecar: death arrives over the IPC channel; `check` is PID + start time. */
class SimProcessOwner implements OwnerLiveness {
  readonly #world: World;
  readonly #pid: number;
  readonly #startedAtMs: number;
  readonly #owner: SimProcess;
  readonly #thread: SimThread;

  constructor(world: World, owner: SimProcess, observer: SimThread) {
    this.#world = world;
    this.#pid = owner.pid;
    this.#startedAtMs = owner.startedAtMs;
    this.#owner = owner;
    this.#thread = observer;
  }

  check(): OwnerStatus {
    const proc = this.#world.processByPid(this.#pid);
    if (proc === undefined) return { alive: false, reason: `owner pid ${this.#pid} exited` };
    if (proc.startedAtMs !== this.#startedAtMs) return { alive: false, reason: `pid ${this.#pid} now belongs to another process` };
    return ALIVE;
  }

  watch(onDead: (reason: string) => void): () => void {
    let active = true;
    this.#owner.onExit(() => this.#thread.deliver(() => active && onDead('ipc channel closed')));
    return () => {
      active = false;
    };
  }
}

export function sidecarStrategy(spec: StrategySpec): Strategy {
  return {
    name: 'sidecar',
    startOrchestrator(orchestrator, world) {
      const sidecar = world.spawnProcess(`${orchestrator.identity}-sidecar`);
      const clock = sidecar.clock(sidecar.main);
      const client = `${orchestrator.identity}/sidecar`;
      const store = world.server.client(client, sidecar.main);
      const owner = new SimProcessOwner(world, orchestrator.proc, sidecar.main);
      const running = runKeeper(orchestrator, world, clock, store, spec.maxProgressSilenceMs, owner);
      running.keeper.on('stopped', () => sidecar.kill());
      // The orchestrator learns of its sidecar's death over the IPC channel and stops leading.
      sidecar.onExit(() => orchestrator.proc.main.deliver(() => running.view.notLeading()));
      return leadershipOf(running, clock, client);
    },
  };
}
