import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { LocalObjectStore } from '../../../src/storage/backends/local-store.js';
import { checkAgainstModel } from './volume-engine-model.js';

for (const [type, numRuns] of [['cached', 40], ['stored', 30]] as const) {
  t.test(`a ${type} volume agrees with a plain buffer over random operations (embedded local store)`, async (t) => {
    const root = await mkdtemp(path.join(os.tmpdir(), `sgw-${type}-`));
    t.teardown(() => rm(root, { recursive: true, force: true }));
    await checkAgainstModel({
      dir: () => mkdtemp(path.join(root, 'run-')),
      openStore: async (dir) => new LocalObjectStore({ dir: path.join(dir, 'objects') }),
      numRuns,
      type,
    });
    t.pass('model agreed');
  });
}
