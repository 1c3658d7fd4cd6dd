import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sourceHash } from '../hosts/build-hosts.js';

const made: string[] = [];
afterEach(async () => {
  for (const dir of made.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function checkout(source: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'heartbeat-lab-clone-'));
  made.push(dir);
  await mkdir(join(dir, 'src'));
  await writeFile(join(dir, 'tsconfig.json'), '{}');
  await writeFile(join(dir, 'src/a.ts'), source);
  return dir;
}

describe('the cached test builds', () => {
  it('are keyed on the checkout as well as the sources, so a second clone never uses a build that links into the first', async () => {
    const first = await checkout('export const a = 1;\n');
    const second = await checkout('export const a = 1;\n');
    expect(await sourceHash(first)).not.toBe(await sourceHash(second));
  });

  it('change when a source changes and stay the same when nothing does', async () => {
    const dir = await checkout('export const a = 1;\n');
    const before = await sourceHash(dir);
    expect(await sourceHash(dir)).toBe(before);
    await writeFile(join(dir, 'src/a.ts'), 'export const a = 2;\n');
    expect(await sourceHash(dir)).not.toBe(before);
  });
});
