/**
 * The keeper's latest validity, shared with an owner on another thread of the same process (the
 * worker host): the keeper writes it at every renewal, the owner reads it when it asks, and no
 * message wakes the owner's thread. One writer; a sequence number makes a read that overlapped a
 * write try again, so a reader never pairs one lease's token with another's deadline.
 */
export class ValidityCell {
  readonly buffer: SharedArrayBuffer;
  readonly #seq: Int32Array;
  readonly #data: Float64Array;

  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(24)) {
    this.buffer = buffer;
    this.#seq = new Int32Array(buffer, 0, 1);
    this.#data = new Float64Array(buffer, 8, 2);
  }

  /** The keeper's thread only: `token` is valid until `validUntil` (machine clock). */
  write(token: number, validUntil: number): void {
    Atomics.add(this.#seq, 0, 1); // odd: a write is under way
    this.#data[0] = token;
    this.#data[1] = validUntil;
    Atomics.add(this.#seq, 0, 1);
  }

  /** The latest validity written, or `undefined` before the first. */
  read(): { token: number; validUntil: number } | undefined {
    for (;;) {
      const before = Atomics.load(this.#seq, 0);
      if (before % 2 === 1) continue;
      const token = this.#data[0] as number;
      const validUntil = this.#data[1] as number;
      if (Atomics.load(this.#seq, 0) === before) return before === 0 ? undefined : { token, validUntil };
    }
  }
}
