/**
 * NFSv3 changes (CREATE, WRITE, COMMIT, SETATTR, MKDIR, REMOVE, RMDIR, RENAME) against the real program over a
 * catalog, a share registry and local buckets; what reaches the bucket is checked after the share syncs.
 */
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import t, { type Test } from 'tap';
import { decodeHandle } from '../../../../src/daemon/targets/nfs/file-handle.js';
import type { XdrReader, XdrWriter } from '../../../../src/daemon/targets/rpc/xdr.js';
import type { Auth } from '../rpc/test-rpc-client.js';
import { NOBODY, Proc, ROOT, Status, TestGateway, fattr3, postOpAttr, sys, wccData, xdr, type Fattr3 } from './nfs-gateway.js';

t.setTimeout(60_000);

const MiB = 1024 * 1024;
const BUCKET = 'rw-files';
/** NFS3ERR_ codes the read-side tests have no use for. */
const S = { ...Status, PERM: 1, EXIST: 17, NOT_SYNC: 10002, NOTEMPTY: 66 } as const;
const Stable = { UNSTABLE: 0, DATA_SYNC: 1, FILE_SYNC: 2 } as const;

const gw = await TestGateway.start(t);
gw.addShare('share-00001234', 'rw', { bucket: BUCKET, prefix: 'p', squash: 'none', uploadSettleSeconds: 3600 });
gw.addShare('share-00005678', 'squashed', { bucket: BUCKET, prefix: 'sq', squash: 'root', uploadSettleSeconds: 3600 });
const bucket = gw.bucket(BUCKET);
const ORIGINAL = randomBytes(3 * MiB);
await bucket.put('p/existing.bin', ORIGINAL, { metadata: { 'file-permissions': '0100644', 'file-owner': '1000', 'file-group': '100' } });
await bucket.put('p/owned/', Buffer.alloc(0), { metadata: { 'file-permissions': '040755', 'file-owner': '1000', 'file-group': '100' } });
const root = await gw.mount('/rw');
const sync = () => gw.registry.sync('rw');
const body = async (key: string) => (await bucket.get(key)).body;

interface SetAttr { mode?: number; uid?: number; gid?: number; size?: bigint; mtime?: 'server' | [number, number] }
function sattr(w: XdrWriter, a: SetAttr = {}): XdrWriter {
  w.bool(a.mode !== undefined);
  if (a.mode !== undefined) w.uint32(a.mode);
  w.bool(a.uid !== undefined);
  if (a.uid !== undefined) w.uint32(a.uid);
  w.bool(a.gid !== undefined);
  if (a.gid !== undefined) w.uint32(a.gid);
  w.bool(a.size !== undefined);
  if (a.size !== undefined) w.uint64(a.size);
  w.uint32(0);
  if (a.mtime === 'server') w.uint32(1);
  else if (a.mtime) w.uint32(2).uint32(a.mtime[0]).uint32(a.mtime[1]);
  else w.uint32(0);
  return w;
}

function done(t: Test, r: XdrReader): void {
  t.equal(r.remaining, 0, 'nothing after the body');
}

/** CREATE3resok / MKDIR3resok: the handle, its attributes, then the directory's wcc_data. */
function created(r: XdrReader): { fh: Buffer; attrs: Fattr3 | undefined; dir: ReturnType<typeof wccData> } {
  if (!r.bool()) throw new Error('no handle');
  return { fh: Buffer.from(r.opaque(64)), attrs: postOpAttr(r), dir: wccData(r) };
}

const create = (dir: Buffer, name: string, how: { mode: 0 | 1; attrs?: SetAttr } | { mode: 2; verifier: Buffer }, cred: Auth = ROOT) =>
  gw.nfs(Proc.CREATE, xdr((w) => {
    w.opaque(dir).string(name).uint32(how.mode);
    if (how.mode === 2) w.fixedOpaque(how.verifier);
    else sattr(w, how.attrs);
  }), cred);
const write = (fh: Buffer, offset: number, data: Buffer, stable: number = Stable.UNSTABLE, cred: Auth = ROOT) =>
  gw.nfs(Proc.WRITE, xdr((w) => w.opaque(fh).uint64(BigInt(offset)).uint32(data.length).uint32(stable).opaque(data)), cred);
const read = async (fh: Buffer, offset = 0, count = 4 * MiB): Promise<Buffer> => {
  const { status, r } = await gw.nfs(Proc.READ, xdr((w) => w.opaque(fh).uint64(BigInt(offset)).uint32(count)));
  if (status !== Status.OK) throw new Error(`READ: ${status}`);
  postOpAttr(r);
  r.uint32();
  r.bool();
  return Buffer.from(r.opaque(4 * MiB));
};
const setattr = (fh: Buffer, a: SetAttr, guard?: [number, number], cred: Auth = ROOT) =>
  gw.nfs(Proc.SETATTR, xdr((w) => {
    sattr(w.opaque(fh), a).bool(guard !== undefined);
    if (guard) w.uint32(guard[0]).uint32(guard[1]);
  }), cred);
const mkdir = (dir: Buffer, name: string, a: SetAttr = {}, cred: Auth = ROOT) => gw.nfs(Proc.MKDIR, xdr((w) => sattr(w.opaque(dir).string(name), a)), cred);
const remove = (dir: Buffer, name: string, proc: number = Proc.REMOVE) => gw.nfs(proc, xdr((w) => w.opaque(dir).string(name)));
const rename = (from: Buffer, fromName: string, to: Buffer, toName: string) => gw.nfs(Proc.RENAME, xdr((w) => w.opaque(from).string(fromName).opaque(to).string(toName)));
const commit = (fh: Buffer) => gw.nfs(Proc.COMMIT, xdr((w) => w.opaque(fh).uint64(0n).uint32(0)));

t.test('CREATE: guarded refuses an existing name, unchecked opens it, exclusive succeeds again only with its verifier', async (t) => {
  const first = await create(root, 'new.txt', { mode: 1, attrs: { mode: 0o640 } }, sys(1000, 100));
  t.equal(first.status, S.OK);
  const made = created(first.r);
  done(t, first.r);
  t.match(made.attrs, { type: 1, mode: 0o640, uid: 1000, gid: 100, size: 0n }, 'a regular file of the caller, with the mode asked for');
  t.ok(made.dir.before && made.dir.after, 'the directory\'s wcc_data has both sides');
  t.notSame(made.dir.after?.mtime, made.dir.before?.mtime, 'the directory\'s mtime moved on: clients drop their cached listing of it');
  t.equal((await create(root, 'new.txt', { mode: 1 })).status, S.EXIST, 'GUARDED: EXIST');
  const unchecked = await create(root, 'new.txt', { mode: 0 });
  t.equal(unchecked.status, S.OK);
  t.same(created(unchecked.r).fh, made.fh, 'UNCHECKED: the same file');

  const verifier = randomBytes(8);
  const exclusive = await create(root, 'once.txt', { mode: 2, verifier });
  t.equal(exclusive.status, S.OK);
  const again = await create(root, 'once.txt', { mode: 2, verifier });
  t.equal(again.status, S.OK, 'a retransmitted exclusive create succeeds');
  t.same(created(again.r).fh, created(exclusive.r).fh, 'with the same file');
  t.equal((await create(root, 'once.txt', { mode: 2, verifier: randomBytes(8) })).status, S.EXIST, 'another verifier: EXIST');

  t.equal((await create(root, '.', { mode: 1 })).status, S.EXIST);
  t.equal((await create(root, 'x'.repeat(256), { mode: 1 })).status, S.NAMETOOLONG);
  const file = await gw.lookup(root, 'new.txt');
  t.equal((await create(file, 'inside', { mode: 1 })).status, S.NOTDIR, 'CREATE in a file: NOTDIR');
  t.equal((await create(await gw.lookup(root, 'owned'), 'mine', { mode: 1 }, sys(5, 5))).status, S.ACCES, 'no write permission on the directory: ACCES');
});

t.test('WRITE unstable then COMMIT, with a hole; READ gives the bytes back; the verifier stays within a run', async (t) => {
  const fh = created((await create(root, 'w.bin', { mode: 1, attrs: { mode: 0o644 } })).r).fh;
  const first = await write(fh, 0, Buffer.from('hello'));
  t.equal(first.status, S.OK);
  const wcc = wccData(first.r);
  t.match(wcc, { before: { size: 0n }, after: { size: 5n } }, 'wcc_data before and after');
  t.equal(first.r.uint32(), 5, 'count');
  t.equal(first.r.uint32(), Stable.UNSTABLE, 'committed: UNSTABLE');
  const verifier = Buffer.from(first.r.fixedOpaque(8));
  done(t, first.r);
  const second = await write(fh, 10, Buffer.from('world'), Stable.DATA_SYNC);
  wccData(second.r);
  second.r.uint32();
  t.equal(second.r.uint32(), Stable.FILE_SYNC, 'a DATA_SYNC write is answered FILE_SYNC: it is on disk');
  t.same(Buffer.from(second.r.fixedOpaque(8)), verifier, 'the same verifier');
  t.same(await read(fh), Buffer.from('hello\0\0\0\0\0world'), 'the hole reads as zeros');
  const committed = await commit(fh);
  t.equal(committed.status, S.OK);
  t.match(wccData(committed.r), { after: { size: 15n } });
  t.same(Buffer.from(committed.r.fixedOpaque(8)), verifier, 'COMMIT gives the verifier of the writes');
  done(t, committed.r);
  t.equal((await write(root, 0, Buffer.from('x'))).status, S.ISDIR);
  t.equal((await write(fh, 0, Buffer.from('x'), Stable.UNSTABLE, sys(5, 5))).status, S.ACCES, 'another user may not write a 0644 file of root');
});

t.test('SETATTR: truncate and extend, mode, times, the guard; owner rules', async (t) => {
  const fh = created((await create(root, 's.bin', { mode: 1, attrs: { mode: 0o644 } }, sys(1000, 100))).r).fh;
  await write(fh, 0, Buffer.from('0123456789'), Stable.UNSTABLE, sys(1000, 100));
  t.equal((await setattr(fh, { size: 3n }, undefined, sys(1000, 100))).status, S.OK);
  t.same(await read(fh), Buffer.from('012'));
  t.equal((await setattr(fh, { size: 6n }, undefined, sys(1000, 100))).status, S.OK);
  t.same(await read(fh), Buffer.from('012\0\0\0'), 'an extension reads as zeros');
  const changed = await setattr(fh, { mode: 0o600, mtime: [1_600_000_000, 5] }, undefined, sys(1000, 100));
  t.equal(changed.status, S.OK);
  const wcc = wccData(changed.r);
  t.match(wcc.after, { mode: 0o600, mtime: [1_600_000_000, 5], size: 6n });
  done(t, changed.r);
  t.equal((await setattr(fh, { mode: 0o666 }, [1, 2], sys(1000, 100))).status, S.NOT_SYNC, 'a guard that does not match: NOT_SYNC');
  t.equal((await setattr(fh, { mode: 0o666 }, [1_600_000_000, 5], sys(1000, 100))).status, S.OK, 'one that does: OK');
  t.equal((await setattr(fh, { mode: 0o777 }, undefined, sys(5, 5))).status, S.PERM, 'only the owner changes the mode');
  t.equal((await setattr(fh, { uid: 5 }, undefined, sys(1000, 100))).status, S.PERM, 'only root gives a file away');
  t.equal((await setattr(fh, { uid: 5 })).status, S.OK, 'root does');
  t.equal((await setattr(root, { size: 0n })).status, S.INVAL, 'a directory has no size to set');
  t.match((await gw.getattr(fh)), { uid: 5, mode: 0o666, size: 6n });
});

t.test('a file of the bucket overwritten in part: the upload keeps the bytes not written over', async (t) => {
  const fh = await gw.lookup(root, 'existing.bin');
  const patch = Buffer.from('PATCHED!');
  t.equal((await write(fh, MiB + 5, patch)).status, S.OK);
  t.equal((await write(fh, ORIGINAL.length + 2, Buffer.from('tail'))).status, S.OK);
  const expected = Buffer.concat([ORIGINAL, Buffer.alloc(6)]);
  patch.copy(expected, MiB + 5);
  Buffer.from('tail').copy(expected, ORIGINAL.length + 2);
  t.same(await read(fh, MiB, 16), expected.subarray(MiB, MiB + 16), 'read across the written and the unwritten bytes');
  await sync();
  t.same(await body('p/existing.bin'), expected, 'the object: the old bytes, the patch and the extension');
  t.match((await bucket.head('p/existing.bin'))?.metadata, { 'file-owner': '1000', 'file-permissions': '0100644' }, 'its attributes kept');
});

t.test('a large object changed in one place: the parts not written are copied in the bucket, not fetched', async (t) => {
  const large = randomBytes(20 * MiB + 3);
  await bucket.put('p/large.bin', large);
  await gw.registry.refresh('rw');
  const fh = await gw.lookup(root, 'large.bin');
  t.equal((await write(fh, 9 * MiB, Buffer.from('changed'))).status, S.OK);
  Buffer.from('changed').copy(large, 9 * MiB);
  await sync();
  t.same(await body('p/large.bin'), large, 'the object is whole, with the change');
  const ino = decodeHandle(fh)!.ino;
  const held = await stat(path.join(gw.stateDir, 'file-cache', 'share-00001234', String(ino)));
  t.ok(held.blocks * 512 <= 8 * MiB + 64 * 1024, `the cache file holds one 8 MiB part of 20 MiB on disk (${held.blocks * 512} bytes)`);
});

t.test('MKDIR, a tree, RMDIR of a non-empty directory, RENAME of a directory and a file, REMOVE', async (t) => {
  const made = await mkdir(root, 'tree', { mode: 0o750 });
  t.equal(made.status, S.OK);
  const tree = created(made.r).fh;
  t.equal((await mkdir(root, 'tree')).status, S.EXIST);
  t.match(await bucket.head('p/tree/'), { metadata: { 'file-permissions': '040750' } }, 'a marker object with the directory\'s attributes, at once');
  const leaf = created((await create(tree, 'leaf.txt', { mode: 1 })).r).fh;
  await write(leaf, 0, Buffer.from('leaf data'), Stable.FILE_SYNC);
  await sync();
  t.same((await body('p/tree/leaf.txt')).toString(), 'leaf data');
  const unsent = created((await create(tree, 'unsent.txt', { mode: 1 })).r).fh;
  await write(unsent, 0, Buffer.from('not uploaded yet'));
  t.equal((await remove(root, 'tree', Proc.RMDIR)).status, S.NOTEMPTY);
  t.equal((await remove(root, 'tree')).status, S.ISDIR, 'REMOVE of a directory: ISDIR');

  const renamed = await rename(root, 'tree', root, 'moved');
  t.equal(renamed.status, S.OK);
  wccData(renamed.r);
  wccData(renamed.r);
  done(t, renamed.r);
  t.same(await read(leaf), Buffer.from('leaf data'), 'a handle taken before the rename still reads');
  t.same(await read(unsent), Buffer.from('not uploaded yet'));
  t.equal((await gw.nfs(Proc.LOOKUP, xdr((w) => w.opaque(root).string('tree')))).status, S.NOENT, 'the old name is gone');
  await sync();
  t.same((await bucket.list({ prefix: 'p/' })).objects.map((o) => o.key).filter((k) => /tree|moved/.test(k)), ['p/moved/', 'p/moved/leaf.txt', 'p/moved/unsent.txt'], 'the objects moved; the file written meanwhile uploaded to its new path');

  const other = created((await create(root, 'other.txt', { mode: 1 })).r).fh;
  await write(other, 0, Buffer.from('other'), Stable.FILE_SYNC);
  await sync();
  t.equal((await rename(await gw.lookup(root, 'moved'), 'leaf.txt', root, 'other.txt')).status, S.OK, 'a rename over a file replaces it');
  t.equal((await gw.nfs(Proc.GETATTR, xdr((w) => w.opaque(other)))).status, S.STALE, 'the replaced file\'s handle is stale');
  t.same(await read(leaf), Buffer.from('leaf data'));
  t.equal((await rename(root, 'moved', await gw.lookup(root, 'moved'), 'inner')).status, S.INVAL, 'a directory cannot move into itself');

  t.equal((await remove(await gw.lookup(root, 'moved'), 'unsent.txt')).status, S.OK);
  t.equal((await remove(root, 'moved', Proc.RMDIR)).status, S.OK, 'RMDIR once empty');
  t.equal((await remove(root, 'other.txt')).status, S.OK);
  await sync();
  t.same((await bucket.list({ prefix: 'p/' })).objects.map((o) => o.key).filter((k) => /tree|moved|other/.test(k)), [], 'nothing left in the bucket');
});

t.test('root squash: root\'s new files belong to nobody', async (t) => {
  const sq = await gw.mount('/squashed');
  const made = created((await create(sq, 'by-root', { mode: 1 })).r);
  t.match(made.attrs, { uid: NOBODY, gid: NOBODY });
  t.match(fattr3((await gw.nfs(Proc.GETATTR, xdr((w) => w.opaque(made.fh)))).r), { uid: NOBODY, gid: NOBODY });
});

t.test('no procedure failed in a way the RPC layer logs', async (t) => {
  t.same(gw.warnings, []);
});
