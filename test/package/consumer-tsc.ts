import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * The tsconfig of a strict TypeScript consumer (NodeNext, `await using`), with Node's types from
 * this checkout so the temp project needs no install of its own.
 */
export function consumerTsconfig(files: readonly string[], extra: Record<string, unknown> = {}): object {
  return {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      lib: ['ES2022', 'esnext.disposable'],
      strict: true,
      noEmit: true,
      types: ['node'],
      typeRoots: [join(ROOT, 'node_modules/@types')],
      ...extra,
    },
    files,
  };
}

/** Runs this checkout's `tsc -p <dir>/tsconfig.json`; resolves with its output ('' when clean) and exit code. */
export function typeCheck(dir: string): Promise<{ code: number; output: string }> {
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  return new Promise((done) => {
    execFile(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { cwd: dir }, (error, stdout, stderr) => {
      done({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, output: `${stdout}${stderr}` });
    });
  });
}
