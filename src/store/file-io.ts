/**
 * The file-system seam of {@link FileLeaseStore} and its lock: the few calls they make, each one
 * system call or one short fixed sequence, in two wirings.
 *
 * - {@link asyncFileIo} runs every call on libuv's threadpool, so the caller's event loop never
 *   blocks on the disk. Each call is a thread hop (a pool thread is woken, does the call, wakes
 *   the loop): about three context switches per call. This is the default, for a store used on
 *   the owner's own event loop.
 * - {@link syncFileIo} makes the same calls synchronously: no hops, the thread blocks in the calls
 *   themselves (in practice only in the fsyncs). For a thread that does nothing but keep leases:
 *   the worker host's thread, the sidecar process.
 *
 * Tests wrap either one to count calls; nothing else changes.
 */
import {
  accessSync,
  closeSync,
  fsyncSync,
  linkSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { access, link, lstat, open, readdir, readFile, readlink, rename, symlink, unlink } from 'node:fs/promises';

/** File-system calls of the file store; each rejects with the system error (`code` set) on failure. */
export interface FileIo {
  /** The whole file as UTF-8 (open, fstat, read, close). */
  readText(path: string): Promise<string>;
  /** Creates or truncates `path` with mode `mode`, writes `text`, fsyncs and closes it (open, write, fsync, close). */
  writeDurably(path: string, text: string, mode: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** Hard link; fails with EEXIST if `path` exists. A symlink is linked itself, not its target. */
  link(existing: string, path: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** Creates the symlink `path` holding `target`, atomically; fails with EEXIST if `path` exists. */
  symlink(target: string, path: string): Promise<void>;
  /** What the symlink `path` holds; EINVAL if `path` is not a symlink. */
  readlink(path: string): Promise<string>;
  /** mtime of `path` itself (a symlink's own, not its target's), in epoch ms. */
  mtimeMs(path: string): Promise<number>;
  readdir(path: string): Promise<string[]>;
  /** fsync of a directory (open, fsync, close): makes a rename in it durable. */
  syncDirectory(path: string): Promise<void>;
  access(path: string, mode: number): Promise<void>;
}

/** Every call on libuv's threadpool: the caller's event loop never waits for the disk. */
export const asyncFileIo: FileIo = {
  readText: (path) => readFile(path, 'utf8'),
  async writeDurably(path, text, mode) {
    const handle = await open(path, 'w', mode);
    try {
      await handle.writeFile(text); // loops until all is written: one write(2) for a lease file
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  rename,
  link,
  unlink,
  symlink: (target, path) => symlink(target, path),
  readlink: (path) => readlink(path, 'utf8'),
  mtimeMs: async (path) => (await lstat(path)).mtimeMs,
  readdir: (path) => readdir(path),
  async syncDirectory(path) {
    const handle = await open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  access,
};

/** The same calls made synchronously: for a thread that does nothing but keep leases. */
export const syncFileIo: FileIo = {
  readText: async (path) => readFileSync(path, 'utf8'),
  async writeDurably(path, text, mode) {
    const fd = openSync(path, 'w', mode);
    try {
      writeFileSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  },
  rename: async (from, to) => renameSync(from, to),
  link: async (existing, path) => linkSync(existing, path),
  unlink: async (path) => unlinkSync(path),
  symlink: async (target, path) => symlinkSync(target, path),
  readlink: async (path) => readlinkSync(path, 'utf8'),
  mtimeMs: async (path) => lstatSync(path).mtimeMs,
  readdir: async (path) => readdirSync(path),
  async syncDirectory(path) {
    const fd = openSync(path, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  },
  access: async (path, mode) => accessSync(path, mode),
};
