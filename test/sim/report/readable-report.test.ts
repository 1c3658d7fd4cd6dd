/**
 * The report as a person reads it (issue 14): a first screen that carries the decision and the
 * options table, a decision that charges the shipped strategy only with its own figures, one
 * respawn interval everywhere, and commands that work from an installed package.
 */
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateReport } from '../../../sim/report/report-command.js';
import { runCli } from '../../support/run-cli.js';

// The incident without a supervisor row, so the shipped strategy is the sidecar, whose variant
// without the progress check (stuck.yaml) carries the violations the old decision misplaced.
const FILES = ['test/sim/report/fixtures/short-idle.yaml', 'scenarios/crash.yaml', 'scenarios/freeze.yaml', 'scenarios/stuck.yaml'];
const SHORT = { duration: '8h', runs: '2' };
const quiet = { out: () => {}, err: () => {}, isTTY: false };
const FIRST_SCREEN_LINES = 60;

interface Figures {
  strategy: string;
  respawnsPerHour: number;
  safetyViolations: number;
  livenessViolations: number;
}

/** The lines of one `## N.` section, up to the next `## ` heading. */
function section(markdown: string, prefix: string): string[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`## ${prefix}`));
  expect(start, `section ${prefix}`).toBeGreaterThanOrEqual(0);
  const end = lines.findIndex((l, i) => i > start && l.startsWith('## '));
  return lines.slice(start, end === -1 ? undefined : end);
}

function expectReadableFirstScreen(markdown: string): void {
  const lines = markdown.split('\n');
  const firstScreen = lines.slice(0, FIRST_SCREEN_LINES);
  // Sections 1-4 (what happened, the options, what ships, how sure) end within the first screen.
  const afterFirstScreen = lines.findIndex((l) => l.startsWith('## 5.'));
  expect(afterFirstScreen).toBeGreaterThan(0);
  expect(afterFirstScreen).toBeLessThanOrEqual(FIRST_SCREEN_LINES);
  for (const heading of ['## 1. What happened', "## 2. The seed's three options compared", '## 3. What we ship', '## 4. How sure we are']) {
    expect(firstScreen.some((l) => l.startsWith(heading)), heading).toBe(true);
  }
  // The options table, with the seed's options named 1, 2 and 3.
  for (const option of ['1. background worker / keeper', '2. shell loop in the watchdog', '3. keep the main loop from idling']) {
    expect(firstScreen.some((l) => l.startsWith(`| ${option} |`)), option).toBe(true);
  }
  // Exactly one table in the first screen, and no per-scenario table.
  expect(firstScreen.filter((l) => /^\| ---/.test(l))).toHaveLength(1);
  expect(firstScreen.join('\n')).not.toContain('(`respawnsPerHour`)');
}

describe('the report for a person', () => {
  let markdown: string;
  let figures: Map<string, Figures[]>;

  beforeAll(async () => {
    markdown = (await generateReport(FILES, { ...SHORT, output: 'reports/root-cause.md' }, quiet)).markdown;
    const run = await runCli(['run', ...FILES, '--duration', SHORT.duration, '--runs', SHORT.runs, '--json']);
    expect(run.code).toBe(0);
    const docs = (JSON.parse(run.stdout) as { scenarios: Array<{ scenario: string; results: Figures[] }> }).scenarios;
    figures = new Map(docs.map((d) => [d.scenario, d.results]));
  });

  it('fits what happened, the options table and the decision in the first screen', () => {
    expectReadableFirstScreen(markdown);
  });

  it("charges the shipped strategy only with its own violations; a variant's are named as its own", () => {
    const decision = section(markdown, '3.');
    expect(decision.join('\n')).toContain('We ship **option 1 as `sidecar`**');
    const stuck = figures.get('stuck') ?? [];
    const variant = stuck.find((r) => r.strategy === 'sidecar-no-progress-check');
    expect(variant?.livenessViolations).toBeGreaterThan(0);
    const count = `${variant?.livenessViolations} liveness violation`;
    // The variant's violations appear under its own name ...
    expect(decision.some((l) => l.includes(count) && l.includes('`sidecar-no-progress-check`'))).toBe(true);
    // ... and every line that states such a count names a strategy that has it.
    const owners = [...figures.values()].flat().filter((r) => `${r.livenessViolations} liveness violation` === count).map((r) => `\`${r.strategy}\``);
    for (const line of decision.filter((l) => l.includes(count))) expect(owners.some((o) => line.includes(o)), line).toBe(true);
    // The crash bullet compares the others with it, never with itself.
    const crash = decision.find((l) => l.includes('hands over at once')) ?? '';
    expect(crash).toContain('failover p50');
    expect(crash.split(';').slice(1).join(';')).not.toContain('`sidecar`');
    // The shipped sidecar's own fault figures: it runs in no scenario with faults here, and says so.
    expect(decision.join('\n')).toMatch(/scenario with faults[^.]*does not run `sidecar`|none of the \d+ scenarios with faults runs `sidecar`/);
  });

  it('states one mean time between respawns, from the rate over all runs', () => {
    const baseline = figures.get('short-idle')?.find((r) => r.strategy === 'baseline');
    expect(baseline?.respawnsPerHour).toBeGreaterThan(0);
    const expected = `one every ${(60 / (baseline?.respawnsPerHour ?? 1)).toFixed(1)} min`;
    const stated = [...markdown.matchAll(/one (?:respawn )?every (\d+\.\d) min/g)].map((m) => `one every ${m[1]} min`);
    expect(stated.length).toBeGreaterThanOrEqual(2);
    expect(new Set(stated)).toEqual(new Set([expected]));
  });

  it('gives commands that work from an installed package', () => {
    expect(markdown).not.toContain('node bin/sim.js');
    const block = /## Appendix E[\s\S]*?```sh\n([\s\S]*?)```/.exec(markdown);
    expect(block).not.toBeNull();
    const commands = (block?.[1] ?? '').split('\n').filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('grep '));
    expect(commands.length).toBeGreaterThan(3);
    for (const command of commands) expect(command).toMatch(/^npx sim (report|gate|run) /);
  });
});

describe('the committed report', () => {
  it('has the first screen a person reads', async () => {
    expectReadableFirstScreen(await readFile('reports/root-cause.md', 'utf8'));
  });
});
