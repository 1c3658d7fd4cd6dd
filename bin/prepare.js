#!/usr/bin/env node
// `npm install` / `npm ci` in a checkout, a git install and `npm pack` run this (the `prepare`
// script): a clean build of dist/ with the TypeScript compiler, a dev dependency. When the dev
// dependencies were left out (`npm ci --omit=dev`), there is no compiler: say so and succeed,
// so the install does not fail; the bins then explain how to build.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let tsc;
try {
  tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
} catch {
  process.stderr.write(
    'heartbeat-lab: typescript is not installed (dev dependencies omitted), so dist/ was not built.\n' +
      `  To build: cd ${root} && npm install && npm run build\n`,
  );
  process.exit(0);
}
rmSync(join(root, 'dist'), { recursive: true, force: true });
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
process.exit(result.status ?? 1);
