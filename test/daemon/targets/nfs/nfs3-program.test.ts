/**
 * NFSv3 (RFC 1813) against the real program over a catalog, a share registry and local buckets: every reply is
 * decoded to its last byte, so a field out of place or a body of the wrong shape fails the test.
 */
import { randomBytes } from 'node:crypto';
import t, { type Test } from 'tap';
import { encodeHandle } from '../../../../src/daemon/targets/nfs/file-handle.js';
import type { XdrReader, XdrWriter } from '../../../../src/daemon/targets/rpc/xdr.js';
import { checkedSettings } from '../../../../src/storage/files/share-settings.js';
import type { Auth } from '../rpc/test-rpc-client.js';
import {
  Access, ALL_ACCESS, CREATED_TIME, NFS, NOBODY, Proc, ROOT, Status, TestGateway, dirList, entryBytes, fattr3, postOpAttr, sys,
  wccData, xdr, type DirList, type Fattr3,
} from './nfs-gateway.js';

t.setTimeout(60_000);

const MiB = 1024 * 1024;
const BUCKET = 'team-files';
/** fsid3 is the share ID's 32 bits. */
const FSID = 0xabcdn;
const TEAM = { bucket: BUCKET, prefix: 'projects', ownerId: 2000, groupId: 3000, fileMode: '0640', dirMode: '0755' } as const;

const gw = await TestGateway.start(t);
gw.addShare('share-0000abcd', 'team', { ...TEAM, squash: 'root' });
gw.addShare('share-0000beef', 'team-none', { ...TEAM, squash: 'none' });
gw.addShare('share-0000cafe', 'team-all', { ...TEAM, squash: 'all' });
gw.addShare('share-0000f00d', 'team-ro', { ...TEAM, squash: 'none', readOnly: true });

const bucket = gw.bucket(BUCKET);
const put = (key: string, body: string | Buffer, metadata?: Record<string, string>) => bucket.put(`projects/${key}`, Buffer.from(body), metadata ? { metadata } : {});
/** Attributes as AWS's gateway writes them, owned by 1000:100. */
const owned = (mode: number, extra: Record<string, string> = {}) => ({ 'file-permissions': `0${mode.toString(8)}`, 'file-owner': '1000', 'file-group': '100', ...extra });

const REPORT = 'quarterly numbers\n';
const BIG = randomBytes(1.5 * MiB);
// Names of every length modulo 4, so that XDR padding is exercised; each file's size is its place in the list.
const MANY = Array.from({ length: 300 }, (_, i) => `${String(i).padStart(3, '0')}${'-x'.repeat(i % 5)}${'y'.repeat(i % 4)}`).sort();
await Promise.all([
  put('report.txt', REPORT, owned(0o100644, { 'file-mtime': '1700000000123456789ns', 'file-atime': '1700000001000000002ns' })),
  put('secret.txt', 'for uid 1000 only', owned(0o100600)),
  put('tool.sh', '#!/bin/sh\n', owned(0o100741)),
  put('plain', 'no metadata'),
  put('private/', '', owned(0o40700)),
  put('private/inside.txt', 'inside'),
  put('tools/', '', owned(0o40734)),
  put('tools/hammer', 'h'),
  put('open/', '', owned(0o40777)),
  put('sub/dir/deep.txt', 'deep'),
  put('big.bin', BIG, owned(0o100644)),
]);
for (let i = 0; i < MANY.length; i += 50) await Promise.all(MANY.slice(i, i + 50).map((name, j) => put(`many/${name}`, 'x'.repeat(i + j))));

const root = await gw.mount('/team');
const rootAttrs: Fattr3 = {
  type: 2, mode: 0o755, nlink: 2, uid: 2000, gid: 3000, size: 4096n, used: 4096n, rdev: [0, 0], fsid: FSID, fileid: 1n,
  atime: CREATED_TIME, mtime: CREATED_TIME, ctime: CREATED_TIME,
};

const fhArgs = (fh: Buffer) => xdr((w) => w.opaque(fh));
const lookupArgs = (dir: Buffer, name: string) => xdr((w) => w.opaque(dir).string(name));
const readArgs = (fh: Buffer, offset: bigint, count: number) => xdr((w) => w.opaque(fh).uint64(offset).uint32(count));
const accessArgs = (fh: Buffer, wanted: number) => xdr((w) => w.opaque(fh).uint32(wanted));
const readdirArgs = (dir: Buffer, cookie: bigint, verifier: Buffer, count: number) => xdr((w) => w.opaque(dir).uint64(cookie).fixedOpaque(verifier).uint32(count));
const readdirplusArgs = (dir: Buffer, cookie: bigint, verifier: Buffer, dircount: number, maxcount: number) =>
  xdr((w) => w.opaque(dir).uint64(cookie).fixedOpaque(verifier).uint32(dircount).uint32(maxcount));
const NO_VERIFIER = Buffer.alloc(8);

function done(t: Test, r: XdrReader): void {
  t.equal(r.remaining, 0, 'nothing after the body');
}

/** LOOKUP3resok: the handle, then post_op_attr of the object and of the directory. */
async function lookupOk(t: Test, dir: Buffer, name: string, cred = ROOT): Promise<{ fh: Buffer; obj: Fattr3 | undefined; dir: Fattr3 | undefined }> {
  const { status, r } = await gw.nfs(Proc.LOOKUP, lookupArgs(dir, name), cred);
  t.equal(status, Status.OK, `LOOKUP ${name}`);
  const result = { fh: Buffer.from(r.opaque(64)), obj: postOpAttr(r), dir: postOpAttr(r) };
  done(t, r);
  return result;
}

/** READ3resok after an OK status. */
function readResult(r: XdrReader): { attrs: Fattr3 | undefined; count: number; eof: boolean; data: Buffer } {
  return { attrs: postOpAttr(r), count: r.uint32(), eof: r.bool(), data: Buffer.from(r.opaque(2 * MiB)) };
}

const report = await gw.lookup(root, 'report.txt');

t.test('GETATTR gives every fattr3 field of the root and of a file, with times from file-mtime and file-atime', async (t) => {
  const rootReply = await gw.nfs(Proc.GETATTR, fhArgs(root));
  t.equal(rootReply.status, Status.OK);
  t.equal(rootReply.bytes, 84, 'fattr3 is 84 bytes');
  t.same(fattr3(rootReply.r), rootAttrs, "the root: a directory with the share's defaults, dated when the share was made");

  const fileReply = await gw.nfs(Proc.GETATTR, fhArgs(report));
  t.equal(fileReply.status, Status.OK);
  t.equal(fileReply.bytes, 84);
  const attrs = fattr3(fileReply.r);
  t.same(attrs, {
    type: 1, mode: 0o644, nlink: 1, uid: 1000, gid: 100, size: 18n, used: 18n, rdev: [0, 0], fsid: FSID, fileid: attrs.fileid,
    atime: [1700000001, 2], mtime: [1700000000, 123456789], ctime: [1700000000, 123456789],
  });
  t.not(attrs.fileid, 1n, 'a fileid of its own');
  const listed = (await listAll(root, { count: 8192 })).flatMap((p) => p.page.entries).find((e) => e.name === 'report.txt');
  t.equal(listed?.fileid, attrs.fileid, 'the fileid READDIR gives');

  const plain = await gw.getattr(await gw.lookup(root, 'plain'));
  t.match(plain, { type: 1, mode: 0o640, uid: 2000, gid: 3000, size: 11n }, "an object without metadata gets the share's defaults");
  t.same([plain.atime, plain.ctime], [plain.mtime, plain.mtime], 'and its one time for all three');
});

t.test('GETATTR of a handle that is not ours is BADHANDLE, of a deleted share STALE', async (t) => {
  for (const garbage of [Buffer.alloc(0), Buffer.from('not a handle'), Buffer.concat([Buffer.from([9]), root.subarray(1)])]) {
    const { status, bytes } = await gw.nfs(Proc.GETATTR, fhArgs(garbage));
    t.same([status, bytes], [Status.BADHANDLE, 0], `${garbage.toString('hex') || 'empty'}: GETATTR3resfail has no body`);
  }

  const neverGiven = await gw.nfs(Proc.GETATTR, fhArgs(encodeHandle({ shareId: 'share-0000abcd', ino: 999_999 })));
  t.same([neverGiven.status, neverGiven.bytes], [Status.STALE, 0], 'a well-formed handle of an inode the share never gave');

  gw.addShare('share-0000dead', 'gone', TEAM);
  const goneRoot = await gw.mount('/gone');
  const goneFile = await gw.lookup(goneRoot, 'report.txt');
  gw.catalog.deleteShare('share-0000dead');
  for (const fh of [goneRoot, goneFile]) {
    const { status, bytes } = await gw.nfs(Proc.GETATTR, fhArgs(fh));
    t.same([status, bytes], [Status.STALE, 0]);
  }
  const lookup = await gw.nfs(Proc.LOOKUP, lookupArgs(goneRoot, 'report.txt'));
  t.equal(lookup.status, Status.STALE);
  t.equal(postOpAttr(lookup.r), undefined, 'no directory attributes');
  done(t, lookup.r);

  // Share names may look like IDs: a new share named after the deleted one's ID must not answer its handles.
  gw.addShare('share-00000bad', 'share-0000dead', TEAM);
  for (const fh of [goneRoot, goneFile]) t.equal((await gw.nfs(Proc.GETATTR, fhArgs(fh))).status, Status.STALE, 'still stale');
});

t.test('a file deleted from the bucket is STALE once the namespace no longer trusts its listing', async (t) => {
  await put('doomed.txt', 'doomed', owned(0o100644));
  await put('doomed-unread.txt', 'doomed too', owned(0o100644));
  await gw.registry.refresh('team');
  const doomed = await gw.lookup(root, 'doomed.txt');
  const unread = await gw.lookup(root, 'doomed-unread.txt');
  await bucket.delete('projects/doomed.txt');
  await bucket.delete('projects/doomed-unread.txt');

  t.match(await gw.getattr(doomed), { size: 6n }, 'the stale timeout is 0: attributes are trusted until a refresh');
  const read = await gw.nfs(Proc.READ, readArgs(unread, 0n, 100));
  t.same([read.status, postOpAttr(read.r)], [Status.STALE, undefined], 'a READ finds the object gone before any refresh');
  done(t, read.r);

  t.equal(await gw.registry.refresh('team'), true);
  for (const fh of [doomed, unread]) {
    const { status, bytes } = await gw.nfs(Proc.GETATTR, fhArgs(fh));
    t.same([status, bytes], [Status.STALE, 0]);
  }
  const again = await gw.nfs(Proc.READ, readArgs(doomed, 0n, 100));
  t.same([again.status, again.bytes], [Status.STALE, 4]);
  const lookup = await gw.nfs(Proc.LOOKUP, lookupArgs(root, 'doomed.txt'));
  t.equal(lookup.status, Status.NOENT, 'its name is gone too');
});

t.test('LOOKUP of a name, ".", "..", a missing or too long name, and in a file', async (t) => {
  const found = await lookupOk(t, root, 'report.txt');
  t.same(found.fh, report, 'the same handle every time');
  t.same(found.obj, await gw.getattr(report));
  t.same(found.dir, rootAttrs);

  const dot = await lookupOk(t, root, '.');
  t.same([dot.fh, dot.obj], [root, rootAttrs]);
  const dotdot = await lookupOk(t, root, '..');
  t.same([dotdot.fh, dotdot.obj], [root, rootAttrs], 'the root is its own parent');
  const sub = await gw.lookup(root, 'sub');
  const dir = await gw.lookup(sub, 'dir');
  const up = await lookupOk(t, dir, '..');
  t.same(up.fh, sub);
  t.same(up.obj, await gw.getattr(sub));
  t.same(up.dir, await gw.getattr(dir));
  t.match(await gw.getattr(await gw.lookup(dir, 'deep.txt')), { type: 1, size: 4n });

  const missing = await gw.nfs(Proc.LOOKUP, lookupArgs(root, 'missing.txt'));
  t.equal(missing.status, Status.NOENT);
  t.same(postOpAttr(missing.r), rootAttrs, 'LOOKUP3resfail carries the directory attributes');
  done(t, missing.r);

  t.equal((await gw.nfs(Proc.LOOKUP, lookupArgs(root, 'n'.repeat(255)))).status, Status.NOENT, '255 bytes is a name');
  for (const name of ['n'.repeat(256), 'é'.repeat(128)]) {
    const long = await gw.nfs(Proc.LOOKUP, lookupArgs(root, name));
    t.equal(long.status, Status.NAMETOOLONG, `${Buffer.byteLength(name)} bytes in ${name.length} characters`);
  }

  const inFile = await gw.nfs(Proc.LOOKUP, lookupArgs(report, 'x'));
  t.equal(inFile.status, Status.NOTDIR);
  t.same(postOpAttr(inFile.r), await gw.getattr(report));
  done(t, inFile.r);
});

interface Page {
  page: DirList;
  /** Bytes of the resok (the reply body after the status). */
  bytes: number;
}

/** Follows cookies and the verifier from cookie 0 to eof; at most 200 calls. */
async function listAll(dir: Buffer, limits: { count: number } | { dircount: number; maxcount: number }, cred = ROOT): Promise<Page[]> {
  const pages: Page[] = [];
  let cookie = 0n;
  let verifier: Buffer = NO_VERIFIER;
  while (pages.length < 200) {
    const args = 'count' in limits ? readdirArgs(dir, cookie, verifier, limits.count) : readdirplusArgs(dir, cookie, verifier, limits.dircount, limits.maxcount);
    const { status, r, bytes } = await gw.nfs('count' in limits ? Proc.READDIR : Proc.READDIRPLUS, args, cred);
    if (status !== Status.OK) throw new Error(`status ${status} after ${pages.length} pages`);
    const page = dirList(r, !('count' in limits));
    if (r.remaining !== 0) throw new Error(`${r.remaining} bytes after page ${pages.length}`);
    pages.push({ page, bytes });
    const last = page.entries.at(-1);
    if (page.eof || !last) break;
    cookie = last.cookie;
    verifier = page.verifier;
  }
  return pages;
}

const names = (pages: Page[]) => pages.flatMap((p) => p.page.entries.map((e) => e.name));
const eofs = (pages: Page[]) => pages.map((p) => p.page.eof);
const onlyLast = (pages: Page[]) => pages.map((_, i) => i === pages.length - 1);

t.test('READDIR pages through 300 entries by cookie, each page as full as count allows', async (t) => {
  const many = await gw.lookup(root, 'many');
  const manyAttrs = await gw.getattr(many);
  const count = 1024;
  const pages = await listAll(many, { count });
  t.same(names(pages), ['.', '..', ...MANY], 'every name once, in order, the dots first');
  t.ok(pages.length >= 10, `${pages.length} calls`);
  t.same(eofs(pages), onlyLast(pages), 'eof on the last page only');
  t.equal(new Set(pages.map((p) => p.page.verifier.toString('hex'))).size, 1, 'one verifier');
  t.same(pages.map((p) => p.page.dir), pages.map(() => manyAttrs), 'the directory attributes on every page');
  const entries = pages.flatMap((p) => p.page.entries);
  t.same(entries.slice(0, 2).map((e) => e.fileid), [manyAttrs.fileid, 1n], '"." is the directory, ".." the root');
  t.equal(new Set(entries.map((e) => e.cookie)).size, entries.length, 'distinct cookies');
  t.notOk(entries.some((e) => e.cookie === 0n), 'none is 0');
  // count bounds the resok; allowing 4 bytes for the status word, the next entry would not have fit.
  const fits = pages.map(({ bytes }, i) => {
    const next = pages[i + 1]?.page.entries[0];
    return bytes <= count && (next === undefined || bytes + entryBytes(next.name, false) + 4 > count);
  });
  t.same(fits, pages.map(() => true), 'within count and full');

  const first = await gw.nfs(Proc.READDIR, readdirArgs(many, 0n, Buffer.from('anything'), count));
  t.equal(first.status, Status.OK, 'the verifier means nothing with cookie 0');
});

t.test('READDIRPLUS pages with attributes and working handles, within dircount and maxcount', async (t) => {
  const many = await gw.lookup(root, 'many');
  const manyAttrs = await gw.getattr(many);
  for (const limits of [{ dircount: 8192, maxcount: 4096 }, { dircount: 512, maxcount: 32768 }]) {
    const pages = await listAll(many, limits);
    t.same(names(pages), ['.', '..', ...MANY], `${JSON.stringify(limits)}: every name once, in order`);
    t.ok(pages.length >= 10, `${pages.length} calls`);
    t.same(eofs(pages), onlyLast(pages));
    const fits = pages.map(({ page, bytes }, i) => {
      const next = pages[i + 1]?.page.entries[0];
      const dirBytes = page.entries.reduce((sum, e) => sum + entryBytes(e.name, false), 0);
      const full = next === undefined || bytes + entryBytes(next.name, { handleBytes: root.length }) + 4 > limits.maxcount || dirBytes + entryBytes(next.name, false) > limits.dircount;
      return bytes <= limits.maxcount && dirBytes <= limits.dircount && full;
    });
    t.same(fits, pages.map(() => true), 'within both limits and full');

    const entries = pages.flatMap((p) => p.page.entries);
    t.same(entries[0]?.attrs, manyAttrs);
    t.same(entries[1]?.attrs, rootAttrs);
    const files = entries.slice(2);
    t.same(files.map((e) => [e.attrs?.type, e.attrs?.size, e.attrs?.fileid]), files.map((e, i) => [1, BigInt(i), e.fileid]), 'attributes of each file');
    const fetched = await Promise.all(entries.map((e) => gw.getattr(e.handle ?? Buffer.alloc(0))));
    t.same(fetched, entries.map((e) => e.attrs), 'each handle GETATTRs to the attributes listed with it');
  }
});

t.test('READDIR refuses a wrong verifier, a count too small and an unknown cookie; resumes after a deleted entry', async (t) => {
  const many = await gw.lookup(root, 'many');
  const manyAttrs = await gw.getattr(many);
  const [first] = await listAll(many, { count: 512 });
  const cookie = first!.page.entries.at(-1)!.cookie;
  const wrong = Buffer.from(first!.page.verifier.map((b) => b ^ 0xff));
  for (const [proc, args] of [[Proc.READDIR, readdirArgs(many, cookie, wrong, 512)], [Proc.READDIRPLUS, readdirplusArgs(many, cookie, wrong, 512, 4096)]] as const) {
    const { status, r } = await gw.nfs(proc, args);
    t.equal(status, Status.BAD_COOKIE, `procedure ${proc}`);
    t.same(postOpAttr(r), manyAttrs, 'with the directory attributes');
    done(t, r);
  }
  const unknown = await gw.nfs(Proc.READDIR, readdirArgs(many, 2n ** 40n, first!.page.verifier, 512));
  t.equal(unknown.status, Status.BAD_COOKIE, 'a cookie never handed out');

  // The resok without entries is 104 bytes; "." takes 28 more.
  for (const [count, status] of [[100, Status.TOOSMALL], [131, Status.TOOSMALL], [136, Status.OK]] as const) {
    const reply = await gw.nfs(Proc.READDIR, readdirArgs(many, 0n, NO_VERIFIER, count));
    t.equal(reply.status, status, `count ${count}`);
    if (reply.status === Status.OK) t.same(dirList(reply.r, false).entries.map((e) => e.name), ['.'], 'exactly one entry fits');
    else t.same(postOpAttr(reply.r), manyAttrs);
    done(t, reply.r);
  }
  const plusTooSmall = await gw.nfs(Proc.READDIRPLUS, readdirplusArgs(many, 0n, NO_VERIFIER, 8192, 200));
  t.equal(plusTooSmall.status, Status.TOOSMALL, 'READDIRPLUS: an entry with attributes and handle is 140 bytes');

  const CHURN = Array.from({ length: 20 }, (_, i) => `c${String(i).padStart(2, '0')}`);
  await Promise.all(CHURN.map((name) => put(`churn/${name}`, name)));
  await gw.registry.refresh('team');
  const churn = await gw.lookup(root, 'churn');
  const [listed] = await listAll(churn, { count: 8192 });
  const { verifier, entries: before } = listed!.page;
  t.same(before.map((e) => e.name), ['.', '..', ...CHURN]);
  const cookieOf = (name: string) => before.find((e) => e.name === name)!.cookie;
  await bucket.delete('projects/churn/c05');
  await bucket.delete('projects/churn/c06');
  await bucket.delete('projects/churn/c19');
  await gw.registry.refresh('team');
  const resumed = await gw.nfs(Proc.READDIR, readdirArgs(churn, cookieOf('c05'), verifier, 8192));
  t.equal(resumed.status, Status.OK);
  const rest = dirList(resumed.r, false);
  t.same(rest.entries.map((e) => e.name), CHURN.slice(7, 19), 'from the next name still there');
  t.equal(rest.eof, true);
  const afterLast = await gw.nfs(Proc.READDIR, readdirArgs(churn, cookieOf('c19'), verifier, 8192));
  t.equal(afterLast.status, Status.OK);
  t.same(dirList(afterLast.r, false), { dir: await gw.getattr(churn), verifier, entries: [], eof: true }, 'after a deleted last entry: the end');

  const ofFile = await gw.nfs(Proc.READDIR, readdirArgs(report, 0n, NO_VERIFIER, 8192));
  t.equal(ofFile.status, Status.NOTDIR);
});

t.test('READ gives ranges with eof, nothing past the end, at most 1 MiB, and ISDIR for a directory', async (t) => {
  const reportAttrs = await gw.getattr(report);
  const cases: Array<[offset: bigint, count: number, data: string, eof: boolean]> = [
    [0n, 100, REPORT, true],
    [8n, 4, 'y nu', false],
    [10n, 8, 'numbers\n', true],
    [0n, 0, '', false],
    [18n, 10, '', true],
    [2n ** 40n, 10, '', true],
  ];
  for (const [offset, count, data, eof] of cases) {
    const { status, r, bytes } = await gw.nfs(Proc.READ, readArgs(report, offset, count));
    t.equal(status, Status.OK);
    t.same(readResult(r), { attrs: reportAttrs, count: data.length, eof, data: Buffer.from(data) }, `${count} bytes at ${offset}`);
    t.equal(bytes, 88 + 4 + 4 + 4 + Math.ceil(data.length / 4) * 4, 'padded to 4 bytes');
  }

  const big = await gw.lookup(root, 'big.bin');
  const head = await gw.nfs(Proc.READ, readArgs(big, 0n, 4 * MiB));
  t.equal(head.status, Status.OK);
  const headResult = readResult(head.r);
  t.same([headResult.count, headResult.eof], [MiB, false], 'a 4 MiB READ gets 1 MiB');
  t.ok(headResult.data.equals(BIG.subarray(0, MiB)));
  const tailReply = await gw.nfs(Proc.READ, readArgs(big, BigInt(MiB), MiB));
  t.equal(tailReply.status, Status.OK);
  const tail = readResult(tailReply.r);
  t.same([tail.count, tail.eof], [MiB / 2, true]);
  t.ok(tail.data.equals(BIG.subarray(MiB)));

  const dir = await gw.nfs(Proc.READ, readArgs(root, 0n, 10));
  t.equal(dir.status, Status.ISDIR);
  t.same(postOpAttr(dir.r), rootAttrs);
  done(t, dir.r);
});

t.test('ACCESS judges the squashed caller by owner, group and other bits; a read-only share grants no change', async (t) => {
  const shares = {
    team: await gw.mount('/team'), none: await gw.mount('/team-none'), all: await gw.mount('/team-all'), ro: await gw.mount('/team-ro'),
  };
  const handles = async (share: Buffer) => ({
    tool: await gw.lookup(share, 'tool.sh'), tools: await gw.lookup(share, 'tools'), report: await gw.lookup(share, 'report.txt'), open: await gw.lookup(share, 'open'),
  });
  const granted = async (fh: Buffer, cred: Auth, wanted = ALL_ACCESS) => {
    const { status, r } = await gw.nfs(Proc.ACCESS, accessArgs(fh, wanted), cred);
    const attrs = postOpAttr(r);
    const bits = r.uint32();
    if (status !== Status.OK || attrs?.fileid === undefined || r.remaining !== 0) throw new Error(`ACCESS: status ${status}`);
    return bits;
  };
  const { READ, LOOKUP, EXECUTE, MODIFY, EXTEND, DELETE } = Access;
  const WRITE = MODIFY | EXTEND;
  const CHANGE = MODIFY | EXTEND | DELETE;
  const team = await handles(shares.team);
  const NONE: Auth = { flavor: 0 };
  // tool.sh is 0741 and tools/ 0734, both 1000:100.
  const cases: Array<[string, Awaited<ReturnType<typeof handles>>, Auth, number, number]> = [
    ['root, squashed to nobody: other', team, ROOT, EXECUTE, READ],
    ['the owner', team, sys(1000, 1000), READ | WRITE | EXECUTE, READ | LOOKUP | CHANGE],
    ['a member of the group by its gid list', team, sys(5, 5, [100]), READ, LOOKUP | CHANGE],
    ['a member of the group by its primary gid', team, sys(5, 100), READ, LOOKUP | CHANGE],
    ['anyone else', team, sys(5, 5), EXECUTE, READ],
    ['AUTH_NONE: nobody', team, NONE, EXECUTE, READ],
    ['root with squash none', await handles(shares.none), ROOT, READ | WRITE | EXECUTE, READ | LOOKUP | CHANGE],
    ['the owner with squash all: nobody', await handles(shares.all), sys(1000, 100), EXECUTE, READ],
    ['root on a read-only share with squash none', await handles(shares.ro), ROOT, READ | EXECUTE, READ | LOOKUP],
  ];
  for (const [who, on, cred, file, dir] of cases) {
    t.same([await granted(on.tool, cred), await granted(on.tools, cred)], [file, dir], who);
  }

  t.equal(await granted(team.tool, sys(1000, 1000), READ), READ, 'only what was asked');
  t.equal(await granted((await handles(shares.none)).report, ROOT), READ | WRITE, 'root runs no file without an execute bit');
  const changes = CHANGE;
  t.same(
    [await granted(team.open, sys(1000, 100), changes), await granted(team.report, sys(1000, 100), changes), await granted(team.report, sys(5, 5), changes)],
    [changes, MODIFY | EXTEND, 0], 'a 0777 directory grants every change, a 0644 file writes to its owner only',
  );
  const ro = await handles(shares.ro);
  t.same(
    [await granted(ro.open, sys(1000, 100)), await granted(ro.open, sys(1000, 100), changes), await granted(ro.report, sys(1000, 100), changes)],
    [READ | LOOKUP, 0, 0], 'team-ro: a 0777 directory and a 0644 file of the caller\'s own grant no change',
  );

  const reply = await gw.nfs(Proc.ACCESS, accessArgs(team.tool, ALL_ACCESS), sys(1000, 1000));
  t.equal(reply.bytes, 4 + 84 + 4, 'post_op_attr, then the bits');
  t.match(postOpAttr(reply.r), { mode: 0o741, uid: 1000, gid: 100 });
});

t.test('the mode bits are enforced on READ, LOOKUP and READDIR, after squash', async (t) => {
  const shares = { team: root, none: await gw.mount('/team-none'), all: await gw.mount('/team-all') };
  const status = async (share: Buffer, cred: Auth) => {
    const secret = await gw.lookup(share, 'secret.txt');
    const privateDir = await gw.lookup(share, 'private');
    return [
      (await gw.nfs(Proc.READ, readArgs(secret, 0n, 100), cred)).status,
      (await gw.nfs(Proc.LOOKUP, lookupArgs(privateDir, 'inside.txt'), cred)).status,
      (await gw.nfs(Proc.READDIR, readdirArgs(privateDir, 0n, NO_VERIFIER, 4096), cred)).status,
    ];
  };
  const { OK, ACCES } = Status;
  // secret.txt is 0600 and private/ 0700, both of uid 1000.
  t.same(await status(shares.team, sys(1000, 100)), [OK, OK, OK], 'the owner');
  t.same(await status(shares.team, sys(1001, 100)), [ACCES, ACCES, ACCES], 'another user of the same group');
  t.same(await status(shares.team, ROOT), [ACCES, ACCES, ACCES], 'root, squashed to nobody');
  t.same(await status(shares.none, ROOT), [OK, OK, OK], 'root with squash none reads everything');
  t.same(await status(shares.all, sys(1000, 100)), [ACCES, ACCES, ACCES], 'the owner with squash all is nobody');
  t.same(await status(shares.all, sys(NOBODY, NOBODY)), [ACCES, ACCES, ACCES]);

  const secret = await gw.lookup(root, 'secret.txt');
  const refused = await gw.nfs(Proc.READ, readArgs(secret, 0n, 100), sys(1001, 100));
  t.match(postOpAttr(refused.r), { mode: 0o600, uid: 1000 }, 'READ3resfail carries the file attributes');
  done(t, refused.r);
  const ok = await gw.nfs(Proc.READ, readArgs(secret, 0n, 100), sys(1000, 1000));
  t.equal(readResult(ok.r).data.toString(), 'for uid 1000 only');

  const tool = await gw.lookup(root, 'tool.sh');
  t.equal((await gw.nfs(Proc.READ, readArgs(tool, 0n, 100), sys(5, 5))).status, Status.OK, 'execute-only (--x) may still read: a client must fetch what it runs');
});

type Body = (r: XdrReader) => unknown;
const wcc: Body = (r) => wccData(r);
const sattrUnset = (w: XdrWriter) => w.bool(false).bool(false).bool(false).bool(false).uint32(0).uint32(0);

/** Every procedure that would change something, with well-formed arguments and the body its resfail has (on a read-only share). */
function changes(dir: Buffer, file: Buffer): Array<{ name: string; proc: number; status: number; args: Buffer; body: Body[] }> {
  return [
    { name: 'SETATTR', proc: Proc.SETATTR, status: Status.ROFS, args: xdr((w) => sattrUnset(w.opaque(file)).bool(false)), body: [wcc] },
    { name: 'WRITE', proc: Proc.WRITE, status: Status.ROFS, args: xdr((w) => w.opaque(file).uint64(0n).uint32(5).uint32(2).opaque(Buffer.from('hello'))), body: [wcc] },
    { name: 'CREATE', proc: Proc.CREATE, status: Status.ROFS, args: xdr((w) => sattrUnset(w.opaque(dir).string('new.txt').uint32(0))), body: [wcc] },
    { name: 'MKDIR', proc: Proc.MKDIR, status: Status.ROFS, args: xdr((w) => sattrUnset(w.opaque(dir).string('new'))), body: [wcc] },
    { name: 'SYMLINK', proc: Proc.SYMLINK, status: Status.NOTSUPP, args: xdr((w) => sattrUnset(w.opaque(dir).string('link')).string('report.txt')), body: [wcc] },
    { name: 'MKNOD', proc: Proc.MKNOD, status: Status.NOTSUPP, args: xdr((w) => sattrUnset(w.opaque(dir).string('fifo').uint32(7))), body: [wcc] },
    { name: 'REMOVE', proc: Proc.REMOVE, status: Status.ROFS, args: xdr((w) => w.opaque(dir).string('report.txt')), body: [wcc] },
    { name: 'RMDIR', proc: Proc.RMDIR, status: Status.ROFS, args: xdr((w) => w.opaque(dir).string('sub')), body: [wcc] },
    { name: 'RENAME', proc: Proc.RENAME, status: Status.ROFS, args: xdr((w) => w.opaque(dir).string('report.txt').opaque(dir).string('renamed.txt')), body: [wcc, wcc] },
    { name: 'LINK', proc: Proc.LINK, status: Status.NOTSUPP, args: xdr((w) => w.opaque(file).opaque(dir).string('hard')), body: [postOpAttr, wcc] },
    { name: 'COMMIT', proc: Proc.COMMIT, status: Status.ROFS, args: xdr((w) => w.opaque(file).uint64(0n).uint32(0)), body: [wcc] },
  ];
}

/** What `refusals` gives when each call fails with `status`: every body empty (each bool FALSE). */
function refusedWith(status: number): Array<[string, number, unknown[], number]> {
  return changes(root, report).map((c) => [c.name, status, c.body.map((read) => (read === wcc ? {} : undefined)), 0]);
}

/** Each call's status, its body decoded, and the bytes left after it. */
async function refusals(dir: Buffer, file: Buffer, cred = ROOT): Promise<Array<[string, number, unknown[], number]>> {
  return Promise.all(changes(dir, file).map(async ({ name, proc, args, body }) => {
    const { status, r } = await gw.nfs(proc, args, cred);
    return [name, status, body.map((read) => read(r)), r.remaining] as [string, number, unknown[], number];
  }));
}

t.test('a read-only share refuses changes with ROFS, links with NOTSUPP, each with its wcc_data', async (t) => {
  const ro = await gw.mount('/team-ro');
  const roReport = await gw.lookup(ro, 'report.txt');
  const expected = changes(ro, roReport).map((c) => [c.name, c.status, 0]);
  for (const [who, cred] of [['root', ROOT], ['a user', sys(1000, 100)]] as const) {
    const got = await refusals(ro, roReport, cred);
    t.same(got.map(([name, status, , left]) => [name, status, left]), expected, `${who}: statuses, and bodies to their last byte`);
    const setattr = got[0]![2][0] as ReturnType<typeof wccData>;
    t.match(setattr, { before: { size: 18n }, after: { size: 18n, mode: 0o644 } }, 'wcc_data carries the file\'s attributes');
  }
  const garbage = Buffer.from('garbage');
  t.same(await refusals(garbage, garbage), refusedWith(Status.BADHANDLE), 'a handle not ours is BADHANDLE first, with empty bodies');
  const keys = ['report.txt', 'new.txt', 'new/', 'link', 'fifo', 'renamed.txt', 'hard'];
  t.same((await Promise.all(keys.map((k) => bucket.head(`projects/${k}`)))).map((info) => info?.size), [18, ...keys.slice(1).map(() => undefined)], 'the bucket is as it was');
});

t.test('READLINK: no object is a symbolic link', async (t) => {
  const { status, r } = await gw.nfs(Proc.READLINK, fhArgs(report));
  t.equal(status, Status.INVAL);
  t.same(postOpAttr(r), await gw.getattr(report));
  done(t, r);
});

t.test('FSSTAT, FSINFO and PATHCONF bodies', async (t) => {
  const fsstat = await gw.nfs(Proc.FSSTAT, fhArgs(root));
  t.equal(fsstat.status, Status.OK);
  const r = fsstat.r;
  t.same(postOpAttr(r), rootAttrs);
  const unlimited = 2n ** 63n - 1n;
  t.same([r.uint64(), r.uint64(), r.uint64()], [unlimited, unlimited, unlimited], 'tbytes, fbytes, abytes');
  t.same([r.uint64(), r.uint64(), r.uint64()], [2n ** 32n, 2n ** 32n, 2n ** 32n], 'tfiles, ffiles, afiles');
  t.equal(r.uint32(), 0, 'invarsec');
  done(t, r);

  const fsinfo = await gw.nfs(Proc.FSINFO, fhArgs(root));
  t.equal(fsinfo.status, Status.OK);
  const i = fsinfo.r;
  t.same(postOpAttr(i), rootAttrs);
  t.same({
    rtmax: i.uint32(), rtpref: i.uint32(), rtmult: i.uint32(), wtmax: i.uint32(), wtpref: i.uint32(), wtmult: i.uint32(), dtpref: i.uint32(),
    maxfilesize: i.uint64(), timeDelta: [i.uint32(), i.uint32()], properties: i.uint32(),
  }, {
    rtmax: MiB, rtpref: MiB, rtmult: 4096, wtmax: MiB, wtpref: MiB, wtmult: 4096, dtpref: 65536,
    maxfilesize: 5n * 2n ** 40n, timeDelta: [0, 1], properties: 0x8 | 0x10,
  }, 'no hard links or symlinks (FSF3_LINK, FSF3_SYMLINK clear), homogeneous, settable times');
  done(t, i);

  const pathconf = await gw.nfs(Proc.PATHCONF, fhArgs(report));
  t.equal(pathconf.status, Status.OK);
  const p = pathconf.r;
  t.same(postOpAttr(p), await gw.getattr(report));
  t.same(
    { linkmax: p.uint32(), nameMax: p.uint32(), noTrunc: p.bool(), chownRestricted: p.bool(), caseInsensitive: p.bool(), casePreserving: p.bool() },
    { linkmax: 1, nameMax: 255, noTrunc: true, chownRestricted: true, caseInsensitive: false, casePreserving: true },
  );
  done(t, p);
});

t.test('a client taken off the client list gets ACCES on every call, with no attributes', async (t) => {
  const fenced = gw.addShare('share-0000fe11', 'fenced', TEAM);
  const fencedRoot = await gw.mount('/fenced');
  const fencedReport = await gw.lookup(fencedRoot, 'report.txt');
  t.equal((await gw.nfs(Proc.GETATTR, fhArgs(fencedReport))).status, Status.OK, 'allowed while 127.0.0.1 is on the list');
  gw.catalog.setShareSettings(fenced.shareId, checkedSettings({ ...fenced.settings, clientList: ['10.0.0.0/8'] }));

  const calls: Array<[string, number, Buffer, Body[]]> = [
    ['GETATTR', Proc.GETATTR, fhArgs(fencedReport), []],
    ['LOOKUP', Proc.LOOKUP, lookupArgs(fencedRoot, 'report.txt'), [postOpAttr]],
    ['ACCESS', Proc.ACCESS, accessArgs(fencedReport, ALL_ACCESS), [postOpAttr]],
    ['READ', Proc.READ, readArgs(fencedReport, 0n, 100), [postOpAttr]],
    ['READDIR', Proc.READDIR, readdirArgs(fencedRoot, 0n, NO_VERIFIER, 8192), [postOpAttr]],
    ['READDIRPLUS', Proc.READDIRPLUS, readdirplusArgs(fencedRoot, 0n, NO_VERIFIER, 8192, 8192), [postOpAttr]],
    ['FSSTAT', Proc.FSSTAT, fhArgs(fencedRoot), [postOpAttr]],
    ['FSINFO', Proc.FSINFO, fhArgs(fencedRoot), [postOpAttr]],
    ['PATHCONF', Proc.PATHCONF, fhArgs(fencedRoot), [postOpAttr]],
    ['READLINK', Proc.READLINK, fhArgs(fencedReport), [postOpAttr]],
  ];
  for (const [name, proc, args, body] of calls) {
    const { status, r } = await gw.nfs(proc, args);
    t.same([status, body.map((read) => read(r)), r.remaining], [Status.ACCES, body.map(() => undefined), 0], name);
  }
  t.same(await refusals(fencedRoot, fencedReport), refusedWith(Status.ACCES), 'changes too');
});

t.test('arguments that do not decode are GARBAGE_ARGS, not a server fault', async (t) => {
  const cases: Array<[string, number, Buffer]> = [
    ['GETATTR without a handle', Proc.GETATTR, Buffer.alloc(0)],
    ['GETATTR with a 65-byte handle', Proc.GETATTR, fhArgs(Buffer.alloc(65, 1))],
    ['LOOKUP without a name', Proc.LOOKUP, fhArgs(root)],
    ['ACCESS without the bits', Proc.ACCESS, fhArgs(report)],
    ['READ without a count', Proc.READ, xdr((w) => w.opaque(report).uint64(0n))],
    ['READDIR without a count', Proc.READDIR, xdr((w) => w.opaque(root).uint64(0n).fixedOpaque(NO_VERIFIER))],
    ['READDIRPLUS without maxcount', Proc.READDIRPLUS, xdr((w) => w.opaque(root).uint64(0n).fixedOpaque(NO_VERIFIER).uint32(8192))],
  ];
  for (const [what, procedure, args] of cases) {
    const reply = await gw.client.call({ ...NFS, procedure, args, cred: ROOT });
    t.equal(reply.stat, 'GARBAGE_ARGS', what);
  }
});

t.test('no procedure failed in a way the RPC layer logs', async (t) => {
  t.same(gw.warnings, []);
});
