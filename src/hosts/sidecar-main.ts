/**
 * Entry point of the sidecar process forked by `startSidecarKeeper`: runs `runSidecarAgent` over the
 * IPC channel (it waits for the `start` message, runs the keeper bound to the owner: IPC channel +
 * PID/start time [+ check-ins]) and exits once it has released. The config arrives over IPC, so
 * store credentials never show in the process table. SIGTERM/SIGINT stop it gracefully (release first).
 */
import { ChannelOwner } from '../owner/channel-owner.js';
import type { FromKeeper, ToKeeper } from './host-protocol.js';
import type { AgentChannel } from './keeper-agent.js';
import { runSidecarAgent } from './sidecar-agent.js';
import { SIDECAR_VALIDITY_ARG, SIDECAR_VALIDITY_FD, ValidityFile } from './validity-file.js';

if (process.send === undefined) {
  process.stderr.write('sidecar-main: must be started by startSidecarKeeper (child_process.fork with an IPC channel)\n');
  process.exit(2);
}

// The shared validity file the owner passed: routine renewals reach it there, not as messages.
const validity = process.argv.includes(SIDECAR_VALIDITY_ARG) ? ValidityFile.inherited(SIDECAR_VALIDITY_FD) : undefined;
const channel: AgentChannel = {
  send: (message: FromKeeper) =>
    new Promise<void>((done) => {
      if (!process.connected || process.send === undefined) return done();
      process.send(message, undefined, undefined, () => done());
    }),
  onMessage: (listener) => process.on('message', (message) => listener(message as ToKeeper)),
  ...(validity ? { publishValidity: (token: number, validUntil: number) => validity.write(token, validUntil) } : {}),
  // Bound to the channel before anything else: an owner that dies before sending `start` leaves no sidecar.
  owner: ChannelOwner.forProcess(),
};

const abort = new AbortController();
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(signal, () => abort.abort());
try {
  await runSidecarAgent(channel, { signal: abort.signal });
  process.exit(0);
} catch {
  process.exit(1);
}
