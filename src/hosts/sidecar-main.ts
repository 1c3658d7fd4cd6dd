/**
 * Entry point of the sidecar process forked by `startSidecarKeeper`: waits for the `start`
 * message, runs the keeper bound to the owner (IPC channel + PID/start time [+ check-ins]),
 * and exits once it has released. The config arrives over IPC, so store credentials never show
 * in the process table. SIGTERM/SIGINT stop it gracefully (release first).
 */
import { allOwners } from '../owner/all-owners.js';
import { ChannelOwner } from '../owner/channel-owner.js';
import { ProcessOwner } from '../owner/process-owner.js';
import type { AgentConfig, FromKeeper, ToKeeper } from './host-protocol.js';
import { runKeeperAgent, type AgentChannel } from './keeper-agent.js';

const channel: AgentChannel = {
  send: (message: FromKeeper) =>
    new Promise<void>((done) => {
      if (!process.connected || process.send === undefined) return done();
      process.send(message, undefined, undefined, () => done());
    }),
  onMessage: (listener) => process.on('message', (message) => listener(message as ToKeeper)),
};

if (process.send === undefined) {
  process.stderr.write('sidecar-main: must be started by startSidecarKeeper (child_process.fork with an IPC channel)\n');
  process.exit(2);
}
// Bind to the channel before anything else: an owner that dies before sending `start` leaves no sidecar.
const channelOwner = ChannelOwner.forProcess();
const unwatch = channelOwner.watch(() => process.exit(0));
const config = await new Promise<AgentConfig>((done) => {
  const onStart = (message: unknown): void => {
    if ((message as ToKeeper | null)?.type !== 'start') return;
    process.off('message', onStart);
    done((message as Extract<ToKeeper, { type: 'start' }>).config);
  };
  process.on('message', onStart);
  void channel.send({ type: 'hello' });
});
unwatch();

const abort = new AbortController();
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(signal, () => abort.abort());
const owners = [channelOwner, ...(config.owner ? [new ProcessOwner(config.owner.pid, config.owner.startTime)] : [])];
try {
  await runKeeperAgent(config, channel, [allOwners(...owners)], abort.signal);
  process.exit(0);
} catch {
  process.exit(1);
}
