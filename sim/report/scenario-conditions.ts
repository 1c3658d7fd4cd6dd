/**
 * A scenario's conditions in words: what the host does to an idle session, and the whole set of
 * parameters in one line for the appendix.
 */
import type { Scenario } from '../scenario/types.js';
import { fmtNum, fmtRange } from './numbers.js';
import { dur, plural } from './prose.js';

/** What the host does to a session it idles, per `session.idleEffect`. */
const IDLE_EFFECTS: Readonly<Record<string, (scenario: Scenario) => string>> = {
  'clear-timers': () => 'clears every timer the session registered (the process lives on)',
  freeze: () => 'freezes the whole process, every thread, until work arrives',
  stall: (scenario) => `blocks its event loop for ${fmtRange(scenario.session.stallFor, dur)}`,
  exit: () => "ends the session's process",
};

export function idleEffectText(scenario: Scenario): string {
  const effect: string = scenario.session.idleEffect;
  return IDLE_EFFECTS[effect]?.(scenario) ?? `applies ${effect}`;
}

/** Every parameter that shapes the runs, in one line (unescaped: callers escape it). */
export function conditionsText(scenario: Scenario): string {
  const s = scenario;
  const parts = [
    `idle after ${fmtRange(s.session.idleAfter, dur)} without work, then ${s.session.idleEffect}`,
    s.session.workArrivalsPerHour > 0 ? `work arrives ${fmtNum(s.session.workArrivalsPerHour, 1)}/h` : 'no work arrives',
  ];
  if (s.session.maxLifetime !== undefined) parts.push(`sessions idled after ${fmtRange(s.session.maxLifetime, dur)} of lifetime`);
  if (s.crash !== undefined) parts.push(`crashes every ${dur(s.crash.meanEveryMs)} on average`);
  if (s.restart !== undefined) parts.push(`planned restarts every ${dur(s.restart.meanEveryMs)} on average`);
  for (const f of s.faults) {
    const every = f.everyMs === undefined ? '' : ` every ${dur(f.everyMs)}`;
    const lasting = f.for.maxMs === 0 ? '' : ` for ${fmtRange(f.for, dur)}`;
    parts.push(`fault ${f.kind}${every}${lasting}`);
  }
  parts.push(
    `lease TTL ${dur(s.lease.ttlMs)}, heartbeat ${dur(s.heartbeat.intervalMs)}, watchdog poll ${dur(s.watchdog.intervalMs)} + grace ${dur(s.watchdog.graceMs)}, respawn delay ${fmtRange(s.watchdog.respawnDelay, dur)}`,
  );
  parts.push(`seed ${s.seed}, ${plural(s.runs, 'run')} × ${dur(s.durationMs)}`);
  return parts.join('; ');
}
