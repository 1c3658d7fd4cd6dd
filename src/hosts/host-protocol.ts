/**
 * What a keeper host (sidecar process or worker thread) and its owner's handle say to each other,
 * the options they share, and the one clock both can read.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { machineNow, SystemClock } from '../clock.js';
import { ConfigError } from '../errors.js';
import {
  checkKeeperTiming,
  KEEPER_TIMING_KEYS,
  resolveKeeperTiming,
  type KeeperTimingOptions,
  type ResolvedKeeperTiming,
  type StepDownReason,
} from '../keeper/keeper-options.js';
import type { KeeperStatsSnapshot } from '../keeper/keeper-stats.js';
import type { LeaseGrant } from '../store/lease-store.js';

/** The keeper's options a host takes: its timing, plain data only (the identity has a default). */
export type KeeperSettings = Omit<KeeperTimingOptions, 'identity'> & {
  /** @default `<hostname>:<owner pid>:<random>`, unique per owner incarnation */
  readonly identity?: string;
};

/** Options shared by `startSidecarKeeper` and `startWorkerKeeper`. */
export interface KeeperHostOptions {
  /** Where the lease lives, as understood by `openLeaseStore` (`file:///abs/lease.json`, `redis://…`). */
  readonly storeUrl: string;
  readonly keeper: KeeperSettings;
  /**
   * When set, the owner must call `handle.checkIn()` at least this often, or the keeper treats it
   * as hung and releases. Unset: a frozen (SIGSTOPped) but living owner keeps its lease.
   */
  readonly maxOwnerSilenceMs?: number;
  /** Let the keeper host keep the owner's event loop alive. @default false */
  readonly keepAlive?: boolean;
  /** How long the host may take to report it is running. @default 10000 */
  readonly startTimeoutMs?: number;
  /** How long `stop()` waits for the graceful release before killing the host. @default 5000 */
  readonly stopTimeoutMs?: number;
  /** The compiled entry point to run. @default next to this module, or under `dist/` when run from sources */
  readonly mainPath?: string;
}

/**
 * Everything the keeper host needs, sent once at start. The keeper's timing is resolved by the
 * owner ({@link agentConfig}) and travels resolved; the host checks it once ({@link checkAgentConfig}).
 */
export interface AgentConfig {
  readonly storeUrl: string;
  readonly keeper: ResolvedKeeperTiming;
  readonly maxOwnerSilenceMs?: number;
  /** The owner process and its start time (sidecar only). */
  readonly owner?: { readonly pid: number; readonly startTime: number | null };
}

/** Owner handle → keeper host. A sidecar says `hello` first and gets `start`; a worker gets its config as `workerData`. */
export type ToKeeper =
  | { readonly type: 'start'; readonly config: AgentConfig }
  | { readonly type: 'check-in' }
  | { readonly type: 'progress'; readonly pending?: number }
  | { readonly type: 'pending-work'; readonly pending: number }
  | { readonly type: 'handoff'; readonly drainMs: number; readonly to?: string }
  /**
   * Whether the owner wants a `renewed` message for every renewal (it has `renewed` listeners).
   * Until told otherwise the keeper sends every one; told `false`, it sends one only when the
   * owner's belief would otherwise run out before the next renewal could extend it.
   */
  | { readonly type: 'renewals'; readonly every: boolean }
  | { readonly type: 'stop' };

/**
 * Keeper host → owner handle. `validUntil` is on the machine clock ({@link machineNow}): an
 * absolute deadline, so a message that sat in a queue while the owner was frozen is already stale.
 */
export type FromKeeper =
  | { readonly type: 'hello' }
  | { readonly type: 'ready' }
  | { readonly type: 'failed'; readonly message: string; readonly code?: string }
  | { readonly type: 'started-leading'; readonly lease: LeaseGrant; readonly validUntil: number }
  | { readonly type: 'renewed'; readonly token: number; readonly validUntil: number }
  | { readonly type: 'stopped-leading'; readonly reason: StepDownReason }
  | { readonly type: 'new-leader'; readonly identity: string | null; readonly token: number }
  | { readonly type: 'renew-failed'; readonly message: string }
  | { readonly type: 'stopped'; readonly reason: StepDownReason; readonly stats: KeeperStatsSnapshot };

/** `CLOCK_MONOTONIC` in ms: one timeline for every process of the machine (see `src/clock.ts`). */
export { machineNow };

/** A {@link SystemClock} whose `now()` is {@link machineNow}. */
export class MachineClock extends SystemClock {
  override now(): number {
    return machineNow();
  }
}

/** Resolves the options once, eagerly (throws `ConfigError`), into the config sent to the host. */
export function agentConfig(options: KeeperHostOptions, owner?: AgentConfig['owner']): AgentConfig {
  checkStoreUrl(options.storeUrl);
  const settings: Record<string, unknown> = {};
  for (const name of KEEPER_TIMING_KEYS) if (options.keeper[name] !== undefined) settings[name] = options.keeper[name];
  const keeper = resolveKeeperTiming({
    ...(settings as KeeperSettings),
    identity: options.keeper.identity ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
  });
  const silence = checkSilence(options.maxOwnerSilenceMs);
  return { storeUrl: options.storeUrl, keeper, ...(silence === undefined ? {} : { maxOwnerSilenceMs: silence }), ...(owner ? { owner } : {}) };
}

/**
 * The host's one check of the config it received from its owner (another process or thread): its
 * shape, and the resolved keeper timing as {@link checkKeeperTiming} checks it. Nothing is resolved
 * again and no default is filled in. Throws `ConfigError` naming the field.
 */
export function checkAgentConfig(value: unknown): AgentConfig {
  if (typeof value !== 'object' || value === null) throw new ConfigError('config', 'must be the object agentConfig() builds', value);
  const config = value as AgentConfig;
  checkStoreUrl(config.storeUrl);
  checkKeeperTiming(config.keeper);
  checkSilence(config.maxOwnerSilenceMs);
  const owner = config.owner;
  if (owner !== undefined && !(Number.isInteger(owner?.pid) && (owner.startTime === null || Number.isFinite(owner.startTime)))) {
    throw new ConfigError('owner', 'must be { pid: integer, startTime: number | null }', owner);
  }
  return config;
}

function checkStoreUrl(url: unknown): void {
  if (typeof url !== 'string' || url === '') throw new ConfigError('storeUrl', 'must be a non-empty store URL', url);
}

function checkSilence(silence: unknown): number | undefined {
  if (silence !== undefined && !(typeof silence === 'number' && Number.isFinite(silence) && silence > 0)) {
    throw new ConfigError('maxOwnerSilenceMs', 'must be a finite number > 0', silence);
  }
  return silence;
}
