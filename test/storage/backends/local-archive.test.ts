import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalObjectStore } from '../../../src/storage/backends/local-store.js';
import { openArchive } from '../../../src/storage/backends/open-backend.js';
import { archiveContract, type ArchiveFactory } from './archive-contract.js';

function localFactory(retrievalDelayMs: number): ArchiveFactory {
  return {
    retrievalTakesTime: retrievalDelayMs > 0,
    retrievalTimeoutMs: retrievalDelayMs + 2_000,
    bodySizes: [0, 1000, 3 * 1024 * 1024 + 7],
    backing: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'sgw-local-archive-'));
      t.teardown(() => rm(dir, { recursive: true, force: true }));
      return {
        open: () => openArchive({ kind: 'local', dir, retrievalDelayMs }),
        holds: async (archiveId) => (await new LocalObjectStore({ dir }).list()).objects.some((o) => o.key.includes(archiveId)),
      };
    },
  };
}

t.test('with a retrieval delay of 300 ms', async (t) => archiveContract(t, localFactory(300)));
t.test('with instant retrieval', async (t) => archiveContract(t, localFactory(0)));

t.test('the delay is counted from the request, not from when someone looks', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sgw-local-archive-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const archive = await openArchive({ kind: 'local', dir, retrievalDelayMs: 400 });
  const { archiveId } = await archive.put('t', Buffer.from('x'));
  await archive.requestRetrieval(archiveId);
  await new Promise((r) => setTimeout(r, 450));
  const restarted = await openArchive({ kind: 'local', dir, retrievalDelayMs: 400 });
  t.equal(await restarted.retrievalStatus(archiveId), 'available');
  await t.rejects(restarted.retrievalStatus('no-such-archive'), { code: 'SGW_OBJECT_NOT_FOUND' });
});
