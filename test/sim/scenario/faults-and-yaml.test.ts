import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadScenarioFile, parseScenario } from '../../../sim/scenario/load-scenario.js';
import { ScenarioError } from '../../../sim/scenario/scenario-error.js';
import { scenarioToYaml } from '../../../sim/scenario/to-yaml.js';

const BASE = `name: f
seed: 1
duration: 2h
lease: { ttl: 180s }
heartbeat: { interval: 60s }
session: { idleAfter: 5m..8m }
watchdog: { interval: 30s }
strategies: [sidecar]
`;

function error(faultLine: string): ScenarioError {
  try {
    parseScenario(`${BASE}faults:\n  - ${faultLine}\n`, 'f.yaml');
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  throw new Error('expected a ScenarioError');
}

describe('faults in scenario files', () => {
  it('reads every field with defaults', () => {
    const s = parseScenario(
      `${BASE}faults:
  - { kind: clock-jump, at: 1h, by: -30s, target: keeper }
  - { kind: clock-drift, every: 30m, for: 5m..10m, rate: 1.01, probability: 0.5 }
  - { kind: store-latency, at: 10m..20m, latency: 2s }
liveness: { failoverWithin: 4m }
`,
      'f.yaml',
    );
    expect(s.faults[0]).toEqual({
      kind: 'clock-jump', at: { minMs: 3_600_000, maxMs: 3_600_000 }, everyMs: undefined, for: { minMs: 0, maxMs: 0 },
      probability: 1, target: 'keeper', byMs: -30_000, rate: 1, latencyMs: 0,
    });
    expect(s.faults[1]).toMatchObject({ everyMs: 1_800_000, for: { minMs: 300_000, maxMs: 600_000 }, rate: 1.01, probability: 0.5, target: 'orchestrator' });
    expect(s.faults[2]).toMatchObject({ at: { minMs: 600_000, maxMs: 1_200_000 }, latencyMs: 2_000 });
    expect(s.liveness).toEqual({ failoverWithinMs: 240_000 });
  });

  it('rejects an unknown kind with a suggestion, naming line and column', () => {
    const e = error('{ kind: store-outtage, at: 1h }');
    expect(e.message).toMatch(/^f\.yaml:10:13: faults\[0\]\.kind: expected one of .*\(did you mean "store-outage"\?\)/);
  });

  it('needs at or every', () => {
    expect(error('{ kind: stall, for: 1m }').message).toMatch(/faults\[0\]: expected at least one of at, every/);
  });

  it('refuses a parameter on a kind that would ignore it, naming line, field and the kind that takes it', () => {
    expect(error('{ kind: partition, at: 1h, for: 1m, rate: 2 }').message).toMatch(
      /^f\.yaml:10:47: faults\[0\]\.rate: expected no rate on a partition fault \(only clock-drift takes one\), got 2$/,
    );
    expect(error('{ kind: clock-drift, at: 1h, by: 30s }').message).toMatch(/faults\[0\]\.by: expected no by on a clock-drift fault \(only clock-jump takes one\)/);
    expect(error('{ kind: stall, at: 1h, latency: 2s }').message).toMatch(/faults\[0\]\.latency: expected no latency on a stall fault \(only store-latency takes one\)/);
  });

  it('bounds probability and rate', () => {
    expect(error('{ kind: stall, at: 1h, probability: 2 }').message).toMatch(/faults\[0\]\.probability: expected a number from 0 to 1/);
    expect(error('{ kind: clock-drift, at: 1h, rate: 3 }').message).toMatch(/faults\[0\]\.rate: expected a number from 0\.5 to 2/);
    expect(error('{ kind: clock-jump, at: 1h, by: 5x }').message).toMatch(/faults\[0\]\.by: expected a signed duration/);
  });
});

describe('scenarioToYaml', () => {
  it.each(readdirSync('scenarios').filter((f) => f.endsWith('.yaml')))('round-trips scenarios/%s', async (file) => {
    const original = await loadScenarioFile(`scenarios/${file}`);
    const again = parseScenario(scenarioToYaml(original), original.file);
    expect({ ...again, targets: [] }).toEqual({ ...original, targets: [] });
  });

  it('round-trips the real mechanics and the supervisor options', () => {
    const original = parseScenario(
      `name: rt
seed: 1
duration: 1h
lease: { ttl: 180s }
heartbeat: { interval: 60s }
session: { idleAfter: 5m..8m, idleEffect: exit, onIdle: release }
watchdog: { policy: respawn-if-gone, interval: 60s, grace: 30s, respawnDelay: 4s..35s, startupDelay: 5s }
registry: { timeout: 3m, staleEntries: 2 }
strategies: [watchdog-loop:first-registered, { kind: supervisor, name: sup, restart: always, maxRestarts: 5/30m, maxProgressSilence: 2m }]
`,
      'rt.yaml',
    );
    const yaml = scenarioToYaml(original);
    expect(yaml).toContain('maxRestarts: 5/30m');
    expect(parseScenario(yaml, 'rt.yaml')).toEqual(original);
  });
});
