import type { Orchestrator } from '../actors/orchestrator.js';
import type { WatchdogActor } from '../actors/watchdog-world.js';
import type { Rng } from '../rng.js';
import type { FaultSpec } from '../scenario/types.js';
import type { SimProcess, SimThread } from '../sim-process.js';
import type { SimWorld } from '../sim-world.js';

/** What faults act on: the world's seams (through their methods), the orchestrators and the watchdog. */
export interface FaultWorld extends SimWorld {
  readonly orchestrators: readonly Orchestrator[];
  readonly watchdog: WatchdogActor;
}

/**
 * Turns the scenario's `faults` (plain data) into events on the simulated clock. Each fault has
 * its own random stream, so adding a fault never shifts the draws of another.
 */
export class FaultEngine {
  readonly #world: FaultWorld;

  constructor(world: FaultWorld) {
    this.#world = world;
  }

  start(): void {
    this.#world.scenario.faults.forEach((fault, index) => {
      const rng = this.#world.rng.fork(`fault:${index}`);
      const first = fault.at !== undefined ? rng.uniformMs(fault.at) : (fault.everyMs as number);
      this.#schedule(fault, index, rng, first);
    });
  }

  #schedule(fault: FaultSpec, index: number, rng: Rng, atMs: number): void {
    const clock = this.#world.clock;
    clock.setTimeout(() => {
      if (rng.next() < fault.probability) this.#apply(fault, index, rng);
      if (fault.everyMs !== undefined) this.#schedule(fault, index, rng, clock.now() + fault.everyMs);
    }, atMs - clock.now());
  }

  /** The newest live orchestrator, which faults aimed at "the orchestrator" hit. */
  #victim(): Orchestrator | undefined {
    const all = this.#world.orchestrators;
    for (let i = all.length - 1; i >= 0; i--) if (all[i]?.proc.alive) return all[i];
    return undefined;
  }

  #after(forMs: number, undo: () => void): void {
    this.#world.clock.setTimeout(undo, forMs);
  }

  #apply(fault: FaultSpec, index: number, rng: Rng): void {
    const world = this.#world;
    const forMs = rng.uniformMs(fault.for);
    const victim = this.#victim();
    if (world.trace.enabled) world.trace.emit('chaos', fault.kind, { fault: index, forMs, target: fault.target, victim: victim?.identity ?? null });
    // A store-wide fault touches every orchestrator: a replacement it causes is not spurious.
    if (fault.kind === 'store-latency' || fault.kind === 'store-outage' || fault.kind === 'lease-corrupt') {
      for (const o of world.orchestrators) o.markFaulted();
    }
    switch (fault.kind) {
      case 'store-latency':
        return this.#after(forMs, world.server.latencySpike(fault.latencyMs));
      case 'store-outage':
        return this.#after(forMs, world.server.outage());
      case 'lease-corrupt':
        return this.#after(forMs, world.server.corruptLease());
      case 'watchdog-restart':
        return world.watchdog.restartFor(forMs);
      default:
        break;
    }
    if (victim === undefined) return;
    victim.markFaulted();
    const keeper = victim.leadership?.keeper;
    const ownKeeper = keeper !== undefined && keeper.thread !== victim.proc.main ? keeper : undefined;
    switch (fault.kind) {
      case 'orchestrator-crash':
        world.metrics.crashed(victim.identity);
        return victim.proc.kill();
      case 'orchestrator-freeze':
        victim.proc.freeze();
        return this.#after(forMs, () => victim.proc.resume());
      case 'keeper-crash':
        if (ownKeeper === undefined) return;
        if (ownKeeper.thread.process !== victim.proc) return ownKeeper.thread.process.kill();
        return ownKeeper.thread.kill();
      case 'stall': {
        const threads = this.#threads(fault, victim, ownKeeper?.thread);
        for (const t of threads) t.stall();
        return this.#after(forMs, () => threads.forEach((t) => t.unstall()));
      }
      case 'clock-jump':
        for (const p of this.#processes(fault, victim, ownKeeper?.thread)) p.jumpClock(fault.byMs);
        return;
      case 'clock-drift': {
        const procs = this.#processes(fault, victim, ownKeeper?.thread);
        for (const p of procs) p.setClockRate(fault.rate);
        if (forMs > 0) this.#after(forMs, () => procs.forEach((p) => p.setClockRate(1)));
        return;
      }
      case 'partition': {
        const heal = world.server.partition(this.#clients(fault, victim, ownKeeper));
        return this.#after(forMs, heal);
      }
      case 'wedge':
        // A wedged leader owes a failover from the moment work waits on it: the progress check
        // can only see work that is not done, and the wait for the next work is unbounded.
        victim.wedge(() => world.metrics.crashed(victim.identity));
        return;
      case 'pid-reuse': {
        world.metrics.crashed(victim.identity);
        victim.proc.kill();
        const impostor = world.spawnProcess('unrelated', victim.proc.pid);
        return this.#after(forMs, () => impostor.kill());
      }
    }
  }

  #threads(fault: FaultSpec, victim: Orchestrator, keeper: SimThread | undefined): SimThread[] {
    const threads: SimThread[] = [];
    if (fault.target !== 'keeper') threads.push(victim.proc.main);
    if (fault.target !== 'orchestrator' && keeper !== undefined) threads.push(keeper);
    return threads;
  }

  #processes(fault: FaultSpec, victim: Orchestrator, keeper: SimThread | undefined): SimProcess[] {
    const procs = new Set<SimProcess>();
    if (fault.target !== 'keeper') procs.add(victim.proc);
    if (fault.target !== 'orchestrator') procs.add(keeper?.process ?? victim.proc);
    return [...procs];
  }

  #clients(fault: FaultSpec, victim: Orchestrator, keeper: { thread: SimThread; client: string } | undefined): string[] {
    const clients: string[] = [];
    const keeperInProcess = keeper !== undefined && keeper.thread.process === victim.proc;
    if (fault.target !== 'keeper') {
      clients.push(victim.identity);
      if (keeperInProcess) clients.push(keeper.client);
    }
    if (fault.target !== 'orchestrator' && keeper !== undefined && !clients.includes(keeper.client)) clients.push(keeper.client);
    if (fault.target === 'keeper' && keeper === undefined) clients.push(victim.identity);
    return clients;
  }
}
