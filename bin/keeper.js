#!/usr/bin/env node
// The `keeper` command. Built TypeScript lives in dist/ (`prepare` compiles it; see load-dist.js).
import { loadDist } from './load-dist.js';

const { main } = await loadDist('keeper', 'src/cli/keeper-main.js');

// `keeper status | head -1`: a closed pipe is not an error worth a stack trace.
process.stdout.on('error', (error) => {
  if (error.code !== 'EPIPE') throw error;
});

const code = await main(process.argv);
process.exitCode = code;
// A store driver that keeps a socket or timer alive must not keep a finished keeper alive.
setTimeout(() => process.exit(code), 2_000).unref();
