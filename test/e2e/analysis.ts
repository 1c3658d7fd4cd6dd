/**
 * What the e2e test concludes from the orchestrators' lines: who believed it led with which token
 * and for how long, whether two such beliefs overlapped, and whether tokens ever went backwards.
 */
import type { Line, Orchestrator } from '../support/orchestrator.js';

/**
 * One stretch of `action` lines of one process with one token: from the first action to the end of
 * the belief they relied on, i.e. the latest `validUntil` an action was given, cut short by the
 * process's own `not-leading` line (stop(), renew deadline) or by the test ending the process.
 */
export interface Belief {
  readonly identity: string;
  readonly token: number;
  readonly start: number;
  readonly end: number;
  readonly actions: number;
}

export function beliefs(orchestrators: readonly Orchestrator[]): Belief[] {
  const found: Belief[] = [];
  for (const o of orchestrators) {
    let open: { token: number; start: number; lastAction: number; validUntil: number; actions: number } | undefined;
    const close = (cutAt: number): void => {
      if (open === undefined) return;
      const end = Math.max(open.lastAction, Math.min(open.validUntil, cutAt));
      found.push({ identity: o.identity, token: open.token, start: open.start, end, actions: open.actions });
      open = undefined;
    };
    for (const line of o.lines) {
      if (line.event === 'action' && line.token !== undefined) {
        if (open !== undefined && open.token !== line.token) close(line.t);
        open ??= { token: line.token, start: line.t, lastAction: line.t, validUntil: line.t, actions: 0 };
        open.lastAction = line.t;
        open.validUntil = Math.max(open.validUntil, line.validUntil ?? line.t);
        open.actions += 1;
      } else if (line.event === 'not-leading' || line.event === 'stopped' || line.event === 'keeper-exit') {
        close(line.t);
      }
    }
    close(o.endedAt ?? Infinity);
  }
  return found.sort((a, b) => a.start - b.start);
}

/** Pairs of beliefs with different tokens whose intervals overlap (there must be none). */
export function overlaps(all: readonly Belief[]): Array<[Belief, Belief]> {
  const bad: Array<[Belief, Belief]> = [];
  for (let i = 0; i < all.length; i++) {
    for (let j = i + 1; j < all.length; j++) {
      const a = all[i] as Belief;
      const b = all[j] as Belief;
      if (a.token === b.token && a.identity === b.identity) continue;
      if (a.start < b.end && b.start < a.end) bad.push([a, b]);
    }
  }
  return bad;
}

/**
 * Problems with the `leading` lines of all processes in time order: a token lower than one
 * already granted, or a token already granted turning up at another holder.
 */
export function tokenRegressions(orchestrators: readonly Orchestrator[]): string[] {
  const grants = orchestrators
    .flatMap((o) => o.events('leading').map((line) => ({ identity: o.identity, line })))
    .sort((a, b) => a.line.t - b.line.t);
  const problems: string[] = [];
  const holderOf = new Map<number, string>();
  let highest = 0;
  for (const { identity, line } of grants) {
    const token = line.token as number;
    if (token < highest) problems.push(`${identity} led with token ${token} at ${line.t} after token ${highest} was granted`);
    const holder = holderOf.get(token);
    if (holder !== undefined && holder !== identity) problems.push(`token ${token} granted to ${holder} and to ${identity}`);
    holderOf.set(token, identity);
    highest = Math.max(highest, token);
  }
  return problems;
}

/** The first `leading` line printed at or after `since` by a process the test has not ended, with its process. */
export function firstLeaderSince(orchestrators: readonly Orchestrator[], since: number): { o: Orchestrator; line: Line } | undefined {
  let best: { o: Orchestrator; line: Line } | undefined;
  for (const o of orchestrators) {
    if (o.endedAt !== undefined) continue;
    const line = o.lines.find((l) => l.event === 'leading' && l.t >= since);
    if (line !== undefined && (best === undefined || line.t < best.line.t)) best = { o, line };
  }
  return best;
}

/** The `p`-th percentile (0–100, nearest rank) of `values`. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

/** The last element of `items` that matches, or `undefined`. */
export function lastOf<T>(items: readonly T[], match: (item: T) => boolean): T | undefined {
  for (let i = items.length - 1; i >= 0; i--) if (match(items[i] as T)) return items[i];
  return undefined;
}
