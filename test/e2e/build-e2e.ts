/**
 * Compiles what the e2e orchestrators load (the sidecar host and every lease store) into
 * `<tmpdir>/heartbeat-lab-e2e-<hash of the checkout's path, src/ and tsconfig.json>/out`, once per state of the
 * sources, and links the repo's `node_modules` beside it so the compiled stores find their
 * drivers (`ioredis`, `pg`, `etcd3`). Nothing in the repo (`dist/` included) is written.
 * Concurrent builders each compile into their own directory and the first rename wins.
 * Type errors elsewhere do not block the emit; errors in the modules the test runs do.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sourceHash } from '../hosts/build-hosts.js';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const ENTRIES = [
  'src/hosts/sidecar-host.ts',
  'src/hosts/sidecar-main.ts',
  'src/hosts/worker-host.ts',
  'src/hosts/worker-main.ts',
  'src/keeper/lease-keeper.ts',
  'src/store/open-store.ts',
  'src/store/file-store.ts',
  'src/store/redis-store.ts',
  'src/store/postgres-store.ts',
  'src/store/etcd-store.ts',
];
const BLOCKING = /^src\/(hosts|owner|keeper|store)\//m;

/** Returns the directory holding the compiled tree (`<dist>/src/hosts/sidecar-host.js`, ...). */
export async function buildE2e(): Promise<{ dist: string }> {
  const root = join(tmpdir(), `heartbeat-lab-e2e-${await sourceHash()}`);
  const out = join(root, 'out');
  // A build links this checkout's node_modules; one whose link no longer resolves (the checkout
  // was deleted and another made at the same path before `npm ci`) is not reused.
  if (existsSync(join(out, '.complete')) && existsSync(join(out, 'node_modules'))) return { dist: out };
  if (existsSync(out)) await rm(out, { recursive: true, force: true });
  await mkdir(root, { recursive: true });
  const mine = await mkdtemp(join(root, 'build-'));
  try {
    await compile(mine);
    await writeFile(join(mine, '.complete'), '');
    await rename(mine, out).catch(async (error: NodeJS.ErrnoException) => {
      if (!existsSync(join(out, '.complete'))) throw error; // not "someone else finished first"
    });
  } finally {
    await rm(mine, { recursive: true, force: true });
  }
  return { dist: out };
}

async function compile(out: string): Promise<void> {
  const config = join(out, 'tsconfig.e2e.json');
  await writeFile(
    config,
    JSON.stringify({
      extends: join(REPO, 'tsconfig.json'),
      compilerOptions: { outDir: out, rootDir: REPO, typeRoots: [join(REPO, 'node_modules/@types')], declaration: false, sourceMap: false, incremental: false },
      include: [],
      files: ENTRIES.map((entry) => join(REPO, entry)),
    }),
  );
  try {
    await promisify(execFile)(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', config], { maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const report = String((error as { stdout?: string }).stdout ?? error);
    if (BLOCKING.test(report)) throw new Error(`the modules the e2e test runs do not compile:\n${report}`);
  }
  for (const entry of ENTRIES) {
    const compiled = join(out, entry.replace(/\.ts$/, '.js'));
    if (!existsSync(compiled)) throw new Error(`tsc emitted no ${compiled}`);
  }
  await writeFile(join(out, 'package.json'), '{"type":"module"}');
  await symlink(join(REPO, 'node_modules'), join(out, 'node_modules'), 'dir');
}


