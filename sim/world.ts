import { Orchestrator } from './actors/orchestrator.js';
import type { WatchdogActor } from './actors/watchdog-world.js';
import { WATCHDOGS } from './actors/watchdogs.js';
import { FaultEngine } from './faults/fault-engine.js';
import { Rng } from './rng.js';
import { RunMetrics, type RunResult } from './run-metrics.js';
import type { Scenario, StrategySpec } from './scenario/types.js';
import { SimClock } from './sim-clock.js';
import { SimProcess } from './sim-process.js';
import { SimStoreServer } from './sim-store.js';
import { createStrategy } from './strategies/index.js';
import type { Strategy, WatchdogChild } from './strategies/strategy.js';
import { Trace } from './trace.js';

export interface WorldOptions {
  readonly scenario: Scenario;
  readonly strategy: StrategySpec;
  /** Index of the independent run; with the scenario seed it fixes every random draw. */
  readonly run: number;
  readonly trace?: boolean;
  /** Builds the strategy from its spec. @default createStrategy (tests pass a deliberately broken one) */
  readonly createStrategy?: (spec: StrategySpec) => Strategy;
}

/** Lease key the orchestrators contend for. */
export const LEADER_KEY = 'orchestrator/leader';

/**
 * One simulated run of one strategy: the clock, the store server, the watchdog, the work
 * arriving, the faults, and the orchestrators the watchdog spawns. Every strategy sees the same
 * random streams for the same run index (common random numbers), so rows compare fairly.
 */
export class World {
  readonly scenario: Scenario;
  readonly spec: StrategySpec;
  readonly clock = new SimClock();
  readonly rng: Rng;
  readonly metrics: RunMetrics;
  readonly trace: Trace;
  readonly server: SimStoreServer;
  readonly strategy: Strategy;
  readonly watchdog: WatchdogActor;
  readonly key = LEADER_KEY;
  /** The most recently spawned orchestrator (alive or not). */
  orchestrator: Orchestrator | undefined;
  /** Every orchestrator spawned, in order (orphans of a restarted watchdog included). */
  readonly orchestrators: Orchestrator[] = [];
  readonly #processes: SimProcess[] = [];
  readonly #pidRng: Rng;
  #incarnation = 0;
  #nextPid: number;

  constructor(options: WorldOptions) {
    this.scenario = options.scenario;
    this.spec = options.strategy;
    this.rng = new Rng(options.scenario.seed).fork(`run:${options.run}`);
    this.#pidRng = this.rng.fork('pid');
    this.#nextPid = 1000 + Math.floor(this.#pidRng.next() * 30_000);
    this.metrics = new RunMetrics(this.clock, options.scenario.liveness?.failoverWithinMs ?? Infinity);
    this.trace = new Trace(options.trace ?? false, () => this.clock.now());
    this.server = new SimStoreServer(this.clock, this.rng.fork('store'), options.scenario.store.latency, {
      onApplied: (op, client, ok, before, after) => {
        this.metrics.onApplied(op, client, ok, before, after);
        if (this.trace.enabled) {
          this.trace.emit(client, op, { ok, holder: after?.holder ?? null, token: after?.token ?? 0, expiresInMs: after?.expiresInMs ?? 0 });
        }
      },
    });
    this.strategy = (options.createStrategy ?? createStrategy)(options.strategy);
    this.watchdog = WATCHDOGS[options.scenario.watchdog.policy](this);
  }

  /** A new process with the next free PID. */
  spawnProcess(name: string, pid?: number): SimProcess {
    const proc = new SimProcess(this.clock, pid ?? this.#nextPid++, name);
    this.#processes.push(proc);
    if (this.trace.enabled) this.trace.emit(name, 'spawn', { pid: proc.pid });
    proc.onExit(() => {
      if (this.trace.enabled) this.trace.emit(name, 'exit', { pid: proc.pid });
    });
    return proc;
  }

  /** `kill(pid, 0)`: whether any live process has this PID (it may not be the one you mean). */
  pidAlive(pid: number): boolean {
    return this.processByPid(pid) !== undefined;
  }

  /** The live process that has this PID now, if any. */
  processByPid(pid: number): SimProcess | undefined {
    for (let i = this.#processes.length - 1; i >= 0; i--) {
      const p = this.#processes[i] as SimProcess;
      if (p.alive && p.pid === pid) return p;
    }
    return undefined;
  }

  /** Identity the next spawned orchestrator will have. */
  nextIdentity(): string {
    return `orch-${this.#incarnation + 1}`;
  }

  /**
   * A new orchestrator process. With `startupMs`, its session starts up for that long before it
   * first tries to acquire and counts as serving only once it leads (see {@link Orchestrator.start}).
   */
  spawnOrchestrator(startupMs?: number): Orchestrator {
    this.#incarnation += 1;
    const orchestrator = new Orchestrator(this, this.#incarnation, (o) => this.strategy.startOrchestrator(o, this));
    this.orchestrator = orchestrator;
    this.orchestrators.push(orchestrator);
    orchestrator.start(startupMs);
    return orchestrator;
  }

  /**
   * What the watchdog spawns: an orchestrator, unless the strategy runs them under something of
   * its own (a supervisor). `startupMs` as for {@link spawnOrchestrator}.
   */
  spawnWatchdogChild(startupMs?: number): WatchdogChild {
    return this.strategy.spawnWatchdogChild?.(this, startupMs) ?? this.spawnOrchestrator(startupMs);
  }

  async run(): Promise<RunResult> {
    this.strategy.setupWorld?.(this);
    this.watchdog.start();
    new FaultEngine(this).start();
    this.#startWorkload();
    this.#startCrashes();
    this.#startRestarts();
    await this.clock.runUntil(this.scenario.durationMs);
    let wakeups = this.strategy.worldWakeups?.() ?? 0;
    for (const orchestrator of this.orchestrators) wakeups += orchestrator.leadership?.wakeups() ?? 0;
    return this.metrics.finish(wakeups);
  }

  #startWorkload(): void {
    const { workArrivalsPerHour, workDuration } = this.scenario.session;
    if (workArrivalsPerHour <= 0) return;
    const rng = this.rng.fork('work');
    const meanMs = 3_600_000 / workArrivalsPerHour;
    const next = (): void => {
      this.clock.setWorldTimeout(() => {
        // Every live orchestrator sees the work (they share one queue); those that believe they lead act.
        const busyMs = rng.uniformMs(workDuration);
        for (const orchestrator of this.orchestrators) if (orchestrator.proc.alive) orchestrator.work(busyMs);
        next();
      }, rng.exponentialMs(meanMs));
    };
    next();
  }

  #startCrashes(): void {
    const crash = this.scenario.crash;
    if (crash === undefined) return;
    const rng = this.rng.fork('crash');
    const next = (): void => {
      this.clock.setWorldTimeout(() => {
        const victim = this.orchestrator;
        if (victim?.proc.alive) {
          if (this.trace.enabled) this.trace.emit('chaos', 'crash', { victim: victim.identity });
          this.metrics.crashed(victim.identity);
          victim.proc.kill();
        }
        next();
      }, rng.exponentialMs(crash.meanEveryMs));
    };
    next();
  }

  #startRestarts(): void {
    const restart = this.scenario.restart;
    if (restart === undefined) return;
    const rng = this.rng.fork('restart');
    const next = (): void => {
      this.clock.setWorldTimeout(() => {
        const victim = this.orchestrator;
        if (victim?.proc.alive) void this.watchdog.restart(victim);
        next();
      }, rng.exponentialMs(restart.meanEveryMs));
    };
    next();
  }
}
