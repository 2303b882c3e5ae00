import t from 'tap';
import { randomBytes } from 'node:crypto';
import { chunkHashes, treeHash, treeHashOfChunks } from '../../../src/storage/backends/tree-hash.js';
import { referenceTreeHash, sha256 } from './tree-hash-reference.js';

const MiB = 1024 * 1024;

t.test('up to one chunk the tree hash is the plain SHA-256', async (t) => {
  t.equal(treeHash(Buffer.alloc(0)), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  t.equal(treeHash(Buffer.from('abc')), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  const oneChunk = randomBytes(MiB);
  t.equal(treeHash(oneChunk), sha256(oneChunk).toString('hex'));
});

t.test('chunks are combined pairwise, an odd one carried up', async (t) => {
  const data = randomBytes(5 * MiB + 3);
  const [h1, h2, h3, h4, h5, h6] = [0, 1, 2, 3, 4, 5].map((i) => sha256(data.subarray(i * MiB, (i + 1) * MiB))) as Buffer[];
  t.equal(treeHash(data.subarray(0, 2 * MiB)), sha256(h1!, h2!).toString('hex'), 'two chunks');
  t.equal(treeHash(data.subarray(0, 3 * MiB)), sha256(sha256(h1!, h2!), h3!).toString('hex'), 'three chunks');
  const bit = sha256(data.subarray(3 * MiB, 3 * MiB + 5));
  t.equal(treeHash(data.subarray(0, 3 * MiB + 5)), sha256(sha256(h1!, h2!), sha256(h3!, bit)).toString('hex'), 'three chunks and a bit');
  t.equal(treeHash(data), sha256(sha256(sha256(h1!, h2!), sha256(h3!, h4!)), sha256(h5!, h6!)).toString('hex'), 'six chunks');
});

t.test('agrees with the reference on many sizes', async (t) => {
  const data = randomBytes(9 * MiB + 1);
  for (const size of [1, MiB - 1, MiB + 1, 2 * MiB, 4 * MiB - 1, 7 * MiB + 12, 9 * MiB + 1]) {
    t.equal(treeHash(data.subarray(0, size)), referenceTreeHash(data.subarray(0, size)), `${size} bytes`);
  }
});

t.test('an aligned power-of-two part hashes the same from the whole blob\'s chunk hashes', async (t) => {
  const data = randomBytes(6 * MiB + 100);
  const hashes = chunkHashes(data);
  t.equal(treeHashOfChunks(hashes.slice(2, 4)), treeHash(data.subarray(2 * MiB, 4 * MiB)));
  t.equal(treeHashOfChunks(hashes.slice(4, 8)), treeHash(data.subarray(4 * MiB)));
  t.throws(() => treeHashOfChunks([]));
});
