import { readFile } from 'node:fs/promises';
import { runClient } from './volume-gateway.js';

export type Outcome = 'passed' | 'failed' | 'skipped';

/**
 * Runs libiscsi's conformance suite and returns each test's outcome, as "Suite.Test". CUnit counts a test that
 * skipped itself (the target lacks an optional feature) as passed; its "[SKIPPED]" line tells them apart.
 */
export async function runConformance(url: string, filter = 'ALL'): Promise<{ outcomes: Map<string, Outcome>; output: string }> {
  // The URL twice: the MultipathIO tests use the second as another path (a second session) to the same LU.
  const result = await runClient('iscsi-test-cu', ['--dataloss', '--verbose', '--test', filter, url, url], 900_000);
  const output = result.stdout + result.stderr;
  const outcomes = new Map<string, Outcome>();
  let suite = '';
  let current: { name: string; skipped: boolean; failed: boolean } | undefined;
  const finish = () => {
    if (current) outcomes.set(`${suite}.${current.name}`, current.failed ? 'failed' : current.skipped ? 'skipped' : 'passed');
    current = undefined;
  };
  for (const line of output.split('\n')) {
    const suiteMatch = /^Suite: (\S+)/.exec(line);
    if (suiteMatch) {
      finish();
      suite = suiteMatch[1]!;
      continue;
    }
    const testMatch = /^ {2}Test: (\S+) \.\.\./.exec(line);
    if (testMatch) {
      finish();
      current = { name: testMatch[1]!, skipped: false, failed: false };
    }
    if (!current) continue;
    if (line.includes('[SKIPPED]')) current.skipped = true;
    if (/\.\.\.FAILED|^FAILED/.test(line)) current.failed = true;
  }
  finish();
  return { outcomes, output };
}

/** The checked-in expectations: "Suite.Test outcome reason", one per line, # comments. */
export async function readExpectations(file: string): Promise<Map<string, { outcome: Outcome; reason: string }>> {
  const expected = new Map<string, { outcome: Outcome; reason: string }>();
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    const match = /^(\S+)\s+(failed|skipped)\s+(.+)$/.exec(line.trim());
    if (match) expected.set(match[1]!, { outcome: match[2] as Outcome, reason: match[3]! });
  }
  return expected;
}
