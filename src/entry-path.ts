import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The compiled entry point `<name>.js` that a module at `moduleUrl` starts as a separate process or
 * thread: its sibling when the module runs compiled, else (run from `src/` by a TypeScript-aware
 * runner) the same folder under `dist/`, e.g. `src/cli/x.ts` → `dist/src/cli/<name>.js`.
 */
export function compiledEntryPath(moduleUrl: string, name: string): string {
  const here = fileURLToPath(moduleUrl);
  const folder = dirname(here);
  if (here.endsWith('.js')) return join(folder, `${name}.js`);
  // Sources live in <repo>/src/<area>/: the compiled tree mirrors them under <repo>/dist/.
  const repo = resolve(folder, '..', '..');
  return join(repo, 'dist', relative(repo, folder), `${name}.js`);
}
