import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateReport } from '../../../sim/report/report-command.js';
import { runCli } from '../../support/run-cli.js';

const FIXTURE = 'test/sim/report/fixtures/short-idle.yaml';
const HOSTILE = 'test/sim/report/fixtures/hostile.yaml';
const SHORT = ['--duration', '2h', '--runs', '2'];
const quiet = { out: () => {}, err: () => {}, isTTY: false };

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'sim-report-'));
}

/** `7m00.0s`, `1h02m03.4s`, `12.3s` → tenths of a second. */
function tenths(clock: string): number {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(\d+)\.(\d)s$/.exec(clock);
  if (m === null) throw new Error(`not a clock: ${clock}`);
  return ((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3])) * 10 + Number(m[4]);
}

function mermaidBlock(markdown: string): string {
  const m = /```mermaid\n([\s\S]*?)\n```/.exec(markdown);
  if (m === null) throw new Error('no mermaid block');
  return m[1] as string;
}

function withoutCodeBlocks(markdown: string): string {
  return markdown.replace(/^(`{3,})[^\n]*\n[\s\S]*?^\1$/gm, '');
}

/** Checks that every element is closed in order; returns the element names seen. */
function balancedTags(xml: string): string[] {
  const stack: string[] = [];
  const seen: string[] = [];
  for (const m of xml.matchAll(/<(\/?)([A-Za-z][\w:-]*)((?:[^>"']|"[^"]*"|'[^']*')*?)(\/?)>/g)) {
    const [, close, name, , selfClose] = m as unknown as [string, string, string, string, string];
    if (close) {
      expect(stack.pop(), `closing </${name}>`).toBe(name);
    } else {
      seen.push(name);
      if (!selfClose) stack.push(name);
    }
  }
  expect(stack).toEqual([]);
  return seen;
}

describe('sim report', () => {
  let dir: string;
  let mdPath: string;
  let svgPath: string;
  let markdown: string;
  let svg: string;

  beforeAll(async () => {
    dir = await tempDir();
    mdPath = join(dir, 'root-cause.md');
    svgPath = join(dir, 'lease-age.svg');
    const { code, stdout, stderr } = await runCli(['report', FIXTURE, ...SHORT, '-o', mdPath]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain(`wrote ${mdPath} and ${svgPath}`);
    markdown = await readFile(mdPath, 'utf8');
    svg = await readFile(svgPath, 'utf8');
  });

  it('writes every section, with the chart linked relatively', () => {
    for (const heading of [
      '## 1. What happened',
      "## 2. The seed's three options compared",
      '## 3. What we ship, and the evidence',
      '## 4. How sure we are',
      '## 5. The mechanism, step by step',
      '## 6. Lease age over time',
      "## 7. Where the seed's text and the real code differ",
      "## 8. Each option's trap, and the runs that show it",
      '## Appendix A. Runs behind this report',
      '## Appendix B. Every figure, per scenario',
      '## Appendix C. Targets',
      '## Appendix D. Exploration',
      '## Appendix E. How to reproduce',
    ]) {
      expect(markdown).toContain(`\n${heading}\n`);
    }
    expect(markdown).toMatch(/!\[[^\]]*\]\(lease-age\.svg\)/);
    expect(markdown).toContain('was not run for this report');
  });

  it('regenerates byte-identical files', async () => {
    const { code } = await runCli(['report', FIXTURE, ...SHORT, '-o', mdPath]);
    expect(code).toBe(0);
    expect(await readFile(mdPath, 'utf8')).toBe(markdown);
    expect(await readFile(svgPath, 'utf8')).toBe(svg);
    const inMemory = await generateReport([FIXTURE], { duration: '2h', runs: '2', output: mdPath }, quiet);
    expect(inMemory.markdown).toBe(markdown);
    expect(inMemory.svg).toBe(svg);
  });

  it('headline figures come from the runs', async () => {
    const run = await runCli(['run', FIXTURE, ...SHORT, '--json']);
    const doc = (JSON.parse(run.stdout) as { scenarios: Array<{ results: Array<{ strategy: string; respawnsPerHour: number }> }> }).scenarios[0]!;
    const baseline = doc.results.find((r) => r.strategy === 'baseline');
    expect(baseline).toBeDefined();
    expect(markdown).toContain(`**${baseline?.respawnsPerHour.toFixed(3)} respawns per hour**`);
    expect(markdown).toContain('npx sim run test/sim/report/fixtures/short-idle.yaml --seed 42 --runs 2 --duration 2h');
  });

  it('tables every StrategySummary figure for every strategy', () => {
    for (const key of [
      'runs', 'respawnsPerHour', 'respawnsPerHourP95', 'spuriousRespawnsPerHour', 'restartsPerHour', 'crashes',
      'failoverP50Ms', 'failoverMaxMs', 'zombieLeaseMsPerHour', 'leaderlessMsPerHour', 'splitBrains', 'splitBrainMs',
      'leaderActions', 'staleActions', 'storeWritesPerHour', 'wakeupsPerHour', 'keepAwakeActionsPerHour', 'minRenewalMarginMs',
    ]) {
      expect(markdown).toMatch(new RegExp(`^\\| [^|\\n]*\\(\`${key}\`\\)( \\| [^|\\n]+){3} \\|$`, 'm'));
    }
    expect(markdown).toContain('| figure | `baseline` | `sidecar` | `worker` |');
  });

  it('draws one decay cycle from the trace, steps in order, with timestamps', () => {
    const block = mermaidBlock(markdown);
    const lines = block.split('\n');
    expect(lines[0]).toBe('sequenceDiagram');
    const steps = [
      /V->>S: acquire: ok, token 1\b/,
      /V->>S: last heartbeat: renew ok/,
      /H->>V: session idle/,
      /Note over V: next heartbeat due/,
      /Note over S: t=\S+ lease expires/,
      /W->>S: poll .*leader declared dead/,
      /W-xV: kill orch-1 \(alive/,
      /W->>N: respawn: spawn orch-2/,
      /N->>S: acquire: ok, token 2\b/,
    ];
    const at = steps.map((re) => lines.findIndex((l) => re.test(l)));
    expect(at.every((i) => i > 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    // Every step carries its simulated time, and time never goes back.
    const times = at.map((i) => {
      const m = /t=(\S+?s)\b/.exec(lines[i] as string);
      expect(m, lines[i]).not.toBeNull();
      return tenths((m as RegExpExecArray)[1] as string);
    });
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    // Lease expiry = last renewal + TTL (180 s), as the note says.
    const lastRenewal = times[1] as number;
    const expiry = times[4] as number;
    expect(Math.abs(expiry - lastRenewal - 1800)).toBeLessThanOrEqual(1);
    expect(block).toContain('+ TTL 180.0s');
    // The declared-dead poll is more than TTL + grace after the last renewal.
    expect((times[5] as number) - lastRenewal).toBeGreaterThan(2100);
  });

  it('writes a well-formed SVG chart with both series and the limits', () => {
    expect(svg.startsWith('<svg ')).toBe(true);
    expect(svg.endsWith('</svg>\n')).toBe(true);
    expect(svg).toMatch(/viewBox="0 0 \d+ \d+"/);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    const tags = balancedTags(svg);
    expect(tags.filter((t) => t === 'polyline')).toHaveLength(2);
    expect(svg).toContain('>baseline</text>');
    expect(svg).toContain('>sidecar</text>');
    expect(svg).toContain('simulated time (minutes)');
    expect(svg).toMatch(/lease age/);
    expect(svg).toContain('TTL 180.0s');
    expect(svg).toContain('TTL + grace 210.0s');
    for (const m of svg.matchAll(/points="([^"]*)"/g)) {
      const points = (m[1] as string).split(' ');
      expect(points.length).toBeGreaterThan(10);
      for (const p of points) expect(p).toMatch(/^\d+\.\d,\d+\.\d$/);
    }
    expect(svg.length).toBeLessThan(40_000);
  });

  it('--check exits 0 when the files match and 1 naming the file that differs', async () => {
    const copy = await tempDir();
    const md = join(copy, 'root-cause.md');
    const chart = join(copy, 'lease-age.svg');
    const fresh = await runCli(['report', FIXTURE, ...SHORT, '-o', md]);
    expect(fresh.code).toBe(0);

    const ok = await runCli(['report', '--check', FIXTURE, ...SHORT, '-o', md]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('up to date');

    await writeFile(chart, `${await readFile(chart, 'utf8')} `);
    const stale = await runCli(['report', '--check', FIXTURE, ...SHORT, '-o', md]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain(`${chart} differs from a fresh run`);
    expect(stale.stderr).not.toContain(`${md} differs`);
    // The hint repeats the same inputs, overrides and output, so following it makes the check pass.
    expect(stale.stderr).toContain(`regenerate with: sim report ${FIXTURE} --runs 2 --duration 2h -o ${md}`);
    expect(await readFile(chart, 'utf8')).toMatch(/ $/); // --check writes nothing

    await rm(md);
    const missing = await runCli(['report', '--check', FIXTURE, ...SHORT, '-o', md]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`${md} is missing`);
  });

  it('passes exploration results through to the Validation section', async () => {
    const withExplore = await generateReport([FIXTURE], { duration: '2h', runs: '2', output: mdPath }, quiet, {
      explore: [
        { scenario: 'short|idle', strategy: 'sidecar', durationMs: 7_200_000, runs: 100, failures: 0, seed: 9 },
        { scenario: 'short|idle', strategy: 'naive-worker', durationMs: 7_200_000, runs: 3, failures: 1, seed: 9, violation: 'split-brain: a and b' },
      ],
    });
    expect(withExplore.markdown).toContain('| short\\|idle | `sidecar` | 9 | 100 | 2h | none |');
    expect(withExplore.markdown).toContain('| short\\|idle | `naive-worker` | 9 | 3 | 2h | split-brain: a and b |');
    expect(withExplore.markdown).not.toContain('was not run for this report');
  });
});

describe('sim report escaping', () => {
  it('escapes hostile scenario and strategy names everywhere', async () => {
    const dir = await tempDir();
    const { code } = await runCli(['report', HOSTILE, '-o', join(dir, 'r.md')]);
    expect(code).toBe(0);
    const markdown = await readFile(join(dir, 'r.md'), 'utf8');
    const svg = await readFile(join(dir, 'lease-age.svg'), 'utf8');
    expect(markdown).toContain('a\\|b\\*c&lt;script&gt;alert(1)&lt;/script&gt;\\_\\[x\\](y)\\`z\\`');
    expect(markdown).toContain('base\\|line\\*&lt;b&gt;\\_\\`x\\`');
    const prose = withoutCodeBlocks(markdown);
    expect(prose).not.toMatch(/<script|<b>|<\/script/);
    expect(prose).not.toContain('a|b');
    for (const line of mermaidBlock(markdown).split('\n').slice(1)) {
      const text = line.includes(': ') ? line.slice(line.indexOf(': ') + 2) : line.replace(/^.* as /, '');
      expect(text.replace(/#\d+;/g, '')).not.toMatch(/[<>;#]/);
    }
    expect(svg).toContain('a|b*c&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(svg).not.toMatch(/<script|<b>/);
    balancedTags(svg);
    // In the reproduce block, the strategy name is shell-quoted.
    expect(markdown).toContain(`grep -F '"strategy":"base|line*<b>_\`x\`",' hostile-trace.jsonl`);
    expect(svg).toContain('base|line*&lt;b&gt;_`x`');
  });
});

describe('sim report input errors', () => {
  it('exits 2 on a missing file, a bad override or a bad output', async () => {
    const missing = await runCli(['report', 'scenarios/nope.yaml']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^sim: cannot read scenario file scenarios\/nope\.yaml/);
    expect((await runCli(['report', FIXTURE, '--runs', '0'])).code).toBe(2);
    expect((await runCli(['report', FIXTURE, '--duration', '5x'])).code).toBe(2);
    const clash = await runCli(['report', FIXTURE, '-o', 'reports/lease-age.svg']);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toMatch(/chart's own name/);
  });

  it('is listed in --help', async () => {
    const { code, stdout } = await runCli(['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/report \[options\] \[file\.\.\.\]/);
  });
});
