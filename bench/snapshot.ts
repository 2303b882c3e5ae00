// Snapshot cost and restore speed, measured in one run against the same S3 server (moto on 127.0.0.1):
//   - a 1 GiB volume, written in full and uploaded, is snapshotted (A); then 1 % of its bytes change in 64 KiB
//     writes at random places and it is snapshotted again (B): bytes uploaded and seconds for B, against the ideal
//     of uploading only the changed bytes;
//   - a volume restored from B is read in full (1 MiB reads, 8 in flight, nothing cached), as a ratio to downloading
//     the same chunk objects directly with GetObject (8 in flight).
// Run: npm run bench:snapshot  (SIZE_MIB=1024 by default)
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { pino } from 'pino';
import { openObjectStore } from '../src/storage/backends/open-backend.js';
import type { ObjectStore } from '../src/storage/backends/object-store.js';
import { Catalog } from '../src/storage/catalog/catalog.js';
import { ChunkCache } from '../src/storage/chunk-cache.js';
import { UploadBuffer } from '../src/storage/upload-buffer.js';
import { chunkObjectKey } from '../src/storage/volumes/chunk-objects.js';
import { VolumeEngine } from '../src/storage/volumes/volume-engine.js';
import { ANY_CREDENTIALS, startMoto } from '../test/harness/moto.js';
import { pool, sizedFile, timed } from './measure.js';

const MiB = 2 ** 20;
const TOTAL = Number(process.env.SIZE_MIB ?? 1024) * MiB;
const CHANGE_WRITE = 64 * 1024;
const CHANGES = Math.round((TOTAL * 0.01) / CHANGE_WRITE);

/** The store as the engine sees it, counting the bytes of every put. */
function counting(store: ObjectStore): { store: ObjectStore; bytesPut: () => number } {
  let bytes = 0;
  const put: ObjectStore['put'] = (key, body, opts) => {
    bytes += body.length;
    return store.put(key, body, opts);
  };
  return { store: new Proxy(store, { get: (target, name) => (name === 'put' ? put : Reflect.get(target, name, target)) }), bytesPut: () => bytes };
}

async function completed(catalog: Catalog, snapshotId: string): Promise<void> {
  while (catalog.snapshot(snapshotId)?.status === 'PENDING') await new Promise((resolve) => setTimeout(resolve, 20));
  if (catalog.snapshot(snapshotId)?.status !== 'COMPLETED') throw new Error(`snapshot ${snapshotId} ended ${catalog.snapshot(snapshotId)?.status}`);
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'sgw-bench-'));
const moto = await startMoto();
try {
  const s3 = new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: ANY_CREDENTIALS });
  await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
  const { store, bytesPut } = counting(await openObjectStore({ kind: 's3', endpoint: moto.endpoint, bucket: 'bench', credentials: ANY_CREDENTIALS }));
  const catalog = Catalog.open(path.join(dir, 'catalog.db'));
  const engine = await VolumeEngine.open({
    catalog, store,
    journal: await UploadBuffer.open([await sizedFile(path.join(dir, 'buffer'), 2 * TOTAL)]),
    cache: await ChunkCache.open([await sizedFile(path.join(dir, 'cache'), 2 * TOTAL)]),
    log: pino({ level: 'warn' }),
  });
  const volume = engine.create({ name: 'bench', sizeBytes: Math.max(TOTAL, 2 ** 30) }).volumeId;
  const data = randomBytes(TOTAL);
  await pool(TOTAL / MiB, 8, (i) => engine.write(volume, i * MiB, data.subarray(i * MiB, (i + 1) * MiB)));
  await engine.drained(600_000);

  const beforeA = bytesPut();
  const a = engine.createSnapshot(volume, 'A');
  const secondsA = await timed(() => completed(catalog, a.snapshotId));
  const bytesA = bytesPut() - beforeA;

  const changed = new Set<number>();
  for (let i = 0; i < CHANGES; i++) {
    const at = randomInt(TOTAL / CHANGE_WRITE) * CHANGE_WRITE;
    changed.add(Math.floor(at / MiB));
    await engine.write(volume, at, randomBytes(CHANGE_WRITE));
  }
  const beforeB = bytesPut();
  const b = engine.createSnapshot(volume, 'B');
  const secondsB = await timed(() => completed(catalog, b.snapshotId));
  const bytesB = bytesPut() - beforeB;
  const ideal = CHANGES * CHANGE_WRITE;

  const restored = (await engine.createFromSnapshot({ name: 'restored', snapshotId: b.snapshotId })).volumeId;
  const restoreSeconds = await timed(() => pool(TOTAL / MiB, 8, async (i) => void (await engine.read(restored, i * MiB, MiB))));
  const hashes = [...catalog.snapshotChunkMap(b.snapshotId).values()];
  const directSeconds = await timed(() => pool(hashes.length, 8, async (i) => {
    const object = await s3.send(new GetObjectCommand({ Bucket: 'bench', Key: chunkObjectKey(hashes[i]!) }));
    await object.Body!.transformToByteArray();
  }));
  await engine.close();
  catalog.close();

  const mb = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
  console.log(`volume: ${TOTAL / MiB} MiB of random bytes, 1 MiB chunks, moto S3 on 127.0.0.1; disk: ${dir}`);
  console.log(`snapshot A of the uploaded volume   uploaded ${mb(bytesA).padStart(10)} in ${secondsA.toFixed(2)} s (the manifest)`);
  console.log(`snapshot B after 1 % changed        uploaded ${mb(bytesB).padStart(10)} in ${secondsB.toFixed(2)} s; ideal ${mb(ideal)} (${CHANGES} writes of 64 KiB in ${changed.size} chunks); ratio ${(bytesB / ideal).toFixed(1)}x`);
  console.log(`restore read of ${TOTAL / MiB} MiB            ${(TOTAL / MiB / restoreSeconds).toFixed(1)} MiB/s   direct GetObject of the same chunks ${(hashes.length / directSeconds).toFixed(1)} MiB/s   ratio ${((TOTAL / restoreSeconds) / (hashes.length * MiB / directSeconds)).toFixed(2)}`);
} finally {
  await moto.stop();
  await rm(dir, { recursive: true, force: true });
}
