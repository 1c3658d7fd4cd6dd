import { sleep, type Clock } from '../clock.js';
import type { StepDownReason } from '../keeper/keeper-options.js';
import { LeaseKeeper } from '../keeper/lease-keeper.js';
import { allOwners } from '../owner/all-owners.js';
import { CheckInOwner } from '../owner/check-in-owner.js';
import type { OwnerLiveness } from '../owner/owner-liveness.js';
import type { LeaseStore } from '../store/lease-store.js';
import { syncFileIo } from '../store/file-io.js';
import { openLeaseStore } from '../store/open-store.js';
import { checkAgentConfig, MachineClock, type AgentConfig, type FromKeeper, type ToKeeper } from './host-protocol.js';

/**
 * The keeper host's end of the channel to the owner: the IPC channel to the parent process, a
 * worker's `parentPort`, or (in the simulator) a simulated channel.
 */
export interface AgentChannel {
  /** Best effort; resolves once handed to the channel, or at once when the owner is gone. */
  send(message: FromKeeper): Promise<void>;
  onMessage(listener: (message: ToKeeper) => void): void;
  /**
   * Where the owner reads the keeper's latest validity without a message (a worker's
   * `ValidityCell`, a sidecar's `ValidityFile`). With it, the owner is sent `renewed` only while it
   * wants every renewal.
   */
  publishValidity?(token: number, validUntil: number): void;
  /** The owner as the channel sees it: dead once the channel closes (the owner died or let go). */
  readonly owner: OwnerLiveness;
}

/** The agent's seams; the real ones are the defaults. */
export interface AgentSeams {
  /** The keeper's clock; the `validUntil` it reports is on it. @default new MachineClock() */
  readonly clock?: Clock;
  /**
   * Opens the store the config names. @default openLeaseStore, with blocking file calls
   * (`syncFileIo`): the agent's thread — a worker thread or the sidecar process — does nothing
   * else, so a file-store renewal costs no threadpool hops (a few wake-ups instead of ~90).
   */
  readonly openStore?: (url: string) => Promise<LeaseStore>;
  /** The keeper's jitter source, in [0, 1). @default Math.random */
  readonly random?: () => number;
  /** Sees the keeper once it is built, before it starts (to trace its events). */
  readonly observe?: (keeper: LeaseKeeper) => void;
  /** Stops the keeper gracefully (release first) when aborted. */
  readonly signal?: AbortSignal;
}

/**
 * Runs a `LeaseKeeper` for the owner at the other end of `channel` until it stops (the owner
 * died, the owner sent `stop`, or `signal` aborted), then closes the store and sends `stopped`.
 * The keeper is bound to the channel's owner, to `owners`, and, with `maxOwnerSilenceMs`, to a
 * `CheckInOwner` fed by the owner's `check-in` messages. The config is checked once
 * (`checkAgentConfig`); its keeper timing is not resolved again. Start errors are sent as `failed`, then thrown.
 */
export async function runKeeperAgent(config: AgentConfig, channel: AgentChannel, owners: readonly OwnerLiveness[], seams: AgentSeams = {}): Promise<StepDownReason> {
  const clock = seams.clock ?? new MachineClock();
  const { signal } = seams;
  const stop = new AbortController();
  let checkIns: CheckInOwner | undefined;
  let store: LeaseStore | undefined;
  let keeper: LeaseKeeper | undefined;
  let everyRenewal = true; // an owner that never says `renewals` hears of every renewal
  channel.onMessage((message) => {
    if (message.type === 'check-in') checkIns?.checkIn();
    else if (message.type === 'progress') keeper?.progress(message.pending);
    else if (message.type === 'pending-work') keeper?.setPendingWork(message.pending);
    else if (message.type === 'renewals') everyRenewal = message.every;
    else if (message.type === 'handoff') void keeper?.handoff({ drainMs: message.drainMs, ...(message.to === undefined ? {} : { to: message.to }) });
    else if (message.type === 'stop') stop.abort();
  });
  let timing: AgentConfig['keeper'];
  try {
    // The one check of what the owner sent (its keeper timing is resolved already: used as it is).
    let maxOwnerSilenceMs: number | undefined;
    ({ keeper: timing, maxOwnerSilenceMs } = checkAgentConfig(config));
    if (maxOwnerSilenceMs !== undefined) checkIns = new CheckInOwner({ maxOwnerSilenceMs, clock });
    store = await (seams.openStore ?? openDedicated)(config.storeUrl);
    const owner = allOwners(channel.owner, ...owners, ...(checkIns ? [checkIns] : []));
    const stopSignal = signal === undefined ? stop.signal : AbortSignal.any([stop.signal, signal]);
    keeper = new LeaseKeeper(store, { timing, owner, clock, signal: stopSignal, ...(seams.random ? { random: seams.random } : {}) });
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    await sendBounded(channel, clock, { type: 'failed', message: error instanceof Error ? error.message : String(error), ...(typeof code === 'string' ? { code } : {}) });
    await store?.close().catch(() => undefined);
    throw error;
  }
  const send = coalescingSender(channel);
  const running = keeper;
  const validUntil = (): number => clock.now() + running.validityLeftMs();
  // The owner's belief: the last `validUntil` it was sent, and the latest renewal it was not told of.
  let ownerValidUntil = -Infinity;
  let untold: (FromKeeper & { type: 'renewed' }) | undefined;
  /** The token of the lease held, to clear its shared validity on a step-down. */
  let leaseToken: number | undefined;
  const publish = channel.publishValidity?.bind(channel);
  const tell = (message: FromKeeper & { type: 'renewed' | 'started-leading' }): void => {
    ownerValidUntil = message.validUntil;
    untold = undefined;
    send(message);
  };
  const catchUp = (): void => {
    if (untold !== undefined) tell(untold);
  };
  running.on('started-leading', (lease) => {
    leaseToken = lease.token;
    const message = { type: 'started-leading', lease, validUntil: validUntil() } as const;
    publish?.(lease.token, message.validUntil);
    tell(message);
  });
  running.on('renewed', ({ token }) => {
    const message = { type: 'renewed', token, validUntil: validUntil() } as const;
    publish?.(token, message.validUntil);
    if (everyRenewal || (publish === undefined && mustTell(ownerValidUntil, clock.now(), timing))) tell(message);
    else if (publish === undefined) untold = message;
  });
  running.on('stopped-leading', (reason) => {
    untold = undefined;
    // The shared validity must not outlive the keeper's belief: an owner that reads it before this
    // message reaches it (resumed from a freeze, its timers run before its messages) would otherwise
    // take the last renewal's deadline while a successor may already hold the lease.
    if (leaseToken !== undefined) publish?.(leaseToken, -Infinity);
    send({ type: 'stopped-leading', reason });
  });
  running.on('new-leader', (identity, token) => send({ type: 'new-leader', identity, token }));
  running.on('renew-failed', (error) => {
    catchUp(); // while the keeper retries, the owner believes as long as the keeper does
    send({ type: 'renew-failed', message: error instanceof Error ? error.message : String(error) });
  });
  const stopped = new Promise<StepDownReason>((done) => running.once('stopped', done));
  seams.observe?.(running);
  send({ type: 'ready' }); // queued ahead of anything the keeper will say
  running.start();
  const reason = await stopped;
  await store.close().catch(() => undefined);
  await sendBounded(channel, clock, { type: 'stopped', reason, stats: running.stats() });
  return reason;
}

/**
 * Whether a renewal must reach an owner that asked not to hear every one: when its belief
 * (`ownerValidUntil`) would run out before the next renewal's reply could extend it — the next
 * renewal starts at most `renewIntervalMs` after this one (jitter only shortens it) and its reply
 * comes within `requestTimeoutMs`. With the defaults (validity ≈ TTL, renewals every TTL/3) the
 * owner hears every second renewal. A failing renewal sends the latest validity at once (`renew-failed`).
 */
export function mustTell(ownerValidUntil: number, now: number, timing: Pick<AgentConfig['keeper'], 'renewIntervalMs' | 'requestTimeoutMs'>): boolean {
  return ownerValidUntil <= now + timing.renewIntervalMs + timing.requestTimeoutMs;
}

/** `openLeaseStore` for a thread that only keeps leases: a file store makes blocking calls. */
function openDedicated(url: string): Promise<LeaseStore> {
  return openLeaseStore(url, { fileIo: syncFileIo });
}

/** Sends a last message, waiting at most 1 s: a channel nobody reads must not hold up the exit. */
async function sendBounded(channel: AgentChannel, clock: Clock, message: FromKeeper): Promise<void> {
  const giveUp = new AbortController();
  await Promise.race([channel.send(message), sleep(clock, 1000, giveUp.signal).catch(() => undefined)]);
  giveUp.abort();
}

/**
 * Sends in order, except that `renewed` messages are coalesced: while one is still on its way
 * (an owner frozen for hours stops reading its channel), only the latest is kept, and it is
 * dropped when any other message follows (that message supersedes it).
 */
function coalescingSender(channel: AgentChannel): (message: FromKeeper) => void {
  let renewalInFlight = false;
  let latest: FromKeeper | undefined;
  const flush = (): void => {
    const message = latest;
    if (message === undefined || renewalInFlight) return;
    latest = undefined;
    renewalInFlight = true;
    void channel.send(message).then(() => {
      renewalInFlight = false;
      flush();
    });
  };
  return (message) => {
    if (message.type === 'renewed') {
      latest = message;
      flush();
    } else {
      latest = undefined;
      void channel.send(message);
    }
  };
}
