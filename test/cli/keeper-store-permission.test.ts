/**
 * A lease file in a directory this user may not write is bad input, not an outage: `keeper run`
 * says so in one line and exits 2 before the command starts (it used to retry EACCES forever,
 * printing a warning per attempt), and the file store reports the refusal as
 * `E_STORE_PERMISSION`, not as a retryable `E_STORE_UNAVAILABLE`.
 *
 * chmod does not stop root, and tests here run as root: as root the read-only directory is a
 * read-only tmpfs mounted for the test (EROFS, whoever writes); where mounting is not allowed the
 * CLI runs as `nobody` (setpriv) against a 0555 directory (EACCES), which needs a checkout that
 * `nobody` can read. Not root: a 0555 directory. Where none of these produces a refusal the test
 * is skipped, except in CI (CI or HEARTBEAT_LAB_REQUIRE_SERVERS=1), where that is a failure.
 */
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = resolve(import.meta.dirname, '../..');
const KEEPER = join(REPO, 'bin/keeper.js');
const NO_STACK = /\n\s+at /;
const IN_CI = process.env.CI !== undefined || process.env.HEARTBEAT_LAB_REQUIRE_SERVERS === '1';
const IS_ROOT = process.getuid?.() === 0;
let asNobody: string[] = [];
let mounted = false;

let work = '';
let readOnly = '';
let canProduce = false;
let why = '';

/** Runs `args` (node first) as the user the test writes as (`nobody` when root could not mount), bounded in time. */
function unprivileged(args: readonly string[]) {
  const [cmd, ...rest] = [...asNobody, ...args];
  return spawnSync(cmd as string, rest, { encoding: 'utf8', timeout: 15_000, killSignal: 'SIGKILL' });
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'keeper-permission-'));
  await chmod(work, 0o755); // mkdtemp makes 0700: `nobody` must reach the read-only directory
  readOnly = join(work, 'ro');
  await mkdir(readOnly);
  await chmod(readOnly, 0o555);
  if (IS_ROOT) {
    mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k,mode=0555', 'tmpfs', readOnly]).status === 0;
    if (!mounted) asNobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
  }
  // Can this environment produce EACCES for the CLI? Try to write there as the CLI will run.
  const probe = unprivileged([process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(join(readOnly, 'probe'))}, '')`]);
  const version = unprivileged([process.execPath, KEEPER, '--version']);
  canProduce = probe.status !== 0 && /EACCES|EROFS/.test(probe.stderr ?? '') && version.status === 0;
  why = `probe: ${probe.error?.message ?? probe.stderr}; keeper --version as that user: ${version.status} ${version.error?.message ?? version.stderr}`;
});
afterAll(async () => {
  if (mounted) spawnSync('umount', [readOnly]);
  if (work !== '') await rm(work, { recursive: true, force: true });
});

/** Skips (outside CI only) when the environment cannot produce a permission refusal. */
function requireRefusal(ctx: { skip: (note?: string) => void }): void {
  if (canProduce) return;
  if (IN_CI) throw new Error(`cannot produce EACCES for the permission test in CI (${why})`);
  ctx.skip(`cannot produce EACCES here (${why})`);
}

describe('a lease file in a read-only directory', () => {
  it('keeper run exits 2 with one line before the command starts, instead of retrying', (ctx) => {
    requireRefusal(ctx);
    const lease = join(readOnly, 'lease.json');
    const marker = join(work, 'ran');
    const r = unprivileged([
      process.execPath, KEEPER, 'run', '--store', pathToFileURL(lease).href, '--id', 'a', '--ttl', '1s',
      '--', process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, '')`,
    ]);
    expect(r.signal, 'keeper did not exit on its own (retrying?)').toBeNull();
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(`^keeper: cannot use the lease store file://${lease}: no permission to .*${lease}.* \\((EACCES|EROFS)\\): .*writable directory\\n$`),
    );
    expect(r.stderr).not.toMatch(NO_STACK);
    expect(spawnSync('test', ['-e', marker]).status, 'the command must not have run').not.toBe(0);
  });

  it('the file store reports E_STORE_PERMISSION, not a retryable E_STORE_UNAVAILABLE', async (ctx) => {
    requireRefusal(ctx);
    const store = pathToFileURL(join(REPO, 'dist/src/store/file-store.js')).href;
    const script = `
      const { FileLeaseStore } = await import(${JSON.stringify(store)});
      const s = new FileLeaseStore(${JSON.stringify(join(readOnly, 'lease.json'))});
      const codes = [];
      for (const op of [() => s.acquire({ key: 'k', holder: 'a', ttlMs: 1000 }), () => s.assertWritable()]) {
        try { await op(); codes.push('ok'); } catch (e) { codes.push(e.code); }
      }
      console.log(JSON.stringify(codes));`;
    const r = unprivileged([process.execPath, '--input-type=module', '-e', script]);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual(['E_STORE_PERMISSION', 'E_STORE_PERMISSION']);
    expect(await readdir(readOnly)).toEqual([]);
  });
});
