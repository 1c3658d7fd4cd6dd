import { describe, expect, it } from 'vitest';
import { Rng } from '../../sim/rng.js';

describe('Rng', () => {
  it('replays the same sequence for the same seed', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const xs = Array.from({ length: 100 }, () => a.nextUint32());
    const ys = Array.from({ length: 100 }, () => b.nextUint32());
    expect(xs).toEqual(ys);
    expect(new Set(xs).size).toBeGreaterThan(95);
  });

  it('gives different sequences for different seeds', () => {
    expect(new Rng(1).nextUint32()).not.toBe(new Rng(2).nextUint32());
  });

  it('forks streams that do not depend on how much the parent drew', () => {
    const a = new Rng(7);
    const b = new Rng(7);
    for (let i = 0; i < 10; i++) b.next();
    expect(a.fork('x').next()).toBe(b.fork('x').next());
    expect(a.fork('x').next()).not.toBe(a.fork('y').next());
  });

  it('keeps uniform draws inside the range, covering both ends', () => {
    const rng = new Rng(3);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const v = rng.uniformMs({ minMs: 10, maxMs: 14 });
      expect(v).toBeGreaterThanOrEqual(10);
      expect(v).toBeLessThanOrEqual(14);
      seen.add(v);
    }
    expect([...seen].sort()).toEqual([10, 11, 12, 13, 14]);
    expect(rng.uniformMs({ minMs: 5, maxMs: 5 })).toBe(5);
  });

  it('draws exponential intervals with about the asked mean', () => {
    const rng = new Rng(9);
    let sum = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) sum += rng.exponentialMs(1000);
    expect(sum / n).toBeGreaterThan(950);
    expect(sum / n).toBeLessThan(1050);
  });
});
