import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import t from 'tap';
import { openObjectStore } from '../../../src/storage/backends/open-backend.js';
import { ANY_CREDENTIALS, startMoto } from '../../harness/moto.js';
import { OutageProxy } from '../../harness/outage-proxy.js';
import { openEngine, pattern } from './engine-fixture.js';
import { checkAgainstModel } from './volume-engine-model.js';

const moto = await startMoto();
t.teardown(() => moto.stop());
const s3 = new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: ANY_CREDENTIALS });
const root = await mkdtemp(path.join(os.tmpdir(), 'sgw-engine-s3-'));
t.teardown(() => rm(root, { recursive: true, force: true }));
let buckets = 0;

async function newBucket(): Promise<string> {
  const bucket = `engine-${buckets++}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

const CHUNK = 64 * 1024;

t.test('the engine agrees with a plain buffer over random operations (real S3 server)', async (t) => {
  const bucket = await newBucket();
  await checkAgainstModel({
    dir: () => mkdtemp(path.join(root, 'model-')),
    openStore: (dir) => openObjectStore({ kind: 's3', endpoint: moto.endpoint, bucket, prefix: path.basename(dir), credentials: ANY_CREDENTIALS }),
    numRuns: 12,
  });
  t.pass('model agreed');
});

t.test('an S3 outage fails no I/O; the backlog drains and the bucket ends with exactly the volume', async (t) => {
  const bucket = await newBucket();
  const proxy = await OutageProxy.start(Number(new URL(moto.endpoint).port));
  t.teardown(() => proxy.cut());
  const dir = await mkdtemp(path.join(root, 'outage-'));
  const openStore = () => openObjectStore({
    kind: 's3', endpoint: proxy.endpoint, bucket, credentials: ANY_CREDENTIALS,
    tuning: { maxAttempts: 1, connectTimeoutMs: 500, requestTimeoutMs: 5_000 },
  });
  const fixture = await openEngine({ dir, openStore, chunkSize: CHUNK, cacheBytes: 128 * CHUNK, bufferBytes: 32 * 2 ** 20 });
  t.teardown(() => fixture.close());
  const { engine, catalog } = fixture;
  const volume = engine.create({ name: 'outage', sizeBytes: 2 ** 30 }).volumeId;
  const model = Buffer.alloc(64 * CHUNK);
  let uploadedBeforeCut = 0;
  for (let i = 0; i < 240; i++) {
    if (i === 60) {
      uploadedBeforeCut = catalog.chunkMap(volume).size;
      await proxy.cut();
    }
    if (i === 180) await proxy.restore();
    const offset = Math.floor(Math.random() * (model.length - 128 * 1024));
    const data = pattern(i + 1, 1 + Math.floor(Math.random() * 128 * 1024));
    await engine.write(volume, offset, data);
    data.copy(model, offset);
    if (i % 20 === 0) t.ok((await engine.read(volume, offset, data.length)).equals(data), `read-back ${i}`);
  }
  await engine.drained(60_000);
  t.ok(uploadedBeforeCut > 0, 'uploads were under way before the outage');
  t.ok((await engine.read(volume, 0, model.length)).equals(model), 'the volume reads as written');

  // Chunks replaced by later writes are collected; then the bucket holds exactly the volume's chunks.
  const deadline = Date.now() + 20_000;
  while (catalog.unreferencedChunks(1).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  const map = catalog.chunkMap(volume);
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'chunks/' }));
  const keys = (listed.Contents ?? []).map((o) => o.Key).sort();
  t.same(keys, [...new Set(map.values())].map((h) => `chunks/${h}`).sort(), 'one object per distinct chunk, nothing else');
  for (const [index, hash] of map) {
    const body = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `chunks/${hash}` }))).Body!.transformToByteArray());
    if (createHash('sha256').update(body).digest('hex') !== hash || !body.equals(model.subarray(index * CHUNK, (index + 1) * CHUNK))) {
      t.fail(`chunk ${index} in the bucket is not the volume's data`);
    }
  }
});

t.test('cache pressure: usage never exceeds the cache size, and the data stays right', async (t) => {
  const bucket = await newBucket();
  const dir = await mkdtemp(path.join(root, 'pressure-'));
  const openStore = () => openObjectStore({ kind: 's3', endpoint: moto.endpoint, bucket, credentials: ANY_CREDENTIALS });
  const fixture = await openEngine({ dir, openStore, chunkSize: CHUNK, cacheBytes: 8 * CHUNK, tuning: { admissionTimeoutMs: 30_000 } });
  t.teardown(() => fixture.close());
  const { engine, cache } = fixture;
  const volume = engine.create({ name: 'pressure', sizeBytes: 2 ** 30 }).volumeId;
  const capacity = cache.stats().capacityBytes;
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, cache.stats().usedBytes)), 2);
  const model = Buffer.alloc(64 * CHUNK);
  try {
    await Promise.all([0, 1, 2, 3].map(async (w) => {
      for (let i = 0; i < 30; i++) {
        const offset = (w * 16 + Math.floor(Math.random() * 14)) * CHUNK + Math.floor(Math.random() * CHUNK);
        const data = pattern(w * 1000 + i + 1, 1 + Math.floor(Math.random() * CHUNK));
        await engine.write(volume, offset, data);
        data.copy(model, offset);
        peak = Math.max(peak, cache.stats().usedBytes);
      }
    }));
    const got = await engine.read(volume, 0, model.length);
    t.ok(got.equals(model), 'every byte as written');
  } finally {
    clearInterval(sampler);
  }
  t.ok(peak <= capacity, `peak cache use ${peak} <= ${capacity}`);
  t.ok(peak > 0, 'the cache was used');
  t.ok(cache.stats().evictions > 0, 'clean chunks were evicted to make room');
});

t.test('a 32 TiB volume is created in under a second and costs almost nothing until written', async (t) => {
  const bucket = await newBucket();
  const dir = await mkdtemp(path.join(root, 'huge-'));
  const openStore = () => openObjectStore({ kind: 's3', endpoint: moto.endpoint, bucket, credentials: ANY_CREDENTIALS });
  const fixture = await openEngine({ dir, openStore, chunkSize: CHUNK });
  t.teardown(() => fixture.close());
  const { statSync } = await import('node:fs');
  const catalogBytes = () => ['catalog.db', 'catalog.db-wal'].reduce((sum, f) => sum + (statSync(path.join(dir, f), { throwIfNoEntry: false })?.size ?? 0), 0);
  const before = catalogBytes();
  const started = process.hrtime.bigint();
  const volume = fixture.engine.create({ name: 'huge', sizeBytes: 32 * 2 ** 40 }).volumeId;
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  t.ok(ms < 1000, `created in ${ms.toFixed(1)} ms`);
  t.ok(catalogBytes() - before < 2 ** 20, `catalog grew by ${catalogBytes() - before} bytes`);
  const last = 32 * 2 ** 40 - 4096;
  t.ok((await fixture.engine.read(volume, last, 4096)).equals(Buffer.alloc(4096)), 'the last sector reads as zeros');
  await fixture.engine.write(volume, last, pattern(7, 4096));
  await fixture.engine.unmap(volume, 0, 32 * 2 ** 40);
  t.ok((await fixture.engine.read(volume, last, 4096)).equals(Buffer.alloc(4096)), 'a whole-volume unmap is quick and complete');
  await fixture.engine.drained(30_000);
  t.equal(fixture.catalog.chunkMap(volume).size, 0, 'nothing stored for zeros');
});
