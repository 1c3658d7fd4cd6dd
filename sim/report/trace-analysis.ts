/**
 * Reads facts out of a simulator trace (the events of one traced run of one strategy): the decay
 * cycles of the incident and the lease age over time. Pure functions of the events, so the
 * report is a function of the runs.
 */
import type { TraceEvent } from '../trace.js';

/** A successful acquisition or renewal as the store applied it. */
export interface Grant {
  readonly t: number;
  readonly op: 'acquire' | 'renew';
  readonly holder: string;
  readonly token: number;
}

/**
 * One decay cycle: a leader's session goes idle, its heartbeat stops, its lease expires, the
 * watchdog declares it dead, kills it and spawns a successor, which acquires the lease.
 */
export interface DecayCycle {
  readonly victim: string;
  readonly successor: string;
  /** The victim's first acquisition. */
  readonly acquire: Grant;
  /** Successful renewals by the victim before it was declared dead. */
  readonly renewals: number;
  /** The victim's last successful renewal (or its acquisition when it never renewed). */
  readonly lastGrant: Grant;
  readonly idle: { readonly t: number; readonly cause: string; readonly effect: string; readonly timersCleared: number | null };
  /** `lastGrant.t + TTL`. */
  readonly expiryT: number;
  /** The next heartbeat was due here (`lastGrant.t + heartbeat interval`). */
  readonly heartbeatDueT: number;
  readonly respawn: { readonly t: number; readonly expiredForMs: number | null; readonly victimAlive: boolean };
  /** When the victim's process exited (killed by the watchdog). */
  readonly exitT: number | null;
  readonly spawnT: number;
  readonly successorAcquire: Grant;
}

/** Successful acquire/renew events, in trace order. */
export function grants(events: readonly TraceEvent[]): Grant[] {
  const out: Grant[] = [];
  for (const e of events) {
    if (e.kind !== 'acquire' && e.kind !== 'renew') continue;
    const data = e.data ?? {};
    if (data.ok !== true || typeof data.holder !== 'string') continue;
    out.push({ t: e.t, op: e.kind, holder: data.holder, token: typeof data.token === 'number' ? data.token : 0 });
  }
  return out;
}

/** A victim's lease from its first acquisition to the successor's, around a respawn at `respawnT`. */
export interface Handover {
  readonly acquire: Grant;
  readonly renewals: number;
  readonly lastGrant: Grant;
  readonly successor: string;
  readonly spawnT: number;
  readonly successorAcquire: Grant;
}

/** The victim's grants up to the respawn and the successor that took the lease after it; undefined when incomplete. */
export function handover(events: readonly TraceEvent[], all: readonly Grant[], victim: string, respawnT: number): Handover | undefined {
  const mine = all.filter((g) => g.holder === victim && g.t <= respawnT);
  const acquire = mine.find((g) => g.op === 'acquire');
  const lastGrant = mine[mine.length - 1];
  const successorAcquire = all.find((g) => g.op === 'acquire' && g.t >= respawnT && g.holder !== victim);
  if (acquire === undefined || lastGrant === undefined || successorAcquire === undefined) return undefined;
  const spawn = events.find((e) => e.kind === 'spawn' && e.actor === successorAcquire.holder);
  if (spawn === undefined) return undefined;
  return { acquire, renewals: mine.filter((g) => g.op === 'renew').length, lastGrant, successor: successorAcquire.holder, spawnT: spawn.t, successorAcquire };
}

/** Every complete decay cycle of the trace, in time order. */
export function decayCycles(events: readonly TraceEvent[], params: { readonly ttlMs: number; readonly heartbeatMs: number }): DecayCycle[] {
  const all = grants(events);
  const cycles: DecayCycle[] = [];
  for (let i = 0; i < events.length; i++) {
    const r = events[i] as TraceEvent;
    if (r.actor !== 'watchdog' || r.kind !== 'respawn') continue;
    const victim = r.data?.victim;
    if (typeof victim !== 'string') continue;
    let idleEvent: TraceEvent | undefined;
    for (let j = i - 1; j >= 0; j--) {
      const e = events[j] as TraceEvent;
      if (e.kind === 'session-idle' && e.actor === `host/${victim}`) {
        idleEvent = e;
        break;
      }
    }
    if (idleEvent === undefined) continue;
    const lease = handover(events, all, victim, r.t);
    if (lease === undefined) continue;
    const exit = events.slice(i).find((e) => e.kind === 'exit' && e.actor === victim);
    const idleData = idleEvent.data ?? {};
    cycles.push({
      ...lease,
      victim,
      idle: {
        t: idleEvent.t,
        cause: String(idleData.cause ?? ''),
        effect: String(idleData.effect ?? ''),
        timersCleared: typeof idleData.timersCleared === 'number' ? idleData.timersCleared : null,
      },
      expiryT: lease.lastGrant.t + params.ttlMs,
      heartbeatDueT: lease.lastGrant.t + params.heartbeatMs,
      respawn: {
        t: r.t,
        expiredForMs: typeof r.data?.expiredForMs === 'number' ? r.data.expiredForMs : null,
        victimAlive: r.data?.victimAlive === true,
      },
      exitT: exit?.t ?? null,
    });
  }
  return cycles;
}

export interface AgePoint {
  readonly t: number;
  readonly ageMs: number;
}

/**
 * Lease age (time since the last successful acquisition or renewal, whoever the holder) sampled
 * every `stepMs` from 0 to `windowMs`. Samples before the first grant are left out.
 */
export function leaseAgeSamples(events: readonly TraceEvent[], windowMs: number, stepMs: number): AgePoint[] {
  const list = grants(events);
  const out: AgePoint[] = [];
  let next = 0;
  let last: Grant | undefined;
  for (let k = 0; k * stepMs <= windowMs; k++) {
    const t = k * stepMs;
    while (next < list.length && (list[next] as Grant).t <= t) last = list[next++];
    if (last !== undefined) out.push({ t, ageMs: t - last.t });
  }
  return out;
}

/** Drops samples that lie on the straight line through their neighbours (exactly, in sample units). */
export function dropCollinear(points: readonly AgePoint[]): AgePoint[] {
  if (points.length <= 2) return [...points];
  const out: AgePoint[] = [points[0] as AgePoint];
  for (let i = 1; i < points.length - 1; i++) {
    const a = points[i - 1] as AgePoint;
    const b = points[i] as AgePoint;
    const c = points[i + 1] as AgePoint;
    const collinear = (b.ageMs - a.ageMs) * (c.t - b.t) === (c.ageMs - b.ageMs) * (b.t - a.t);
    if (!collinear) out.push(b);
  }
  out.push(points[points.length - 1] as AgePoint);
  return out;
}

/** Exact lease-age facts over [0, windowMs]: the largest age and how often it passed `limitMs`. */
export function leaseAgeStats(events: readonly TraceEvent[], windowMs: number, limitMs: number): { maxAgeMs: number; grants: number; overLimit: number } | null {
  const list = grants(events).filter((g) => g.t <= windowMs);
  if (list.length === 0) return null;
  let maxAgeMs = 0;
  let overLimit = 0;
  for (let i = 0; i < list.length; i++) {
    const from = (list[i] as Grant).t;
    const to = i + 1 < list.length ? (list[i + 1] as Grant).t : windowMs;
    const age = to - from;
    if (age > maxAgeMs) maxAgeMs = age;
    if (age > limitMs) overLimit += 1;
  }
  return { maxAgeMs, grants: list.length, overLimit };
}

/** min / mean / max of a list (null when empty). */
export function spread(values: readonly number[]): { min: number; mean: number; max: number } | null {
  if (values.length === 0) return null;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return { min, mean: sum / values.length, max };
}
