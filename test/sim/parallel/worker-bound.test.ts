/** One bound on simulator worker threads (issue 12: "one worker bound"): `--workers` and the pool both take it from worker-bound.ts. */
import { describe, expect, it } from 'vitest';
import { createRunPool } from '../../../sim/parallel/pool.js';
import { MAX_WORKERS } from '../../../sim/parallel/worker-bound.js';
import { runCli } from '../../support/run-cli.js';

describe('the worker bound', () => {
  it('sim run --workers refuses one more than MAX_WORKERS, naming the bound', async () => {
    const { code, stderr } = await runCli(['run', 'scenarios/idle.yaml', '--workers', String(MAX_WORKERS + 1)]);
    expect(code).toBe(2);
    expect(stderr).toContain(`--workers: expected an integer from 0 to ${MAX_WORKERS}, got "${MAX_WORKERS + 1}"`);
  });

  it('the pool refuses the same count, before starting any thread', async () => {
    await expect(createRunPool(MAX_WORKERS + 1)).rejects.toThrow(`workers must be an integer from 1 to ${MAX_WORKERS}, got ${MAX_WORKERS + 1}`);
  });
});
