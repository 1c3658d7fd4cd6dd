import type { SimThread } from '../sim-process.js';

/** How one orchestrator incarnation holds leadership under a strategy. */
export interface Leadership {
  /** The fencing token the orchestrator would attach to a leader action now, or null when it would not act. */
  leaderToken(): number | null;
  /** Graceful shutdown (the watchdog restarts on purpose): the strategy may release its lease. */
  terminate(): Promise<void>;
  /** Timer wake-ups spent on keeping the lease (heartbeats, keeper ticks, keep-awake pings). */
  wakeups(): number;
  /** The orchestrator tells its keeper how much work waits and whether it just finished one (progress check). */
  reportWork?(pending: number, progressed: boolean): void;
  /** Where the lease is kept, for faults aimed at the keeper: its thread and its store client's name. */
  readonly keeper?: { readonly thread: SimThread; readonly client: string };
}
