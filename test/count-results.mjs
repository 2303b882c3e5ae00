// Reads tap's TAP output (one or more files) and prints "N passed, N failed", counting each test (the t.test
// blocks of every file).
// A file that fails outside its tests (a crash, a timeout) counts as one more failure, so it is never hidden.
import { readFileSync } from 'node:fs';

const files = process.argv.length > 2 ? process.argv.slice(2) : [0];
const lines = files.flatMap((file) => readFileSync(file, 'utf8').split('\n'));
let passed = 0;
let failed = 0;
let failedInFile = 0;
for (const line of lines) {
  if (/^    ok \d+/.test(line)) passed++;
  else if (/^    not ok \d+/.test(line)) {
    failed++;
    failedInFile++;
  } else if (/^(not )?ok \d+/.test(line)) {
    if (line.startsWith('not ok') && failedInFile === 0) failed++;
    failedInFile = 0;
  }
}
console.log(`${passed} passed, ${failed} failed`);
