import { createHash } from 'node:crypto';

/**
 * The SHA-256 tree hash Glacier checks uploads with: SHA-256 of each 1 MiB chunk, then hashes of adjacent pairs
 * concatenated, level by level, an odd last hash carried up unchanged, until one remains.
 */

export const TREE_HASH_CHUNK = 1024 * 1024;

function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/** One hash per 1 MiB chunk; empty data has the one hash of nothing. */
export function chunkHashes(data: Buffer): Buffer[] {
  if (data.length === 0) return [sha256(data)];
  const hashes: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += TREE_HASH_CHUNK) {
    hashes.push(sha256(data.subarray(offset, offset + TREE_HASH_CHUNK)));
  }
  return hashes;
}

/**
 * The root over consecutive chunk hashes. For a part that starts on a multiple of its power-of-two size, its chunks'
 * root is the part's own tree hash.
 */
export function treeHashOfChunks(hashes: Buffer[]): string {
  if (hashes.length === 0) throw new RangeError('a tree hash needs at least one chunk hash');
  let level = hashes;
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const left = level[i]!;
      const right = level[i + 1];
      next.push(right === undefined ? left : sha256(Buffer.concat([left, right])));
    }
    level = next;
  }
  return level[0]!.toString('hex');
}

export function treeHash(data: Buffer): string {
  return treeHashOfChunks(chunkHashes(data));
}
