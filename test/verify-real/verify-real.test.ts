/**
 * The short version of `npm run verify-real` (bench/verify-real/verify-real.js): 1.5 scaled hours
 * at 1/60 time (90 s of real processes: our respawn-if-gone shell watchdog, the stand-in
 * orchestrator whose session exits when idle, the file store, and `keeper run --restart on-exit`),
 * against the simulator on scenarios/real-incident.yaml. Agreement: the simulator's baseline rate
 * inside the real run's 95 % Poisson interval widened by 15 %; 0 respawns for the supervisor in
 * both, with its command restarted in place; lease ages at respawn no younger than ttl + grace.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const SCRIPT = join(REPO, 'bench/verify-real/verify-real.js');
const HOURS = 1.5;

interface Figures {
  readonly respawns: number;
  readonly respawnsPerHour: number;
  readonly interval95: [number, number];
  readonly sessions: number;
  readonly leaseAgeAtRespawn: { readonly minMs: number | null; readonly meanMs: number | null; readonly maxMs: number | null };
}
interface Result {
  readonly parameters: { readonly ttlMs: number; readonly graceMs: number; readonly scale: number };
  readonly sim: { readonly baseline: Omit<Figures, 'interval95' | 'respawns' | 'sessions'>; readonly supervisor: { readonly respawnsPerHour: number } };
  readonly real: { readonly baseline: Figures; readonly supervisor: Figures };
  readonly agreement: { readonly ok: boolean; readonly checks: ReadonlyArray<{ check: string; ok: boolean }> };
}

/** bin/keeper.js and the simulator run from dist/: compile it (errors elsewhere do not block the emit). */
beforeAll(() => {
  const tsc = spawnSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(REPO, 'tsconfig.json')], { encoding: 'utf8' });
  const mine = tsc.stdout.split('\n').filter((line) => /^(src\/(cli|supervisor|store)|sim)\//.test(line));
  if (mine.length > 0) throw new Error(`verify-real's code does not compile:\n${mine.join('\n')}`);
});

function verifyReal(): Promise<{ code: number | null; result: Result; stderr: string }> {
  return new Promise((done, fail) => {
    const proc = spawn(process.execPath, [SCRIPT, '--scale', '60', '--hours', String(HOURS), '--json'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => proc.kill('SIGKILL'), 240_000);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      try {
        done({ code, result: JSON.parse(stdout) as Result, stderr });
      } catch (error) {
        fail(new Error(`verify-real printed no JSON (exit ${code}): ${stderr}\n${stdout}`, { cause: error }));
      }
    });
  });
}

describe('verify-real (short): the simulator against real processes at 1/60 time', () => {
  it('agrees on the baseline respawn rate and on 0 respawns for keeper run --restart on-exit', async () => {
    const { code, result } = await verifyReal();
    const { real, sim, parameters: p } = result;
    console.log(
      `verify-real short: baseline real ${real.baseline.respawnsPerHour.toFixed(2)}/h (${real.baseline.respawns} respawns, 95 % ${real.baseline.interval95.map((x) => x.toFixed(2)).join('-')}) vs simulated ${sim.baseline.respawnsPerHour}/h; ` +
        `lease age at respawn real ${fmt(real.baseline.leaseAgeAtRespawn)} vs simulated ${fmt(sim.baseline.leaseAgeAtRespawn)}; supervisor real ${real.supervisor.respawns} respawns, ${real.supervisor.sessions} runs of its command, simulated ${sim.supervisor.respawnsPerHour}/h`,
    );
    for (const c of result.agreement.checks) expect(c, c.check).toMatchObject({ ok: true });
    expect(code).toBe(0);
    expect(real.baseline.respawns).toBeGreaterThan(0);
    // The watchdog skips a healthy lease: no respawn before ttl + grace since the last heartbeat.
    expect(real.baseline.leaseAgeAtRespawn.minMs).toBeGreaterThanOrEqual((p.ttlMs + p.graceMs) * p.scale);
    expect(real.supervisor.respawns).toBe(0);
    expect(real.supervisor.sessions).toBeGreaterThanOrEqual(2);
  }, 300_000);
});

function fmt(a: Figures['leaseAgeAtRespawn']): string {
  return [a.minMs, a.meanMs, a.maxMs].map((v) => (v === null ? '—' : `${(v / 1000).toFixed(0)}s`)).join('/');
}
