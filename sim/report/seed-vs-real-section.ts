/**
 * Section 7: where the seed's description of the incident and the real system's public code
 * differ (the facts of issue 11), each with the figure of the runs that bears on it.
 */
import { table } from './markdown.js';
import { MODELS, type ModelIncident } from './models.js';
import { fmtMs, fmtRange } from './numbers.js';
import { dur, list, rate, scenarioName, strategyRef } from './prose.js';
import type { ReportInput } from './report-types.js';
import { roleOf, rowByKey, type Row } from './scenario-rows.js';

/** ` (what, on scenario: figures)` for the first scenario where `pick` finds a row, else ''. */
function cite(inputs: readonly ReportInput[], pick: (input: ReportInput) => Row | undefined, figures: (row: Row, input: ReportInput) => string): string {
  for (const input of inputs) {
    const row = pick(input);
    if (row !== undefined) return ` (${strategyRef(row.spec.name)} on ${scenarioName(input)}: ${figures(row, input)})`;
  }
  return '';
}

/** A loop that renews a lease nobody uses: no respawns, a zombie lease. */
const keepsDeadLease = (row: Row | undefined): Row | undefined => (row !== undefined && row.summary.respawnsPerHour === 0 && row.summary.zombieLeaseMsPerHour >= 1_000 ? row : undefined);

export function seedVsRealSection(inputs: readonly ReportInput[], incidents: readonly ModelIncident[]): string {
  const seed = incidents.find((i) => i.model.id === 'seed');
  const realIncident = incidents.find((i) => i.model.id === 'real');
  const realModel = MODELS.find((m) => m.id === 'real');
  const real = inputs.filter((i) => realModel?.describes(i.scenario) === true);
  // The real incident first, so a citation names it when it runs the strategy cited.
  const cited = realIncident === undefined ? real : [realIncident.input, ...real.filter((i) => i !== realIncident.input)];
  const w = realIncident?.input.scenario.watchdog;
  const inReal = realIncident === undefined ? '' : ` in ${scenarioName(realIncident.input)}`;
  const seedPoll = seed === undefined ? 'on a fixed grid' : `on a fixed grid, every ${dur(seed.input.scenario.watchdog.intervalMs)} in ${scenarioName(seed.input)}`;
  const baseline = realIncident === undefined ? undefined : rowByKey(realIncident.input, 'baseline');
  const ages = baseline?.summary.leaseAgeAtRespawnMs ?? null;
  const rows: Array<[string, string, string]> = [
    [
      'what the watchdog acts on',
      'a stale lease: it kills the orchestrator whose lease expired more than the grace ago, alive or not',
      `only a child process that is gone (PID file missing, PID dead, or its command line no longer the orchestrator's); then it reads the lease, skips the respawn while the lease is healthy (younger than TTL + grace), and otherwise spawns at once and sleeps a startup delay${w === undefined ? '' : ` (${dur(w.startupDelayMs)}${inReal})`}. A live orchestrator is never judged by its lease`,
    ],
    ['when it polls', seedPoll, `a shell loop: sleep, then check, so each period starts where the previous check ended${w === undefined ? '' : `; every ${dur(w.intervalMs)}${inReal}, the deployed configuration`}`],
    [
      'what an idled session does',
      'the host clears its timers; the process lives on and believes it leads',
      `the idle hook releases the lease if the session leads and starts a fresh orchestrator of its own; the idled session's process ends. A new orchestrator takes ${w === undefined ? 'seconds' : fmtRange(w.respawnDelay, dur)}, depending on the model behind it, before it registers and takes the lease`,
    ],
    [
      'option 2 as built',
      'a loop in the watchdog that renews the lease',
      'a `nohup` shell loop that refreshed the registry entry of the *first agent registered with the orchestrator role* and renewed the lease only if that agent held it. Dead agents stay in the registry while something refreshes them; its pick was a long-dead orchestrator, so it logged “not the leader, skipping lease refresh” and renewed nothing, and the respawns went on' +
        cite(
          cited,
          (i) => (i.scenario.registry.staleEntries > 0 ? rowByKey(i, 'watchdog-loop:first-registered') : undefined),
          (row, i) => `${rate(row.summary.respawnsPerHour)} respawns/h, ${rate(row.summary.loopRenewalsPerHour)} loop renewals/h; ${strategyRef('baseline')} ${rate(rowByKey(i, 'baseline')?.summary.respawnsPerHour ?? NaN)}`,
        ),
    ],
    [
      'the later fix to option 2',
      'stop stopping the loop',
      "a loop whose pick *is* the holder then renews a dead leader's lease forever: the zombie lease, with no orchestrator running" +
        (cite(cited, (i) => keepsDeadLease(rowByKey(i, 'watchdog-loop:first-registered')), (row) => `0 respawns/h, zombie lease ${fmtMs(row.summary.zombieLeaseMsPerHour)} per hour`) ||
          cite(inputs.filter((i) => roleOf(i.scenario) === 'crash'), (i) => rowByKey(i, 'watchdog-loop:never-stopped'), (row) => `zombie lease ${fmtMs(row.summary.zombieLeaseMsPerHour)} per hour`)),
    ],
    [
      'old leases at respawn',
      'blamed on a heartbeat gap while the loop was stopped',
      `the logs do not show that gap; lease ages like these follow from the watchdog's own loop timing: its poll period, the startup sleep and how fast a new session registers${
        ages === null || realIncident === undefined ? '' : ` (${strategyRef('baseline')} on ${scenarioName(realIncident.input)}: ${fmtMs(ages.min)}..${fmtMs(ages.max)} at each respawn decision)`
      }`,
    ],
  ];
  return [
    "## 7. Where the seed's text and the real code differ",
    '',
    "The seed describes the incident; the real system's public code and logs show how it ran. A simulator that reproduces the rate with the wrong mechanism is right by luck, so the options are judged under both.",
    '',
    table(['', "the seed's description", "the real system's code"], rows),
    '',
    real.length === 0
      ? "These runs model the seed's description only: no scenario given sets `session.idleEffect: exit` or `watchdog.policy: respawn-if-gone`."
      : `The real mechanics are modelled by ${list(real.map(scenarioName))}; their parameters are in [Appendix B](#appendix-b-every-figure-per-scenario).`,
  ].join('\n');
}
