#!/usr/bin/env node
// The `sim` command. Built TypeScript lives in dist/ (npm ci runs `prepare`, which compiles it).
import { main } from '../dist/sim/cli/main.js';

process.exitCode = await main(process.argv);
