/**
 * One long-lived etcd `LeaseKeepAlive` stream shared by every renewal of an {@link EtcdLeaseStore}.
 *
 * Opening a gRPC bidi stream costs the client far more than sending a message on one (measured:
 * 1.3-3.7 ms of client CPU per stream), so renewals are messages on a stream the store keeps open
 * while it is in use, as etcd's own Go client multiplexes every lease of a client over one stream.
 *
 * 1. `keepAlive(id)` writes `{ ID: id }` on the current stream (opening one if there is none) and
 *    waits for etcd's answer for that lease. etcd answers each request in order with the lease's
 *    new TTL in seconds, or TTL 0 when it no longer knows the lease; answers are matched to callers
 *    by lease id, first in first out, so two renewals of one lease never share an answer (each one's
 *    validity counts from when *it* was sent).
 * 2. A stream that errors or ends fails every renewal waiting on it with `StoreUnavailableError`
 *    and is dropped; the next renewal opens a fresh one. A broken stream is never a success.
 * 3. A renewal unanswered after `timeoutMs` fails on its own; if the stream has answered nothing at
 *    all in that time it is presumed dead (a hung server, a half-open connection) and dropped as in 2.
 * 4. A stream with no renewal waiting for `idleMs` is ended: an open gRPC call keeps the process
 *    alive, and a lone keeper that renews rarely gains nothing from keeping it.
 */

import type { Etcd3, IDuplexStream, ILeaseKeepAliveRequest, ILeaseKeepAliveResponse } from 'etcd3';
import type { Clock, TimerHandle } from '../clock.js';
import { formatDurationMs } from '../duration.js';
import { StoreUnavailableError } from '../errors.js';

type KeepAliveStream = IDuplexStream<ILeaseKeepAliveRequest, ILeaseKeepAliveResponse>;

interface Waiter {
  readonly resolve: (ttlSec: number) => void;
  readonly reject: (error: Error) => void;
  readonly sentAt: number;
  timer: TimerHandle | undefined;
}

/** The stream in use and what it owes: per lease id, the renewals sent on it, oldest first. */
interface Channel {
  readonly stream: KeepAliveStream;
  readonly waiting: Map<string, Waiter[]>;
  pending: number;
  lastAnswerAt: number;
  /** Let go (error, end, close, timeout, idle or close()): later calls of `#drop` for it do nothing. */
  dropped: boolean;
}

export interface EtcdKeepAliveOptions {
  readonly clock: Clock;
  /** A renewal unanswered this long fails (and a stream silent this long is dropped). */
  readonly timeoutMs: number;
  /** A stream without renewals in flight this long is ended. */
  readonly idleMs: number;
}

export class EtcdKeepAlive {
  readonly #client: Etcd3;
  readonly #options: EtcdKeepAliveOptions;
  #channel: Channel | undefined;
  #opening: Promise<Channel> | undefined;
  #idleTimer: TimerHandle | undefined;
  #opened = 0;
  #closed = false;

  constructor(client: Etcd3, options: EtcdKeepAliveOptions) {
    this.#client = client;
    this.#options = options;
  }

  /** Keep-alive streams opened so far (one per outage or idle gap, not one per renewal). */
  get streamsOpened(): number {
    return this.#opened;
  }

  /** Renews lease `leaseId` once; resolves to etcd's new TTL in seconds, 0 when the lease is gone. */
  async keepAlive(leaseId: string): Promise<number> {
    if (this.#closed) throw new StoreUnavailableError('etcd lease store is closed');
    const channel = this.#channel ?? (await this.#open());
    if (channel !== this.#channel) throw new StoreUnavailableError('etcd keep-alive stream failed as it opened');
    return new Promise<number>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, sentAt: this.#options.clock.now(), timer: undefined };
      const queue = channel.waiting.get(leaseId);
      if (queue === undefined) channel.waiting.set(leaseId, [waiter]);
      else queue.push(waiter);
      channel.pending += 1;
      this.#stopIdleTimer();
      waiter.timer = this.#options.clock.setTimeout(() => this.#timedOut(channel, leaseId, waiter), this.#options.timeoutMs);
      try {
        channel.stream.write({ ID: leaseId });
      } catch (error) {
        this.#drop(channel, error);
      }
    });
  }

  /** Ends the stream; renewals still waiting fail. */
  close(): void {
    this.#closed = true;
    this.#stopIdleTimer();
    if (this.#channel !== undefined) this.#drop(this.#channel, new Error('the store was closed'));
  }

  /** Opens the stream, once for all renewals that arrive while it opens. */
  #open(): Promise<Channel> {
    this.#opening ??= this.#client.leaseClient
      // No deadline: the stream lives as long as it is used (a client's default deadline would end it).
      .leaseKeepAlive({ deadline: Infinity })
      .then((stream) => {
        const channel: Channel = { stream, waiting: new Map(), pending: 0, lastAnswerAt: this.#options.clock.now(), dropped: false };
        this.#opened += 1;
        this.#channel = channel;
        const events = stream as unknown as NodeJS.EventEmitter;
        events.on('data', (response: ILeaseKeepAliveResponse) => this.#answer(channel, response));
        events.on('error', (error: Error) => this.#drop(channel, error));
        events.on('end', () => this.#drop(channel, new Error('etcd ended the keep-alive stream')));
        events.on('close', () => this.#drop(channel, new Error('the keep-alive stream closed')));
        if (this.#closed) this.#drop(channel, new Error('the store was closed'));
        return channel;
      })
      .finally(() => {
        this.#opening = undefined;
      });
    return this.#opening;
  }

  #answer(channel: Channel, response: ILeaseKeepAliveResponse): void {
    channel.lastAnswerAt = this.#options.clock.now();
    const id = String(response.ID);
    const waiter = channel.waiting.get(id)?.shift();
    if (waiter === undefined) return; // its renewal timed out already
    this.#settled(channel, id, waiter);
    waiter.resolve(Number(response.TTL));
  }

  #timedOut(channel: Channel, leaseId: string, waiter: Waiter): void {
    waiter.timer = undefined;
    const queue = channel.waiting.get(leaseId);
    const at = queue?.indexOf(waiter) ?? -1;
    if (at === -1) return;
    queue?.splice(at, 1);
    const silent = channel.lastAnswerAt < waiter.sentAt;
    this.#settled(channel, leaseId, waiter);
    waiter.reject(new StoreUnavailableError(`etcd did not answer the keep-alive of lease ${leaseId} within ${formatDurationMs(this.#options.timeoutMs)}`));
    if (silent) this.#drop(channel, new Error(`the keep-alive stream answered nothing for ${formatDurationMs(this.#options.timeoutMs)}`));
  }

  /** Bookkeeping once `waiter` left its queue. */
  #settled(channel: Channel, leaseId: string, waiter: Waiter): void {
    if (waiter.timer !== undefined) this.#options.clock.clearTimeout(waiter.timer);
    if (channel.waiting.get(leaseId)?.length === 0) channel.waiting.delete(leaseId);
    channel.pending -= 1;
    if (channel.pending === 0 && channel === this.#channel) this.#startIdleTimer(channel);
  }

  /** Fails every renewal waiting on `channel` and forgets the stream (the next renewal opens another). */
  #drop(channel: Channel, cause: unknown): void {
    if (channel.dropped) return;
    channel.dropped = true;
    if (this.#channel === channel) {
      this.#channel = undefined;
      this.#stopIdleTimer();
    }
    const waiting = [...channel.waiting.values()].flat();
    channel.waiting.clear();
    channel.pending = 0;
    const reason = cause instanceof Error ? cause.message : String(cause);
    for (const waiter of waiting) {
      if (waiter.timer !== undefined) this.#options.clock.clearTimeout(waiter.timer);
      waiter.reject(new StoreUnavailableError(`etcd keep-alive stream failed: ${reason}`, { cause }));
    }
    // Late answers find no waiter and are ignored; late errors of a stream we let go are expected.
    (channel.stream as unknown as NodeJS.EventEmitter).on('error', () => undefined);
    try {
      channel.stream.end();
    } catch {
      // already ended
    }
  }

  #startIdleTimer(channel: Channel): void {
    this.#stopIdleTimer();
    this.#idleTimer = this.#options.clock.setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#channel === channel && channel.pending === 0) this.#drop(channel, new Error('idle'));
    }, this.#options.idleMs);
  }

  #stopIdleTimer(): void {
    if (this.#idleTimer !== undefined) this.#options.clock.clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }
}
