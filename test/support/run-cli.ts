import type { MainIo } from '../../src/cli/io.js';
import { main as simMain } from '../../sim/cli/main.js';

export type CliMain = (argv: readonly string[], io: MainIo) => Promise<number>;

/** Runs a CLI's `main` in-process (not a TTY) and captures what it prints. */
export async function runMain(main: CliMain, name: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(['node', name, ...args], {
    out: (t) => {
      stdout += t;
    },
    err: (t) => {
      stderr += t;
    },
    isTTY: false,
  });
  return { code, stdout, stderr };
}

/** Runs the `sim` CLI in-process and captures what it prints. */
export function runCli(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runMain(simMain, 'sim', args);
}
