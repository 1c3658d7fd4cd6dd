/**
 * The TypeScript examples of docs/keeper.md compile against the library's sources, strictly,
 * so the reference cannot drift from the API. `heartbeat-lab` is mapped to `src/index.ts`.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { consumerTsconfig, typeCheck } from './consumer-tsc.js';

const ROOT = resolve(import.meta.dirname, '../..');
let dir: string | undefined;
afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('docs/keeper.md', () => {
  it('has TypeScript examples that type-check against the library', async () => {
    const doc = await readFile(join(ROOT, 'docs/keeper.md'), 'utf8');
    const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] as string);
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    dir = await mkdtemp(join(ROOT, 'node_modules', '.docs-examples-'));
    const files = blocks.map((_, i) => `example-${i}.ts`);
    // Each block is its own module (top-level await needs one).
    await Promise.all(blocks.map((code, i) => writeFile(join(dir as string, files[i] as string), `${code}\nexport {};\n`)));
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify(consumerTsconfig(files, { skipLibCheck: true, paths: { 'heartbeat-lab': [join(ROOT, 'src/index.ts')] } })),
    );
    const { output } = await typeCheck(dir);
    expect(output).toBe('');
  }, 120_000);
});
