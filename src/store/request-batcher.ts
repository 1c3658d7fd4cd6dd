/**
 * Group commit for store requests: at most `maxInFlight` batches are sent at once, and each batch
 * carries every request queued while the earlier ones were in flight (up to `maxWeight`). An idle
 * store sends each request at once, alone; a busy one sends fewer, larger batches, so a thousand
 * keepers on one client cost a handful of round trips (and, on a server that commits, of fsyncs)
 * instead of a thousand. Requests are never delayed to wait for company.
 *
 * `send(batch)` answers one result per request, in order; if it throws, every request of the batch
 * fails with that error.
 */

interface Pending<I, O> {
  readonly input: I;
  readonly resolve: (output: O) => void;
  readonly reject: (error: unknown) => void;
}

export interface RequestBatcherOptions<I, O> {
  /** Batches in flight at once. */
  readonly maxInFlight: number;
  /** Largest total weight of one batch (a lone request heavier than that still goes alone). */
  readonly maxWeight: number;
  /** Weight of one request. @default () => 1 */
  readonly weight?: (input: I) => number;
  readonly send: (batch: I[]) => Promise<O[]>;
}

export class RequestBatcher<I, O> {
  readonly #options: RequestBatcherOptions<I, O>;
  readonly #queue: Pending<I, O>[] = [];
  #inFlight = 0;
  #batches = 0;
  #requests = 0;

  constructor(options: RequestBatcherOptions<I, O>) {
    this.#options = options;
  }

  /** Batches sent and requests carried so far (requests ÷ batches is the batching achieved). */
  get stats(): { batches: number; requests: number } {
    return { batches: this.#batches, requests: this.#requests };
  }

  run(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({ input, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    const weight = this.#options.weight ?? (() => 1);
    while (this.#inFlight < this.#options.maxInFlight && this.#queue.length > 0) {
      let total = 0;
      let taken = 0;
      while (taken < this.#queue.length) {
        const next = weight((this.#queue[taken] as Pending<I, O>).input);
        if (taken > 0 && total + next > this.#options.maxWeight) break;
        total += next;
        taken += 1;
      }
      void this.#send(this.#queue.splice(0, taken));
    }
  }

  async #send(batch: Pending<I, O>[]): Promise<void> {
    this.#inFlight += 1;
    this.#batches += 1;
    this.#requests += batch.length;
    try {
      const outputs = await this.#options.send(batch.map((p) => p.input));
      for (const [i, pending] of batch.entries()) pending.resolve(outputs[i] as O);
    } catch (error) {
      for (const pending of batch) pending.reject(error);
    } finally {
      this.#inFlight -= 1;
      this.#pump();
    }
  }
}
