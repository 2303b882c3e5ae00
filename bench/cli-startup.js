#!/usr/bin/env node
// Start-up time of `sgw --version` against bare `node -e ''`, measured in one run on the same machine.
// Prints the medians and their ratio; the goal is under 4x bare node.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const RUNS = Number(process.env.RUNS ?? 20);
const sgw = fileURLToPath(new URL('../bin/sgw.js', import.meta.url));

function medianMs(args) {
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint();
    execFileSync(process.execPath, args, { stdio: 'ignore' });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

medianMs(['-e', '']); // warm the file cache for both before measuring
medianMs([sgw, '--version']);
const bare = medianMs(['-e', '']);
const cli = medianMs([sgw, '--version']);
console.log(`node -e ''      ${bare.toFixed(1)} ms (median of ${RUNS})`);
console.log(`sgw --version   ${cli.toFixed(1)} ms (median of ${RUNS})`);
console.log(`ratio           ${(cli / bare).toFixed(2)}x (goal: under 4x)`);
