import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const loaded = (): boolean => Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('/node_modules/pino/'));

describe('logger', () => {
  it('loads pino on the first createLogger, not when the library is imported', async () => {
    // Each test file runs in its own process (pool: forks), so nothing else loaded pino here.
    const library = await import('../src/index.js');
    expect(loaded()).toBe(false);
    const log = library.createLogger();
    expect(log.level).toBe('silent');
    expect(loaded()).toBe(true);
  });
});
