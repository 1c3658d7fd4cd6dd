/**
 * Issue 12, "validate once": the owner resolves the keeper's options once (`agentConfig`); the host
 * receives them (a structured clone, as over the sidecar's IPC channel or as a worker's
 * `workerData`), checks them once, and runs its keeper on exactly what it received.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { agentConfig, checkAgentConfig, type AgentConfig, type FromKeeper, type ToKeeper } from '../../src/hosts/host-protocol.js';
import { runKeeperAgent, type AgentChannel } from '../../src/hosts/keeper-agent.js';
import { checkKeeperTiming } from '../../src/keeper/keeper-options.js';
import type { LeaseKeeper } from '../../src/keeper/lease-keeper.js';
import { ALIVE } from '../../src/owner/owner-liveness.js';
import { MemoryLeaseStore } from '../../src/store/memory-store.js';

const config = agentConfig({ storeUrl: 'memory:', keeper: { key: 'leader', identity: 'a', ttlMs: 20_000, maxProgressSilenceMs: 5_000 } });

/** The host's end of a channel whose owner lives and says nothing; records what the host sends. */
function channel(): AgentChannel & { readonly sent: FromKeeper[] } {
  const sent: FromKeeper[] = [];
  return {
    sent,
    send: async (message) => void sent.push(message),
    onMessage: (_listener: (message: ToKeeper) => void) => undefined,
    owner: { check: () => ALIVE },
  };
}

/** Runs the agent on `received` until its keeper is built, then stops it; what it built and opened. */
async function runOn(received: unknown): Promise<{ keeper?: LeaseKeeper; opened: number; sent: FromKeeper[]; error?: unknown }> {
  const end = new AbortController();
  const host = channel();
  let keeper: LeaseKeeper | undefined;
  let opened = 0;
  const seams = {
    openStore: async () => {
      opened += 1;
      return new MemoryLeaseStore();
    },
    observe: (built: LeaseKeeper) => {
      keeper = built;
      end.abort();
    },
    signal: end.signal,
  };
  try {
    await runKeeperAgent(received as AgentConfig, host, [], seams);
    return { ...(keeper ? { keeper } : {}), opened, sent: host.sent };
  } catch (error) {
    return { opened, sent: host.sent, error };
  }
}

describe('the keeper host takes its timing resolved', () => {
  it('agentConfig resolves the options once into plain data', () => {
    expect(config.keeper.kind).toBe('resolved-keeper-timing');
    expect(checkKeeperTiming(config.keeper)).toBe(config.keeper);
    expect(config.keeper).toMatchObject({ renewIntervalMs: 20_000 / 3, retryIntervalMs: 20_000 / 12, maxProgressSilenceMs: 5_000 });
    expect(() => agentConfig({ storeUrl: 'memory:', keeper: { key: 'leader', ttlMs: 0 } })).toThrow(/invalid option ttlMs/);
  });

  it('runs its keeper on the timing it received, as received: not resolved again', async () => {
    const received = structuredClone(config);
    const { keeper, opened, sent, error } = await runOn(received);
    expect(error).toBeUndefined();
    expect(opened).toBe(1);
    expect(keeper?.timing).toBe(received.keeper);
    expect(keeper?.options).toMatchObject(config.keeper);
    expect(sent.map((m) => m.type)).toContain('ready');
  });

  it('refuses a timing altered on the way before opening the store, and says so to the owner', async () => {
    const received = structuredClone(config) as unknown as { keeper: Record<string, unknown> };
    received.keeper.stepDownMarginMs = 60_000;
    const { keeper, opened, sent, error } = await runOn(received);
    expect(error).toBeInstanceOf(ConfigError);
    expect(keeper).toBeUndefined();
    expect(opened).toBe(0);
    expect(sent).toEqual([
      {
        type: 'failed',
        code: 'E_CONFIG',
        message:
          'invalid option stepDownMarginMs: must be 3s467ms, what the other fields of a resolved keeper timing make (it was altered after resolveKeeperTiming) (got 1m)',
      },
    ]);
  });

  it('refuses keeper options that were never resolved (an owner of another version)', async () => {
    const { opened, sent } = await runOn({ ...config, keeper: { key: 'leader', identity: 'a', ttlMs: 20_000 } });
    expect(opened).toBe(0);
    expect(sent[0]).toMatchObject({ type: 'failed', code: 'E_CONFIG', message: expect.stringMatching(/^invalid option keeper: must be a resolved keeper timing/) });
  });

  it('checkAgentConfig names the field of a malformed config', () => {
    expect(() => checkAgentConfig({ ...config, storeUrl: '' })).toThrow(/invalid option storeUrl/);
    expect(() => checkAgentConfig({ ...config, maxOwnerSilenceMs: -1 })).toThrow(/invalid option maxOwnerSilenceMs/);
    expect(() => checkAgentConfig({ ...config, owner: { pid: 'x', startTime: null } })).toThrow(/invalid option owner/);
    expect(checkAgentConfig(structuredClone(config))).toMatchObject({ storeUrl: 'memory:' });
  });
});
