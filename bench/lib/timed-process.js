// Whole-process timing for the benches: wall time of a child process and, through GNU time when
// installed, its CPU time over all threads.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_DIR } from './common.js';

const TIME = '/usr/bin/time';

/** Runs `node <args>` in `cwd`; { wallMs, cpuMs (NaN without GNU time), status, stdout, stderr }. */
export function timedNode(args, cwd = REPO_DIR) {
  const useTime = existsSync(TIME);
  const t0 = performance.now();
  const child = useTime
    ? spawnSync(TIME, ['-f', '%U %S', process.execPath, ...args], { cwd, encoding: 'utf8', maxBuffer: 64 << 20 })
    : spawnSync(process.execPath, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  const wallMs = performance.now() - t0;
  let stderr = child.stderr ?? '';
  let cpuMs = NaN;
  if (useTime) {
    const lines = stderr.trimEnd().split('\n');
    const [user, sys] = (lines.pop() ?? '').split(' ').map(Number);
    cpuMs = (user + sys) * 1000;
    stderr = lines.join('\n');
  }
  return { wallMs, cpuMs, status: child.status, stdout: child.stdout ?? '', stderr };
}

/**
 * An earlier commit of this repository, built, for a same-run baseline: `git archive <commit>`
 * extracted to a temp dir, this checkout's node_modules symlinked in, compiled with tsc.
 * Returns { dir, remove() }.
 */
export function builtCheckout(commit) {
  const dir = mkdtempSync(join(tmpdir(), `heartbeat-lab-${commit}-`));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    const archive = spawnSync('sh', ['-c', `git archive ${commit} | tar -x -C "${dir}"`], { cwd: REPO_DIR, encoding: 'utf8' });
    if (archive.status !== 0) throw new Error(`git archive ${commit} failed: ${archive.stderr}`);
    symlinkSync(join(REPO_DIR, 'node_modules'), join(dir, 'node_modules'));
    const tsc = spawnSync(process.execPath, [join(REPO_DIR, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: dir, encoding: 'utf8' });
    if (!existsSync(join(dir, 'dist', 'sim', 'cli', 'main.js'))) throw new Error(`building ${commit} failed: ${tsc.stdout}${tsc.stderr}`);
  } catch (error) {
    remove();
    throw error;
  }
  return { dir, remove };
}
