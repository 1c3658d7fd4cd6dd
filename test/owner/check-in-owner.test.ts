import { describe, expect, it } from 'vitest';
import type { Clock, TimerHandle } from '../../src/clock.js';
import { ConfigError } from '../../src/errors.js';
import { CheckInOwner } from '../../src/owner/check-in-owner.js';

/** Time moves only when told to. */
class FakeClock implements Clock {
  t = 1000;
  now(): number {
    return this.t;
  }
  wallNow(): number {
    return this.t;
  }
  setTimeout(): TimerHandle {
    throw new Error('CheckInOwner must not need timers');
  }
  clearTimeout(): void {}
}

describe('CheckInOwner', () => {
  it('is alive up to maxOwnerSilenceMs after the last check-in, dead after, with the silence in the reason', () => {
    const clock = new FakeClock();
    const owner = new CheckInOwner({ maxOwnerSilenceMs: 1500, clock });
    clock.t += 1500;
    expect(owner.check()).toEqual({ alive: true });
    owner.checkIn();
    clock.t += 1000;
    expect(owner.check()).toEqual({ alive: true });
    expect(owner.silenceMs()).toBe(1000);
    clock.t += 501;
    expect(owner.check()).toEqual({ alive: false, reason: 'owner silent for 1s501ms, more than maxOwnerSilenceMs (1s500ms)' });
  });

  it('stays dead: a late check-in does not revive an owner the keeper gave up on', () => {
    const clock = new FakeClock();
    const owner = new CheckInOwner({ maxOwnerSilenceMs: 100, clock });
    clock.t += 200;
    expect(owner.check().alive).toBe(false);
    owner.checkIn();
    expect(owner.check()).toEqual({ alive: false, reason: 'owner silent for 200ms, more than maxOwnerSilenceMs (100ms)' });
  });

  it('gives a derived silence bound as a duration, never a raw float', () => {
    const clock = new FakeClock();
    const owner = new CheckInOwner({ maxOwnerSilenceMs: 20_000 / 3, clock });
    clock.t += 7_000;
    expect(owner.check()).toEqual({ alive: false, reason: 'owner silent for 7s, more than maxOwnerSilenceMs (6s667ms)' });
  });

  it('rejects a non-positive or non-finite maxOwnerSilenceMs', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new CheckInOwner({ maxOwnerSilenceMs: bad, clock: new FakeClock() })).toThrow(ConfigError);
    }
  });
});
