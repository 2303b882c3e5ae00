import { randomBytes } from 'node:crypto';
import type { Test } from 'tap';
import { MIN_PART_SIZE, type ListPage, type ObjectStore, type RetrievalTier } from '../../../src/storage/backends/object-store.js';
import { pollUntil } from './poll.js';

/**
 * What every ObjectStore must do, run against each backend. Behaviour only some backends have is asked for through
 * `capabilities`, never by backend name.
 */

export interface StoreCapabilities {
  /** The server records server-side encryption, and HeadObject reports it. */
  serverSideEncryption: boolean;
  /** A storage class whose objects cannot be read until restored, and the tier to restore them with. */
  coldStorage?: { storageClass: string; tier: RetrievalTier; restoreTimeoutMs: number };
}

export interface ObjectStoreFactory {
  capabilities: StoreCapabilities;
  /** Fresh, empty storage (a directory, a bucket); returns how to open stores on it, each with its own prefix. */
  backing(): Promise<(prefix?: string) => ObjectStore>;
}

const MiB = 1024 * 1024;

/** Keys that stress a layout: shared prefixes, escapes, dots, non-ASCII, segments longer than a file name. */
const AWKWARD_KEYS = [
  'a', 'a/', 'a/b', 'a/b/c', 'a b', 'a+b', 'a%2Fb', 'a-b', 'a0', 'a.b', '..', '../x', './y', 'ü/ñ', '日本/語', 'emoji 😀',
  'z'.repeat(200), `long/${'é'.repeat(150)}/tail`, `${'q'.repeat(84)}/x`, 'q'.repeat(84), 'q'.repeat(85), 'trailing//double',
];

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** S3's grouping by delimiter, from its definition, for comparison. */
function expectedListing(keys: string[], prefix: string, delimiter?: string): { keys: string[]; commonPrefixes: string[] } {
  const objects = new Set<string>();
  const prefixes = new Set<string>();
  for (const key of keys.filter((k) => k.startsWith(prefix))) {
    const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
    if (cut === -1) objects.add(key);
    else prefixes.add(key.slice(0, cut + delimiter!.length));
  }
  return { keys: [...objects].sort(byteOrder), commonPrefixes: [...prefixes].sort(byteOrder) };
}

/** Every page, following continuation tokens; also the order in which entries came across pages. */
async function listAll(store: ObjectStore, opts: { prefix?: string; delimiter?: string; maxKeys?: number }) {
  const keys: string[] = [];
  const commonPrefixes: string[] = [];
  const sequence: string[] = [];
  let pages = 0;
  let token: string | undefined;
  do {
    const page: ListPage = await store.list({ ...opts, continuationToken: token });
    pages++;
    keys.push(...page.objects.map((o) => o.key));
    commonPrefixes.push(...page.commonPrefixes);
    sequence.push(...[...page.objects.map((o) => o.key), ...page.commonPrefixes].sort(byteOrder));
    token = page.nextContinuationToken;
  } while (token !== undefined && pages < 1000);
  return { keys, commonPrefixes, sequence, pages };
}

export function objectStoreContract(t: Test, factory: ObjectStoreFactory): void {
  const open = async (t: Test, prefix = 'gw') => {
    const store = (await factory.backing())(prefix);
    t.teardown(() => store.close());
    return store;
  };

  t.test('check() passes on a usable store and leaves nothing behind', async (t) => {
    const store = await open(t);
    await store.check();
    t.same((await store.list()).objects, []);
  });

  t.test('put then get returns the bytes, ETag and metadata', async (t) => {
    const store = await open(t);
    const body = randomBytes(1000);
    const { etag } = await store.put('dir/obj', body, { metadata: { 'tape-id': 'T00001', purpose: 'test' }, contentType: 'application/x-test' });
    t.match(etag, /^[0-9a-f]{32}$/);
    const got = await store.get('dir/obj');
    t.same(got.body, body);
    t.equal(got.size, body.length);
    t.equal(got.etag, etag);
    t.same(got.metadata, { 'tape-id': 'T00001', purpose: 'test' });
    const info = await store.head('dir/obj');
    t.match(info, { key: 'dir/obj', size: 1000, etag, metadata: { 'tape-id': 'T00001' }, contentType: 'application/x-test' });
    t.ok(info!.lastModified instanceof Date && Math.abs(info!.lastModified.getTime() - Date.now()) < 60_000);
    await store.put('empty', Buffer.alloc(0));
    t.same((await store.get('empty')).body, Buffer.alloc(0));
  });

  t.test('a second put replaces the object', async (t) => {
    const store = await open(t);
    await store.put('k', Buffer.from('one'), { metadata: { v: '1' } });
    await store.put('k', Buffer.from('two'));
    const got = await store.get('k');
    t.equal(got.body.toString(), 'two');
    t.same(got.metadata, {});
  });

  t.test('missing keys: get fails SGW_OBJECT_NOT_FOUND, head is null, delete is fine', async (t) => {
    const store = await open(t);
    await t.rejects(store.get('nope'), { code: 'SGW_OBJECT_NOT_FOUND' });
    await t.rejects(store.get('nope/deeper', { start: 0, end: 1 }), { code: 'SGW_OBJECT_NOT_FOUND' });
    t.equal(await store.head('nope'), null);
    await store.delete('nope');
    await store.put('x', Buffer.from('x'));
    await store.delete('x');
    await t.rejects(store.get('x'), { code: 'SGW_OBJECT_NOT_FOUND' });
    t.equal(await store.head('x'), null);
  });

  t.test('ranged get returns the range and the whole size', async (t) => {
    const store = await open(t);
    const body = randomBytes(10_000);
    await store.put('r', body);
    for (const [start, end] of [[0, 0], [0, 9999], [1234, 5678], [9999, 9999]] as const) {
      const got = await store.get('r', { start, end });
      t.same(got.body, body.subarray(start, end + 1), `${start}-${end}`);
      t.equal(got.size, body.length);
    }
    t.same((await store.get('r', { start: 9990, end: 20_000 })).body, body.subarray(9990), 'an end past the object is clamped');
    await t.rejects(store.get('r', { start: 10_000, end: 10_001 }), { code: 'SGW_INVALID_ARGUMENT' });
    await t.rejects(store.get('r', { start: 5, end: 4 }), { code: 'SGW_INVALID_ARGUMENT' });
  });

  t.test('keys are checked as S3 would', async (t) => {
    const store = await open(t);
    await t.rejects(store.put('', Buffer.from('x')), { code: 'SGW_INVALID_ARGUMENT' });
    await t.rejects(store.put('k'.repeat(1100), Buffer.from('x')), { code: 'SGW_INVALID_ARGUMENT' });
    const longest = 'k'.repeat(1024 - 'gw/'.length);
    await store.put(longest, Buffer.from('fits'));
    t.equal((await store.get(longest)).body.toString(), 'fits');
  });

  t.test('"a", "a/" and "a/b" coexist, and so do other awkward keys', async (t) => {
    const store = await open(t);
    for (const key of AWKWARD_KEYS) await store.put(key, Buffer.from(`body of ${key}`));
    for (const key of AWKWARD_KEYS) t.equal((await store.get(key)).body.toString(), `body of ${key}`, key);
    await store.delete('a/');
    t.equal((await store.get('a')).body.toString(), 'body of a');
    t.equal((await store.get('a/b')).body.toString(), 'body of a/b');
    await t.rejects(store.get('a/'), { code: 'SGW_OBJECT_NOT_FOUND' });
  });

  t.test('listing is in UTF-8 byte order, grouped by delimiter, and pages yield every entry once', async (t) => {
    const store = await open(t);
    for (const key of AWKWARD_KEYS) await store.put(key, Buffer.from(key));
    for (const query of [
      { prefix: '' }, { prefix: '', delimiter: '/' }, { prefix: 'a', delimiter: '/' }, { prefix: 'a/', delimiter: '/' },
      { prefix: 'a/' }, { prefix: 'q' }, { prefix: 'z', delimiter: 'z' }, { prefix: '', delimiter: 'b' },
    ]) {
      const expected = expectedListing(AWKWARD_KEYS, query.prefix, query.delimiter);
      const whole = await listAll(store, query);
      t.equal(whole.pages, 1, `${JSON.stringify(query)} fits one page`);
      t.same(whole.keys, expected.keys, `keys of ${JSON.stringify(query)}`);
      t.same(whole.commonPrefixes, expected.commonPrefixes, `common prefixes of ${JSON.stringify(query)}`);
      const paged = await listAll(store, { ...query, maxKeys: 2 });
      t.same(paged.keys, expected.keys, `keys of ${JSON.stringify(query)} in pages of 2`);
      t.same(paged.commonPrefixes, expected.commonPrefixes, `common prefixes of ${JSON.stringify(query)} in pages of 2`);
      t.same(paged.sequence, [...expected.keys, ...expected.commonPrefixes].sort(byteOrder), 'pages follow each other in order');
    }
    const page = await store.list({ prefix: 'a/b' });
    t.match(page.objects[0], { key: 'a/b', size: 3, etag: /^[0-9a-f]{32}$/ });
    t.ok(page.objects[0]!.lastModified instanceof Date);
  });

  t.test('a store sees only the keys under its own prefix', async (t) => {
    const openOn = await factory.backing();
    const p1 = openOn('p1');
    const p10 = openOn('p10');
    t.teardown(async () => {
      await p1.close();
      await p10.close();
    });
    await p1.put('x', Buffer.from('from p1'));
    await p10.put('x', Buffer.from('from p10'));
    t.equal((await p1.get('x')).body.toString(), 'from p1');
    t.same((await p1.list()).objects.map((o) => o.key), ['x']);
    t.same((await openOn().list({ delimiter: '/' })).commonPrefixes, ['p1/', 'p10/']);
  });

  t.test('copy keeps metadata unless given new, and fails for a missing source', async (t) => {
    const store = await open(t);
    const body = randomBytes(2000);
    await store.put('src', body, { metadata: { origin: 'src' }, contentType: 'application/x-src' });
    await store.copy('src', 'kept');
    t.same(await store.get('kept'), { body, size: 2000, etag: (await store.head('src'))!.etag, metadata: { origin: 'src' } });
    t.equal((await store.head('kept'))!.contentType, 'application/x-src');
    await store.copy('src', 'replaced', { metadata: { origin: 'copy' } });
    t.same((await store.get('replaced')).metadata, { origin: 'copy' });
    t.same((await store.get('replaced')).body, body);
    await t.rejects(store.copy('missing', 'x'), { code: 'SGW_OBJECT_NOT_FOUND' });
  });

  t.test('multipart upload of 3 parts reads back whole and across part boundaries', async (t) => {
    const store = await open(t);
    const parts = [randomBytes(MIN_PART_SIZE), randomBytes(MIN_PART_SIZE + 17), randomBytes(1000)];
    const whole = Buffer.concat(parts);
    const uploadId = await store.createMultipartUpload('big', { metadata: { kind: 'multipart' } });
    // Out of order, as parallel uploads finish.
    const etags = await Promise.all(parts.map((body, i) => store.uploadPart('big', uploadId, i + 1, body)));
    const { etag } = await store.completeMultipartUpload('big', uploadId, etags.map((e, i) => ({ partNumber: i + 1, etag: e.etag })));
    t.match(etag, /^[0-9a-f]{32}-3$/);
    const got = await store.get('big');
    t.ok(got.body.equals(whole), 'whole body');
    t.same(got.metadata, { kind: 'multipart' });
    t.equal((await store.head('big'))!.size, whole.length);
    const boundary = MIN_PART_SIZE;
    const across = await store.get('big', { start: boundary - 10, end: boundary + 10 });
    t.same(across.body, whole.subarray(boundary - 10, boundary + 11));
    t.equal(across.size, whole.length);
    const intoLast = 2 * MIN_PART_SIZE + 17 - 5;
    t.same((await store.get('big', { start: intoLast, end: intoLast + 9 })).body, whole.subarray(intoLast, intoLast + 10));
  });

  t.test('uploadPartCopy splices a range of another object', async (t) => {
    const store = await open(t);
    const source = randomBytes(MIN_PART_SIZE + 2 * MiB);
    await store.put('source', source);
    const tail = randomBytes(300);
    const uploadId = await store.createMultipartUpload('spliced');
    const first = await store.uploadPartCopy('spliced', uploadId, 1, 'source', { start: MiB, end: MiB + MIN_PART_SIZE - 1 });
    const second = await store.uploadPart('spliced', uploadId, 2, tail);
    await store.completeMultipartUpload('spliced', uploadId, [{ partNumber: 1, etag: first.etag }, { partNumber: 2, etag: second.etag }]);
    const got = await store.get('spliced');
    t.ok(got.body.equals(Buffer.concat([source.subarray(MiB, MiB + MIN_PART_SIZE), tail])));
  });

  t.test('multipart uploads are refused as S3 refuses them, and abort leaves nothing', async (t) => {
    const store = await open(t);
    const uploadId = await store.createMultipartUpload('m');
    const small = await store.uploadPart('m', uploadId, 1, randomBytes(100));
    const last = await store.uploadPart('m', uploadId, 2, randomBytes(100));
    await t.rejects(store.completeMultipartUpload('m', uploadId, [{ partNumber: 1, etag: small.etag }, { partNumber: 2, etag: last.etag }]),
      { code: 'SGW_INVALID_ARGUMENT' }, 'a part but the last under 5 MiB');
    await t.rejects(store.completeMultipartUpload('m', uploadId, [{ partNumber: 2, etag: small.etag }]), { code: 'SGW_INVALID_ARGUMENT' }, 'wrong ETag');
    await store.abortMultipartUpload('m', uploadId);
    await t.rejects(store.abortMultipartUpload('m', uploadId), { code: 'SGW_OBJECT_NOT_FOUND' }, 'the upload is gone');
    t.equal(await store.head('m'), null);
    t.same((await store.list()).objects, []);
  });

  t.test('delete removes one key and keeps its neighbours', async (t) => {
    const store = await open(t);
    for (const key of ['d/1', 'd/2', 'd']) await store.put(key, Buffer.from(key));
    await store.delete('d/1');
    t.same((await store.list({ prefix: 'd' })).objects.map((o) => o.key), ['d', 'd/2']);
    await store.delete('d/2');
    const page = await store.list({ prefix: 'd', delimiter: '/' });
    t.same(page.objects.map((o) => o.key), ['d']);
    t.same(page.commonPrefixes, [], 'no empty group is left behind');
  });

  if (factory.capabilities.serverSideEncryption) {
    t.test('the server records AES256 encryption for put, multipart and copy', async (t) => {
      const store = await open(t);
      await store.put('sse-put', randomBytes(10));
      const uploadId = await store.createMultipartUpload('sse-multipart');
      const part = await store.uploadPart('sse-multipart', uploadId, 1, randomBytes(10));
      await store.completeMultipartUpload('sse-multipart', uploadId, [{ partNumber: 1, etag: part.etag }]);
      await store.copy('sse-put', 'sse-copy');
      for (const key of ['sse-put', 'sse-multipart', 'sse-copy']) {
        t.equal((await store.head(key))!.serverSideEncryption, 'AES256', key);
      }
    });
  }

  const cold = factory.capabilities.coldStorage;
  if (cold !== undefined) {
    t.test(`an object in ${cold.storageClass} is unreadable until restored`, async (t) => {
      const store = await open(t);
      const body = randomBytes(500);
      await store.put('cold', body, { storageClass: cold.storageClass });
      const info = await store.head('cold');
      t.equal(info!.storageClass, cold.storageClass);
      t.equal(info!.restore, undefined);
      await t.rejects(store.get('cold'), { code: 'SGW_OBJECT_ARCHIVED' });
      await store.restore('cold', { days: 1, tier: cold.tier });
      await pollUntil(async () => (await store.head('cold'))!.restore, (r) => r?.ongoing === false, cold.restoreTimeoutMs);
      t.same((await store.get('cold')).body, body);
    });
  }
}
