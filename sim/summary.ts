import type { AgeStats, RunResult } from './run-metrics.js';

/** Min, mean and max of a duration across runs (ms, rounded). */
export interface DurationStats {
  readonly min: number;
  readonly mean: number;
  readonly max: number;
}

/** Figures for one strategy across all runs. Rates are per simulated hour; times in ms. */
export interface StrategySummary {
  readonly strategy: string;
  readonly runs: number;
  readonly respawnsPerHour: number;
  readonly respawnsPerHourP95: number;
  readonly spuriousRespawnsPerHour: number;
  readonly restartsPerHour: number;
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
  /** Time since the lease's last heartbeat at each respawn decision, over all runs; null when none. */
  readonly leaseAgeAtRespawnMs: DurationStats | null;
  /** No valid lease, or a valid lease whose holder has no live, started session (zombie and start-up time included). */
  readonly leaderlessInPracticeMsPerHour: number;
  /** Sessions restarted in place by a supervisor per hour, apart from the watchdog's respawns. */
  readonly sessionRestartsPerHour: number;
  /** Stretches without a working leader after one existed: mean and max over all runs; null when none. */
  readonly leaderGapMeanMs: number | null;
  readonly leaderGapMaxMs: number | null;
  /** Lease renewals made by a watchdog-loop strategy's loop per hour (0 for the others). */
  readonly loopRenewalsPerHour: number;
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

function merge(all: readonly AgeStats[]): AgeStats {
  let acc: AgeStats = { count: 0, sumMs: 0, minMs: Infinity, maxMs: -Infinity };
  for (const a of all) acc = { count: acc.count + a.count, sumMs: acc.sumMs + a.sumMs, minMs: Math.min(acc.minMs, a.minMs), maxMs: Math.max(acc.maxMs, a.maxMs) };
  return acc;
}

function durationStats(stats: AgeStats): DurationStats | null {
  if (stats.count === 0) return null;
  return { min: Math.round(stats.minMs), mean: Math.round(stats.sumMs / stats.count), max: Math.round(stats.maxMs) };
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
  const gaps = durationStats(merge(results.map((r) => r.leaderGaps)));
  return {
    strategy,
    runs: results.length,
    respawnsPerHour: round(mean(respawns)),
    respawnsPerHourP95: round(percentile(respawns, 95)),
    spuriousRespawnsPerHour: round(mean(perHour((r) => r.spuriousRespawns))),
    restartsPerHour: round(mean(perHour((r) => r.restarts))),
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
    leaseAgeAtRespawnMs: durationStats(merge(results.map((r) => r.leaseAgesAtRespawn))),
    leaderlessInPracticeMsPerHour: Math.round(mean(perHour((r) => r.leaderlessInPracticeMs))),
    sessionRestartsPerHour: round(mean(perHour((r) => r.sessionRestarts))),
    leaderGapMeanMs: gaps?.mean ?? null,
    leaderGapMaxMs: gaps?.max ?? null,
    loopRenewalsPerHour: round(mean(perHour((r) => r.loopRenewals)), 1),
  };
}
