/**
 * Entry point of the worker thread started by `startWorkerKeeper`: runs the keeper from
 * `workerData` on the worker's own event loop (the main thread's timers do not matter), bound to
 * `parentPort` [+ check-ins]. It lives and dies with its process.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ChannelOwner } from '../owner/channel-owner.js';
import type { FromKeeper, ToKeeper } from './host-protocol.js';
import { runKeeperAgent } from './keeper-agent.js';
import { ValidityCell } from './validity-cell.js';
import type { WorkerData } from './worker-host.js';

if (parentPort === null) throw new Error('worker-main: must run as a worker thread started by startWorkerKeeper');
const port = parentPort;
const { config, validity } = workerData as WorkerData;
const cell = new ValidityCell(validity);
try {
  await runKeeperAgent(
    config,
    {
      send: async (message: FromKeeper) => port.postMessage(message),
      publishValidity: (token, validUntil) => cell.write(token, validUntil),
      onMessage: (listener) => port.on('message', (message) => listener(message as ToKeeper)),
      owner: ChannelOwner.forPort(port),
    },
    [],
  );
} finally {
  port.removeAllListeners('message');
  port.unref();
}
