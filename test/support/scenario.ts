import { parseScenario } from '../../sim/scenario/load-scenario.js';
import type { Scenario } from '../../sim/scenario/types.js';

/** A scenario from YAML text, for tests that need one parameter changed. */
export function scenarioFrom(yaml: string, file = 'test.yaml'): Scenario {
  return parseScenario(yaml, file);
}

/** The incident's parameters with overrides spliced in as YAML lines. */
export function incident(extra = '', strategies = '[baseline]'): Scenario {
  return scenarioFrom(`name: t
seed: 1
duration: 2h
runs: 1
lease: { ttl: 180s }
heartbeat: { interval: 60s }
session: { idleAfter: 5m..8m, idleEffect: clear-timers }
watchdog: { interval: 30s, grace: 30s, respawnDelay: 5s..30s }
strategies: ${strategies}
${extra}`);
}

/**
 * The real mechanics (scenarios/real-incident.yaml): sessions exit when idle; the shell watchdog
 * respawns only what is gone. `extra` adds YAML lines (e.g. a registry); `session` replaces the session's.
 */
export function realIncident(options: {
  strategies: string;
  seed: number;
  duration: string;
  name?: string;
  session?: string;
  extra?: string;
}): Scenario {
  const { strategies, seed, duration, name = 't', session = 'session: { idleAfter: 5m..8m, idleEffect: exit }', extra = '' } = options;
  return scenarioFrom(`name: ${name}
seed: ${seed}
duration: ${duration}
runs: 1
lease: { ttl: 180s }
heartbeat: { interval: 60s }
${session}
watchdog: { policy: respawn-if-gone, interval: 60s, grace: 30s, respawnDelay: 4s..35s, startupDelay: 5s }
strategies: ${strategies}
${extra}`);
}
