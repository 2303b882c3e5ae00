import { randomBytes } from 'node:crypto';
import type { Test } from 'tap';
import type { Archive } from '../../../src/storage/backends/archive.js';
import { pollUntil } from './poll.js';

/** What every Archive must do, run against each backend. */

export interface ArchiveBacking {
  /** A new instance on the same storage, as after a restart. */
  open(): Promise<Archive>;
  /** Whether the storage still holds the archive, asked of the backend directly. */
  holds(archiveId: string): Promise<boolean>;
}

export interface ArchiveFactory {
  /** Right after a retrieval is requested the archive is still unreadable. */
  retrievalTakesTime: boolean;
  retrievalTimeoutMs: number;
  /** Blob sizes to archive: around the backend's single-upload limit. */
  bodySizes: number[];
  backing(): Promise<ArchiveBacking>;
}

const MiB = 1024 * 1024;

export function archiveContract(t: Test, factory: ArchiveFactory): void {
  t.test('check() passes on a usable archive', async (t) => {
    const archive = await (await factory.backing()).open();
    t.teardown(() => archive.close());
    await archive.check();
  });

  t.test('put, retrieve, read (also after a restart), delete', async (t) => {
    const backing = await factory.backing();
    const archive = await backing.open();
    const restarted = await backing.open();
    t.teardown(async () => {
      await archive.close();
      await restarted.close();
    });

    // Sizes run side by side: each waits mostly for its retrieval.
    await Promise.all(factory.bodySizes.map(async (size) => {
      const body = randomBytes(size);
      const { archiveId } = await archive.put(`tape-${size}/segment-0001`, body);
      t.ok(await backing.holds(archiveId), `${size}: stored`);
      t.equal(await archive.retrievalStatus(archiveId), 'archived', `${size}: archived`);
      await t.rejects(archive.get(archiveId), { code: 'SGW_OBJECT_ARCHIVED' }, `${size}: unreadable while archived`);

      await archive.requestRetrieval(archiveId);
      if (factory.retrievalTakesTime) {
        t.equal(await archive.retrievalStatus(archiveId), 'retrieving', `${size}: retrieving`);
        await t.rejects(archive.get(archiveId), { code: 'SGW_OBJECT_ARCHIVED' }, `${size}: unreadable while retrieving`);
      }
      await pollUntil(() => restarted.retrievalStatus(archiveId), (s) => s === 'available', factory.retrievalTimeoutMs);

      t.ok((await restarted.get(archiveId)).equals(body), `${size}: exact bytes`);
      if (size > 0) {
        const start = size > MiB ? MiB - 5 : Math.floor(size / 3);
        const range = { start, end: Math.min(start + 9, size - 1) };
        t.same(await restarted.get(archiveId, range), body.subarray(range.start, range.end + 1), `${size}: a range`);
      }
      await restarted.requestRetrieval(archiveId);
      t.equal(await restarted.retrievalStatus(archiveId), 'available', `${size}: asking again changes nothing`);

      await restarted.delete(archiveId);
      t.notOk(await backing.holds(archiveId), `${size}: deleted`);
    }));
  });

  t.test('each put is a new archive, even under the same name', async (t) => {
    const archive = await (await factory.backing()).open();
    t.teardown(() => archive.close());
    const first = await archive.put('tape/segment', randomBytes(100));
    const second = await archive.put('tape/segment', randomBytes(100));
    t.not(first.archiveId, second.archiveId);
  });
}
