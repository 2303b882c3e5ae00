import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { CloudTraffic, emptyCloudCounters } from '../../../src/storage/backends/metered-store.js';
import { LocalObjectStore } from '../../../src/storage/backends/local-store.js';
import type { Teardown } from '../../harness/daemon.js';

const MiB = 2 ** 20;

async function setup(t: Teardown) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sgw-metered-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const traffic = new CloudTraffic(null);
  const own = emptyCloudCounters();
  const store = traffic.meter(new LocalObjectStore({ dir }), own);
  const other = traffic.meter(new LocalObjectStore({ dir: path.join(dir, 'other') }));
  return { traffic, own, store, other };
}

t.test('uploads and downloads are counted for the gateway and for the store that carried them; server-side copies are not', async (t) => {
  const { traffic, own, store, other } = await setup(t);
  await store.put('a', Buffer.alloc(MiB, 1));
  const uploadId = await store.createMultipartUpload('b');
  const part = await store.uploadPart('b', uploadId, 1, Buffer.alloc(5 * MiB, 2));
  await store.completeMultipartUpload('b', uploadId, [{ partNumber: 1, etag: part.etag }]);
  await store.copy('a', 'c');
  t.equal((await store.get('b', { start: 0, end: 999 })).body.length, 1000);
  await t.rejects(store.get('missing'), { code: 'SGW_OBJECT_NOT_FOUND' });
  await other.put('x', Buffer.alloc(100));
  await other.get('x');

  t.match(own, { bytesUploaded: 6 * MiB, bytesDownloaded: 1000, downloads: 1 }, 'the store\'s own counters');
  t.match(traffic.counters, { bytesUploaded: 6 * MiB + 100, bytesDownloaded: 1100, downloads: 2 }, 'the gateway counts every store');
  t.ok(traffic.counters.downloadTimeMs > 0, 'with the time downloads took');
});

t.test('the upload limit paces puts; clearing it lets the next one through at once', async (t) => {
  const { traffic, store } = await setup(t);
  // 4 Mbit/s is 500,000 bytes/s: the first MiB goes on the full bucket and leaves it in debt.
  traffic.update({ rates: { uploadBitsPerSecond: 4_000_000 }, schedule: [], timezone: 'UTC' });
  const started = performance.now();
  await store.put('first', Buffer.alloc(MiB));
  await store.put('second', Buffer.alloc(MiB));
  const paced = (performance.now() - started) / 1000;
  t.ok(paced > 1.6 && paced < 3.5, `the second MiB waited for the debt and a full bucket (${paced.toFixed(2)} s, about 2.1 s expected)`);
  traffic.update(null);
  const free = performance.now();
  await store.put('third', Buffer.alloc(MiB));
  t.ok(performance.now() - free < 500, 'no wait without a limit');
});
