/** `keeper run` resolves its keeper timing once, in `planRun`; the supervisor and its keeper use it as it is (issue 12). */
import { describe, expect, it } from 'vitest';
import { planRun } from '../../src/cli/run-plan.js';
import { RunSession } from '../../src/cli/run-session.js';
import { checkKeeperTiming } from '../../src/keeper/keeper-options.js';
import { createLogger } from '../../src/logger.js';
import { Supervisor } from '../../src/supervisor/supervisor.js';
import { SimClock } from '../../sim/sim-clock.js';
import { FakeLeaseStore } from '../support/fake-store.js';

const flags = { store: 'file:///tmp/lease.json', id: 'job', ttl: '20s', key: 'leader', renewDeadline: '12s' };

describe('planRun', () => {
  it('resolves the keeper timing once, and the keeper of the run takes it unchanged', () => {
    const plan = planRun(['node', 'app.js'], flags);
    expect(plan.keeper).toMatchObject({ kind: 'resolved-keeper-timing', key: 'leader', ttlMs: 20_000, renewIntervalMs: 20_000 / 3, renewDeadlineMs: 12_000 });
    expect(checkKeeperTiming(plan.keeper)).toBe(plan.keeper); // resolved here, not checked again
    const clock = new SimClock();
    const spawner = { spawn: () => { throw new Error('not spawned in this test'); } };
    const supervisor = new Supervisor(new FakeLeaseStore(clock), spawner, { keeper: plan.keeper, clock, killGraceMs: plan.killGraceMs });
    expect(supervisor.keeper.timing).toBe(plan.keeper);
  });

  it('RunSession hands the planned timing to its supervisor as it is: not resolved again, not copied', () => {
    const plan = planRun(['node', 'app.js'], flags);
    const clock = new SimClock();
    const io = { out: () => undefined, err: () => undefined, isTTY: false };
    const session = new RunSession(plan, new FakeLeaseStore(clock), clock, io, createLogger({ level: 'silent' }));
    expect(session.keeperTiming).toBe(plan.keeper);
  });

  it('names the flag of a broken rule, with durations', () => {
    expect(() => planRun(['node'], { ...flags, renewDeadline: '19s' })).toThrow(
      /^invalid option --renew-deadline \(renewDeadlineMs\): must be at most .* = 16s780ms \(got 19s\)$/,
    );
  });
});
