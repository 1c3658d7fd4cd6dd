/**
 * A scenario's conditions in words: what the host does to an idle session, and the whole set of
 * parameters in one line for the appendix.
 */
import type { IdleEffect, Scenario } from '../scenario/types.js';
import { fmtNum, fmtRange } from './numbers.js';
import { dur, plural } from './prose.js';

/** What the host does to a session it idles, per `session.idleEffect`. */
const IDLE_EFFECTS: Readonly<Record<IdleEffect, (scenario: Scenario) => string>> = {
  'clear-timers': () => 'clears every timer the session registered (the process lives on)',
  freeze: () => 'freezes the whole process, every thread, until work arrives',
  stall: (scenario) => `blocks its event loop for ${fmtRange(scenario.session.stallFor, dur)}`,
  exit: () => "ends the session's process",
};

export function idleEffectText(scenario: Scenario): string {
  return IDLE_EFFECTS[scenario.session.idleEffect](scenario);
}

/** Every parameter that shapes the runs, in one line (unescaped: callers escape it). */
export function conditionsText(scenario: Scenario): string {
  const s = scenario;
  const parts = [
    `idle after ${fmtRange(s.session.idleAfter, dur)} without work, then ${s.session.idleEffect}${s.session.onIdle === 'none' ? '' : ` (idle hook: ${s.session.onIdle})`}`,
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
  const w = s.watchdog;
  const watchdog =
    w.policy === 'respawn-if-gone'
      ? `watchdog respawn-if-gone: sleep ${dur(w.intervalMs)} then check, healthy below TTL + ${dur(w.graceMs)}, startup sleep ${dur(w.startupDelayMs)}, new session takes the lease after ${fmtRange(w.respawnDelay, dur)}`
      : `watchdog kill-if-stale: poll ${dur(w.intervalMs)} + grace ${dur(w.graceMs)}, respawn delay ${fmtRange(w.respawnDelay, dur)}`;
  parts.push(`lease TTL ${dur(s.lease.ttlMs)}, heartbeat ${dur(s.heartbeat.intervalMs)}, ${watchdog}`);
  if (s.strategies.some((x) => x.variant === 'first-registered')) parts.push(`agent registry: entries expire ${dur(s.registry.timeoutMs)} after their last refresh, ${s.registry.staleEntries} dead at the start`);
  parts.push(`seed ${s.seed}, ${plural(s.runs, 'run')} × ${dur(s.durationMs)}`);
  return parts.join('; ');
}
