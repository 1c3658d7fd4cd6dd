/** `src/` and `sim/` have no import circles (type-only imports count), and `src/` never imports `sim/`. */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importCircles, importsOf, sourceFiles } from './import-graph.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

describe('import graph', () => {
  const graph = new Map(sourceFiles(ROOT, ['src', 'sim']).map((file) => [file, importsOf(ROOT, file)] as const));

  it('reads the imports it should (the checker itself can see an edge)', () => {
    expect(graph.get('src/cli/keeper-run.ts')).toContain('src/cli/run-session.ts');
    expect(graph.get('src/cli/keeper-main.ts')).toContain('src/cli/keeper-errors.ts');
    expect(importCircles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]))).toEqual([['a', 'b', 'c', 'a']]);
  });

  it('has no circles in src/ or sim/', () => {
    expect(importCircles(graph).map((files) => files.join(' -> '))).toEqual([]);
  });

  it('src/ never imports sim/', () => {
    const inverted = [...graph].flatMap(([file, imports]) => (file.startsWith('src/') ? imports.filter((target) => target.startsWith('sim/')).map((target) => `${file} -> ${target}`) : []));
    expect(inverted).toEqual([]);
  });
});
