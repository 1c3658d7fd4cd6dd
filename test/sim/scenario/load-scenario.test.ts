import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SCENARIO_KEYS, loadScenarioFile, parseScenario } from '../../../sim/scenario/load-scenario.js';
import { suggest } from '../../../sim/scenario/yaml-reader.js';
import { ScenarioError } from '../../../sim/scenario/scenario-error.js';

const SCENARIOS = fileURLToPath(new URL('../../../scenarios/', import.meta.url));
const FILE = 'bad.yaml';

/** A valid scenario; tests replace single lines to break it. Line numbers below refer to this text. */
const BASE = `# yaml-language-server: $schema=./schema.json
name: t
seed: 1
duration: 1h
lease: { ttl: 180s }
heartbeat: { interval: 60s }
session: { idleAfter: 5m..8m }
watchdog: { interval: 30s }
strategies: [baseline, worker]
targets:
  baseline: { respawnsPerHour: { max: 1 } }
`;

function withLine(from: string, to: string): string {
  expect(BASE).toContain(from);
  return BASE.replace(from, to);
}

function errorOf(text: string): ScenarioError {
  try {
    parseScenario(text, FILE);
  } catch (error) {
    expect(error).toBeInstanceOf(ScenarioError);
    return error as ScenarioError;
  }
  throw new Error('expected a ScenarioError');
}

function expectError(
  text: string,
  want: { line: number; column: number; path: string; expected: string; got?: string },
): ScenarioError {
  const error = errorOf(text);
  expect(error.code).toBe('E_INPUT');
  expect({ file: error.file, line: error.line, column: error.column, path: error.path, expected: error.expected }).toEqual({
    file: FILE,
    line: want.line,
    column: want.column,
    path: want.path,
    expected: want.expected,
  });
  if (want.got !== undefined) {
    expect(error.message).toBe(`${FILE}:${want.line}:${want.column}: ${want.path}: expected ${want.expected}, got ${want.got}`);
  }
  return error;
}

describe('scenarios/idle.yaml', () => {
  it('loads the incident with every field and default', async () => {
    const file = `${SCENARIOS}idle.yaml`;
    const s = await loadScenarioFile(file);
    expect(s).toEqual({
      file,
      name: 'idle',
      seed: 42,
      durationMs: 24 * 3_600_000,
      runs: 20,
      lease: { ttlMs: 180_000 },
      heartbeat: { intervalMs: 60_000 },
      session: {
        idleAfter: { minMs: 300_000, maxMs: 480_000 },
        idleEffect: 'clear-timers',
        stallFor: { minMs: 10_000, maxMs: 60_000 },
        workArrivalsPerHour: 0,
        workDuration: { minMs: 1_000, maxMs: 10_000 },
        maxLifetime: undefined,
        onIdle: 'none',
      },
      watchdog: { policy: 'kill-if-stale', intervalMs: 30_000, graceMs: 30_000, respawnDelay: { minMs: 5_000, maxMs: 30_000 }, startupDelayMs: 0 },
      registry: { timeoutMs: 600_000, staleEntries: 1 },
      store: { latency: { minMs: 2, maxMs: 20 } },
      keeper: { renewIntervalMs: undefined, renewDeadlineMs: undefined, requestTimeoutMs: undefined },
      keepAwake: { intervalMs: 60_000 },
      crash: undefined,
      restart: undefined,
      faults: [],
      liveness: undefined,
      strategies: [
        { name: 'baseline', kind: 'baseline' },
        { name: 'sidecar', kind: 'sidecar' },
        { name: 'sidecar+progress', kind: 'sidecar', maxProgressSilenceMs: 120_000 },
        { name: 'worker', kind: 'worker' },
        { name: 'watchdog-loop:never-stopped', kind: 'watchdog-loop', variant: 'never-stopped' },
        { name: 'watchdog-loop:restarted', kind: 'watchdog-loop', variant: 'restarted' },
        { name: 'watchdog-loop:pid-checked', kind: 'watchdog-loop', variant: 'pid-checked' },
        { name: 'watchdog-loop:first-registered', kind: 'watchdog-loop', variant: 'first-registered' },
        { name: 'keep-awake', kind: 'keep-awake' },
        { name: 'supervisor', kind: 'supervisor' },
      ],
      targets: expect.arrayContaining([
        { strategy: 'baseline', metric: 'respawnsPerHour', bound: { min: 5, max: 6.5 } },
        { strategy: 'sidecar', metric: 'respawnsPerHour', bound: { max: 0 } },
        { strategy: 'worker', metric: 'respawnsPerHour', bound: { max: 0 } },
      ]),
    });
  });
});

describe('parseScenario', () => {
  it('reads every optional field', () => {
    const s = parseScenario(
      `name: full
seed: 4294967295
duration: 1h30m
runs: 3
lease: { ttl: 15s }
heartbeat: { interval: 5s }
session:
  idleAfter: 5m
  idleEffect: stall
  stallFor: 1s..2s
  workload: { arrivalsPerHour: 12.5, duration: 3s }
  maxLifetime: 1h..2h
watchdog: { interval: 10s, grace: 0s, respawnDelay: 1s }
store: { latency: 0ms }
keeper: { renewInterval: 5s, renewDeadline: 10s, requestTimeout: 2s }
keepAwake: { interval: 30s }
crash: { every: 6h }
restart: { every: 1d }
strategies:
  - watchdog-loop
  - watchdog-loop:pid-checked
  - { kind: watchdog-loop, variant: never-stopped }
  - { kind: sidecar, name: fast-sidecar }
  - keep-awake
targets:
  fast-sidecar: { failoverMax: { max: 20s }, splitBrains: { max: 0 } }
  watchdog-loop:never-stopped: { minRenewalMargin: { min: 1s } }
`,
      'full.yaml',
    );
    expect(s.seed).toBe(4294967295);
    expect(s.durationMs).toBe(5_400_000);
    expect(s.session).toEqual({
      idleAfter: { minMs: 300_000, maxMs: 300_000 },
      idleEffect: 'stall',
      stallFor: { minMs: 1_000, maxMs: 2_000 },
      workArrivalsPerHour: 12.5,
      workDuration: { minMs: 3_000, maxMs: 3_000 },
      maxLifetime: { minMs: 3_600_000, maxMs: 7_200_000 },
      onIdle: 'none',
    });
    expect(s.watchdog).toEqual({ policy: 'kill-if-stale', intervalMs: 10_000, graceMs: 0, respawnDelay: { minMs: 1_000, maxMs: 1_000 }, startupDelayMs: 0 });
    expect(s.store.latency).toEqual({ minMs: 0, maxMs: 0 });
    expect(s.keeper).toEqual({ renewIntervalMs: 5_000, renewDeadlineMs: 10_000, requestTimeoutMs: 2_000 });
    expect(s.keepAwake.intervalMs).toBe(30_000);
    expect(s.crash).toEqual({ meanEveryMs: 6 * 3_600_000 });
    expect(s.restart).toEqual({ meanEveryMs: 86_400_000 });
    expect(s.strategies).toEqual([
      { name: 'watchdog-loop', kind: 'watchdog-loop', variant: 'restarted' },
      { name: 'watchdog-loop:pid-checked', kind: 'watchdog-loop', variant: 'pid-checked' },
      { name: 'watchdog-loop:never-stopped', kind: 'watchdog-loop', variant: 'never-stopped' },
      { name: 'fast-sidecar', kind: 'sidecar' },
      { name: 'keep-awake', kind: 'keep-awake' },
    ]);
    expect(s.targets).toEqual([
      { strategy: 'fast-sidecar', metric: 'failoverMaxMs', bound: { max: 20_000 } },
      { strategy: 'fast-sidecar', metric: 'splitBrains', bound: { max: 0 } },
      { strategy: 'watchdog-loop:never-stopped', metric: 'minRenewalMarginMs', bound: { min: 1_000 } },
    ]);
  });

  it('reports malformed YAML with its position', () => {
    const error = errorOf(withLine('lease: { ttl: 180s }', 'lease: { ttl: 180s'));
    expect([error.file, error.line, error.path]).toEqual([FILE, 6, '']);
    expect(error.message).toMatch(/^bad\.yaml:6:\d+: malformed YAML: \S/);
  });

  it('rejects an unknown key with a suggestion', () => {
    expectError(withLine('lease: { ttl: 180s }', 'lease: { ttll: 180s }'), {
      line: 5,
      column: 10,
      path: 'lease.ttll',
      expected: 'one of ttl (did you mean "ttl"?)',
      got: '"ttll"',
    });
    const top = expectError(withLine('seed: 1', 'sed: 1'), {
      line: 3,
      column: 1,
      path: 'sed',
      expected: `one of ${SCENARIO_KEYS.join(', ')} (did you mean "seed"?)`,
    });
    expect(top.message).toContain('(did you mean "seed"?), got "sed"');
  });

  it('rejects a malformed duration', () => {
    expectError(withLine('duration: 1h', 'duration: 5x'), {
      line: 4,
      column: 11,
      path: 'duration',
      expected: 'a duration such as 180s, 5m, 24h',
      got: '"5x"',
    });
  });

  it('rejects a negative TTL', () => {
    expectError(withLine('ttl: 180s', 'ttl: -180s'), {
      line: 5,
      column: 15,
      path: 'lease.ttl',
      expected: 'a duration > 0',
      got: '"-180s"',
    });
  });

  it('rejects a heartbeat interval that is not shorter than the TTL', () => {
    expectError(withLine('interval: 60s }\nsession', 'interval: 180s }\nsession'), {
      line: 6,
      column: 24,
      path: 'heartbeat.interval',
      expected: 'a duration shorter than lease.ttl (180s)',
      got: '"180s"',
    });
  });

  it('rejects an empty range', () => {
    expectError(withLine('5m..8m', '8m..5m'), {
      line: 7,
      column: 23,
      path: 'session.idleAfter',
      expected: 'a range whose lower bound <= upper bound',
      got: '"8m..5m"',
    });
  });

  it('rejects an unknown strategy with a suggestion', () => {
    expectError(withLine('[baseline, worker]', '[baseline, wroker]'), {
      line: 9,
      column: 24,
      path: 'strategies[1]',
      expected:
        'one of baseline, worker, sidecar, watchdog-loop, keep-awake, naive-worker, supervisor, watchdog-loop:never-stopped, ' +
        'watchdog-loop:restarted, watchdog-loop:pid-checked, watchdog-loop:first-registered (did you mean "worker"?)',
      got: '"wroker"',
    });
  });

  it('rejects a target for a strategy that is not listed', () => {
    expectError(withLine('  baseline: {', '  sidecar: {'), {
      line: 11,
      column: 3,
      path: 'targets.sidecar',
      expected: 'one of baseline, worker',
      got: '"sidecar"',
    });
  });

  it('rejects duplicate strategy names', () => {
    expectError(withLine('[baseline, worker]', '[baseline, { kind: worker, name: baseline }]'), {
      line: 9,
      column: 46,
      path: 'strategies[1].name',
      expected: 'a unique name ("baseline" is already strategies[0])',
      got: '"baseline"',
    });
    expectError(withLine('[baseline, worker]', '[worker, worker]'), {
      line: 9,
      column: 22,
      path: 'strategies[1]',
      expected: 'a unique name ("worker" is already strategies[0])',
    });
  });

  it('rejects a missing required field at the parent mapping', () => {
    expectError(withLine('seed: 1\n', ''), {
      line: 2,
      column: 1,
      path: 'seed',
      expected: 'required field',
      got: 'nothing',
    });
    expectError(withLine('{ ttl: 180s }', '{}'), { line: 5, column: 8, path: 'lease.ttl', expected: 'required field' });
  });

  it('names the field on a wrong type', () => {
    expectError(withLine('lease: { ttl: 180s }', 'lease: 180s'), {
      line: 5,
      column: 8,
      path: 'lease',
      expected: 'a mapping',
      got: '"180s"',
    });
    expectError(withLine('strategies: [baseline, worker]', 'strategies: baseline'), {
      line: 9,
      column: 13,
      path: 'strategies',
      expected: 'a non-empty list',
    });
    expectError(withLine('seed: 1', 'seed: -1'), { line: 3, column: 7, path: 'seed', expected: 'an integer from 0 to 4294967295' });
    expectError(withLine('{ max: 1 }', '{}'), {
      line: 11,
      column: 32,
      path: 'targets.baseline.respawnsPerHour',
      expected: 'at least one of min, max',
    });
    expectError(withLine('{ max: 1 }', '{ max: 1s }'), {
      line: 11,
      column: 39,
      path: 'targets.baseline.respawnsPerHour.max',
      expected: 'a number',
    });
  });
});

describe('parseScenario: the real mechanics (issue 11)', () => {
  const REAL = BASE.replace('session: { idleAfter: 5m..8m }', 'session: { idleAfter: 5m..8m, idleEffect: exit, onIdle: release }').replace(
    'watchdog: { interval: 30s }',
    'watchdog: { policy: respawn-if-gone, interval: 60s, grace: 30s, respawnDelay: 4s..35s, startupDelay: 5s }\nregistry: { timeout: 5m, staleEntries: 2 }',
  );

  it('reads exit, the release hook, respawn-if-gone, its startup delay and the registry', () => {
    const s = parseScenario(REAL.replace('[baseline, worker]', '[baseline, watchdog-loop:first-registered]'), FILE);
    expect(s.session).toMatchObject({ idleEffect: 'exit', onIdle: 'release' });
    expect(s.watchdog).toEqual({
      policy: 'respawn-if-gone',
      intervalMs: 60_000,
      graceMs: 30_000,
      respawnDelay: { minMs: 4_000, maxMs: 35_000 },
      startupDelayMs: 5_000,
    });
    expect(s.registry).toEqual({ timeoutMs: 300_000, staleEntries: 2 });
    expect(s.strategies[1]).toEqual({ name: 'watchdog-loop:first-registered', kind: 'watchdog-loop', variant: 'first-registered' });
  });

  it('reads the new target metrics, durations where they are times', () => {
    const s = parseScenario(
      REAL.replace(
        '  baseline: { respawnsPerHour: { max: 1 } }',
        '  baseline: { leaseAgeAtRespawnMin: { min: 210s }, noWorkingLeaderPerHour: { max: 1m }, sessionRestartsPerHour: { max: 6 }, loopRenewalsPerHour: { max: 0 } }',
      ),
      FILE,
    );
    expect(s.targets).toEqual([
      { strategy: 'baseline', metric: 'leaseAgeAtRespawnMinMs', bound: { min: 210_000 } },
      { strategy: 'baseline', metric: 'leaderlessInPracticeMsPerHour', bound: { max: 60_000 } },
      { strategy: 'baseline', metric: 'sessionRestartsPerHour', bound: { max: 6 } },
      { strategy: 'baseline', metric: 'loopRenewalsPerHour', bound: { max: 0 } },
    ]);
  });

  it('rejects an unknown policy and idle effect with a suggestion', () => {
    expectError(REAL.replace('policy: respawn-if-gone', 'policy: respawn-if-gon'), {
      line: 8,
      column: 21,
      path: 'watchdog.policy',
      expected: 'one of kill-if-stale, respawn-if-gone (did you mean "respawn-if-gone"?)',
      got: '"respawn-if-gon"',
    });
    expectError(REAL.replace('idleEffect: exit', 'idleEffect: exits'), {
      line: 7,
      column: 43,
      path: 'session.idleEffect',
      expected: 'one of clear-timers, freeze, stall, exit (did you mean "exit"?)',
    });
  });

  it('rejects a release hook on a session that does not exit', () => {
    expectError(REAL.replace('idleEffect: exit', 'idleEffect: clear-timers'), {
      line: 7,
      column: 65,
      path: 'session.onIdle',
      expected: 'none (an idle hook runs only with idleEffect: exit, not clear-timers)',
      got: '"release"',
    });
  });

  it('rejects a startup delay under kill-if-stale, naming the policy', () => {
    expectError(REAL.replace('policy: respawn-if-gone, ', ''), {
      line: 8,
      column: 77,
      path: 'watchdog.startupDelay',
      expected: 'no startupDelay (only policy respawn-if-gone sleeps after a spawn; policy is kill-if-stale)',
      got: '"5s"',
    });
  });

  it('rejects a bad registry', () => {
    expectError(REAL.replace('staleEntries: 2', 'staleEntries: -1'), {
      line: 9,
      column: 40,
      path: 'registry.staleEntries',
      expected: 'an integer from 0 to 100',
    });
    expectError(REAL.replace('timeout: 5m', 'timeout: 0s'), { line: 9, column: 22, path: 'registry.timeout', expected: 'a duration > 0' });
  });
});

describe('suggest', () => {
  it('finds near misses and prefixes only', () => {
    expect(suggest('idleAftr', ['idleAfter', 'idleEffect'])).toBe('idleAfter');
    expect(suggest('resp', ['respawnDelay', 'interval'])).toBe('respawnDelay');
    expect(suggest('zzz', ['ttl'])).toBeUndefined();
  });
});

describe('scenarios/', () => {
  it('every scenario parses and declares the schema', async () => {
    const files = (await readdir(SCENARIOS)).filter((f) => f.endsWith('.yaml'));
    expect(files).toContain('idle.yaml');
    for (const f of files) {
      const text = await readFile(`${SCENARIOS}${f}`, 'utf8');
      expect(text.split('\n')[0], f).toBe('# yaml-language-server: $schema=./schema.json');
      expect(() => parseScenario(text, f), f).not.toThrow();
    }
  });

  it('the gate’s default set holds both models: the seed’s description and the real mechanics, each with targets', async () => {
    const { defaultScenarioFiles } = await import('../../../sim/cli/main.js');
    const scenarios = await Promise.all(defaultScenarioFiles(SCENARIOS).map((f) => loadScenarioFile(f)));
    const seed = scenarios.filter((s) => s.watchdog.policy === 'kill-if-stale' && s.session.idleEffect === 'clear-timers' && s.targets.length > 0);
    const real = scenarios.filter((s) => s.watchdog.policy === 'respawn-if-gone' && s.session.idleEffect === 'exit' && s.targets.length > 0);
    expect(seed.map((s) => s.name)).toContain('idle');
    expect(real.map((s) => s.name)).toEqual(expect.arrayContaining(['real-incident', 'real-incident-30s', 'real-crash']));
    // The shipped fix is held to zero respawns per hour under both models.
    const zeroFor = (s: (typeof scenarios)[number]): boolean =>
      s.targets.some((t) => t.strategy === 'supervisor' && t.metric === 'respawnsPerHour' && t.bound.max === 0);
    expect(seed.filter(zeroFor).map((s) => s.name)).toContain('idle');
    expect(real.filter(zeroFor).map((s) => s.name)).toEqual(expect.arrayContaining(['real-incident', 'real-incident-30s']));
    // The incident as deployed: 60 s poll, 5 s startup sleep, registration 4-35 s.
    const incident = real.find((s) => s.name === 'real-incident')!;
    expect([incident.watchdog.intervalMs, incident.watchdog.startupDelayMs, incident.watchdog.respawnDelay]).toEqual([60_000, 5_000, { minMs: 4_000, maxMs: 35_000 }]);
  });

  it('schema.json is JSON whose top-level properties are the keys the loader accepts', async () => {
    const schema = JSON.parse(await readFile(`${SCENARIOS}schema.json`, 'utf8')) as {
      $schema: string;
      additionalProperties: boolean;
      properties: Record<string, unknown>;
    };
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties).sort()).toEqual([...SCENARIO_KEYS].sort());
  });
});
