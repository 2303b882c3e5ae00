import { truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { readExpectations, runConformance } from '../harness/iscsi-test-cu.js';
import { startVolumeGateway, volumeUrl } from '../harness/volume-gateway.js';

const EXPECTATIONS = fileURLToPath(new URL('./iscsi-test-cu.expected', import.meta.url));
// tgt 1.0.85 passes this many of the suite's 230 tests on this machine (CUnit counts a skip as a pass).
const TGT_PASSES = 222;

t.test("libiscsi's iscsi-test-cu, whole suite, on a cached and a stored volume", async (t) => {
  const { d, dir } = await startVolumeGateway(t, { buffer: '256MiB', cache: '256MiB' });
  await d.sgwJson('volume', 'create', 'cached', '--cached', '1GiB');
  const diskPath = path.join(dir, 'stored-disk');
  await writeFile(diskPath, '');
  await truncate(diskPath, 2 ** 30);
  await d.sgwJson('volume', 'create', 'stored', '--stored', '--disk', diskPath);
  const expected = await readExpectations(EXPECTATIONS);

  for (const volume of ['cached', 'stored']) {
    const { outcomes, output } = await runConformance(await volumeUrl(d, volume));
    t.ok(outcomes.size >= 230, `${volume}: the whole suite ran (${outcomes.size} tests)`) || t.comment(output.slice(-3000));
    const counts = { passed: 0, skipped: 0, failed: 0 };
    for (const [test, outcome] of outcomes) {
      counts[outcome]++;
      const listed = expected.get(test);
      if (outcome === 'passed') {
        if (listed) t.comment(`${volume}: ${test} passes now; take it off the expectations`);
        continue;
      }
      if (!listed) t.fail(`${volume}: ${test} ${outcome} and is not in ${path.basename(EXPECTATIONS)}`);
      else if (listed.outcome === 'skipped' && outcome === 'failed') t.fail(`${volume}: ${test} failed; it is expected to skip (${listed.reason})`);
    }
    t.ok(counts.passed + counts.skipped >= TGT_PASSES, `${volume}: ${counts.passed} passed, ${counts.skipped} skipped, ${counts.failed} failed; tgt passes ${TGT_PASSES}`);
    t.equal(d.proc?.exitCode, null, 'sgwd is still up');
  }
});
