/**
 * The sidecar's keeper, whatever carries its channel: `sidecar-main.ts` runs it over the IPC channel
 * of a forked process, the simulator over a simulated channel.
 */
import type { StepDownReason } from '../keeper/keeper-options.js';
import { ProcessOwner, type ProcessTable } from '../owner/process-owner.js';
import type { AgentConfig, ToKeeper } from './host-protocol.js';
import { runKeeperAgent, type AgentChannel, type AgentSeams } from './keeper-agent.js';

/** Seams of {@link runSidecarAgent}. */
export interface SidecarAgentSeams extends AgentSeams {
  /** Where the owner's PID is looked up. @default SYSTEM_PROCESSES */
  readonly processes?: ProcessTable;
}

/**
 * Says `hello`, waits for the owner's `start`, then runs the keeper bound to the channel and to the
 * owner's PID + start time. Resolves `undefined` when the owner is gone before it sent `start`
 * (nothing was held), else with the keeper's final step-down reason once it has released.
 */
export async function runSidecarAgent(channel: AgentChannel, seams: SidecarAgentSeams = {}): Promise<StepDownReason | undefined> {
  const config = await awaitStart(channel);
  if (config === undefined) return undefined;
  const owners = config.owner ? [new ProcessOwner(config.owner.pid, config.owner.startTime, seams.processes)] : [];
  return runKeeperAgent(config, channel, owners, seams);
}

/** The config of the owner's `start`, or `undefined` when the channel closes first. */
function awaitStart(channel: AgentChannel): Promise<AgentConfig | undefined> {
  return new Promise((done) => {
    let waiting = true;
    const unwatch = channel.owner.watch?.(() => {
      if (!waiting) return;
      waiting = false;
      done(undefined);
    });
    channel.onMessage((message: ToKeeper) => {
      if (!waiting || message.type !== 'start') return;
      waiting = false;
      unwatch?.();
      done(message.config);
    });
    void channel.send({ type: 'hello' });
  });
}
