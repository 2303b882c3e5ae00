/**
 * NFSv4.1 (RFC 8881) against the real program over a catalog, a share registry and local buckets, the way the
 * Linux client drives it: the session's start, the pseudo-root, lookups, opens and I/O with stateids, names,
 * byte-range locks, the slot's replay cache, and what a restart does to clients and their state.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { nfs3Program } from '../../../../../src/daemon/targets/nfs/nfs3-program.js';
import { startNfs4, type Nfs4Service } from '../../../../../src/daemon/targets/nfs/v4/nfs4-program.js';
import { LocalObjectStore } from '../../../../../src/storage/backends/local-store.js';
import { silentLog } from '../../rpc/test-rpc-client.js';
import { startRpcServer, type LogLine } from '../../rpc/test-server.js';
import { addShare, openShares } from '../nfs-gateway.js';
import { A, ANONYMOUS, CURRENT, NFS4ERR, Nfs4TestClient, OP, fattr, ops, user4, type Stateid } from './nfs4-test-client.js';

t.setTimeout(120_000);

const { stateDir, catalog, registry } = await openShares(t);
addShare(catalog, 'share-0000abcd', 'team', { bucket: 'team-files', squash: 'none', fileMode: '0644', dirMode: '0755' });
addShare(catalog, 'share-0000f00d', 'archive', { bucket: 'archive-files', readOnly: true });
addShare(catalog, 'share-0000beef', 'elsewhere', { bucket: 'other-files', clientList: ['10.9.9.9/32'] });
const bucket = new LocalObjectStore({ dir: path.join(stateDir, 'buckets', 'team-files') });
await bucket.put('seeded/hello.txt', Buffer.from('put with a plain S3 client\n'), {});

interface Server {
  v4: Nfs4Service;
  port: number;
  warnings: LogLine[];
}

/** The NFS program with both versions, as nfs-server.ts registers it; again on the same directory for a restart. */
async function start(dir: string, idmapDomain?: string): Promise<Server> {
  const v4 = await startNfs4({ shares: registry, stateDir: dir, log: silentLog(), ...(idmapDomain ? { idmapDomain } : {}) });
  const v3 = nfs3Program(registry);
  const server = await startRpcServer(t, [{ ...v3, versions: { ...v3.versions, 4: v4.procedures } }]);
  t.teardown(() => v4.close());
  return { v4, port: server.tcp.port, warnings: server.warnings };
}
const main = await start(stateDir);
const port = main.port;

async function connect(t: Test, owner = `client-${Math.random()}`, at = port): Promise<Nfs4TestClient> {
  const c = await Nfs4TestClient.connect(at);
  t.teardown(() => c.close());
  await c.establish(owner);
  return c;
}

const SHARE_ROOT = [ops.putrootfh(), ops.lookup('team')];

t.test('a compound of another minor version is refused whole: NFSv4.0 clients such as libnfs learn it at once', async (t) => {
  const c = await Nfs4TestClient.connect(port);
  t.teardown(() => c.close());
  for (const minor of [0, 2]) {
    const reply = await c.compound([ops.putrootfh(), ops.getfh()], { minor, tag: 'probe' });
    t.same(reply, { status: NFS4ERR.MINOR_VERS_MISMATCH, tag: 'probe', results: [] });
  }
});

t.test('the Linux mount: EXCHANGE_ID, CREATE_SESSION, RECLAIM_COMPLETE, SECINFO_NO_NAME, the pseudo-root and the share', async (t) => {
  const c = await Nfs4TestClient.connect(port);
  t.teardown(() => c.close());
  const ex = await c.only(ops.exchangeId('linux-mount'));
  t.equal(ex.flags & 0x70000, 0x10000, 'USE_NON_PNFS and no other pNFS role');
  t.ok((ex.flags & 0x80000000) === 0, 'a new client is not confirmed yet');
  t.equal(ex.sequenceId, 1);
  const again = await c.only(ops.exchangeId('linux-mount'));
  t.equal(again.clientId, ex.clientId, 'the same owner and verifier get the same client id');
  const cs = await c.only(ops.createSession(ex.clientId, ex.sequenceId));
  t.equal(cs.sequence, ex.sequenceId);
  t.equal(cs.flags & 0x5, 0, 'neither PERSIST nor CONN_RDMA');
  t.equal(cs.fore.maxresp, 1049480, 'the fore channel echoes what Linux asked');
  t.ok(cs.fore.reqs >= 1 && cs.fore.reqs <= 64);
  t.ok(((await c.only(ops.exchangeId('linux-mount'))).flags & 0x80000000) !== 0, 'confirmed by its session');
  c.sessionId = cs.sessionId;

  t.equal((await c.session([ops.reclaimComplete()])).status, 0);
  t.equal((await c.session([ops.reclaimComplete()])).status, NFS4ERR.COMPLETE_ALREADY);
  const [flavors] = await c.ok([ops.putrootfh(), ops.secinfoNoName()]).then((v) => [v[1] as number[]]);
  t.same(flavors, [1], 'AUTH_SYS');
  const afterSecinfo = await c.session([ops.putrootfh(), ops.secinfoNoName(), ops.getfh()]);
  t.equal(afterSecinfo.status, NFS4ERR.NOFILEHANDLE, 'SECINFO_NO_NAME uses the current handle up');

  const [, rootFh, rootAttrs] = await c.ok([ops.putrootfh(), ops.getfh(), ops.getattr([A.TYPE, A.FSID, A.FILEID, A.MODE, A.SUPPORTED, A.LEASE_TIME])]) as [unknown, Buffer, { type: number; fsid: [bigint, bigint]; supported: number[]; leaseTime: number; mode: number }];
  t.equal(rootAttrs.type, 2, 'the pseudo-root is a directory');
  t.same(rootAttrs.fsid, [0n, 0n]);
  t.equal(rootAttrs.mode, 0o555);
  for (const required of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 19, 75]) t.ok(rootAttrs.supported.includes(required), `supported_attrs lists REQUIRED ${required}`);
  t.ok(rootAttrs.leaseTime >= 10);

  const listing = (await c.ok([ops.putfh(rootFh), ops.readdir(0n, Buffer.alloc(8), [A.TYPE, A.FSID])]))[1] as { entries: Array<{ name: string; attrs: { fsid: [bigint, bigint] } }>; eof: boolean };
  t.same(listing.entries.map((e) => e.name), ['archive', 'team'], 'the pseudo-root lists the shares this client may use');
  t.same(listing.entries.find((e) => e.name === 'team')!.attrs.fsid, [0xabcdn, 0n], 'each share is a file system of its own');
  t.ok(listing.eof);

  const shareRoot = await c.session([...SHARE_ROOT, ops.getfh(), ops.getattr([A.TYPE, A.FILEID, A.MOUNTED_ON_FILEID]), ops.lookupp(), ops.getfh()]);
  t.equal(shareRoot.status, 0);
  t.same(shareRoot.results[6]!.value, rootFh, 'LOOKUPP from a share\'s root is the pseudo-root');
  t.equal((await c.session([ops.putrootfh(), ops.lookup('elsewhere')])).status, NFS4ERR.NOENT, 'a share whose client list leaves us out is not there');
  t.equal((await c.session([ops.putrootfh(), ops.lookupp()])).status, NFS4ERR.NOENT);
});

t.test('session rules: SEQUENCE first, session-less operations alone, slots replay what they cached', async (t) => {
  const c = await connect(t);
  t.equal((await c.compound([ops.putrootfh()])).results[0]!.status, NFS4ERR.OP_NOT_IN_SESSION);
  t.equal((await c.compound([ops.exchangeId('x'), ops.putrootfh()])).results[0]!.status, NFS4ERR.NOT_ONLY_OP);
  t.equal((await c.session([ops.putrootfh(), ops.sequence(c.sessionId, 99)])).status, NFS4ERR.SEQUENCE_POS);
  t.equal((await c.compound([ops.sequence(Buffer.alloc(16, 9), 1)])).status, NFS4ERR.BADSESSION, 'an unknown session');
  t.equal((await c.compound([ops.sequence(c.sessionId, 1, 1000)])).status, NFS4ERR.BADSLOT);
  const illegal = await c.session([ops.raw(9999)]);
  t.same(illegal.results[1], { op: OP.ILLEGAL, status: NFS4ERR.OP_ILLEGAL });
  t.equal((await c.session([ops.raw(OP.SETCLIENTID)])).status, 10004, 'an NFSv4.0 operation is NOTSUPP in 4.1');
  t.equal((await c.session([ops.raw(OP.LAYOUTGET)])).status, 10004, 'pNFS is refused cleanly');

  // A reply that was cached comes back byte for byte, and the operations are not run again.
  const name = `replayed-${Date.now()}`;
  const first = await c.session([...SHARE_ROOT, ops.mkdir(name)], { cacheThis: true });
  t.equal(first.status, 0);
  const again = await c.resend([...SHARE_ROOT, ops.mkdir(name)]);
  t.same(again, first, 'the slot resends the cached reply instead of failing with EXIST');
  const skipped = await c.compound([ops.sequence(c.sessionId, 1000)]);
  t.equal(skipped.status, NFS4ERR.SEQ_MISORDERED);
  const uncached = await c.session([...SHARE_ROOT]);
  t.equal(uncached.status, 0);
  t.equal((await c.compound([ops.sequence(c.sessionId, (uncached.results[0]!.value as { sequenceId: number }).sequenceId)])).status, NFS4ERR.RETRY_UNCACHED_REP);
});

t.test('files: create with OPEN, write, commit, read, attributes, close; objects land in the bucket', async (t) => {
  const c = await connect(t);
  const data = Buffer.from('hello over NFSv4.1\n'.repeat(1000));
  const open = await c.session([...SHARE_ROOT, ops.open('v41.txt', { create: 1, attrs: fattr({ mode: 0o640 }) }), ops.getfh()]);
  t.equal(open.status, 0);
  const opened = open.results[3]!.value as { stateid: Stateid; rflags: number; attrset: number[]; cinfo: { before: bigint; after: bigint } };
  t.equal(opened.rflags & 2, 0, 'never OPEN4_RESULT_CONFIRM in 4.1');
  t.same(opened.attrset, [A.MODE], 'the mode it was created with');
  const fh = open.results[4]!.value as Buffer;
  const [, write, verifier] = await c.ok([ops.putfh(fh), ops.write(opened.stateid, 0n, data), ops.commit()]) as [unknown, { count: number; committed: number; verifier: Buffer }, Buffer];
  t.equal(write.count, data.length);
  t.equal(write.committed, 0, 'UNSTABLE, to be committed');
  t.same(verifier, write.verifier, 'COMMIT\'s verifier is WRITE\'s: nothing was lost in between');
  const [, read, attrs] = await c.ok([ops.putfh(fh), ops.read(opened.stateid, 0n, 1 << 20), ops.getattr([A.SIZE, A.MODE, A.TYPE, A.OWNER, A.OWNER_GROUP, A.NUMLINKS])]) as [unknown, { eof: boolean; data: Buffer }, { size: bigint; mode: number; owner: string; ownerGroup: string; numlinks: number }];
  t.ok(read.eof);
  t.same(read.data, data);
  t.equal(attrs.size, BigInt(data.length));
  t.equal(attrs.mode, 0o640);
  t.equal(attrs.owner, '0', 'owners are numeric strings');
  t.equal(attrs.numlinks, 1);
  const anonymous = await c.ok([ops.putfh(fh), ops.read(ANONYMOUS, 6n, 5)]);
  t.same((anonymous[1] as { data: Buffer }).data, Buffer.from('over '), 'the anonymous stateid reads too');
  const closed = await c.ok([ops.putfh(fh), ops.close(opened.stateid)]);
  t.same(closed[1], { seqid: 0xffffffff, other: Buffer.alloc(12) }, 'CLOSE returns the invalid special stateid');
  t.equal((await c.session([ops.putfh(fh), ops.write(opened.stateid, 0n, data)])).status, NFS4ERR.BAD_STATEID, 'a closed stateid is gone');
  await registry.sync('team');
  t.same(await bucket.get('v41.txt').then((o) => o.body), data, 'one file, one object, its key the path');
});

t.test('OPEN by file handle and the current stateid, an upgrade bumps the seqid, GUARDED finds what exists', async (t) => {
  const c = await connect(t);
  const created = await c.session([...SHARE_ROOT, ops.open('current.txt', { create: 0, access: 1 }), ops.write(CURRENT, 0n, Buffer.from('x'))]);
  t.equal(created.status, NFS4ERR.OPENMODE, 'a read-only open does not write, through the current stateid');
  const fh = (await c.ok([...SHARE_ROOT, ops.lookup('current.txt'), ops.getfh()]))[3] as Buffer;
  const [, first] = await c.ok([ops.putfh(fh), ops.open('', { claim: 'fh', access: 1 })]) as [unknown, { stateid: Stateid }];
  const [, second] = await c.ok([ops.putfh(fh), ops.open('', { claim: 'fh', access: 3 })]) as [unknown, { stateid: Stateid }];
  t.same(second.stateid.other, first.stateid.other, 'the same open owner and file: the same open');
  t.equal(second.stateid.seqid, first.stateid.seqid + 1);
  t.equal((await c.session([ops.putfh(fh), ops.write(first.stateid, 0n, Buffer.from('x'))])).status, NFS4ERR.OLD_STATEID);
  t.equal((await c.session([ops.putfh(fh), ops.write(second.stateid, 0n, Buffer.from('x'), 2)])).status, 0);
  const [, down] = await c.ok([ops.putfh(fh), ops.openDowngrade(second.stateid, 1)]) as [unknown, Stateid];
  t.equal((await c.session([ops.putfh(fh), ops.write(down, 0n, Buffer.from('x'))])).status, NFS4ERR.OPENMODE);
  t.equal((await c.session([...SHARE_ROOT, ops.open('current.txt', { create: 1 })])).status, NFS4ERR.EXIST);
  t.equal((await c.session([...SHARE_ROOT, ops.open('missing.txt')])).status, NFS4ERR.NOENT);
  t.equal((await c.session([...SHARE_ROOT, ops.open('seeded')])).status, NFS4ERR.ISDIR);
  const seeded = await c.ok([...SHARE_ROOT, ops.lookup('seeded'), ops.open('hello.txt', { access: 1 }), ops.read(CURRENT, 0n, 100)]);
  t.same((seeded[4] as { data: Buffer }).data.toString(), 'put with a plain S3 client\n', 'objects already in the bucket are files');
});

t.test('names: directories, READDIR with cookies, RENAME, REMOVE, and what is refused', async (t) => {
  const c = await connect(t);
  // CREATE makes the new directory the current handle, so each starts again at the share's root.
  await c.ok([...SHARE_ROOT, ops.mkdir('tree')]);
  await c.ok([...SHARE_ROOT, ops.mkdir('sub')]);
  for (let i = 0; i < 40; i++) await c.ok([...SHARE_ROOT, ops.lookup('tree'), ops.open(`f${String(i).padStart(2, '0')}`, { create: 0 })]);
  const treeFh = (await c.ok([...SHARE_ROOT, ops.lookup('tree'), ops.getfh()]))[3] as Buffer;
  const names: string[] = [];
  let cookie = 0n;
  let verifier: Buffer = Buffer.alloc(8);
  let pages = 0;
  for (let eof = false; !eof; pages++) {
    const page = (await c.ok([ops.putfh(treeFh), ops.readdir(cookie, verifier, [A.TYPE, A.FILEID, A.FILEHANDLE, A.RDATTR_ERROR], 1200)]))[1] as { verifier: Buffer; entries: Array<{ cookie: bigint; name: string; attrs: { rdattrError: number; filehandle: Buffer } }>; eof: boolean };
    for (const e of page.entries) {
      t.ok(e.cookie > 2n, 'cookies 0-2 are reserved');
      t.equal(e.attrs.rdattrError, 0);
    }
    names.push(...page.entries.map((e) => e.name));
    cookie = page.entries.at(-1)?.cookie ?? cookie;
    verifier = page.verifier;
    eof = page.eof;
  }
  t.ok(pages > 1, `the listing took ${pages} pages`);
  t.same(names, Array.from({ length: 40 }, (_, i) => `f${String(i).padStart(2, '0')}`), 'every entry once, in order, no dots');
  t.equal((await c.session([ops.putfh(treeFh), ops.readdir(1n, verifier, [A.TYPE])])).status, NFS4ERR.BAD_COOKIE);

  const renamed = await c.session([...SHARE_ROOT, ops.lookup('tree'), ops.savefh(), ops.putrootfh(), ops.lookup('team'), ops.lookup('sub'), ops.rename('f00', 'moved')]);
  t.equal(renamed.status, 0);
  t.equal((await c.session([...SHARE_ROOT, ops.lookup('sub'), ops.lookup('moved')])).status, 0, 'RENAME: saved handle the source, current the target');
  t.equal((await c.session([...SHARE_ROOT, ops.lookup('tree'), ops.remove('f01'), ops.lookup('f01')])).status, NFS4ERR.NOENT);
  t.equal((await c.session([...SHARE_ROOT, ops.remove('tree')])).status, NFS4ERR.NOTEMPTY);
  t.equal((await c.session([...SHARE_ROOT, ops.lookup('sub'), ops.remove('moved'), ops.lookupp(), ops.remove('sub')])).status, 0);
  t.equal((await c.session([...SHARE_ROOT, ops.lookup('..')])).status, NFS4ERR.BADNAME);
  t.equal((await c.session([...SHARE_ROOT, ops.lookup('')])).status, NFS4ERR.INVAL);
  t.equal((await c.session([...SHARE_ROOT, ops.lookup('tree'), ops.lookup('f02'), ops.lookup('x')])).status, NFS4ERR.NOTDIR);
  t.equal((await c.session([...SHARE_ROOT, ops.lookup('tree'), ops.lookup('f02'), ops.savefh(), ...SHARE_ROOT, ops.link('hard')])).status, 10004, 'no hard links');
  t.equal((await c.session([...SHARE_ROOT, ops.createOther(5, 'symlink')])).status, 10004, 'no symbolic links');
  t.equal((await c.session([...SHARE_ROOT, ops.createOther(3, 'device')])).status, 10004, 'no devices: specdata4 read whole, major 0 included');
  t.equal((await c.session([...SHARE_ROOT, ops.createOther(1, 'regular')])).status, NFS4ERR.BADTYPE);
  t.equal((await c.session([...SHARE_ROOT, ops.lookup('tree'), ops.lookup('f02'), ops.readlink()])).status, NFS4ERR.INVAL);
  t.equal((await c.session([ops.getfh()])).status, NFS4ERR.NOFILEHANDLE);
  t.equal((await c.session([ops.restorefh()])).status, NFS4ERR.RESTOREFH);
  t.equal((await c.session([ops.putfh(Buffer.from('garbage'))])).status, NFS4ERR.BADHANDLE);
  t.equal((await c.session([ops.putrootfh(), ops.lookup('archive'), ops.mkdir('nope')])).status, NFS4ERR.ROFS);
  t.equal((await c.session([...SHARE_ROOT, ops.mkdir('owned-by-user')], { cred: user4(1000) })).status, NFS4ERR.ACCESS, 'the mode bits decide: 0755 root');
});

t.test('attributes: SETATTR with a stateid for the size, numeric owners, bad owners, read-only attributes', async (t) => {
  const c = await connect(t);
  const open = await c.ok([...SHARE_ROOT, ops.open('attrs.txt', { create: 0 }), ops.getfh()]);
  const { stateid } = open[2] as { stateid: Stateid };
  const fh = open[3] as Buffer;
  await c.ok([ops.putfh(fh), ops.write(stateid, 0n, Buffer.alloc(100, 1), 2)]);
  const set = await c.ok([ops.putfh(fh), ops.setattr(stateid, fattr({ size: 10n, mode: 0o600, owner: '1000', mtime: [1700000000n, 5] })), ops.getattr([A.SIZE, A.MODE, A.OWNER, A.TIME_MODIFY])]);
  t.same(set[1], [A.SIZE, A.MODE, A.OWNER, A.TIME_MODIFY_SET].sort((a, b) => a - b), 'SETATTR names what it set');
  t.same(set[2], { size: 10n, mode: 0o600, owner: '1000', timeModify: [1700000000n, 5] });
  const bad = await c.session([ops.putfh(fh), ops.setattr(stateid, fattr({ owner: 'alice@example.com' }))]);
  t.equal(bad.status, NFS4ERR.BADOWNER);
  t.same(bad.results[2]!.value, [], 'and its bitmap says nothing was set');
  const readOnly = await c.session([ops.putfh(fh), ops.setattr(stateid, (w) => w.uint32(1).uint32(1 << A.TYPE).opaque(Buffer.from([0, 0, 0, 1])))]);
  t.equal(readOnly.status, NFS4ERR.INVAL, 'type is read-only');
  const other = await c.session([ops.putfh(fh), ops.setattr(ANONYMOUS, fattr({ size: 0n }))], { cred: user4(2000) });
  t.equal(other.status, NFS4ERR.ACCESS, 'a size changes only for a writer: 0644 of root lets others read');
  const chmod = await c.session([ops.putfh(fh), ops.setattr(ANONYMOUS, fattr({ mode: 0o777 }))], { cred: user4(2000) });
  t.equal(chmod.status, NFS4ERR.PERM, 'and the mode only for the owner');
});

t.test('byte-range locks: read locks share, write locks conflict with the owner reported, LOCKT, LOCKU, state checks', async (t) => {
  const a = await connect(t, 'locker-a');
  const b = await connect(t, 'locker-b');
  const openA = await a.ok([...SHARE_ROOT, ops.open('locked.db', { create: 0, owner: 'a' }), ops.getfh()]);
  const fh = openA[3] as Buffer;
  const stateA = (openA[2] as { stateid: Stateid }).stateid;
  const stateB = ((await b.ok([ops.putfh(fh), ops.open('', { claim: 'fh', owner: 'b' })]))[1] as { stateid: Stateid }).stateid;
  const lockA = (await a.ok([ops.putfh(fh), ops.lock(2, 0n, 100n, { open: stateA, owner: 'lock-a' })]))[1] as Stateid;
  const denied = await b.session([ops.putfh(fh), ops.lock(1, 50n, 10n, { open: stateB, owner: 'lock-b' })]);
  t.equal(denied.status, NFS4ERR.DENIED);
  t.match(denied.results[2]!.value, { denied: { offset: 0n, length: 100n, type: 2, owner: 'lock-a' } });
  const tested = await b.session([ops.putfh(fh), ops.lockt(2, 0n, 1n, 'lock-b')]);
  t.equal(tested.status, NFS4ERR.DENIED);
  t.equal((await b.session([ops.putfh(fh), ops.lockt(2, 100n, 1n, 'lock-b')])).status, 0, 'past the lock is free');
  const unlocked = (await a.ok([ops.putfh(fh), ops.locku(lockA, 0n, 100n)]))[1] as Stateid;
  t.equal(unlocked.seqid, lockA.seqid + 1);
  const lockB = await b.session([ops.putfh(fh), ops.lock(1, 50n, 10n, { open: stateB, owner: 'lock-b' })]);
  t.equal(lockB.status, 0, 'free once unlocked');
  const statuses = (await a.ok([ops.testStateid([stateA, unlocked, lockA, { seqid: 1, other: Buffer.alloc(12, 0xee) }])]))[0] as number[];
  t.same(statuses, [0, 0, NFS4ERR.OLD_STATEID, NFS4ERR.STALE_STATEID], 'TEST_STATEID: current, current, superseded, of another run');
  t.equal((await a.session([ops.freeStateid(stateA)])).status, NFS4ERR.LOCKS_HELD, 'an open is closed, not freed');
  t.equal((await a.session([ops.freeStateid(unlocked)])).status, 0, 'a lock stateid that holds nothing is freed');
  t.same((await a.ok([ops.testStateid([unlocked])]))[0], [NFS4ERR.BAD_STATEID]);
});

t.test('a restart: sessions are gone, the old client id is stale, clients reclaim their opens in the grace period', async (t) => {
  // A server of its own, so that the clients of the other tests are not among those it waits for.
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sgw-nfs4-restart-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const before = await start(dir);
  const c = await connect(t, 'restarting-client', before.port);
  const open = await c.ok([...SHARE_ROOT, ops.open('kept.txt', { create: 0 }), ops.getfh()]);
  const fh = open[3] as Buffer;
  const oldClientId = c.clientId;
  before.v4.close();
  const after = await start(dir);
  const again = await Nfs4TestClient.connect(after.port);
  t.teardown(() => again.close());
  again.sessionId = c.sessionId;
  t.equal((await again.compound([ops.sequence(c.sessionId, 100)])).status, NFS4ERR.BADSESSION, 'SEQUENCE on the old session: BADSESSION');
  t.equal((await again.compound([ops.createSession(oldClientId, 2)])).status, NFS4ERR.STALE_CLIENTID, 'CREATE_SESSION for the old client: STALE_CLIENTID');
  const ex = await again.only(ops.exchangeId('restarting-client'));
  const cs = await again.only(ops.createSession(ex.clientId, ex.sequenceId));
  again.sessionId = cs.sessionId;
  t.equal((await again.session([...SHARE_ROOT, ops.open('other.txt', { create: 0 })])).status, NFS4ERR.GRACE, 'new opens wait for the grace period');
  const reclaimed = await again.session([ops.putfh(fh), ops.open('', { claim: 'previous' })]);
  t.equal(reclaimed.status, 0, 'the file handle is still valid, and the open is taken back');
  t.equal((await again.session([ops.reclaimComplete()])).status, 0);
  t.equal((await again.session([...SHARE_ROOT, ops.open('other.txt', { create: 0 })])).status, 0, 'the last client of the previous run is done: grace ends');
  const late = await Nfs4TestClient.connect(after.port);
  t.teardown(() => late.close());
  await late.establish('never-seen-before');
  t.equal((await late.session([ops.putfh(fh), ops.open('', { claim: 'previous' })])).status, NFS4ERR.NO_GRACE, 'a client with nothing to reclaim is told so');
});

t.test('with an ID-mapping domain, owners are names of this host\'s accounts', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sgw-nfs4-idmap-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const server = await start(dir, 'lab.example');
  const c = await connect(t, 'idmap-client', server.port);
  const open = await c.ok([...SHARE_ROOT, ops.open('named.txt', { create: 0 }), ops.getfh(), ops.getattr([A.OWNER, A.OWNER_GROUP])]);
  t.same(open[4], { owner: 'root@lab.example', ownerGroup: 'root@lab.example' }, 'root, as idmapd would name it');
  const { stateid } = open[2] as { stateid: Stateid };
  const fh = open[3] as Buffer;
  const set = await c.ok([ops.putfh(fh), ops.setattr(stateid, fattr({ owner: 'nobody@LAB.example' })), ops.getattr([A.OWNER])]);
  t.same(set[2], { owner: 'nobody@lab.example' }, 'a name of the domain is taken, whatever the case of the domain');
  await c.ok([ops.putfh(fh), ops.setattr(stateid, fattr({ owner: '4242' })), ops.getattr([A.OWNER])]).then((v) => t.same(v[2], { owner: '4242' }, 'numbers still work, and an id without a name stays one'));
  t.equal((await c.session([ops.putfh(fh), ops.setattr(stateid, fattr({ owner: 'root@elsewhere.org' }))])).status, NFS4ERR.BADOWNER, 'another domain names nobody');
});

t.test('nothing above was answered with a server fault', async (t) => {
  t.same(main.warnings.filter((w) => w.level >= 50), []);
});
