/** Where the crash test's slots lie: unaligned, of varied length, sharing chunks with their neighbours. */
export const CRASH_GEOMETRY = { chunkSize: 64 * 1024, cacheBytes: 4 * 2 ** 20, bufferBytes: 24 * 2 ** 20 };

export function slotRange(slot: number): { offset: number; length: number } {
  return { offset: slot * 100 * 1024 + ((slot * 37) % 8) * 512, length: 4096 + ((slot * 7919) % 92) * 1024 };
}
