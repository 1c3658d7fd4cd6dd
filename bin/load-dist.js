// Shared by the bins: imports a module of the built dist/, or explains how to build it when the
// package was installed without its build step (a git install with --ignore-scripts, or
// `npm ci --omit=dev` in a checkout) instead of crashing with a module-not-found stack trace.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Imports `dist/<relative>`; exits 2 with how to build when dist/ is missing. */
export async function loadDist(command, relative) {
  const file = join(root, 'dist', relative);
  if (!existsSync(file)) {
    process.stderr.write(
      `${command}: heartbeat-lab is not built: ${join('dist', relative)} is missing in ${root}.\n` +
        '  It was installed without its build step (--ignore-scripts, or npm ci --omit=dev in a checkout).\n' +
        `  Build it: cd ${root} && npm install && npm run build\n`,
    );
    process.exit(2);
  }
  return import(pathToFileURL(file).href);
}
