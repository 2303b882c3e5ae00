import t from 'tap';
import { createRequire } from 'node:module';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openArchive, openObjectStore } from '../../../src/storage/backends/open-backend.js';

/** The AWS SDK is CommonJS, so whatever part of it has loaded shows in the module cache. */
function awsSdkLoaded(): boolean {
  return Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('/node_modules/@aws-sdk/'));
}

t.test('the local backends never load the AWS SDK; the s3 one does', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sgw-open-backend-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const store = await openObjectStore({ kind: 'local', dir: join(dir, 'objects') });
  await store.check();
  const archive = await openArchive({ kind: 'local', dir: join(dir, 'archive'), retrievalDelayMs: 0 });
  await archive.check();
  t.same(store.describe(), { kind: 'local', dir: join(dir, 'objects'), prefix: undefined });
  t.notOk(awsSdkLoaded(), 'no @aws-sdk module loaded');

  const s3 = await openObjectStore({ kind: 's3', bucket: 'b', endpoint: 'http://127.0.0.1:9' });
  t.teardown(() => s3.close());
  t.equal(s3.describe().kind, 's3');
  t.ok(awsSdkLoaded(), 'the check above would see it');
});
