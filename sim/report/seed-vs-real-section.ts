/**
 * Section 7: where the seed's description of the incident and the real system's public code
 * differ (the facts of issue 11), with the figures each model's scenarios use.
 */
import { table } from './markdown.js';
import { MODELS, type ModelIncident } from './models.js';
import { fmtMs } from './numbers.js';
import { dur, list, scenarioName, strategyRef } from './prose.js';
import type { ReportInput } from './report-types.js';
import { roleOf, rowByKey } from './scenario-rows.js';

function realScenarios(inputs: readonly ReportInput[]): ReportInput[] {
  const real = MODELS.find((m) => m.id === 'real');
  return inputs.filter((i) => real?.describes(i.scenario) === true);
}

/** The zombie lease of a loop that is never stopped, when a crash scenario runs one. */
function neverStoppedZombie(inputs: readonly ReportInput[]): string {
  for (const input of inputs) {
    if (roleOf(input.scenario) !== 'crash') continue;
    const row = rowByKey(input, 'watchdog-loop:never-stopped');
    if (row !== undefined) return ` (${strategyRef(row.spec.name)} on ${scenarioName(input)}: zombie lease ${fmtMs(row.summary.zombieLeaseMsPerHour)} per hour)`;
  }
  return '';
}

export function seedVsRealSection(inputs: readonly ReportInput[], incidents: readonly ModelIncident[]): string {
  const seed = incidents.find((i) => i.model.id === 'seed');
  const real = realScenarios(inputs);
  const seedPoll = seed === undefined ? 'on a fixed grid' : `on a fixed grid, every ${dur(seed.input.scenario.watchdog.intervalMs)} in ${scenarioName(seed.input)}`;
  const rows: Array<[string, string, string]> = [
    [
      'what the watchdog acts on',
      'a stale lease: it kills the orchestrator whose lease expired more than the grace ago, alive or not',
      "only a child process that is gone (PID file missing, PID dead, or its command line no longer the orchestrator's); then it reads the lease, skips the respawn while the lease is healthy (younger than TTL + grace), and otherwise spawns at once and sleeps a startup delay. A live orchestrator is never judged by its lease",
    ],
    ['when it polls', seedPoll, 'a shell loop: sleep, then check, so each period starts where the previous check ended'],
    [
      'what an idled session does',
      'the host clears its timers; the process lives on and believes it leads',
      "the idle hook releases the lease if the session leads and starts a fresh orchestrator of its own; the idled session's process ends. A new orchestrator takes seconds, depending on the model behind it, before it registers and takes the lease",
    ],
    [
      'option 2 as built',
      'a loop in the watchdog that renews the lease',
      'a `nohup` shell loop that refreshed the registry entry of the *first agent registered with the orchestrator role* and renewed the lease only if that agent held it. Dead agents stay in the registry while something refreshes them; its pick was a long-dead orchestrator, so it logged “not the leader, skipping lease refresh” and renewed nothing, and the respawns went on',
    ],
    [
      'the later fix to option 2',
      'stop stopping the loop',
      `a loop whose pick *is* the holder then renews a dead leader's lease forever: the zombie lease${neverStoppedZombie(inputs)}`,
    ],
    [
      'old leases at respawn',
      'blamed on a heartbeat gap while the loop was stopped',
      "the logs do not show that gap; lease ages like these follow from the watchdog's own loop timing: its poll period, the startup sleep and how fast a new session registers",
    ],
  ];
  const out = [
    "## 7. Where the seed's text and the real code differ",
    '',
    "The seed describes the incident; the real system's public code and logs show how it ran. A simulator that reproduces the rate with the wrong mechanism is right by luck, so the options are judged under both.",
    '',
    table(['', "the seed's description", "the real system's code"], rows),
    '',
    real.length === 0
      ? "These runs model the seed's description only: no scenario given sets `session.idleEffect: exit` or `watchdog.policy: respawn-if-gone`."
      : `The real mechanics are modelled by ${list(real.map(scenarioName))}; their parameters are in [Appendix B](#appendix-b-every-figure-per-scenario).`,
  ];
  return out.join('\n');
}
