import { Worker } from 'node:worker_threads';
import { compiledEntryPath } from '../entry-path.js';
import { agentConfig, type AgentConfig, type FromKeeper, type KeeperHostOptions } from './host-protocol.js';
import { KeeperHandle, type KeeperHandleOptions, type OwnerChannel } from './keeper-handle.js';
import { awaitReady } from './start-host.js';
import { ValidityCell } from './validity-cell.js';

/** What `worker-main` gets as `workerData`: the config, and the cell its keeper writes each validity to. */
export interface WorkerData {
  readonly config: AgentConfig;
  readonly validity: SharedArrayBuffer;
}

/** Options of {@link startWorkerKeeper}. */
export type WorkerKeeperOptions = KeeperHostOptions;

/** A {@link KeeperHandle} whose keeper runs in a worker thread of this process. */
export class WorkerKeeperHandle extends KeeperHandle {
  /** The worker thread. */
  readonly worker: { readonly threadId: number };

  /** @internal Built by {@link startWorkerKeeper} over the worker (and by the simulator over its own channel). */
  constructor(channel: OwnerChannel, config: AgentConfig, options: KeeperHandleOptions, threadId: number) {
    super(config.keeper.identity, channel, options);
    this.worker = { threadId };
  }
}

/**
 * Starts a `LeaseKeeper` for this process on a worker thread and resolves once it runs.
 *
 * The worker has its own event loop, so the main thread's timers being cleared (a session host
 * idling the session) or the main thread being busy does not stop the renewals. It lives and dies
 * with the process: a SIGKILL leaves the lease to expire by TTL, and a SIGSTOP freezes it too, so a
 * frozen owner loses its lease (the handle then refuses the stale belief after the resume).
 * With `maxOwnerSilenceMs`, a hung main thread (no `checkIn()`) is released.
 */
export async function startWorkerKeeper(options: WorkerKeeperOptions): Promise<WorkerKeeperHandle> {
  const config = agentConfig(options);
  const cell = new ValidityCell();
  const workerData: WorkerData = { config, validity: cell.buffer };
  const worker = new Worker(options.mainPath ?? compiledEntryPath(import.meta.url, 'worker-main'), { workerData, execArgv: [] });
  const handle = new WorkerKeeperHandle(workerChannel(worker, cell), config, options, worker.threadId);
  if (options.keepAlive !== true) worker.unref();
  await awaitReady(handle, options.startTimeoutMs, () => void worker.terminate());
  return handle;
}

/** The owner's end of the channel to a worker thread; routine renewals travel through `cell`, not as messages. */
function workerChannel(worker: Worker, cell: ValidityCell): OwnerChannel {
  let exited = false;
  let finished = false;
  return {
    send: (message) => exited || worker.postMessage(message),
    listen: (events) => {
      let failure: Error | undefined;
      worker.on('message', (message: FromKeeper) => events.onMessage(message));
      worker.on('error', (error) => (failure = error));
      worker.once('exit', (code) => {
        exited = true;
        if (failure !== undefined) events.onExit(`worker failed: ${failure.message}`);
        else events.onExit(finished ? 'worker ended after stopping' : `worker exited with code ${code}`);
      });
    },
    finish: () => {
      finished = true;
      void worker.terminate();
    },
    kill: () => void worker.terminate(),
    validity: () => cell.read(),
  };
}
