/**
 * heartbeat-lab: a background lease keeper decoupled from the session lifecycle, bound to its
 * owner's liveness, with fencing tokens, and lease stores from a file to Redis, PostgreSQL and etcd.
 * This file is the whole public surface.
 */

export { SystemClock, sleep, type Clock, type SystemClockOptions, type TimerHandle } from './clock.js';
export { formatDurationMs, parseDurationMs } from './duration.js';
export {
  ConfigError,
  HeartbeatLabError,
  NotLeaderError,
  StoreCorruptError,
  StorePermissionError,
  StoreTimeoutError,
  StoreUnavailableError,
  type ErrorCode,
} from './errors.js';
export { createLogger, type LogLevel, type Logger } from './logger.js';

export type {
  AcquireRequest,
  AcquireResult,
  LeaseGrant,
  LeaseInfo,
  LeaseStore,
  ReleaseRequest,
  RenewRequest,
  RenewResult,
} from './store/lease-store.js';
export { MemoryLeaseStore } from './store/memory-store.js';
export { FileLeaseStore, type FileLeaseStoreOptions } from './store/file-store.js';
export { asyncFileIo, syncFileIo, type FileIo } from './store/file-io.js';
export { RedisLeaseStore, type RedisLeaseStoreOptions } from './store/redis-store.js';
export { PostgresLeaseStore, type PostgresLeaseStoreOptions } from './store/postgres-store.js';
export { EtcdLeaseStore, type EtcdLeaseStoreOptions } from './store/etcd-store.js';
export type { EtcdClient, PgPool, RedisClient } from './store/driver-clients.js';
export { openLeaseStore, type OpenLeaseStoreOptions } from './store/open-store.js';

export { LeaseKeeper, type KeeperState, type LeaseKeeperEvents } from './keeper/lease-keeper.js';
export {
  checkKeeperTiming,
  failoverWindow,
  resolveKeeperOptions,
  resolveKeeperTiming,
  type FailoverWindow,
  type KeeperTimingOptions,
  type KeeperWithTiming,
  type LeaseKeeperOptions,
  type ResolvedKeeperOptions,
  type ResolvedKeeperTiming,
  type StepDownReason,
  type WatchdogTiming,
} from './keeper/keeper-options.js';
export type { KeeperStatsSnapshot } from './keeper/keeper-stats.js';
export { attachKeeperLog } from './keeper/keeper-log.js';

export { ALIVE, type OwnerLiveness, type OwnerStatus } from './owner/owner-liveness.js';
export { ProcessOwner, readProcessStartTime, readProcessStat, type ProcessStat } from './owner/process-owner.js';
export { ChannelOwner } from './owner/channel-owner.js';
export { CheckInOwner, type CheckInOwnerOptions } from './owner/check-in-owner.js';
export { allOwners } from './owner/all-owners.js';

export { SIDECAR_EXEC_ARGV, startSidecarKeeper, SidecarKeeperHandle, type SidecarKeeperOptions } from './hosts/sidecar-host.js';
export { startWorkerKeeper, WorkerKeeperHandle, type WorkerKeeperOptions } from './hosts/worker-host.js';
export { KeeperHandle, type HostStepDownReason, type KeeperHandleEvents } from './hosts/keeper-handle.js';
export type { KeeperHostOptions, KeeperSettings } from './hosts/host-protocol.js';

export * from './fencing/index.js';

export { Supervisor, type SupervisorEvents, type SupervisorOutcome, type SupervisorStats } from './supervisor/supervisor.js';
export {
  parseRestartLimit,
  resolveSupervisorOptions,
  type ResolvedSupervisorOptions,
  type RestartLimit,
  type RestartPolicy,
  type SupervisorOptions,
} from './supervisor/supervisor-options.js';
export { isCleanExit, type SessionExit, type SessionSignal, type SessionSpawner, type SessionStart, type SupervisedSession } from './supervisor/session.js';
