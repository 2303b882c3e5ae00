import { mkdir, mkdtemp, open, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { LocalObjectStore } from '../../../src/storage/backends/local-store.js';
import type { ObjectStore } from '../../../src/storage/backends/object-store.js';
import type { VolumeEngine } from '../../../src/storage/volumes/volume-engine.js';
import { openEngine, pattern } from './engine-fixture.js';

const GiB = 2 ** 30;
const CHUNK = 64 * 1024;

/** The local store with a count of what was put, by key prefix, and optional delays that hold puts and gets back. */
class CountingStore extends LocalObjectStore {
  readonly puts: Array<{ key: string; bytes: number }> = [];
  putDelayMs = 0;
  getDelayMs = 0;

  override async get(...args: Parameters<ObjectStore['get']>): ReturnType<ObjectStore['get']> {
    if (this.getDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.getDelayMs));
    return super.get(...args);
  }

  override async put(key: string, body: Buffer, opts?: Parameters<ObjectStore['put']>[2]): Promise<{ etag: string }> {
    if (this.putDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.putDelayMs));
    this.puts.push({ key, bytes: body.length });
    return super.put(key, body, opts);
  }

  bytesPut(prefix: string, since = 0): number {
    return this.puts.slice(since).filter((p) => p.key.startsWith(prefix)).reduce((sum, p) => sum + p.bytes, 0);
  }

  async keys(prefix: string): Promise<string[]> {
    return (await this.list({ prefix })).objects.map((o) => o.key);
  }
}

async function setup(t: { teardown(fn: () => unknown): void }, options: { cacheBytes?: number } = {}) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sgw-snapshots-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const store = new CountingStore({ dir: path.join(dir, 'objects') });
  const open = () => openEngine({ dir, openStore: async () => store, chunkSize: CHUNK, cacheBytes: options.cacheBytes ?? 64 * 2 ** 20 });
  const fixture = { current: await open() };
  t.teardown(() => fixture.current.close());
  return { dir, store, fixture, reopen: async () => { await fixture.current.close(); fixture.current = await open(); } };
}

async function completed(engine: VolumeEngine, catalog: { snapshot(id: string): { status: string } | undefined }, snapshotId: string): Promise<void> {
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
    const status = catalog.snapshot(snapshotId)?.status;
    if (status === 'COMPLETED') return;
    if (status !== 'PENDING') throw new Error(`snapshot ${snapshotId} is ${status}`);
  }
  throw new Error(`snapshot ${snapshotId} did not complete: ${JSON.stringify(engine.snapshotProgress(snapshotId))}`);
}

async function readAll(engine: VolumeEngine, volume: string, bytes: number): Promise<Buffer> {
  return engine.read(volume, 0, bytes);
}

t.test('incremental: a second snapshot uploads only the chunks changed since, and an all-zero volume only a manifest', async (t) => {
  const { store, fixture } = await setup(t);
  const { engine, catalog } = fixture.current;
  const empty = engine.create({ name: 'empty', sizeBytes: GiB });
  const before = store.puts.length;
  const zero = engine.createSnapshot(empty.volumeId);
  await completed(engine, catalog, zero.snapshotId);
  t.same(store.puts.slice(before).map((p) => p.key), [`snapshots/${zero.snapshotId}.json`], 'an all-zero volume: the manifest alone');

  const v = engine.create({ name: 'data', sizeBytes: GiB });
  const written = 8 * 2 ** 20;
  await engine.write(v.volumeId, 0, pattern(1, written));
  const a = engine.createSnapshot(v.volumeId, 'A');
  await completed(engine, catalog, a.snapshotId);
  await engine.drained();
  const changed = [3, 17, 40, 99, 127].map((i) => i * CHUNK + 100);
  for (const [n, offset] of changed.entries()) await engine.write(v.volumeId, offset, pattern(100 + n, 512));
  const beforeB = store.puts.length;
  const b = engine.createSnapshot(v.volumeId, 'B');
  await completed(engine, catalog, b.snapshotId);
  const chunkBytes = store.bytesPut('chunks/', beforeB);
  const manifestBytes = store.bytesPut('snapshots/', beforeB);
  t.ok(chunkBytes <= changed.length * CHUNK, `snapshot B put ${chunkBytes} chunk bytes for ${changed.length} changed chunks`);
  t.ok(chunkBytes > 0 && manifestBytes > 0);
  t.equal(engine.snapshotProgress(b.snapshotId).progressPercent, 100);
});

t.test('point in time: writes racing the snapshot never reach it; a restore reads exactly the content at its instant', async (t) => {
  const { store, fixture } = await setup(t);
  const { engine, catalog } = fixture.current;
  const v = engine.create({ name: 'busy', sizeBytes: GiB });
  await engine.write(v.volumeId, 0, pattern(7, 40 * CHUNK));
  const atInstant = await readAll(engine, v.volumeId, 48 * CHUNK);
  store.putDelayMs = 20; // captures lag behind the writes below, so most of them go through copy-on-write
  const s = engine.createSnapshot(v.volumeId);
  const racing = Array.from({ length: 30 }, (_, i) => engine.write(v.volumeId, i * CHUNK + 1000, pattern(500 + i, 3000), { durable: i % 2 === 0 }));
  await engine.write(v.volumeId, 45 * CHUNK, pattern(9, CHUNK));
  await Promise.all(racing);
  await completed(engine, catalog, s.snapshotId);
  store.putDelayMs = 0;
  const restored = await engine.createFromSnapshot({ name: 'restored', snapshotId: s.snapshotId });
  t.equal(restored.sizeBytes, GiB);
  t.ok((await readAll(engine, restored.volumeId, 48 * CHUNK)).equals(atInstant), 'the restore holds the content at the instant');
  t.notOk((await readAll(engine, v.volumeId, 48 * CHUNK)).equals(atInstant), 'while the volume moved on');
  await t.rejects(engine.createFromSnapshot({ name: 'small', sizeBytes: GiB / 2, snapshotId: s.snapshotId }), { code: 'SGW_INVALID_SIZE' });
});

t.test('a snapshot interrupted by a restart completes afterwards with the content of its instant', async (t) => {
  const { store, fixture, reopen } = await setup(t);
  const v = fixture.current.engine.create({ name: 'crashy', sizeBytes: GiB });
  await fixture.current.engine.write(v.volumeId, 0, pattern(11, 20 * CHUNK));
  const atInstant = await readAll(fixture.current.engine, v.volumeId, 20 * CHUNK);
  store.putDelayMs = 200;
  const s = fixture.current.engine.createSnapshot(v.volumeId);
  await fixture.current.engine.write(v.volumeId, 0, pattern(12, CHUNK)); // captured first, then overwritten
  t.equal(fixture.current.catalog.snapshot(s.snapshotId)?.status, 'PENDING');
  t.ok(fixture.current.catalog.pendingSnapshotChunks(s.snapshotId).length > 0, 'chunks still pending at the restart');
  await reopen();
  store.putDelayMs = 0;
  const { engine, catalog } = fixture.current;
  await completed(engine, catalog, s.snapshotId);
  const restored = await engine.createFromSnapshot({ name: 'after-restart', snapshotId: s.snapshotId });
  t.ok((await readAll(engine, restored.volumeId, 20 * CHUNK)).equals(atInstant));
});

t.test('delete frees exactly what nothing else references; the bucket alone restores on a new gateway', async (t) => {
  const { dir, store, fixture } = await setup(t);
  const { engine, catalog } = fixture.current;
  const v = engine.create({ name: 'src', sizeBytes: GiB });
  await engine.write(v.volumeId, 0, pattern(21, 10 * CHUNK));
  const a = engine.createSnapshot(v.volumeId);
  await completed(engine, catalog, a.snapshotId);
  await engine.write(v.volumeId, 0, pattern(22, 4 * CHUNK));
  const contentB = await readAll(engine, v.volumeId, 10 * CHUNK);
  const b = engine.createSnapshot(v.volumeId);
  await completed(engine, catalog, b.snapshotId);
  await engine.delete(v.volumeId);

  await engine.deleteSnapshot(a.snapshotId);
  t.same(await store.keys('snapshots/'), [`snapshots/${b.snapshotId}.json`]);
  await engine.drained();
  await mkdir(path.join(dir, 'second-gateway'));
  const fresh = await openEngine({ dir: path.join(dir, 'second-gateway'), openStore: async () => store, chunkSize: CHUNK });
  t.teardown(() => fresh.close());
  t.same((await fresh.engine.bucketSnapshots()).map((s) => [s.snapshotId, s.status]), [[b.snapshotId, 'COMPLETED']], 'found in the bucket');
  for (let i = 0; i < 70 && (await store.keys('chunks/')).length > 6; i++) await new Promise((r) => setTimeout(r, 100));
  const dr = await fresh.engine.createFromSnapshot({ name: 'dr', snapshotId: b.snapshotId });
  t.ok((await readAll(fresh.engine, dr.volumeId, 10 * CHUNK)).equals(contentB), 'B restores on a new gateway after A was deleted');
  await fresh.engine.delete(dr.volumeId);
  await fresh.engine.deleteSnapshot(b.snapshotId);
  await engine.deleteSnapshot(b.snapshotId).catch(() => undefined);
  await t.rejects(engine.deleteSnapshot('snap-00000000'), { code: 'SGW_NOT_FOUND' });
  let left: string[] = [];
  for (let i = 0; i < 150; i++) {
    left = await store.keys('chunks/');
    if (left.length === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.same(left, [], 'no chunk objects left once no snapshot or volume references them');
  t.same(await store.keys('snapshots/'), []);
});

async function until(what: string, ready: () => boolean, timeoutMs = 60_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !ready(); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
}

t.test('restore onto a stored volume: RESTORING serves reads and writes at once, survives a restart, ends AVAILABLE', async (t) => {
  const { dir, store, fixture, reopen } = await setup(t);
  const src = fixture.current.engine.create({ name: 'src', sizeBytes: GiB });
  await fixture.current.engine.write(src.volumeId, 0, pattern(31, 40 * CHUNK));
  const expected = await readAll(fixture.current.engine, src.volumeId, 48 * CHUNK);
  const s = fixture.current.engine.createSnapshot(src.volumeId);
  await completed(fixture.current.engine, fixture.current.catalog, s.snapshotId);

  const diskPath = path.join(dir, 'restore-disk');
  await writeFile(diskPath, Buffer.alloc(0));
  await truncate(diskPath, GiB / 2);
  await t.rejects(fixture.current.engine.createFromSnapshot({ name: 'small', snapshotId: s.snapshotId, diskPath }), { code: 'SGW_INVALID_SIZE' });
  // Old data on the disk, inside and outside the snapshot's chunks, must be gone after the restore.
  await truncate(diskPath, GiB);
  const old = await open(diskPath, 'r+');
  for (const offset of [5 * CHUNK, 45 * CHUNK, GiB - CHUNK]) await old.write(Buffer.alloc(CHUNK, 0xee), 0, CHUNK, offset);
  await old.close();

  store.getDelayMs = 30; // the background fill takes a while, so reads and writes meet unfilled chunks
  const restored = await fixture.current.engine.createFromSnapshot({ name: 'copy', snapshotId: s.snapshotId, diskPath });
  t.match(restored, { status: 'RESTORING', type: 'stored', sizeBytes: GiB, diskPath });
  t.ok((await fixture.current.engine.read(restored.volumeId, 33 * CHUNK, CHUNK)).equals(expected.subarray(33 * CHUNK, 34 * CHUNK)), 'an unfilled chunk reads through at once');
  const patch = pattern(32, 100);
  await fixture.current.engine.write(restored.volumeId, 30 * CHUNK + 5, patch);
  patch.copy(expected, 30 * CHUNK + 5);
  t.ok(fixture.current.catalog.restorePending(restored.volumeId).length > 0, 'still restoring at the restart');

  await reopen();
  store.getDelayMs = 0;
  const { engine, catalog } = fixture.current;
  await until('the restore to end', () => engine.describe('copy').status === 'AVAILABLE');
  t.same(catalog.restorePending(restored.volumeId), []);
  t.ok((await readAll(engine, restored.volumeId, 48 * CHUNK)).equals(expected), 'the snapshot with the write made while restoring');
  const disk = await open(diskPath, 'r');
  const onDisk = Buffer.alloc(48 * CHUNK);
  await disk.read(onDisk, 0, onDisk.length, 0);
  const tail = Buffer.alloc(CHUNK, 1);
  await disk.read(tail, 0, CHUNK, GiB - CHUNK);
  await disk.close();
  t.ok(onDisk.equals(expected), 'all of it on the disk itself');
  t.ok(tail.every((b) => b === 0), 'the rest of the disk emptied');
  await t.rejects(engine.createFromSnapshot({ name: 'again', snapshotId: s.snapshotId, diskPath }), { code: 'SGW_IN_USE' });
});

t.test('recovery points: clone and snapshot a cached volume as of the last moment the store held all of it', async (t) => {
  const { store, fixture, reopen } = await setup(t);
  let { engine, catalog } = fixture.current;
  const v = engine.create({ name: 'live', sizeBytes: GiB });
  t.ok(engine.describe('live').recoveryPointAt, 'a new volume has one: empty');
  await engine.write(v.volumeId, 0, pattern(41, 12 * CHUNK));
  await engine.drained();
  const atPoint = await readAll(engine, v.volumeId, 16 * CHUNK);
  const point = engine.describe('live').recoveryPointAt;

  store.putDelayMs = 1_500; // the next write stays in the upload buffer for a while: the recovery point stays put
  await engine.write(v.volumeId, 2 * CHUNK + 7, pattern(42, 3 * CHUNK));
  await engine.unmap(v.volumeId, 8 * CHUNK, CHUNK);
  const latest = await readAll(engine, v.volumeId, 16 * CHUNK);
  t.equal(engine.describe('live').recoveryPointAt, point);
  const clone = engine.cloneVolume({ name: 'clone', source: 'live' });
  t.ok((await readAll(engine, clone.volumeId, 16 * CHUNK)).equals(atPoint), 'the clone holds the recovery point, not the writes after it');
  const { snapshot, recoveryPointAt } = engine.createSnapshotFromRecoveryPoint('live', 'from the recovery point');
  t.equal(recoveryPointAt, point);
  await completed(engine, catalog, snapshot.snapshotId);
  const fromSnapshot = await engine.createFromSnapshot({ name: 'rp-restore', snapshotId: snapshot.snapshotId });
  t.ok((await readAll(engine, fromSnapshot.volumeId, 16 * CHUNK)).equals(atPoint), 'so does a snapshot of it');

  store.putDelayMs = 0;
  await engine.drained();
  t.ok(Date.parse(engine.describe('live').recoveryPointAt ?? '') > Date.parse(point ?? ''), 'the recovery point moves once the store has caught up');
  await reopen();
  ({ engine, catalog } = fixture.current);
  const later = engine.cloneVolume({ name: 'clone2', source: 'live', sizeBytes: 2 * GiB });
  t.equal(later.sizeBytes, 2 * GiB);
  t.ok((await readAll(engine, later.volumeId, 16 * CHUNK)).equals(latest), 'after a restart the recovery point holds the later writes');

  // Clones keep their own references: the source going leaves them whole.
  await engine.delete(v.volumeId);
  await engine.drained();
  t.ok((await readAll(engine, clone.volumeId, 16 * CHUNK)).equals(atPoint));
  t.throws(() => engine.cloneVolume({ name: 'tiny', source: 'clone2', sizeBytes: GiB }), { code: 'SGW_INVALID_SIZE' });
  t.throws(() => engine.cloneVolume({ name: 'x', source: 'nope' }), { code: 'SGW_NOT_FOUND' });
});
