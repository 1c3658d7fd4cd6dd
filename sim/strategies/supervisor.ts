import type { SessionExit, SessionSignal, SessionSpawner, SessionStart, SupervisedSession } from '../../src/supervisor/session.js';
import { Supervisor, type SupervisorOutcome } from '../../src/supervisor/supervisor.js';
import type { Orchestrator } from '../actors/orchestrator.js';
import type { Rng } from '../rng.js';
import type { StrategySpec } from '../scenario/types.js';
import type { SimProcess, ThreadClock } from '../sim-process.js';
import type { Leadership, Strategy, WatchdogChild, StrategyWorld } from './strategy.js';

/** The exit code of a finished supervisor process, as `keeper run` gives it. */
function exitCodeOf(outcome: SupervisorOutcome): number {
  switch (outcome.kind) {
    case 'exited':
      return outcome.exit.code ?? (outcome.exit.signal === 'SIGTERM' ? 143 : 137);
    case 'restart-limit':
      return 77;
    case 'lease-lost':
      return 75;
    case 'stuck':
      return 76;
    case 'spawn-failed':
      return 127;
    case 'stopped':
      return 143;
  }
}

/**
 * The fix that keeps sessions out of the watchdog's business: the shipped `Supervisor`
 * (`src/supervisor/`, what `keeper run --restart` runs) on simulated time. The watchdog's child
 * is the supervisor's process; it holds the lease with a `LeaseKeeper` and runs the orchestrator's
 * sessions as its children. A session that ends (its host idled it, `idleEffect: exit`) is
 * started again in place after its start-up time, with the same lease and token, so the watchdog
 * sees a live child and a healthy lease. What is simulated here is only the world around the
 * shipped code: processes, their start-up time, signals and the reaper that stops a session
 * whose supervisor died.
 */
export function supervisorStrategy(spec: StrategySpec): Strategy {
  const supervisors: SimSupervisor[] = [];
  /** Which supervisor spawned each session (sessions are orchestrators the world spawns). */
  const parents = new Map<Orchestrator, SimSupervisor>();
  return {
    name: spec.name,
    spawnWatchdogChild(world, startupMs) {
      const supervisor = new SimSupervisor(world, spec, `sup-${supervisors.length + 1}`, startupMs ?? 0, (session) => {
        // Start-up runs on the world's timers, so the session's strategy starts after this returns.
        const orchestrator = world.spawnOrchestrator(session.startupMs);
        world.metrics.servedBy(orchestrator.identity, supervisor.identity);
        parents.set(orchestrator, supervisor);
        return orchestrator;
      });
      supervisors.push(supervisor);
      return supervisor;
    },
    startOrchestrator(orchestrator) {
      const parent = parents.get(orchestrator);
      if (parent === undefined) throw new Error(`supervisor strategy: ${orchestrator.identity} was not spawned by a supervisor`);
      return parent.sessionLeadership(orchestrator);
    },
    worldWakeups: () => supervisors.reduce((sum, s) => sum + s.clock.wakeups, 0),
  };
}

/** One supervisor process: the watchdog's child, the lease holder, the sessions' parent. */
class SimSupervisor implements WatchdogChild, SessionSpawner {
  readonly identity: string;
  readonly proc: SimProcess;
  readonly clock: ThreadClock;
  readonly supervisor: Supervisor;
  readonly leadership: Leadership;
  #faulted = false;
  readonly #world: StrategyWorld;
  readonly #rng: Rng;
  readonly #spawnOrchestrator: (session: SimSession) => Orchestrator;
  /** Start-up time of the first session (the watchdog's draw under respawn-if-gone). */
  #firstStartupMs: number | undefined;
  #session: SimSession | undefined;
  #done: Promise<unknown>;

  constructor(world: StrategyWorld, spec: StrategySpec, identity: string, firstStartupMs: number, spawnOrchestrator: (session: SimSession) => Orchestrator) {
    this.#world = world;
    this.#spawnOrchestrator = spawnOrchestrator;
    this.#firstStartupMs = firstStartupMs;
    this.identity = identity;
    this.proc = world.spawnProcess(identity);
    // The holder is this process; it serves (does leader work) only while a session of it runs.
    world.metrics.processStarted(identity, false);
    this.proc.onExit(() => world.metrics.processDied(identity));
    this.clock = this.proc.clock(this.proc.main);
    this.#rng = world.rng.fork(`supervisor:${identity}`);
    const keeperRng = world.rng.fork(`keeper:${identity}`);
    const { scenario } = world;
    this.supervisor = new Supervisor(world.server.client(identity, this.proc.main), this, {
      keeper: {
        key: world.key,
        identity,
        ttlMs: scenario.lease.ttlMs,
        renewIntervalMs: scenario.keeper.renewIntervalMs,
        renewDeadlineMs: scenario.keeper.renewDeadlineMs,
        requestTimeoutMs: scenario.keeper.requestTimeoutMs,
        random: () => keeperRng.next(),
        maxProgressSilenceMs: spec.maxProgressSilenceMs,
      },
      clock: this.clock,
      restart: spec.restart ?? 'on-exit',
      maxRestarts: spec.maxRestarts,
    });
    this.leadership = {
      leaderToken: () => this.supervisor.keeper.token,
      terminate: () => this.terminate(),
      wakeups: () => 0,
      keeper: { thread: this.proc.main, client: identity },
    };
    this.#observe();
    this.#done = this.supervisor.run().then((outcome) => {
      const code = exitCodeOf(outcome);
      if (world.trace.enabled) world.trace.emit(identity, 'supervisor-finished', { outcome: outcome.kind, exit: code });
      this.proc.exit(code);
    });
    // The reaper: a session never outlives its supervisor (SIGTERM now, SIGKILL after the grace).
    this.proc.onExit(() => this.#session?.reap(world, this.supervisor.options.killGraceMs));
  }
  get faulted(): boolean {
    return this.#faulted;
  }

  markFaulted(): void {
    this.#faulted = true;
  }


  #observe(): void {
    const world = this.#world;
    this.supervisor.on('session-started', ({ attempt }) => {
      if (attempt > 0) world.metrics.sessionRestarted();
    });
    if (!world.trace.enabled) return;
    this.supervisor.on('session-exited', ({ attempt, exit, uptimeMs, restartInMs }) =>
      world.trace.emit(this.identity, 'session-exited', { attempt, code: exit.code, signal: exit.signal, uptimeMs, restartInMs: restartInMs ?? null }),
    );
    this.supervisor.on('stopping-session', (info) => world.trace.emit(this.identity, 'stopping-session', info));
  }

  /** A planned restart or the watchdog's SIGTERM: stop the session and finish (bounded by the watchdog's own grace). */
  async terminate(): Promise<void> {
    this.proc.main.deliver(() => this.supervisor.signal('SIGTERM'));
    await this.#done;
  }

  spawn(start: SessionStart): SupervisedSession {
    // A session takes the same start-up time as one the watchdog spawns (watchdog.respawnDelay).
    const startupMs = this.#firstStartupMs ?? this.#rng.uniformMs(this.#world.scenario.watchdog.respawnDelay);
    this.#firstStartupMs = undefined;
    const session = new SimSession(this, start, startupMs);
    this.#session = session;
    session.attach(this.#spawnOrchestrator(session));
    return session;
  }

  /** Its session ended: the holder does no leader work until the next one is up. */
  sessionEnded(): void {
    if (this.proc.alive) this.#world.metrics.serving(this.identity, false);
  }

  /** What a session sees once started up: the token it was started with, trusted until it is stopped. */
  sessionLeadership(orchestrator: Orchestrator): Leadership {
    const token = this.#session?.token ?? null;
    orchestrator.believe(token !== null);
    if (token !== null) this.#world.metrics.serving(this.identity, true);
    const main = this.proc.main;
    return {
      leaderToken: () => token,
      terminate: () => this.terminate(),
      wakeups: () => 0,
      // Work reports reach the supervisor like any message to its process.
      reportWork: (pending, progressed) =>
        main.deliver(() => (progressed ? this.supervisor.progress(pending) : this.supervisor.setPendingWork(pending))),
      keeper: { thread: main, client: this.identity },
    };
  }
}

/**
 * One session process, as its supervisor's spawner sees it: an orchestrator that starts up for
 * `startupMs` (busy, its host's idle clock not running yet) and then works with the lease's token.
 * Its end reaches the supervisor like SIGCHLD, on the supervisor's thread.
 */
class SimSession implements SupervisedSession {
  readonly id: string;
  readonly token: number;
  readonly startupMs: number;
  readonly gone: Promise<SessionExit>;
  readonly #parent: SimSupervisor;
  #orchestrator: Orchestrator | undefined;
  #resolve!: (exit: SessionExit) => void;

  constructor(parent: SimSupervisor, start: SessionStart, startupMs: number) {
    this.#parent = parent;
    this.token = start.lease.token;
    this.startupMs = startupMs;
    this.id = `${parent.identity}/session-${start.attempt}`;
    this.gone = new Promise((resolve) => (this.#resolve = resolve));
  }

  attach(orchestrator: Orchestrator): void {
    this.#orchestrator = orchestrator;
    const parent = this.#parent;
    orchestrator.proc.onExit(() => {
      parent.sessionEnded();
      parent.proc.main.deliver(() => this.#resolve(orchestrator.proc.exitStatus ?? { code: null, signal: 'SIGKILL' }));
    });
  }

  signal(signal: SessionSignal): void {
    const orchestrator = this.#orchestrator;
    if (signal === 'SIGHUP' || orchestrator === undefined) return;
    // SIGKILL acts at once; other signals are handled when the session's event loop runs.
    if (signal === 'SIGKILL') orchestrator.proc.kill('SIGKILL');
    else orchestrator.proc.main.deliver(() => orchestrator.proc.kill(signal));
  }

  /** The supervisor died: the reaper stops the session (SIGTERM, SIGKILL after the grace). */
  reap(world: StrategyWorld, graceMs: number): void {
    if (this.#orchestrator?.proc.alive !== true) return;
    this.signal('SIGTERM');
    world.clock.setTimeout(() => this.signal('SIGKILL'), graceMs);
  }
}
