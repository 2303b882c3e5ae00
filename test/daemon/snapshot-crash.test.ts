import { createHash, randomBytes } from 'node:crypto';
import { appendFile, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t, { type Test } from 'tap';
import { DaemonClient } from '../../src/client/daemon-client.js';
import type { SnapshotDetails, SnapshotSummary, VolumeDetails } from '../../src/rpc/api.js';
import type { ObjectStore } from '../../src/storage/backends/object-store.js';
import { openGatewayStore } from '../../src/storage/gateway-backend.js';
import { chunkObjectKey } from '../../src/storage/volumes/chunk-objects.js';
import { SNAPSHOT_MANIFEST_PREFIX, snapshotManifestKey } from '../../src/storage/volumes/snapshot-manifest.js';
import { runClient, startVolumeGateway, volumeUrl } from '../harness/volume-gateway.js';

const MiB = 2 ** 20;
const VOLUME_BYTES = 2 ** 30;
/**
 * Random, so that every chunk is an object of its own; enough of them that capturing them all takes many times as
 * long as the CLI call that takes the snapshot and the overwrite after it (here about 10 are captured by then).
 */
const WRITTEN_MIB = 192;
const OVERWRITTEN_MIB = 8;
/** Written after the first snapshot and overwritten after the second, so that the second alone holds them. */
const EXTRA_MIB = 16;

/** What the test relies on in a manifest; the rest of its format is the engine's business. */
interface Manifest {
  chunkSize: number;
  chunks: Array<[number, string]>;
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The chunk index -> content hash pairs of parts written one after the other from offset 0, as a manifest lists them. */
function chunksOf(chunkSize: number, ...parts: Buffer[]): Array<[number, string]> {
  const chunks: Array<[number, string]> = [];
  for (const part of parts) {
    for (let at = 0; at < part.length; at += chunkSize) chunks.push([chunks.length, sha256(part.subarray(at, at + chunkSize))]);
  }
  return chunks;
}

async function keysUnder(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await store.list({ prefix, ...(token === undefined ? {} : { continuationToken: token }) });
    keys.push(...page.objects.map((o) => o.key));
    token = page.nextContinuationToken;
  } while (token !== undefined);
  return keys;
}

/** Probes until `done` or the time is up, and returns the last value for the caller to assert on. */
async function poll<T>(timeoutMs: number, probe: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 250));
  }
}

t.test('snapshots survive kill -9 of sgwd while they upload and while they are deleted', async (t) => {
  t.setTimeout(300_000);
  const { d, dir } = await startVolumeGateway(t, { buffer: '512MiB', cache: '512MiB' });
  // The embedded store opened the way sgwd opens it: the test reads the bucket as another gateway would.
  const store = await openGatewayStore({ kind: 'local' }, d.stateDir);

  const qemuIo = async (t: Test, url: string, ...commands: string[]) => {
    const r = await runClient('qemu-io', ['-f', 'raw', ...commands.flatMap((c) => ['-c', c]), url]);
    t.equal(r.code, 0, `${commands.join('; ')}: ${r.stderr}`);
  };
  /** A whole-volume image: the parts one after the other, then zeros. */
  const image = async (name: string, ...parts: Buffer[]) => {
    const file = path.join(dir, name);
    await writeFile(file, '');
    for (const part of parts) await appendFile(file, part);
    await truncate(file, VOLUME_BYTES);
    return file;
  };
  /** Every byte of the volume, read over iSCSI, against an image of what it must hold. */
  const holds = async (t: Test, volume: string, expected: string, what: string) => {
    const r = await runClient('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', expected, await volumeUrl(d, volume)]);
    t.equal(r.code, 0, `${what}: ${r.stdout.trim()} ${r.stderr.trim()}`);
  };
  const manifest = async (snapshotId: string) => JSON.parse((await store.get(snapshotManifestKey(snapshotId))).body.toString('utf8')) as Manifest;
  /** The bucket never names a chunk it lacks: each COMPLETED snapshot has its manifest, and every chunk it names is there. */
  const storeIsConsistent = async (t: Test) => {
    const completed = (await d.sgwJson<SnapshotSummary[]>('snapshot', 'list')).filter((s) => s.status === 'COMPLETED');
    t.ok(completed.length > 0, 'there is a COMPLETED snapshot to check');
    for (const { snapshotId } of completed) {
      const { chunks } = await manifest(snapshotId);
      const missing = [];
      for (const [, hash] of chunks) if ((await store.head(chunkObjectKey(hash))) === null) missing.push(hash);
      t.same(missing, [], `every chunk ${snapshotId}'s manifest names is in the store (${chunks.length} named)`);
    }
  };

  const original = randomBytes(WRITTEN_MIB * MiB);
  const atFirstInstant = await image('first.img', original);
  const overwritten = [Buffer.alloc(OVERWRITTEN_MIB * MiB, 0x5a), original.subarray(OVERWRITTEN_MIB * MiB)];
  let firstId = '';

  await t.test('SIGKILL while a snapshot uploads: after a restart it completes with the content of its instant', async (t) => {
    await d.sgwJson('volume', 'create', 'src', '--cached', '1GiB');
    // Looked up once: between the snapshot and the kill there is no time for another CLI call.
    const src = await volumeUrl(d, 'src');
    const originalFile = path.join(dir, 'original');
    await writeFile(originalFile, original);
    await qemuIo(t, src, `write -s ${originalFile} 0 ${WRITTEN_MIB}M`);

    // The uploader defers chunks for a second after the last write: the snapshot's instant finds them dirty.
    const started = Date.now();
    const first = await d.sgwJson<SnapshotDetails>('snapshot', 'create', 'src');
    firstId = first.snapshotId;
    t.match(first, { status: 'PENDING', volumeName: 'src' });
    t.ok(first.chunksPending > 0, `${first.chunksPending} chunks to capture`);
    // After the instant: must not reach the snapshot, whether or not its chunks were captured before sgwd dies.
    await qemuIo(t, src, `write -P 0x5a 0 ${OVERWRITTEN_MIB}M`);

    // The control socket rather than the CLI: starting a CLI process takes longer than the capture has left.
    const atKill = await DaemonClient.call(d.socket, 'snapshot.describe', { snapshot: firstId });
    t.equal(atKill.status, 'PENDING', 'still PENDING just before the kill');
    t.ok(atKill.chunksPending > 0, 'with chunks still to capture');
    t.equal(await d.stop('SIGKILL'), null, 'sgwd died of SIGKILL');
    t.comment(`killed ${Date.now() - started} ms after snapshot create was run, ${atKill.chunksPending} of ${first.chunksPending} chunks still pending`);
    // The manifest is written before the status turns COMPLETED: without one, sgwd died with the snapshot PENDING.
    t.equal(await store.head(snapshotManifestKey(firstId)), null, 'no manifest in the store: the snapshot was PENDING when sgwd died');

    await d.restart();
    const completed = await poll(60_000, () => d.sgwJson<SnapshotDetails>('snapshot', 'describe', firstId), (s) => s.status !== 'PENDING');
    t.match(completed, { status: 'COMPLETED', progressPercent: 100, chunksPending: 0 }, 'COMPLETED after the restart');
    const { chunks, chunkSize } = await manifest(firstId);
    t.same(chunks, chunksOf(chunkSize, original), 'the manifest names exactly the chunks of the data written before the instant');
    await storeIsConsistent(t);

    const restored = await d.sgwJson<VolumeDetails>('volume', 'create', 'copy', '--from-snapshot', firstId);
    t.equal(restored.sizeBytes, VOLUME_BYTES);
    await holds(t, 'copy', atFirstInstant, 'the restored volume holds the content of the instant, not the overwrite after it');
    await holds(t, 'src', await image('src.img', ...overwritten), 'the source volume kept the overwrite');
  });

  await t.test('SIGKILL right after a snapshot delete: the other snapshot stays whole, then everything is collected', async (t) => {
    const src = await volumeUrl(d, 'src');
    const extra = randomBytes(EXTRA_MIB * MiB);
    const extraFile = path.join(dir, 'extra');
    await writeFile(extraFile, extra);
    await qemuIo(t, src, `write -s ${extraFile} ${WRITTEN_MIB}M ${EXTRA_MIB}M`);
    const second = await d.sgwJson<SnapshotDetails>('snapshot', 'create', 'src', '--wait');
    t.equal(second.status, 'COMPLETED');
    const { chunks, chunkSize } = await manifest(second.snapshotId);
    t.same(chunks, chunksOf(chunkSize, ...overwritten, extra), 'the second snapshot holds the overwrite and the extra chunks');
    await qemuIo(t, src, `write -P 0x33 ${WRITTEN_MIB}M ${EXTRA_MIB}M`);
    const uploaded = await poll(30_000, () => d.sgwJson<VolumeDetails>('volume', 'describe', 'src'), (v) => v.dirtyBytes === 0);
    t.equal(uploaded.dirtyBytes, 0, 'the overwrite is in the store: the second snapshot alone references the extra chunks');
    const extraChunks = chunksOf(chunkSize, extra).map(([, hash]) => chunkObjectKey(hash));
    const extraInStore = async () => (await Promise.all(extraChunks.map((key) => store.head(key)))).filter((info) => info !== null).length;
    t.equal(await extraInStore(), EXTRA_MIB, 'the extra chunks are in the store');

    t.match(await d.sgwJson('snapshot', 'delete', second.snapshotId), { deleted: second.snapshotId });
    t.equal(await d.stop('SIGKILL'), null, 'sgwd died of SIGKILL');
    // Collection runs every 5 s, so this is nearly always all of them: the restarted sgwd must collect them.
    t.comment(`${await extraInStore()} of the ${EXTRA_MIB} chunks only the deleted snapshot held were in the store at the kill`);
    t.equal(await store.head(snapshotManifestKey(second.snapshotId)), null, 'the deleted snapshot\'s manifest is gone');
    t.not(await store.head(snapshotManifestKey(firstId)), null, 'the other snapshot\'s manifest is there');

    await d.restart();
    t.same((await d.sgwJson<SnapshotSummary[]>('snapshot', 'list')).map((s) => [s.snapshotId, s.status]), [[firstId, 'COMPLETED']]);
    t.equal((await d.sgw('snapshot', 'describe', second.snapshotId)).code, 1, 'the deleted snapshot stays deleted');
    t.equal(await poll(30_000, extraInStore, (n) => n === 0), 0, 'the chunks only the deleted snapshot held are collected');
    await storeIsConsistent(t);
    await d.sgwJson('volume', 'create', 'copy2', '--from-snapshot', firstId);
    await holds(t, 'copy2', atFirstInstant, 'the first snapshot, restored after the crash, holds the content of its instant');
    await holds(t, 'copy', atFirstInstant, 'the volume restored before the crash still does too');
    await holds(t, 'src', await image('src-after.img', ...overwritten, Buffer.alloc(EXTRA_MIB * MiB, 0x33)), 'and the source its latest writes');

    t.match(await d.sgwJson('snapshot', 'delete', firstId), { deleted: firstId });
    for (const volume of ['src', 'copy', 'copy2']) await d.sgwJson('volume', 'delete', volume);
    const left = await poll(30_000, () => keysUnder(store, 'chunks/'), (keys) => keys.length === 0);
    t.same(left, [], 'no chunk object is left in the store');
    t.same(await keysUnder(store, SNAPSHOT_MANIFEST_PREFIX), [], 'no snapshot manifest is left in the store');
  });
});
