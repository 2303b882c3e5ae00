import { truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import type { ObjectStore } from '../../../src/storage/backends/object-store.js';
import { readChunkObject } from '../../../src/storage/volumes/chunk-objects.js';
import { openEngine, pattern } from './engine-fixture.js';

/**
 * The model-based check of the volume engine, run against whichever store a test gives it: random writes
 * (partial chunks, overlapping, unaligned), reads, unmaps, flushes and restarts must agree with a plain buffer.
 */
const VOLUME_BYTES = 2 ** 30;
const CHUNK = 64 * 1024;
// Operations land in a window of a few chunks at the start and one far into the volume, so they overlap often.
const WINDOW = 6 * CHUNK;
const FAR = VOLUME_BYTES - 2 * CHUNK;

type Command =
  | { op: 'write'; offset: number; length: number; seed: number; durable: boolean }
  | { op: 'read'; offset: number; length: number }
  | { op: 'unmap'; offset: number; length: number }
  | { op: 'flush' }
  | { op: 'restart' }
  | { op: 'drain' };

const place = fc.record({ far: fc.boolean(), offset: fc.integer({ min: 0, max: WINDOW - 1 }), length: fc.integer({ min: 1, max: 3 * CHUNK }) })
  .map(({ far, offset, length }) => {
    const base = far ? FAR : 0;
    const limit = far ? 2 * CHUNK : WINDOW;
    const start = offset % limit;
    return { offset: base + start, length: Math.min(length, limit - start) };
  });

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(place, fc.integer({ min: 1, max: 1e6 }), fc.boolean()).map(([p, seed, durable]) => ({ op: 'write' as const, ...p, seed, durable })) },
  { weight: 4, arbitrary: place.map((p) => ({ op: 'read' as const, ...p })) },
  { weight: 2, arbitrary: place.map((p) => ({ op: 'unmap' as const, ...p })) },
  { weight: 1, arbitrary: fc.constant({ op: 'flush' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'restart' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'drain' as const }) },
);

export interface ModelRun {
  /** A fresh directory for each run. */
  dir: () => Promise<string>;
  /** The store for the run in `dir`. */
  openStore: (dir: string) => Promise<ObjectStore>;
  numRuns: number;
  /** A stored volume lives on a disk file in the run's directory. */
  type?: 'cached' | 'stored';
}

export async function checkAgainstModel(run: ModelRun): Promise<void> {
  await fc.assert(fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 30 }), async (commands) => {
    const dir = await run.dir();
    const openStore = () => run.openStore(dir);
    const model = new Map<number, Buffer>([[0, Buffer.alloc(WINDOW)], [FAR, Buffer.alloc(2 * CHUNK)]]);
    const region = (offset: number) => (offset >= FAR ? { buf: model.get(FAR)!, at: offset - FAR } : { buf: model.get(0)!, at: offset });
    let fixture = await openEngine({ dir, openStore, chunkSize: CHUNK, cacheBytes: 16 * CHUNK });
    let volume: string;
    if (run.type === 'stored') {
      const diskPath = path.join(dir, 'volume-disk');
      await writeFile(diskPath, '');
      await truncate(diskPath, VOLUME_BYTES);
      volume = (await fixture.engine.createStored({ name: 'model', diskPath })).volumeId;
    } else {
      volume = fixture.engine.create({ name: 'model', sizeBytes: VOLUME_BYTES }).volumeId;
    }
    try {
      for (const c of commands) {
        if (c.op === 'write') {
          const data = pattern(c.seed, c.length);
          await fixture.engine.write(volume, c.offset, data, { durable: c.durable });
          const { buf, at } = region(c.offset);
          data.copy(buf, at);
        } else if (c.op === 'unmap') {
          await fixture.engine.unmap(volume, c.offset, c.length);
          const { buf, at } = region(c.offset);
          buf.fill(0, at, at + c.length);
        } else if (c.op === 'read') {
          const got = await fixture.engine.read(volume, c.offset, c.length);
          const { buf, at } = region(c.offset);
          if (!got.equals(buf.subarray(at, at + c.length))) throw new Error(`read ${c.offset}+${c.length} differs from the model`);
        } else if (c.op === 'flush') {
          await fixture.engine.flush(volume);
        } else if (c.op === 'drain') {
          await fixture.engine.drained(30_000);
        } else {
          await fixture.close();
          fixture = await openEngine({ dir, openStore, chunkSize: CHUNK, cacheBytes: 16 * CHUNK });
        }
      }
      // Finally, with everything uploaded and a restart that starts with an empty cache, the store alone
      // reproduces the model, never-written space in between included.
      await fixture.engine.drained(30_000);
      await fixture.close();
      fixture = await openEngine({ dir, openStore, chunkSize: CHUNK, cacheBytes: 16 * CHUNK });
      for (const [offset, buf] of model) {
        const got = await fixture.engine.read(volume, offset, buf.length);
        if (!got.equals(buf)) throw new Error(`final read at ${offset} differs from the model`);
      }
      const between = await fixture.engine.read(volume, WINDOW, CHUNK);
      if (!between.equals(Buffer.alloc(CHUNK))) throw new Error('never-written space does not read as zeros');
      // The store's copy, chunk by chunk through the catalog's map, is the model too (a stored volume reads
      // its disk, so this is what proves its uploads).
      const map = fixture.catalog.chunkMap(volume);
      const store = await openStore();
      for (const [offset, buf] of model) {
        for (let at = 0; at < buf.length; at += CHUNK) {
          const hash = map.get((offset + at) / CHUNK);
          const stored = hash ? await readChunkObject(store, hash) : Buffer.alloc(CHUNK);
          if (!stored.equals(buf.subarray(at, at + CHUNK))) throw new Error(`the store's chunk at ${offset + at} differs from the model`);
        }
      }
      await store.close();
    } finally {
      await fixture.close();
    }
  }), { numRuns: run.numRuns });
}
