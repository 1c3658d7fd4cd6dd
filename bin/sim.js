#!/usr/bin/env node
// The `sim` command. Built TypeScript lives in dist/ (`prepare` compiles it; see load-dist.js).
import { loadDist } from './load-dist.js';

const { main } = await loadDist('sim', 'sim/cli/main.js');
process.exitCode = await main(process.argv);
