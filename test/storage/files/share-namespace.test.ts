import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { LocalObjectStore } from '../../../src/storage/backends/local-store.js';
import { Catalog } from '../../../src/storage/catalog/catalog.js';
import { ROOT_INO } from '../../../src/storage/files/file-attributes.js';
import { emptyIoCounters } from '../../../src/storage/io-counters.js';
import { ShareNamespace } from '../../../src/storage/files/share-namespace.js';
import { checkedSettings, DEFAULT_SETTINGS } from '../../../src/storage/files/share-settings.js';

const CREATED = new Date('2026-01-02T03:04:05Z');

async function setup(t: { teardown(fn: () => unknown): void }, cacheStaleTimeoutSeconds = 0) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sgw-namespace-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const settings = checkedSettings({ ...DEFAULT_SETTINGS, bucket: 'gw-files', prefix: 'team/', ownerId: 1000, groupId: 100, fileMode: '0640', cacheStaleTimeoutSeconds });
  const catalog = Catalog.open(path.join(dir, 'catalog.db'));
  t.teardown(() => catalog.close());
  catalog.addShare({ shareId: 'share-0000abcd', name: 'team', location: 'gw-files/team/', status: 'AVAILABLE', createdAt: CREATED.toISOString(), settings });
  // A plain S3 client's view of the bucket: the share sees the keys under its prefix only.
  const bucket = new LocalObjectStore({ dir: path.join(dir, 'bucket') });
  const store = new LocalObjectStore({ dir: path.join(dir, 'bucket'), prefix: 'team/' });
  const io = emptyIoCounters();
  const open = async () => {
    const ns = await ShareNamespace.open({
      shareId: 'share-0000abcd', settings: () => settings, store, catalog, createdAt: CREATED, cacheDir: path.join(dir, 'cache'), cacheBytes: 2 ** 30, io, log: pino({ level: 'silent' }),
    });
    t.teardown(() => ns.close());
    return ns;
  };
  return { bucket, catalog, open, io };
}

t.test('a bucket filled by plain S3 clients lists with the right kinds, modes, owners, sizes and times', async (t) => {
  const { bucket, open, io } = await setup(t);
  await bucket.put('team/sgw.txt', Buffer.from('written by sgw'), { metadata: { 'file-permissions': '0100600', 'file-owner': '42', 'file-group': '43', 'file-mtime': '1700000000123456789ns' } });
  await bucket.put('team/s3fs.bin', Buffer.alloc(3000, 1), { metadata: { mode: String(0o100755), uid: '7', gid: '8', mtime: '1600000000' } });
  await bucket.put('team/rclone.dat', Buffer.from('x'), { metadata: { mtime: '1650000000.5' } });
  await bucket.put('team/plain', Buffer.from('no metadata'));
  await bucket.put('team/deep/er/file.txt', Buffer.from('nested without markers'));
  await bucket.put('team/marked/', Buffer.alloc(0), { metadata: { 'file-permissions': '040700', 'file-owner': '5' } });
  await bucket.put('team/odd//name', Buffer.from('empty segment'));
  await bucket.put('other/outside.txt', Buffer.from('not in the share'));

  const ns = await open();
  const root = await ns.readdir(ROOT_INO);
  t.same(root.map((e) => [e.name, e.attrs.kind]), [['deep', 'dir'], ['marked', 'dir'], ['odd', 'dir'], ['plain', 'file'], ['rclone.dat', 'file'], ['s3fs.bin', 'file'], ['sgw.txt', 'file']]);
  const byName = Object.fromEntries(root.map((e) => [e.name, e.attrs]));
  t.match(byName['sgw.txt'], { mode: 0o600, uid: 42, gid: 43, size: 14, mtimeNs: 1700000000123456789n });
  t.match(byName['s3fs.bin'], { mode: 0o755, uid: 7, gid: 8, size: 3000, mtimeNs: 1600000000n * 1_000_000_000n });
  t.match(byName['rclone.dat'], { mode: 0o640, uid: 1000, mtimeNs: 1650000000500000000n }, "rclone's fractional seconds");
  t.match(byName.plain, { mode: 0o640, uid: 1000, gid: 100, size: 11 }, 'share defaults');
  t.match(byName.marked, { kind: 'dir', mode: 0o700, uid: 5, gid: 100 }, 'a marker carries directory metadata');
  t.match(byName.deep, { kind: 'dir', mode: 0o777, uid: 1000, mtimeNs: BigInt(CREATED.getTime()) * 1_000_000n }, 'an implied directory');
  t.same((await ns.readdir((await ns.lookup(ROOT_INO, 'odd')).ino)).map((e) => e.name), [], 'a key with an empty segment has no place in the tree');

  const deep = await ns.lookup(ROOT_INO, 'deep');
  const er = await ns.lookup(deep.ino, 'er');
  const file = await ns.lookup(er.ino, 'file.txt');
  t.equal((await ns.read(file.ino, 0, 100)).data.toString(), 'nested without markers');
  t.same(await ns.read(file.ino, 7, 7), { data: Buffer.from('without'), eof: false });
  t.same(await ns.read(file.ino, 15, 100), { data: Buffer.from('markers'), eof: true });
  t.same(await ns.read(file.ino, 500, 10), { data: Buffer.alloc(0), eof: true });
  t.match(io, { reads: 4, readBytes: 22 + 7 + 7, writes: 0, writeBytes: 0 }, 'reads are counted with the bytes they returned');
  await t.rejects(ns.read(deep.ino, 0, 1), { code: 'SGW_IS_A_DIRECTORY' });
  t.equal(io.reads, 4, 'a failed read is not counted');
  await t.rejects(ns.readdir(file.ino), { code: 'SGW_NOT_A_DIRECTORY' });
  await t.rejects(ns.lookup(ROOT_INO, 'outside.txt'), { code: 'SGW_NOT_FOUND' });
});

t.test('inode numbers are given once and kept by a new namespace over the same catalog, as after a restart', async (t) => {
  const { bucket, open } = await setup(t);
  await bucket.put('team/a/b/c.txt', Buffer.from('c'));
  await bucket.put('team/z.txt', Buffer.from('z'));
  const first = await open();
  const a = await first.lookup(ROOT_INO, 'a');
  const b = await first.lookup(a.ino, 'b');
  const c = await first.lookup(b.ino, 'c.txt');
  const z = await first.lookup(ROOT_INO, 'z.txt');
  t.equal(new Set([ROOT_INO, a.ino, b.ino, c.ino, z.ino]).size, 5, 'distinct');
  const second = await open();
  t.same((await second.readdir(ROOT_INO)).map((e) => [e.name, e.ino]), [['a', a.ino], ['z.txt', z.ino]]);
  t.equal((await second.getattr(c.ino)).size, 1, 'a handle taken before the restart still works');
  await bucket.delete('team/z.txt');
  await second.refresh();
  await t.rejects(second.getattr(z.ino), { code: 'SGW_NOT_FOUND' }, 'gone from the bucket');
  await t.rejects(second.getattr(9999), { code: 'SGW_NOT_FOUND' }, 'never given');
  await bucket.put('team/z.txt', Buffer.from('back'));
  await second.refresh();
  t.equal((await second.lookup(ROOT_INO, 'z.txt')).ino, z.ino, 'a name that comes back keeps its inode');
});

t.test('outside changes show after the stale timeout, or at once after a refresh', async (t) => {
  const { bucket, open } = await setup(t, 300);
  await bucket.put('team/one.txt', Buffer.from('1'));
  const ns = await open();
  t.same((await ns.readdir(ROOT_INO)).map((e) => e.name), ['one.txt']);
  await bucket.put('team/two.txt', Buffer.from('2'));
  t.same((await ns.readdir(ROOT_INO)).map((e) => e.name), ['one.txt'], 'the listing is trusted for 300 s');
  const realNow = Date.now;
  Date.now = () => realNow() + 301_000;
  t.teardown(() => { Date.now = realNow; });
  t.same((await ns.readdir(ROOT_INO)).map((e) => e.name), ['one.txt', 'two.txt'], 'and listed again after');
  Date.now = realNow;
  await bucket.put('team/three.txt', Buffer.from('3'));
  await ns.refresh();
  t.same((await ns.readdir(ROOT_INO)).map((e) => e.name), ['one.txt', 'three.txt', 'two.txt']);
});

t.test('a rename a crash interrupted is finished when the share opens again', async (t) => {
  const { bucket, catalog, open } = await setup(t);
  await bucket.put('team/old/', Buffer.alloc(0), { metadata: { 'file-permissions': '040700' } });
  await bucket.put('team/old/a.txt', Buffer.from('a'));
  await bucket.put('team/old/sub/b.txt', Buffer.from('b'));
  await bucket.put('team/file.txt', Buffer.from('f'));
  const first = await open();
  const old = await first.lookup(ROOT_INO, 'old');
  const file = await first.lookup(ROOT_INO, 'file.txt');
  // As if sgwd died mid-way: journaled, one object already copied.
  catalog.beginShareRename('share-0000abcd', { ino: old.ino, fromPath: 'old', toParent: ROOT_INO, toName: 'new' });
  catalog.beginShareRename('share-0000abcd', { ino: file.ino, fromPath: 'file.txt', toParent: ROOT_INO, toName: 'renamed.txt' });
  await bucket.copy('team/old/a.txt', 'team/new/a.txt');
  const second = await open();
  t.same((await bucket.list({ prefix: 'team/' })).objects.map((o) => o.key), ['team/new/', 'team/new/a.txt', 'team/new/sub/b.txt', 'team/renamed.txt']);
  t.same((await second.readdir(ROOT_INO)).map((e) => [e.name, e.ino]), [['new', old.ino], ['renamed.txt', file.ino]], 'the inodes kept their numbers');
  t.equal((await second.getattr(old.ino)).mode, 0o700, 'the marker moved with its metadata');
  t.same(catalog.shareRenames('share-0000abcd'), [], 'the journal is empty');
});
