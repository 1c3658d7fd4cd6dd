import { fork, type ChildProcess } from 'node:child_process';
import { readProcessStartTime } from '../owner/process-owner.js';
import { compiledEntryPath } from '../entry-path.js';
import { ConfigError } from '../errors.js';
import { agentConfig, type AgentConfig, type FromKeeper, type KeeperHostOptions, type ToKeeper } from './host-protocol.js';
import { KeeperHandle, type KeeperHandleOptions, type OwnerChannel } from './keeper-handle.js';
import { awaitReady } from './start-host.js';
import { SIDECAR_VALIDITY_ARG, SIDECAR_VALIDITY_FD, ValidityFile } from './validity-file.js';

/**
 * The sidecar's default Node flags: it runs a few lines of JavaScript a few times a second, so it
 * trades speed it does not need for memory and wake-ups (measured in `bench/keeper-overhead.js`).
 * - `--optimize-for-size`, `--no-opt`, `--no-sparkplug`: V8 sizes its heap for memory and never
 *   compiles to machine code (the interpreter runs it all): ≈ 6 MiB less RSS on the file store,
 *   ≈ 7–17 MiB on Redis; renewing costs no more CPU (the code never runs hot enough to be optimised).
 * - `--jitless` (with `--no-expose-wasm`, which it implies, so that V8 does not print a warning
 *   about it): no executable memory at all (regular expressions interpreted, no WebAssembly):
 *   ≈ 0.3–0.5 MiB less on the file store, Redis and PostgreSQL, ≈ 3.5 MiB on etcd, CPU the same
 *   (30 s side by side). WebAssembly is only needed by Node's `fetch` (undici), which nothing in
 *   the sidecar reaches: see `--no-experimental-fetch` on Node 20; Node 22 has a `navigator`
 *   global, so `pg` never touches `Response` there.
 * - `--single-threaded-gc`: no parallel or concurrent GC tasks: V8's helper threads otherwise wake
 *   for every GC of a heap of a few MiB, where a GC on the main thread is sub-millisecond.
 * - `--no-experimental-fetch`, on Node 20 only (Node 22 removed the flag; it is passed only when
 *   the running Node accepts it): no `fetch`/`Response` globals. `pg` checks for Cloudflare
 *   Workers on load with `new Response(…)` when there is no `navigator` global (Node 20 has none),
 *   and that loads undici, http, http2, zlib and the web streams: ≈ 7 MiB of a PostgreSQL sidecar
 *   (53.1 → 46.1 MiB beside a bare `node` of 39.5) — and undici compiles its parser to
 *   WebAssembly, which `--jitless` removes. Nothing in the sidecar fetches.
 * None changes what the keeper does or when.
 */
export const SIDECAR_EXEC_ARGV: readonly string[] = Object.freeze([
  '--optimize-for-size',
  '--no-opt',
  '--no-sparkplug',
  '--single-threaded-gc',
  '--jitless',
  '--no-expose-wasm',
  ...(process.allowedNodeEnvironmentFlags.has('--no-experimental-fetch') ? ['--no-experimental-fetch'] : []),
]);

/** Options of {@link startSidecarKeeper}. */
export interface SidecarKeeperOptions extends KeeperHostOptions {
  /**
   * Node flags of the sidecar, in place of the defaults (spread {@link SIDECAR_EXEC_ARGV} to keep
   * them). The owner's own flags, e.g. `--inspect`, are not passed on. @default SIDECAR_EXEC_ARGV
   */
  readonly execArgv?: readonly string[];
  /** Where the sidecar's stderr goes. @default 'inherit' */
  readonly stderr?: 'inherit' | 'ignore';
}

/**
 * The sidecar's own options, checked before forking: from plain JavaScript a string `execArgv`
 * would be spread into one-character flags and the sidecar would exit without a word.
 */
function checkSidecarOptions(options: SidecarKeeperOptions): void {
  const { execArgv, stderr } = options;
  if (execArgv !== undefined && (!Array.isArray(execArgv) || !execArgv.every((flag) => typeof flag === 'string'))) {
    throw new ConfigError('execArgv', 'must be an array of Node flags (strings), e.g. [...SIDECAR_EXEC_ARGV, "--max-old-space-size=64"]', execArgv);
  }
  if (stderr !== undefined && stderr !== 'inherit' && stderr !== 'ignore') {
    throw new ConfigError('stderr', "must be 'inherit' or 'ignore'", stderr);
  }
}

/** A {@link KeeperHandle} whose keeper runs in a sidecar process. */
export class SidecarKeeperHandle extends KeeperHandle {
  /** The sidecar process. */
  readonly sidecar: { readonly pid: number };

  /**
   * @internal Built by {@link startSidecarKeeper} over the forked child's IPC channel (and by the
   * simulator over its own). The sidecar says `hello` first and is answered with its `config`.
   */
  constructor(channel: OwnerChannel, config: AgentConfig, options: KeeperHandleOptions, sidecarPid: number) {
    super(config.keeper.identity, startOnHello(channel, config), options);
    this.sidecar = { pid: sidecarPid };
  }
}

/**
 * Starts a `LeaseKeeper` for this process in a sidecar process and resolves once it runs.
 *
 * The sidecar is `fork`ed with `detached: true`, in its own session and process group: a signal
 * aimed at the owner's group (a session host freezing it with SIGSTOP, a terminal's ^C / ^Z, a
 * group SIGKILL) does not reach it, so it keeps renewing while the owner is frozen. It is bound to
 * the owner, not to the group: the IPC channel closing (the owner exited or was killed) or the
 * owner's PID + start time no longer matching makes it release the lease and exit, so a dead owner
 * is never kept leading. With `maxOwnerSilenceMs` a hung owner (no `checkIn()`) is released too.
 *
 * Throws `ConfigError` for bad options before forking; rejects when the sidecar cannot start
 * (bad store URL, missing driver, no compiled `sidecar-main.js`).
 */
export async function startSidecarKeeper(options: SidecarKeeperOptions): Promise<SidecarKeeperHandle> {
  checkSidecarOptions(options);
  const config = agentConfig(options, { pid: process.pid, startTime: readProcessStartTime(process.pid) });
  // Routine renewals reach the owner through this file, not as messages (see ValidityFile).
  const validity = ValidityFile.create();
  const stdio: Array<'ignore' | 'inherit' | 'ipc' | number> = ['ignore', 'ignore', options.stderr ?? 'inherit', 'ipc'];
  if (validity) stdio[SIDECAR_VALIDITY_FD] = validity.fd;
  let child: ChildProcess;
  try {
    child = fork(options.mainPath ?? compiledEntryPath(import.meta.url, 'sidecar-main'), validity ? [SIDECAR_VALIDITY_ARG] : [], {
      detached: true,
      stdio,
      serialization: 'advanced',
      execArgv: [...(options.execArgv ?? SIDECAR_EXEC_ARGV)],
    });
  } catch (error) {
    validity?.close();
    throw error;
  }
  const handle = new SidecarKeeperHandle(forkedChannel(child, validity), config, options, child.pid ?? -1);
  if (options.keepAlive !== true) {
    child.unref();
    child.channel?.unref();
  }
  await awaitReady(handle, options.startTimeoutMs, () => child.kill('SIGKILL'));
  return handle;
}

/** `channel`, answering the sidecar's `hello` with its `start` config. */
function startOnHello(channel: OwnerChannel, config: AgentConfig): OwnerChannel {
  return {
    send: (message) => channel.send(message),
    finish: () => channel.finish(),
    kill: () => channel.kill(),
    ...(channel.validity ? { validity: channel.validity.bind(channel) } : {}),
    listen: (events) =>
      channel.listen({
        onMessage: (message) => (message.type === 'hello' ? channel.send({ type: 'start', config }) : events.onMessage(message)),
        onExit: (reason) => events.onExit(reason),
      }),
  };
}

/** The owner's end of a forked child's IPC channel; routine renewals travel through `validity`, not as messages. */
function forkedChannel(child: ChildProcess, validity: ValidityFile | undefined): OwnerChannel {
  return {
    send: (message: ToKeeper) => {
      if (child.connected) child.send(message, undefined, undefined, () => undefined);
    },
    listen: (events) => {
      let spawnError: Error | undefined;
      child.on('message', (message: FromKeeper) => events.onMessage(message));
      child.on('error', (error) => {
        // Spawn failures end the sidecar before it began; send failures are covered by `exit`.
        if (child.pid === undefined && spawnError === undefined) {
          spawnError = error;
          validity?.close();
          events.onExit(`could not start the sidecar: ${error.message}`);
        }
      });
      child.once('exit', (code, signal) => {
        validity?.close();
        events.onExit(signal === null ? `sidecar exited with code ${code}` : `sidecar killed by ${signal}`);
      });
    },
    finish: () => child.connected && child.disconnect(),
    kill: () => void child.kill('SIGKILL'),
    ...(validity ? { validity: () => validity.read() } : {}),
  };
}
