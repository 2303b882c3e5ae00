/**
 * MOUNT v3 (RFC 1813 §5) against the real program over a catalog, a share registry and a local bucket: MNT of
 * exports and the directories below them, its refusals, EXPORT, and DUMP as MNT and UMNT change it.
 */
import t from 'tap';
import { checkedSettings } from '../../../../src/storage/files/share-settings.js';
import type { Auth } from '../rpc/test-rpc-client.js';
import { MOUNT, ROOT, TestGateway, xdr } from './nfs-gateway.js';

t.setTimeout(30_000);

const Mount = { MNT: 1, DUMP: 2, UMNT: 3, UMNTALL: 4, EXPORT: 5 } as const;
/** mountstat3 */
const MountStatus = { OK: 0, NOENT: 2, ACCES: 13, NOTDIR: 20 } as const;
const AUTH_SYS = 1;
const BUCKET = 'team-files';

const gw = await TestGateway.start(t);
const team = gw.addShare('share-0000abcd', 'team', { bucket: BUCKET, prefix: 'projects', clientList: ['0.0.0.0/0'] });
gw.addShare('share-00001ab0', 'lab', { bucket: BUCKET, prefix: 'projects', clientList: ['127.0.0.1', '10.0.0.0/8'] });
gw.addShare('share-0000fe11', 'fenced', { bucket: BUCKET, prefix: 'projects', clientList: ['10.0.0.0/8', '192.168.1.7'] });
const bucket = gw.bucket(BUCKET);
await bucket.put('projects/report.txt', Buffer.from('quarterly numbers\n'));
await bucket.put('projects/sub/dir/deep.txt', Buffer.from('deep'));

/** mountres3: the status, and on MNT3_OK the handle and the auth flavours, with nothing after. */
async function mnt(dirpath: string, cred: Auth = ROOT): Promise<{ status: number; fh?: Buffer; flavors?: number[]; rest: number }> {
  const r = await gw.call(MOUNT, Mount.MNT, xdr((w) => w.string(dirpath)), cred);
  const status = r.uint32();
  if (status !== MountStatus.OK) return { status, rest: r.remaining };
  const fh = Buffer.from(r.opaque(64));
  const flavors = r.array(16, (a) => a.uint32());
  return { status, fh, flavors, rest: r.remaining };
}

/** mountlist: hostname and directory per entry, as a bool-linked list; sorted, as the RFC gives it no order. */
async function dump(): Promise<Array<[string, string]>> {
  const r = await gw.call(MOUNT, Mount.DUMP, Buffer.alloc(0));
  const entries: Array<[string, string]> = [];
  while (r.bool()) entries.push([r.string(255), r.string(1024)]);
  if (r.remaining !== 0) throw new Error(`${r.remaining} bytes after the mount list`);
  return entries.sort(([, a], [, b]) => (a < b ? -1 : a > b ? 1 : 0));
}

t.test('DUMP lists the mounts MNT made, until UMNT and UMNTALL forget them', async (t) => {
  t.same(await dump(), [], 'none yet');
  await mnt('/team');
  await mnt('/team/sub/dir');
  await mnt('/team');
  await mnt('/fenced');
  await mnt('/nope');
  t.same(await dump(), [['127.0.0.1', '/team'], ['127.0.0.1', '/team/sub/dir']], 'each path once; refused mounts are not listed');

  const umnt = await gw.call(MOUNT, Mount.UMNT, xdr((w) => w.string('/team')));
  t.equal(umnt.remaining, 0, 'UMNT returns void');
  t.same(await dump(), [['127.0.0.1', '/team/sub/dir']]);
  const umntall = await gw.call(MOUNT, Mount.UMNTALL, Buffer.alloc(0));
  t.equal(umntall.remaining, 0, 'UMNTALL returns void');
  t.same(await dump(), []);
});

t.test('MNT of an export gives its root handle and AUTH_SYS', async (t) => {
  const mounted = await mnt('/team');
  t.same([mounted.status, mounted.flavors, mounted.rest], [MountStatus.OK, [AUTH_SYS], 0]);
  t.equal(mounted.fh?.length, 13);
  t.match(await gw.getattr(mounted.fh!), { type: 2, fileid: 1n, fsid: 0xabcdn }, 'the share root');
  for (const path of ['/team/', '//team//']) t.same((await mnt(path)).fh, mounted.fh, `${path} is the same export`);
  t.same((await mnt('/team', { flavor: 0 })).fh, mounted.fh, 'AUTH_NONE may mount');
  t.same((await mnt('/lab')).status, MountStatus.OK, '127.0.0.1 is on its list by address');
});

t.test('MNT of a directory below an export gives that directory', async (t) => {
  const root = (await mnt('/team')).fh!;
  const sub = await gw.lookup(root, 'sub');
  const dir = await gw.lookup(sub, 'dir');
  const mounted = await mnt('/team/sub/dir');
  t.same([mounted.status, mounted.flavors, mounted.rest], [MountStatus.OK, [AUTH_SYS], 0]);
  t.same(mounted.fh, dir, 'the handle LOOKUP gives');
  t.same((await mnt('/team/sub/dir/')).fh, dir);
  t.match(await gw.getattr(mounted.fh!), { type: 2 });
});

t.test('MNT refuses a file, a missing path, an unknown export and a client not on the list, with no body', async (t) => {
  const cases: Array<[string, number]> = [
    ['/team/report.txt', MountStatus.NOTDIR],
    ['/team/report.txt/below', MountStatus.NOTDIR],
    ['/team/missing', MountStatus.NOENT],
    ['/team/sub/missing/deeper', MountStatus.NOENT],
    ['/nope', MountStatus.NOENT],
    ['/', MountStatus.NOENT],
    ['/share-0000abcd', MountStatus.NOENT],
    ['/fenced', MountStatus.ACCES],
    ['/fenced/sub', MountStatus.ACCES],
  ];
  for (const [path, status] of cases) t.same(await mnt(path), { status, rest: 0 }, path);

  gw.catalog.setShareSettings(team.shareId, checkedSettings({ ...team.settings, clientList: ['10.0.0.0/8'] }));
  t.same(await mnt('/team'), { status: MountStatus.ACCES, rest: 0 }, 'a changed client list counts at the next MNT');
  gw.catalog.setShareSettings(team.shareId, team.settings);
  t.equal((await mnt('/team')).status, MountStatus.OK);
});

t.test('EXPORT lists every share as /name with its client list', async (t) => {
  const r = await gw.call(MOUNT, Mount.EXPORT, Buffer.alloc(0));
  const exports: Array<[string, string[]]> = [];
  while (r.bool()) {
    const dir = r.string(1024);
    const groups: string[] = [];
    while (r.bool()) groups.push(r.string(255));
    exports.push([dir, groups]);
  }
  t.equal(r.remaining, 0);
  t.same(exports, [
    ['/fenced', ['10.0.0.0/8', '192.168.1.7']],
    ['/lab', ['127.0.0.1', '10.0.0.0/8']],
    ['/team', ['0.0.0.0/0']],
  ]);
});

t.test('MNT of a share deleted since is NOENT', async (t) => {
  gw.addShare('share-0000dead', 'gone', { bucket: BUCKET, prefix: 'projects' });
  t.equal((await mnt('/gone')).status, MountStatus.OK);
  gw.catalog.deleteShare('share-0000dead');
  t.same(await mnt('/gone'), { status: MountStatus.NOENT, rest: 0 });
});

t.test('MOUNT answers NULL, and other versions with the one it has', async (t) => {
  const nil = await gw.client.call({ ...MOUNT, procedure: 0 });
  t.same(nil.stat === 'SUCCESS' ? nil.results.remaining : nil.stat, 0);
  for (const version of [1, 2]) t.match(await gw.client.call({ ...MOUNT, version, procedure: Mount.MNT }), { stat: 'PROG_MISMATCH', low: 3, high: 3 });
  t.match(await gw.client.call({ ...MOUNT, procedure: Mount.MNT, args: xdr((w) => w.string(`/${'a'.repeat(1025)}`)) }), { stat: 'GARBAGE_ARGS' }, 'a dirpath over 1024 bytes');
  t.same(gw.warnings, [], 'no procedure failed in a way the RPC layer logs');
});
