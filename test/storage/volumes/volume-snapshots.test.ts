import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { LocalObjectStore } from '../../../src/storage/backends/local-store.js';
import type { ObjectStore } from '../../../src/storage/backends/object-store.js';
import type { VolumeEngine } from '../../../src/storage/volumes/volume-engine.js';
import { openEngine, pattern } from './engine-fixture.js';

const GiB = 2 ** 30;
const CHUNK = 64 * 1024;

/** The local store with a count of what was put, by key prefix, and an optional delay that holds puts back. */
class CountingStore extends LocalObjectStore {
  readonly puts: Array<{ key: string; bytes: number }> = [];
  putDelayMs = 0;

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
