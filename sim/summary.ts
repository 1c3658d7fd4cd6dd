import type { RunResult } from './run-metrics.js';

/** Figures for one strategy across all runs. Rates are per simulated hour; times in ms. */
export interface StrategySummary {
  readonly strategy: string;
  readonly runs: number;
  readonly respawnsPerHour: number;
  readonly respawnsPerHourP95: number;
  readonly spuriousRespawnsPerHour: number;
  readonly restartsPerHour: number;
  /** Sessions restarted in place by a supervisor, per hour (not respawns: the watchdog was not involved). */
  readonly sessionRestartsPerHour: number;
  readonly crashes: number;
  /** p50 / max of failover times after real crashes; null when nothing crashed; 'never' when some crash had no failover. */
  readonly failoverP50Ms: number | 'never' | null;
  readonly failoverMaxMs: number | 'never' | null;
  readonly zombieLeaseMsPerHour: number;
  readonly leaderlessMsPerHour: number;
  readonly splitBrains: number;
  readonly splitBrainMs: number;
  readonly leaderActions: number;
  readonly staleActions: number;
  readonly storeWritesPerHour: number;
  readonly wakeupsPerHour: number;
  readonly keepAwakeActionsPerHour: number;
  /** Smallest time left on the lease when a renewal landed, across runs; null when no renewal landed. */
  readonly minRenewalMarginMs: number | null;
  /** Checker findings summed over runs: split-brains, stale actions, token order. */
  readonly safetyViolations: number;
  /** Checker findings summed over runs: slow or missing failovers, respawns of a healthy leader. */
  readonly livenessViolations: number;
}

/** Nearest-rank percentile of a sorted array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function mean(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return values.length === 0 ? 0 : sum / values.length;
}

function timeFigure(value: number): number | 'never' {
  return Number.isFinite(value) ? Math.round(value) : 'never';
}

export function summarize(strategy: string, results: readonly RunResult[]): StrategySummary {
  const perHour = (pick: (r: RunResult) => number): number[] => results.map((r) => pick(r) / (r.durationMs / 3_600_000));
  const respawns = perHour((r) => r.respawns).sort((a, b) => a - b);
  const failovers = results.flatMap((r) => r.failoversMs).sort((a, b) => a - b);
  const sum = (pick: (r: RunResult) => number): number => results.reduce((acc, r) => acc + pick(r), 0);
  const minMargin = Math.min(...results.map((r) => r.minRenewalMarginMs));
  return {
    strategy,
    runs: results.length,
    respawnsPerHour: round(mean(respawns)),
    respawnsPerHourP95: round(percentile(respawns, 95)),
    spuriousRespawnsPerHour: round(mean(perHour((r) => r.spuriousRespawns))),
    restartsPerHour: round(mean(perHour((r) => r.restarts))),
    sessionRestartsPerHour: round(mean(perHour((r) => r.sessionRestarts))),
    crashes: sum((r) => r.crashes),
    failoverP50Ms: failovers.length === 0 ? null : timeFigure(percentile(failovers, 50)),
    failoverMaxMs: failovers.length === 0 ? null : timeFigure(failovers[failovers.length - 1] as number),
    zombieLeaseMsPerHour: Math.round(mean(perHour((r) => r.zombieLeaseMs))),
    leaderlessMsPerHour: Math.round(mean(perHour((r) => r.leaderlessMs))),
    splitBrains: sum((r) => r.splitBrains),
    splitBrainMs: sum((r) => r.splitBrainMs),
    leaderActions: sum((r) => r.leaderActions),
    staleActions: sum((r) => r.staleActions),
    storeWritesPerHour: round(mean(perHour((r) => r.storeWrites)), 1),
    wakeupsPerHour: round(mean(perHour((r) => r.wakeups)), 1),
    keepAwakeActionsPerHour: round(mean(perHour((r) => r.keepAwakeActions)), 1),
    minRenewalMarginMs: Number.isFinite(minMargin) ? Math.round(minMargin) : null,
    safetyViolations: sum((r) => r.safetyViolations),
    livenessViolations: sum((r) => r.livenessViolations),
  };
}
