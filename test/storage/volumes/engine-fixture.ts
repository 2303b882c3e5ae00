import { open } from 'node:fs/promises';
import path from 'node:path';
import { pino } from 'pino';
import type { ObjectStore } from '../../../src/storage/backends/object-store.js';
import { Catalog } from '../../../src/storage/catalog/catalog.js';
import { ChunkCache } from '../../../src/storage/chunk-cache.js';
import { UploadBuffer } from '../../../src/storage/upload-buffer.js';
import { VolumeEngine, type VolumeEngineOptions } from '../../../src/storage/volumes/volume-engine.js';

export interface EngineFixtureOptions {
  dir: string;
  openStore: () => Promise<ObjectStore>;
  chunkSize?: number;
  cacheBytes?: number;
  bufferBytes?: number;
  tuning?: Partial<Pick<VolumeEngineOptions, 'admissionTimeoutMs' | 'uploadParallelism' | 'limiter' | 'writeBackDelayMs'>>;
}

async function disk(file: string, sizeBytes: number): Promise<{ path: string; sizeBytes: number }> {
  const handle = await open(file, 'a');
  await handle.truncate(sizeBytes);
  await handle.close();
  return { path: file, sizeBytes };
}

/**
 * A volume engine on real files in a test directory: catalog, upload buffer and cache, as sgwd opens them.
 * `reopen` closes and opens it again on the same files, the way a daemon restart does.
 */
export async function openEngine(o: EngineFixtureOptions): Promise<{ engine: VolumeEngine; catalog: Catalog; cache: ChunkCache; close(): Promise<void> }> {
  const catalog = Catalog.open(path.join(o.dir, 'catalog.db'));
  const journal = await UploadBuffer.open([await disk(path.join(o.dir, 'buffer'), o.bufferBytes ?? 64 * 2 ** 20)]);
  const cache = await ChunkCache.open([await disk(path.join(o.dir, 'cache'), o.cacheBytes ?? 32 * 2 ** 20)], o.chunkSize ?? 64 * 1024);
  const engine = await VolumeEngine.open({
    catalog, store: await o.openStore(), journal, cache, log: pino({ level: process.env.SGW_TEST_LOG ?? 'silent' }),
    // Uploads start at once, so they race the writes: the interleavings that matter most for correctness.
    admissionTimeoutMs: 2_000, uploadParallelism: 4, writeBackDelayMs: 0, ...o.tuning,
  });
  return {
    engine, catalog, cache,
    async close() {
      await engine.close();
      catalog.close();
    },
  };
}

/** Deterministic bytes for a write, so a reader can recompute what a writer wrote from (seed, length). */
export function pattern(seed: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}
