/**
 * Compiles the hosts' import graph for the tests, once per state of the sources: into
 * `<tmpdir>/heartbeat-lab-hosts-<hash of the checkout's path, src/ and tsconfig.json>/out`, shared by the host test
 * files that run in parallel (one tsc under an mkdir lock; the others wait for it). Others' files
 * being edited and `dist/` are not touched. Type errors elsewhere do not block the emit; errors in
 * the hosts or owners do.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const ENTRIES = ['src/hosts/sidecar-host.ts', 'src/hosts/sidecar-main.ts', 'src/hosts/worker-host.ts', 'src/hosts/worker-main.ts', 'src/keeper/lease-keeper.ts', 'src/store/file-store.ts'];
const STALE_LOCK_MS = 120_000;

/** Returns the directory the compiled `src/` tree is in (`<dist>/src/hosts/sidecar-host.js`, ...). */
export async function buildHosts(): Promise<{ dist: string }> {
  const root = join(tmpdir(), `heartbeat-lab-hosts-${await sourceHash()}`);
  const out = join(root, 'out');
  const done = join(out, '.complete');
  const deadline = Date.now() + STALE_LOCK_MS;
  while (!existsSync(done)) {
    if (await tryLock(`${root}.lock`)) {
      try {
        if (!existsSync(done)) await compile(root, out);
        await writeFile(done, '');
      } finally {
        await rm(`${root}.lock`, { recursive: true, force: true });
      }
    } else if (Date.now() > deadline) {
      throw new Error(`timed out waiting for another test file to build ${out}`);
    } else {
      await new Promise((wake) => setTimeout(wake, 100));
    }
  }
  return { dist: out };
}

async function tryLock(path: string): Promise<boolean> {
  try {
    await mkdir(path);
    return true;
  } catch {
    const age = Date.now() - ((await stat(path).catch(() => null))?.mtimeMs ?? Date.now());
    if (age > STALE_LOCK_MS) await rm(path, { recursive: true, force: true }); // its builder died
    return false;
  }
}

async function compile(root: string, out: string): Promise<void> {
  await mkdir(root, { recursive: true });
  const config = join(root, 'tsconfig.json');
  await writeFile(
    config,
    JSON.stringify({
      extends: join(REPO, 'tsconfig.json'),
      compilerOptions: { outDir: out, rootDir: REPO, typeRoots: [join(REPO, 'node_modules/@types')], declaration: false, sourceMap: false },
      include: [],
      files: ENTRIES.map((entry) => join(REPO, entry)),
    }),
  );
  try {
    await promisify(execFile)(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', config]);
  } catch (error) {
    const report = String((error as { stdout?: string }).stdout ?? error);
    if (/^src\/(hosts|owner)\//m.test(report)) throw new Error(`the hosts do not compile:\n${report}`);
  }
  for (const entry of ENTRIES) {
    const compiled = join(out, entry.replace(/\.ts$/, '.js'));
    if (!existsSync(compiled)) throw new Error(`tsc emitted no ${compiled}`);
  }
  await writeFile(join(out, 'package.json'), '{"type":"module"}');
}

/**
 * The key of a cached build: a hash of the checkout's real path, tsconfig.json and every src/
 * file. The path is part of it because a build refers back into its checkout (the e2e build links
 * that checkout's `node_modules`, and every build resolves `@types` there): two clones with the
 * same sources must not share one, or deleting the first breaks the second.
 */
export async function sourceHash(repo: string = REPO): Promise<string> {
  const hash = createHash('sha256');
  hash.update(await realpath(repo)).update('\0');
  const files = [join(repo, 'tsconfig.json'), ...(await listTs(join(repo, 'src')))].sort();
  for (const file of files) hash.update(relative(repo, file)).update('\0').update(await readFile(file)).update('\0');
  return hash.digest('hex').slice(0, 16);
}

async function listTs(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await listTs(path)));
    else if (entry.name.endsWith('.ts')) found.push(path);
  }
  return found;
}
