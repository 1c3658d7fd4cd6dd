/**
 * Installs that skip the build: `npm ci --omit=dev` in a checkout (no TypeScript compiler for
 * `prepare`) must not fail, and a git install with `--ignore-scripts` (no dist/) must leave bins
 * that say how to build instead of crashing with a module-not-found stack trace.
 */
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const made: string[] = [];
afterEach(async () => {
  for (const dir of made.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A checkout without node_modules and without dist/: only package.json and bin/. */
async function bareCheckout(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'heartbeat-lab-bare-'));
  made.push(dir);
  await cp(join(ROOT, 'bin'), join(dir, 'bin'), { recursive: true });
  await cp(join(ROOT, 'package.json'), join(dir, 'package.json'));
  await writeFile(join(dir, 'tsconfig.json'), '{}');
  return dir;
}

describe('an install that skipped the build', () => {
  it('prepare without the dev dependencies succeeds and says how to build', async () => {
    const dir = await bareCheckout();
    const ran = spawnSync(process.execPath, [join(dir, 'bin/prepare.js')], { cwd: dir, encoding: 'utf8' });
    expect(ran.status).toBe(0);
    expect(ran.stderr).toContain('typescript is not installed');
    expect(ran.stderr).toContain('npm install && npm run build');
  });

  it.each([
    ['sim', ['run', 'x.yaml']],
    ['keeper', ['--version']],
  ])('bin/%s without dist/ exits 2 with how to build, no stack trace', async (bin, args) => {
    const dir = await bareCheckout();
    const ran = spawnSync(process.execPath, [join(dir, `bin/${bin}.js`), ...args], { cwd: dir, encoding: 'utf8' });
    expect(ran.status).toBe(2);
    expect(ran.stderr).toMatch(new RegExp(`^${bin}: heartbeat-lab is not built: dist/`));
    expect(ran.stderr).toContain('npm install && npm run build');
    expect(ran.stderr).not.toMatch(/\n\s+at /);
  });
});
