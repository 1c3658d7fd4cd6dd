import type { StepDownReason } from './keeper-options.js';

/** A point-in-time copy of a keeper's counters and near-miss figures. */
export interface KeeperStatsSnapshot {
  readonly acquisitions: number;
  readonly renewals: number;
  readonly renewFailures: number;
  readonly storeOps: number;
  readonly wakeups: number;
  readonly pauses: number;
  readonly ownerDeaths: number;
  /** Times the progress check found the owner stuck. */
  readonly stuck: number;
  /** Smallest local validity left when a successful renewal was sent (Infinity before any). */
  readonly minRenewalMarginMs: number;
  readonly maxRenewLatencyMs: number;
  readonly stepDowns: Readonly<Partial<Record<StepDownReason, number>>>;
}

/** Mutable counters behind {@link KeeperStatsSnapshot}; cheap to update on the hot path. */
export class KeeperStats {
  acquisitions = 0;
  renewals = 0;
  renewFailures = 0;
  storeOps = 0;
  wakeups = 0;
  pauses = 0;
  ownerDeaths = 0;
  stuck = 0;
  minRenewalMarginMs = Infinity;
  maxRenewLatencyMs = 0;
  readonly stepDowns: Partial<Record<StepDownReason, number>> = {};

  recordRenewal(marginMs: number, latencyMs: number): void {
    this.renewals += 1;
    if (marginMs < this.minRenewalMarginMs) this.minRenewalMarginMs = marginMs;
    if (latencyMs > this.maxRenewLatencyMs) this.maxRenewLatencyMs = latencyMs;
  }

  recordStepDown(reason: StepDownReason): void {
    this.stepDowns[reason] = (this.stepDowns[reason] ?? 0) + 1;
  }

  snapshot(): KeeperStatsSnapshot {
    return { ...this, stepDowns: { ...this.stepDowns } };
  }
}
