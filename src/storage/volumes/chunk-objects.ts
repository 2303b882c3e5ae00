import { createHash } from 'node:crypto';
import type { ObjectStore } from '../backends/object-store.js';

/**
 * Chunk objects are named by the SHA-256 of their content, so equal chunks of any volume or snapshot are stored
 * once, and an upload that is repeated after a crash writes the same object again harmlessly.
 */
export function chunkHash(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function chunkObjectKey(hash: string): string {
  return `chunks/${hash}`;
}

let zeros = Buffer.alloc(0);

/** memcmp against a shared zero buffer: a zero chunk is the common case for unmapped or never-written space. */
export function isAllZero(data: Buffer): boolean {
  if (zeros.length < data.length) zeros = Buffer.alloc(data.length);
  return data.equals(zeros.subarray(0, data.length));
}

export async function readChunkObject(store: ObjectStore, hash: string): Promise<Buffer> {
  return (await store.get(chunkObjectKey(hash))).body;
}
