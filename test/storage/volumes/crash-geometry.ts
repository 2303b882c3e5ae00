import path from 'node:path';
import { LocalObjectStore } from '../../../src/storage/backends/local-store.js';
import type { EngineFixtureOptions } from './engine-fixture.js';

/**
 * The volumes the crash test kills writers of. 'pass-through' is a stored volume whose object store is down and
 * whose upload buffer holds only a few writes, so most writes bypass the buffer while earlier ones are still in it.
 */
export type CrashVolume = 'cached' | 'stored' | 'pass-through';

export function crashEngineOptions(dir: string, type: CrashVolume): EngineFixtureOptions {
  const outage = type === 'pass-through';
  return {
    dir, chunkSize: 64 * 1024, cacheBytes: 4 * 2 ** 20, bufferBytes: outage ? 2 ** 20 : 24 * 2 ** 20,
    // The writer puts a file where this store's directory would be: every upload fails.
    openStore: async () => new LocalObjectStore({ dir: path.join(dir, outage ? 'outage' : 'objects') }),
  };
}

/** Where the crash test's slots lie: unaligned, of varied length, sharing chunks with their neighbours. */
export function slotRange(slot: number): { offset: number; length: number } {
  return { offset: slot * 100 * 1024 + ((slot * 37) % 8) * 512, length: 4096 + ((slot * 7919) % 92) * 1024 };
}
