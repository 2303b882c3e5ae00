import { createHash } from 'node:crypto';

/**
 * The Glacier tree hash written a second way, for checking: the root over n > 1 chunk hashes is the hash of the root
 * over the largest power-of-two number of chunks below n, concatenated with the root over the rest.
 */

const MiB = 1024 * 1024;

export function sha256(...parts: Buffer[]): Buffer {
  return createHash('sha256').update(Buffer.concat(parts)).digest();
}

function root(hashes: Buffer[]): Buffer {
  if (hashes.length === 1) return hashes[0]!;
  let left = 1;
  while (left * 2 < hashes.length) left *= 2;
  return sha256(root(hashes.slice(0, left)), root(hashes.slice(left)));
}

export function referenceTreeHash(data: Buffer): string {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += MiB) chunks.push(data.subarray(offset, offset + MiB));
  return root(chunks.length === 0 ? [sha256(data)] : chunks.map((c) => sha256(c))).toString('hex');
}
