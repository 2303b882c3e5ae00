import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { LocalObjectStore } from '../../../src/storage/backends/local-store.js';
import { readChunkObject } from '../../../src/storage/volumes/chunk-objects.js';
import { openEngine, pattern } from './engine-fixture.js';

const GiB = 2 ** 30;
const CHUNK = 64 * 1024;

async function diskWith(file: string, size: number, extents: Array<[offset: number, data: Buffer]>): Promise<void> {
  const handle = await open(file, 'w');
  await handle.truncate(size);
  for (const [offset, data] of extents) await handle.write(data, 0, data.length, offset);
  await handle.close();
}

t.test('--preserve-existing-data serves the disk as it is and uploads it while BOOTSTRAPPING', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sgw-bootstrap-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const extents: Array<[number, Buffer]> = [[0, pattern(1, 3 * CHUNK + 100)], [GiB / 2 + 12345, pattern(2, 5000)], [GiB - CHUNK, pattern(3, CHUNK)]];
  const diskPath = path.join(dir, 'disk');
  await diskWith(diskPath, GiB, extents);
  const openStore = async () => new LocalObjectStore({ dir: path.join(dir, 'objects') });
  let fixture = await openEngine({ dir, openStore, chunkSize: CHUNK });
  const created = await fixture.engine.createStored({ name: 'kept', diskPath, preserveExistingData: true });
  t.equal(created.status, 'BOOTSTRAPPING');
  for (const [offset, data] of extents) t.ok((await fixture.engine.read(created.volumeId, offset, data.length)).equals(data), `serves what was at ${offset}`);

  // A restart mid-bootstrap starts it over; it still ends.
  await fixture.close();
  fixture = await openEngine({ dir, openStore, chunkSize: CHUNK });
  t.equal(fixture.engine.describe('kept').status, 'BOOTSTRAPPING');
  await fixture.engine.drained(120_000);
  t.equal(fixture.engine.describe('kept').status, 'AVAILABLE');
  const map = fixture.catalog.chunkMap(created.volumeId);
  t.same([...map.keys()].sort((a, b) => a - b), [0, 1, 2, 3, Math.floor((GiB / 2 + 12345) / CHUNK), GiB / CHUNK - 1], 'only the chunks with data were stored');
  const store = await openStore();
  const disk = await readFile(diskPath);
  for (const [index, hash] of map) {
    t.ok((await readChunkObject(store, hash)).equals(disk.subarray(index * CHUNK, (index + 1) * CHUNK)), `chunk ${index} in the store is the disk's`);
  }
  await store.close();
  await fixture.close();
});

t.test('a refused stored volume leaves its disk untouched; an accepted one without preserve starts empty', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sgw-stored-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const fixture = await openEngine({ dir, openStore: async () => new LocalObjectStore({ dir: path.join(dir, 'objects') }), chunkSize: CHUNK });
  t.teardown(() => fixture.close());
  const small = path.join(dir, 'small');
  await writeFile(small, pattern(9, 4096));
  await t.rejects(fixture.engine.createStored({ name: 'small', diskPath: small }), { code: 'SGW_INVALID_SIZE' });
  t.ok((await readFile(small)).equals(pattern(9, 4096)), 'the refused disk keeps its data');
  await t.rejects(fixture.engine.createStored({ diskPath: path.join(dir, 'missing') }), { code: 'SGW_PATH_NOT_FOUND' });
  await t.rejects(fixture.engine.createStored({ diskPath: 'relative' }), { code: 'SGW_INVALID_ARGUMENT' });

  const full = path.join(dir, 'full');
  await diskWith(full, GiB, [[0, pattern(5, CHUNK)]]);
  const volume = await fixture.engine.createStored({ name: 'fresh', diskPath: full });
  t.equal(volume.status, 'AVAILABLE');
  t.ok((await fixture.engine.read(volume.volumeId, 0, CHUNK)).equals(Buffer.alloc(CHUNK)), 'without preserve the disk reads as zeros');
  await t.rejects(fixture.engine.createStored({ name: 'again', diskPath: full }), { code: 'SGW_IN_USE' });
});

t.test('a full upload buffer sends a stored volume PASS THROUGH: no write waits or fails, none is lost', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sgw-pass-through-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  // A file where the store's directory belongs: every upload fails until it is moved away.
  const outage = path.join(dir, 'objects');
  await writeFile(outage, '');
  const openStore = async () => new LocalObjectStore({ dir: outage });
  const options = { dir, openStore, chunkSize: CHUNK, bufferBytes: 2 ** 20, tuning: { admissionTimeoutMs: 200 } };
  let fixture = await openEngine(options);
  const diskPath = path.join(dir, 'disk');
  await diskWith(diskPath, GiB, []);
  const volume = (await fixture.engine.createStored({ name: 'through', diskPath })).volumeId;

  // Chunk 0 is written through the buffer first, then again once the buffer is full: the later write must win,
  // also after a restart replays the buffer.
  await fixture.engine.write(volume, 0, pattern(1, CHUNK));
  const expected = new Map<number, Buffer>([[0, pattern(1, CHUNK)]]);
  for (let i = 1; i < 40; i++) {
    await fixture.engine.write(volume, i * CHUNK, pattern(100 + i, CHUNK));
    expected.set(i, pattern(100 + i, CHUNK));
  }
  t.equal(fixture.engine.describe(volume).status, 'PASS THROUGH', '40 chunks do not fit a 1 MiB buffer');
  await fixture.engine.write(volume, 100, pattern(2, 5000));
  pattern(2, 5000).copy(expected.get(0)!, 100);
  const readAll = async () => {
    for (const [i, data] of expected) t.ok((await fixture.engine.read(volume, i * CHUNK, CHUNK)).equals(data), `chunk ${i} reads back`);
  };
  await readAll();

  await fixture.close();
  fixture = await openEngine(options);
  t.equal(fixture.engine.describe(volume).status, 'BOOTSTRAPPING', 'after a restart the whole disk is uploaded again');
  await readAll();
  await fixture.close();

  await rm(outage);
  fixture = await openEngine(options);
  await fixture.engine.drained(120_000);
  t.equal(fixture.engine.describe(volume).status, 'AVAILABLE', 'the store caught up');
  const store = await openStore();
  const map = fixture.catalog.chunkMap(volume);
  t.same([...map.keys()].sort((a, b) => a - b), [...expected.keys()], 'every written chunk is in the store');
  for (const [i, data] of expected) t.ok((await readChunkObject(store, map.get(i)!)).equals(data), `chunk ${i} in the store is the latest write`);
  await store.close();
  await fixture.close();
});
