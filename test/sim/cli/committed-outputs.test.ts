import { readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../support/run-cli.js';

/**
 * Every committed scenario's `sim run <file> --json` (default flags) must stay byte-identical to
 * the output recorded in `test/fixtures/sim-json/`. Refactors and speed work must not move a
 * number; a change that does (a fixed bug) re-records with `UPDATE_SIM_JSON=1 npx vitest run
 * test/sim/cli/committed-outputs.test.ts` and says in its commit which numbers moved and why.
 */
const FIXTURES = 'test/fixtures/sim-json';
const scenarios = readdirSync('scenarios')
  .filter((f) => f.endsWith('.yaml'))
  .sort();

describe('committed scenarios: --json is byte-identical to the recorded output', () => {
  it('records one output per scenario and no stale ones', () => {
    const recorded = readdirSync(FIXTURES).sort();
    expect(recorded).toEqual(scenarios.map((f) => f.replace(/\.yaml$/, '.json')));
  });

  for (const file of scenarios) {
    it(file, { timeout: 300_000 }, async () => {
      const { code, stdout, stderr } = await runCli(['run', `scenarios/${file}`, '--json']);
      expect(stderr).toBe('');
      expect([0, 1]).toContain(code);
      const fixture = `${FIXTURES}/${file.replace(/\.yaml$/, '.json')}`;
      if (process.env.UPDATE_SIM_JSON === '1') await writeFile(fixture, stdout);
      expect(stdout).toBe(await readFile(fixture, 'utf8'));
    });
  }
});
