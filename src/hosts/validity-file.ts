/**
 * The keeper's latest validity, shared with an owner in another process (the sidecar host) the way
 * a `ValidityCell` shares it between threads: the sidecar writes it at every renewal, the owner
 * reads it when it asks, and no message wakes the owner's thread. The record lives in a small
 * unlinked file (in `/dev/shm` when there is one: memory, never written back to a disk) that the
 * owner creates and hands to the sidecar as an inherited file descriptor; each side reads or writes
 * it with one positioned call, which never sleeps on a memory-backed file.
 *
 * A positioned read may overlap a write and see part of each, so a record carries a checksum of its
 * bytes and a reader takes it only when two reads in a row agree and the sum holds; otherwise it
 * reports nothing and the owner keeps the belief it had (the keeper's messages still tell it of a
 * lapse, a failure or a new lease). A reader thus never pairs one lease's token with another's deadline.
 */
import { closeSync, fstatSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The sidecar's file descriptor of the file: after stdin, stdout, stderr and the IPC channel (`startSidecarKeeper`'s stdio). */
export const SIDECAR_VALIDITY_FD = 4;

/**
 * The sidecar's argument that says fd {@link SIDECAR_VALIDITY_FD} is the file. Without it the fd is
 * not looked at: when the owner made no file, that number is one of Node's own (its epoll fd).
 */
export const SIDECAR_VALIDITY_ARG = '--validity-fd';

/** token (f64), validUntil (f64), sequence (f64), FNV-1a of the first 24 bytes (u32), 4 bytes unused. */
const RECORD_BYTES = 32;
const SUM_AT = 24;

/**
 * Where the owner may make the file, in order: memory-backed `/dev/shm`, then the temp directory
 * (a missing, read-only or full `/dev/shm` is common in containers).
 */
export const VALIDITY_DIRS: readonly string[] = Object.freeze(['/dev/shm', tmpdir()]);

function fnv1a(bytes: Uint8Array, length: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < length; i++) hash = Math.imul(hash ^ (bytes[i] as number), 0x01000193) >>> 0;
  return hash;
}

export class ValidityFile {
  /** The file descriptor (the owner's, or the one the sidecar inherited). */
  readonly fd: number;
  readonly #out = Buffer.alloc(RECORD_BYTES);
  readonly #in = Buffer.alloc(RECORD_BYTES);
  readonly #again = Buffer.alloc(RECORD_BYTES);
  #seq = 0;
  #closed = false;

  constructor(fd: number) {
    this.fd = fd;
  }

  /**
   * The owner's end: a new file holding an empty record, already unlinked (it goes when both ends
   * close it), in the first of `dirs` where that works; `undefined` when none does (the host then
   * tells the owner of every renewal by message). The empty record is written here so that the
   * file's one page exists before the sidecar starts: its writes then never need space (a full
   * `/dev/shm` fails here, where the next directory is tried, not in the sidecar's renewal).
   */
  static create(dirs: readonly string[] = VALIDITY_DIRS): ValidityFile | undefined {
    for (const dir of dirs) {
      let fd: number | undefined;
      try {
        const path = join(dir, `heartbeat-lab-validity-${process.pid}-${Math.random().toString(36).slice(2)}`);
        fd = openSync(path, 'wx+', 0o600);
        unlinkSync(path);
        if (writeSync(fd, Buffer.alloc(RECORD_BYTES), 0, RECORD_BYTES, 0) === RECORD_BYTES) return new ValidityFile(fd);
      } catch {
        // Not here (missing, read-only, full, not a directory): try the next one.
      }
      if (fd !== undefined) closeSync(fd);
    }
    return undefined;
  }

  /** The sidecar's end: `fd` when it is an open regular file (what the owner passed), else `undefined`. */
  static inherited(fd: number): ValidityFile | undefined {
    try {
      return fstatSync(fd).isFile() ? new ValidityFile(fd) : undefined;
    } catch {
      return undefined;
    }
  }

  /** The keeper's side only: `token` is valid until `validUntil` (machine clock). */
  write(token: number, validUntil: number): void {
    if (this.#closed) return;
    this.#seq += 1;
    this.#out.writeDoubleLE(token, 0);
    this.#out.writeDoubleLE(validUntil, 8);
    this.#out.writeDoubleLE(this.#seq, 16);
    this.#out.writeUInt32LE(fnv1a(this.#out, SUM_AT), SUM_AT);
    writeSync(this.fd, this.#out, 0, RECORD_BYTES, 0);
  }

  /** The latest validity written, or `undefined` before the first, after `close()`, or when a read overlapped a write. */
  read(): { token: number; validUntil: number } | undefined {
    if (this.#closed) return undefined;
    if (readSync(this.fd, this.#in, 0, RECORD_BYTES, 0) !== RECORD_BYTES) return undefined;
    if (readSync(this.fd, this.#again, 0, RECORD_BYTES, 0) !== RECORD_BYTES || !this.#in.equals(this.#again)) return undefined;
    if (this.#in.readDoubleLE(16) === 0 || this.#in.readUInt32LE(SUM_AT) !== fnv1a(this.#in, SUM_AT)) return undefined;
    return { token: this.#in.readDoubleLE(0), validUntil: this.#in.readDoubleLE(8) };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.fd);
  }
}
