/**
 * Classified errors for failures of the world (bad input, store trouble, lost leases).
 * Programmer errors are plain assertions. Every error here carries a stable `code`,
 * an optional `cause`, and a message that says what to do.
 */
import { formatDurationMs } from './duration.js';

export type ErrorCode =
  | 'E_CONFIG'
  | 'E_INPUT'
  | 'E_STORE_UNAVAILABLE'
  | 'E_STORE_PERMISSION'
  | 'E_STORE_TIMEOUT'
  | 'E_STORE_CORRUPT'
  | 'E_STORE_NOT_DURABLE'
  | 'E_STORE_CONFLICT'
  | 'E_LEASE_LOST'
  | 'E_NOT_LEADER'
  | 'E_OWNER_DEAD';

export class HeartbeatLabError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * An option or a combination of options breaks a rule. Names the option, the rule and the value;
 * the value of an option named `…Ms` (units are the last word) reads as a duration, so a derived
 * default such as ttl / 12 shows as `833ms`, never `833.3333333333334`.
 */
export class ConfigError extends HeartbeatLabError {
  readonly option: string;

  constructor(option: string, rule: string, value: unknown) {
    super('E_CONFIG', `invalid option ${option}: ${rule} (got ${formatOptionValue(option, value)})`);
    this.option = option;
  }
}

/** The store could not be reached or answered with a transient failure. Retrying may help. */
export class StoreUnavailableError extends HeartbeatLabError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('E_STORE_UNAVAILABLE', message, options);
  }
}

/**
 * The store refused an operation for lack of permission (EACCES, EPERM, EROFS on the lease file,
 * its directory, or a temp/lock file beside it). Not an outage: retrying soon will not help until
 * an operator changes permissions, remounts the filesystem read-write, or picks another path.
 */
export class StorePermissionError extends HeartbeatLabError {
  readonly location: string;
  readonly systemCode: string;

  constructor(operation: string, location: string, systemCode: string, options: { cause?: unknown } = {}) {
    super(
      'E_STORE_PERMISSION',
      `no permission to ${operation} ${location} (${systemCode}): the lease file's directory must be writable by this user on a read-write filesystem; fix its permissions or use a lease file in a writable directory`,
      options,
    );
    this.location = location;
    this.systemCode = systemCode;
  }
}

/** Node system error codes that mean "not allowed", not "not reachable". */
export const PERMISSION_CODES: ReadonlySet<string> = new Set(['EACCES', 'EPERM', 'EROFS']);

/** The store did not answer within the request timeout. The request may or may not have applied. */
export class StoreTimeoutError extends HeartbeatLabError {
  constructor(operation: string, timeoutMs: number) {
    super('E_STORE_TIMEOUT', `lease store ${operation} did not answer within ${formatDurationMs(timeoutMs)}`);
  }
}

/** The store holds data it cannot read. Nothing is overwritten; an operator must inspect it. */
export class StoreCorruptError extends HeartbeatLabError {
  readonly location: string;

  constructor(location: string, detail: string, options: { cause?: unknown } = {}) {
    super(
      'E_STORE_CORRUPT',
      `lease data at ${location} is corrupt: ${detail}; it was left untouched — inspect it, then remove it to reset the lease`,
      options,
    );
    this.location = location;
  }
}

/**
 * The store would forget leases and fencing tokens on a restart (or cannot tell whether it would),
 * so a token could be issued twice. Not transient: fix the server's persistence, or opt in to the
 * risk explicitly (the store's `durability: 'warn'` option).
 */
export class StoreNotDurableError extends HeartbeatLabError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('E_STORE_NOT_DURABLE', message, options);
  }
}

/** An action was attempted without a valid lease. */
export class NotLeaderError extends HeartbeatLabError {
  constructor(message = 'this process does not hold a valid lease') {
    super('E_NOT_LEADER', message);
  }
}

function formatOptionValue(option: string, value: unknown): string {
  const duration = /Ms$/.test(option) && typeof value === 'number' && Number.isFinite(value) && (value === 0 || Math.abs(value) >= 1);
  return duration ? formatDurationMs(value) : formatValue(value);
}

export function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value);
  }
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}
