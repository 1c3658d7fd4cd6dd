/**
 * The simulator runs the shipped hosts, so it can tell a working host from a broken one: the
 * sidecar strategy over a channel that drops the owner's death message (the IPC channel's close
 * never reaches the sidecar's keeper) keeps a dead leader's lease alive after a crash, which
 * `scenarios/crash.yaml`'s zombie-lease target forbids; the shipped wiring passes it.
 */
import { describe, expect, it } from 'vitest';
import type { AgentChannel } from '../../../src/hosts/keeper-agent.js';
import { ALIVE } from '../../../src/owner/owner-liveness.js';
import { SimChannel } from '../../../sim/sim-channel.js';
import { loadScenarioFile } from '../../../sim/scenario/load-scenario.js';
import type { StrategySpec } from '../../../sim/scenario/types.js';
import { sidecarStrategy } from '../../../sim/strategies/keeper.js';
import { World } from '../../../sim/world.js';

/** A channel whose host end never hears that the owner died. */
class DeafChannel extends SimChannel {
  override hostEnd(): AgentChannel {
    const end = super.hostEnd();
    return { send: end.send, onMessage: end.onMessage, owner: { check: () => ALIVE } };
  }
}

const RUNS = 4;

/** Mean zombie-lease time per simulated hour over the first runs of crash.yaml, and the crashes seen. */
async function zombieLease(broken: boolean): Promise<{ msPerHour: number; crashes: number }> {
  const scenario = await loadScenarioFile('scenarios/crash.yaml');
  const spec = scenario.strategies.find((s) => s.kind === 'sidecar') as StrategySpec;
  let zombieMs = 0;
  let crashes = 0;
  for (let run = 0; run < RUNS; run++) {
    const world = new World({
      scenario,
      strategy: spec,
      run,
      createStrategy: (s) => sidecarStrategy(s, broken ? (owner, host) => new DeafChannel(owner, host) : undefined),
    });
    const result = await world.run();
    zombieMs += result.zombieLeaseMs;
    crashes += result.crashes;
  }
  return { msPerHour: zombieMs / ((RUNS * scenario.durationMs) / 3_600_000), crashes };
}

describe('a broken keeper host fails a scenario the shipped one passes', () => {
  it('a sidecar deaf to its owner death keeps dead leaders leading; the shipped sidecar releases at once', async () => {
    const shipped = await zombieLease(false);
    const broken = await zombieLease(true);
    console.log(`[broken host] crash.yaml sidecar, ${RUNS} runs: zombie lease ${shipped.msPerHour.toFixed(0)} ms/h shipped, ${broken.msPerHour.toFixed(0)} ms/h deaf to the owner's death (${shipped.crashes} crashes)`);
    expect(shipped.crashes).toBeGreaterThan(0);
    expect(broken.crashes).toBe(shipped.crashes); // same seeds, same crashes
    // crash.yaml's target for the sidecar: zombieLeasePerHour at most 1s (a release's store round trip).
    expect(shipped.msPerHour).toBeLessThanOrEqual(1_000);
    // Deaf to the channel, only the PID check at the next renewal (every ttl/3 = 60 s) notices.
    expect(broken.msPerHour).toBeGreaterThan(1_000);
  });
});
