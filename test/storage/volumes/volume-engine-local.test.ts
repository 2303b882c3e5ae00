import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { LocalObjectStore } from '../../../src/storage/backends/local-store.js';
import { checkAgainstModel } from './volume-engine-model.js';

t.test('the engine agrees with a plain buffer over random operations (embedded local store)', async (t) => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'sgw-engine-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  await checkAgainstModel({
    dir: () => mkdtemp(path.join(root, 'run-')),
    openStore: async (dir) => new LocalObjectStore({ dir: path.join(dir, 'objects') }),
    numRuns: 40,
  });
  t.pass('model agreed');
});

t.test('a stored volume agrees with a plain buffer over random operations', async (t) => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'sgw-stored-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  await checkAgainstModel({
    dir: () => mkdtemp(path.join(root, 'run-')),
    openStore: async (dir) => new LocalObjectStore({ dir: path.join(dir, 'objects') }),
    numRuns: 30,
    type: 'stored',
  });
  t.pass('model agreed');
});
