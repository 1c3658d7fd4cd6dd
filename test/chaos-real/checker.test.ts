/**
 * The chaos-real checker (bench/chaos-real/chaos-real.js) on hand-made histories: each check can
 * fail, and a clean handover counts nothing. Times are ms on one monotonic clock.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM without types (bench/ is JavaScript run by node)
import { check } from '../../bench/chaos-real/chaos-real.js';

type Event = Record<string, unknown>;
const BOUND = 2_000;
const start = (t: number, token: number): Event => ({ ev: 'start', t, token, pid: 100 + token, holder: `c${token}/${token}-x` });
const write = (t0: number, token: number, applied: boolean, current = token): Event => ({ ev: 'write', t0, t1: t0 + 2, token, applied, current, value: t0 });

function run(events: Event[]) {
  return check(events, BOUND) as { a: number; b: number; c: number; d: number; e: number; longestGapMs: number };
}

describe('chaos-real checker', () => {
  it('a clean handover: nothing counted', () => {
    const r = run([start(0, 1), write(10, 1, true), write(40, 1, true), start(500, 2), write(600, 2, true), write(640, 1, false, 2)]);
    expect(r).toMatchObject({ a: 0, b: 0, c: 0, d: 0, e: 0, longestGapMs: 558 });
  });

  it('(a) an old token accepted after the new command started, before it wrote', () => {
    expect(run([start(0, 1), write(10, 1, true), start(500, 2), write(520, 1, true), write(600, 2, true)])).toMatchObject({ a: 1, b: 0 });
  });

  it('(b) an old token accepted after the new token wrote', () => {
    expect(run([start(0, 1), start(500, 2), write(600, 2, true), write(700, 1, true)])).toMatchObject({ b: 1 });
  });

  it('(c) a gap longer than the bound with no fault to explain it; explained by a server fault it is not counted', () => {
    const events = [start(0, 1), write(10, 1, true), write(5_000, 1, true)];
    expect(run(events).c).toBe(1);
    expect(run([...events, { ev: 'fault', kind: 'server-kill', t: 100, until: 1_500 }]).c).toBe(0);
  });

  it('(d) a killed leader whose successor started later than the bound', () => {
    const events = [start(0, 1), write(10, 1, true), { ev: 'fault', kind: 'kill-keeper', t: 100, until: 100, target: { token: 1 } }, start(4_000, 2)];
    expect(run(events).d).toBe(1);
  });

  it('(e) a token issued again, and a fence that forgot an acknowledged token', () => {
    expect(run([start(0, 1), start(500, 2), start(900, 2)]).e).toBe(1);
    expect(run([start(0, 2), write(10, 2, true), write(500, 1, true, 1)]).e).toBe(1);
  });
});
