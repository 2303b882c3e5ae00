// Volume engine throughput, measured in one run against peers on the same machine:
//   - sequential 1 MiB and random 4 KiB writes into the engine, as ratios to raw fsync'd appends on the same disk;
//   - the drain rate to S3 (moto on 127.0.0.1), as a ratio to a direct @aws-sdk/lib-storage upload of the same bytes.
// Run: npm run bench:volume-engine  (SIZE_MIB=256 by default)
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { pino } from 'pino';
import { openObjectStore } from '../src/storage/backends/open-backend.js';
import { Catalog } from '../src/storage/catalog/catalog.js';
import { ChunkCache } from '../src/storage/chunk-cache.js';
import { UploadBuffer } from '../src/storage/upload-buffer.js';
import { VolumeEngine } from '../src/storage/volumes/volume-engine.js';
import { ANY_CREDENTIALS, startMoto } from '../test/harness/moto.js';
import { pool, sizedFile, timed } from './measure.js';

const MiB = 2 ** 20;
const TOTAL = Number(process.env.SIZE_MIB ?? 256) * MiB;
const RANDOM_WRITES = 4096;

async function rawAppends(dir: string, size: number, count: number): Promise<number> {
  const file = await open(path.join(dir, `raw-${size}`), 'w');
  const block = randomBytes(size);
  const seconds = await timed(async () => {
    for (let i = 0; i < count; i++) {
      await file.write(block, 0, size, i * size);
      await file.datasync();
    }
  });
  await file.close();
  return count / seconds;
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'sgw-bench-'));
const moto = await startMoto();
try {
  const s3 = new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: ANY_CREDENTIALS });
  await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
  const data = randomBytes(TOTAL);

  const rawSeq = (await rawAppends(dir, MiB, TOTAL / MiB)) * MiB;
  const rawRandom = await rawAppends(dir, 4096, RANDOM_WRITES);

  const direct = TOTAL / await timed(async () => {
    await new Upload({ client: s3, params: { Bucket: 'bench', Key: 'direct', Body: data }, partSize: 8 * MiB, queueSize: 8 }).done();
  });

  const catalog = Catalog.open(path.join(dir, 'catalog.db'));
  const engine = await VolumeEngine.open({
    catalog,
    store: await openObjectStore({ kind: 's3', endpoint: moto.endpoint, bucket: 'bench', credentials: ANY_CREDENTIALS }),
    journal: await UploadBuffer.open([await sizedFile(path.join(dir, 'buffer'), 2 * TOTAL)]),
    cache: await ChunkCache.open([await sizedFile(path.join(dir, 'cache'), 2 * TOTAL)]),
    log: pino({ level: 'warn' }),
  });
  const volume = engine.create({ name: 'bench', sizeBytes: 64 * 2 ** 30 }).volumeId;
  let seqSeconds = 0;
  const drainSeconds = await timed(async () => {
    seqSeconds = await timed(() => pool(TOTAL / MiB, 8, (i) => engine.write(volume, i * MiB, data.subarray(i * MiB, (i + 1) * MiB))));
    await engine.drained(600_000);
  });
  const randomSeconds = await timed(() => pool(RANDOM_WRITES, 32, async () => {
    const at = Math.floor(Math.random() * (TOTAL / 4096)) * 4096;
    await engine.write(volume, 32 * 2 ** 30 + at, data.subarray(at, at + 4096));
  }));
  await engine.close();
  catalog.close();

  const seq = TOTAL / seqSeconds;
  const random = RANDOM_WRITES / randomSeconds;
  const drain = TOTAL / drainSeconds;
  const mb = (bytesPerSecond: number) => `${(bytesPerSecond / MiB).toFixed(1)} MiB/s`;
  console.log(`data: ${TOTAL / MiB} MiB of random bytes; disk: ${dir}`);
  console.log(`sequential 1 MiB writes   engine ${mb(seq).padStart(12)} (8 in flight)   raw fsync'd appends ${mb(rawSeq).padStart(12)}   ratio ${(seq / rawSeq).toFixed(2)}`);
  console.log(`random 4 KiB writes       engine ${random.toFixed(0).padStart(7)} IOPS (32 in flight)  raw fsync'd appends ${rawRandom.toFixed(0).padStart(7)} IOPS   ratio ${(random / rawRandom).toFixed(2)}`);
  console.log(`drain to S3 (write+upload) engine ${mb(drain).padStart(12)}   direct lib-storage upload ${mb(direct).padStart(12)}   ratio ${(drain / direct).toFixed(2)}`);
} finally {
  await moto.stop();
  await rm(dir, { recursive: true, force: true });
}
