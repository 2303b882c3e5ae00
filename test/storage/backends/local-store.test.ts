import t from 'tap';
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalObjectStore } from '../../../src/storage/backends/local-store.js';
import { objectStoreContract } from './object-store-contract.js';

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sgw-local-store-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

t.test('contract', async (t) => {
  objectStoreContract(t, {
    capabilities: { serverSideEncryption: false },
    backing: async () => {
      const dir = await tempDir();
      return (prefix) => new LocalObjectStore({ dir, prefix });
    },
  });
});

t.test('an object is one file: header and data replaced together, no temporary file left', async (t) => {
  const dir = await tempDir();
  const store = new LocalObjectStore({ dir });
  await store.put('a/b', Buffer.from('payload'), { metadata: { m: '1' } });
  t.same(await readdir(join(dir, 'a.d')), ['b.o']);
  const file = await readFile(join(dir, 'a.d', 'b.o'));
  t.equal(file.subarray(0, 8).toString('latin1'), 'SGWOBJ01');
  t.equal(file.subarray(-7).toString(), 'payload');
});

t.test('files of interrupted writes and foreign files are not objects', async (t) => {
  const dir = await tempDir();
  const store = new LocalObjectStore({ dir });
  await store.put('keep', Buffer.from('k'));
  await writeFile(join(dir, '.0123456789abcdef.t'), 'half-written');
  await mkdir(join(dir, 'ghost.d'));
  await writeFile(join(dir, 'ghost.d', '.fedcba9876543210.t'), 'half-written');
  await writeFile(join(dir, 'README'), 'not ours');
  t.same((await store.list()).objects.map((o) => o.key), ['keep']);
  t.same((await store.list({ delimiter: '/' })).commonPrefixes, [], 'a directory holding only leftovers is no common prefix');
});

t.test('deleting the last key under a prefix removes its directories', async (t) => {
  const dir = await tempDir();
  const store = new LocalObjectStore({ dir });
  await store.put('x/y/z', Buffer.from('1'));
  await store.delete('x/y/z');
  t.same(await readdir(dir), []);
});

t.test('a completed multipart upload leaves no staging behind', async (t) => {
  const dir = await tempDir();
  const store = new LocalObjectStore({ dir });
  const uploadId = await store.createMultipartUpload('m');
  const part = await store.uploadPart('m', uploadId, 1, Buffer.from('only part'));
  await store.completeMultipartUpload('m', uploadId, [{ partNumber: 1, etag: part.etag }]);
  t.same(await readdir(join(dir, '.sgw-uploads')), []);
  await t.rejects(store.uploadPart('m', '../../escape', 1, Buffer.from('x')), { code: 'SGW_OBJECT_NOT_FOUND' });
});

t.test('describe names the directory and no more', async (t) => {
  const dir = await tempDir();
  t.same(new LocalObjectStore({ dir, prefix: 'p' }).describe(), { kind: 'local', dir, prefix: 'p/' });
});
