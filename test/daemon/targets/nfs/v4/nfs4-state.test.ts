/**
 * Open and lock state of NFSv4.1 (RFC 8881 §8, §9, §18.10-18.12, §18.16): stateid seqids, share reservations,
 * POSIX byte-range locks, and which status each misuse earns. The lock property compares the server's merged
 * ranges against a byte-per-byte model, so merge and split mistakes show as a byte that disagrees.
 */
import fc from 'fast-check';
import t from 'tap';
import { Nfs4Error, Nfs4Status } from '../../../../../src/daemon/targets/nfs/v4/nfs4-constants.js';
import {
  ANONYMOUS_STATEID, BYPASS_STATEID, INVALID_STATEID, LockDenied, Nfs4State, ShareAccess, isCurrentStateid, type LockRange, type LockType, type Stateid,
} from '../../../../../src/daemon/targets/nfs/v4/nfs4-state.js';
import { statusOf } from './nfs4-status-of.js';

const TO_END = 2n ** 64n - 1n;
const FILE = 'share-1:42';
const OTHER_FILE = 'share-1:43';
const A = Buffer.from('open-owner-a');
const B = Buffer.from('open-owner-b');
const LA = Buffer.from('lock-owner-a');
const LB = Buffer.from('lock-owner-b');
const range = (offset: number | bigint, length: number | bigint): LockRange => ({ offset: BigInt(offset), length: BigInt(length) });
const withSeqid = (s: Stateid, seqid: number): Stateid => ({ seqid, other: Buffer.from(s.other) });

const fresh = (bootEpoch = 7): Nfs4State => new Nfs4State({ bootEpoch });

t.test('special stateids', async (t) => {
  t.same(ANONYMOUS_STATEID, { seqid: 0, other: Buffer.alloc(12) });
  t.same(BYPASS_STATEID, { seqid: 0xffffffff, other: Buffer.alloc(12, 0xff) });
  t.same(INVALID_STATEID, { seqid: 0xffffffff, other: Buffer.alloc(12) });
  t.ok(isCurrentStateid({ seqid: 1, other: Buffer.alloc(12) }));
  t.notOk(isCurrentStateid(ANONYMOUS_STATEID));
  t.notOk(isCurrentStateid(INVALID_STATEID));
  t.notOk(isCurrentStateid({ seqid: 1, other: Buffer.alloc(12, 1) }));
});

t.test('open, upgrade, downgrade and close move the seqid', async (t) => {
  const s = fresh(0x01020304);
  const first = s.open(1n, A, FILE, ShareAccess.READ, 0);
  t.equal(first.seqid, 1);
  t.equal(first.other.length, 12);
  t.equal(first.other.readUInt32BE(0), 0x01020304, 'the boot epoch leads the other bytes');
  t.equal(statusOf(() => s.checkIo(first, FILE, true)), Nfs4Status.OPENMODE);

  const upgraded = s.open(1n, A, FILE, ShareAccess.WRITE, 0);
  t.equal(upgraded.seqid, 2, 'a repeat OPEN bumps the seqid');
  t.ok(upgraded.other.equals(first.other), 'one open stateid per owner and file');
  t.equal(statusOf(() => s.checkIo(upgraded, FILE, true)), Nfs4Status.OK, 'access is the union of the opens');
  t.equal(statusOf(() => s.checkIo(first, FILE, false)), Nfs4Status.OLD_STATEID);

  t.notOk(s.open(1n, B, FILE, ShareAccess.READ, 0).other.equals(first.other), 'another owner gets its own stateid');
  t.notOk(s.open(2n, A, FILE, ShareAccess.READ, 0).other.equals(first.other), 'the same owner bytes of another client are another owner');
  t.notOk(s.open(1n, A, OTHER_FILE, ShareAccess.READ, 0).other.equals(first.other), 'another file is another open');

  const down = s.downgrade(upgraded, FILE, ShareAccess.READ, 0);
  t.equal(down.seqid, 3);
  t.ok(down.other.equals(first.other));
  t.equal(statusOf(() => s.checkIo(down, FILE, true)), Nfs4Status.OPENMODE, 'the downgrade took write away');
  t.equal(statusOf(() => s.downgrade(down, FILE, ShareAccess.BOTH, 0)), Nfs4Status.INVAL, 'a downgrade cannot add access');
  t.equal(statusOf(() => s.downgrade(down, FILE, ShareAccess.WRITE, 0)), Nfs4Status.INVAL);
  t.equal(statusOf(() => s.downgrade(down, FILE, 0, 0)), Nfs4Status.INVAL, 'no access at all is not an open');
  t.equal(statusOf(() => s.downgrade(down, FILE, ShareAccess.READ, 1)), Nfs4Status.INVAL, 'a downgrade cannot add deny');
  t.equal(statusOf(() => s.downgrade(upgraded, FILE, ShareAccess.READ, 0)), Nfs4Status.OLD_STATEID);
  t.equal(statusOf(() => s.downgrade(down, OTHER_FILE, ShareAccess.READ, 0)), Nfs4Status.BAD_STATEID);

  t.equal(statusOf(() => s.close(upgraded, FILE)), Nfs4Status.OLD_STATEID);
  s.close(down, FILE);
  t.equal(statusOf(() => s.checkIo(down, FILE, false)), Nfs4Status.BAD_STATEID, 'a closed open is gone');
  t.equal(statusOf(() => s.close(down, FILE)), Nfs4Status.BAD_STATEID);
  t.equal(s.testStateid(down), Nfs4Status.BAD_STATEID);
  const again = s.open(1n, A, FILE, ShareAccess.READ, 0);
  t.equal(again.seqid, 1, 'an open after CLOSE starts over');
  t.notOk(again.other.equals(first.other), 'with a stateid never given before');
});

t.test('open refuses what is not a share access or deny', async (t) => {
  const s = fresh();
  t.equal(statusOf(() => s.open(1n, A, FILE, 0, 0)), Nfs4Status.INVAL);
  t.equal(statusOf(() => s.open(1n, A, FILE, 4, 0)), Nfs4Status.INVAL);
  t.equal(statusOf(() => s.open(1n, A, FILE, ShareAccess.READ, 4)), Nfs4Status.INVAL);
  t.notOk(s.hasState(1n));
});

t.test('share reservations', async (t) => {
  const s = fresh();
  const a = s.open(1n, A, FILE, ShareAccess.BOTH, ShareAccess.WRITE);
  t.equal(statusOf(() => s.open(1n, B, FILE, ShareAccess.WRITE, 0)), Nfs4Status.SHARE_DENIED, 'deny write refuses another writer');
  t.equal(statusOf(() => s.open(2n, A, FILE, ShareAccess.BOTH, 0)), Nfs4Status.SHARE_DENIED);
  const reader = s.open(1n, B, FILE, ShareAccess.READ, 0);
  t.equal(statusOf(() => s.open(2n, B, FILE, ShareAccess.READ, ShareAccess.READ)), Nfs4Status.SHARE_DENIED, 'cannot deny what others already have');
  t.equal(statusOf(() => s.open(2n, B, FILE, ShareAccess.READ, ShareAccess.WRITE)), Nfs4Status.SHARE_DENIED, 'A writes, so nobody may deny write');
  t.equal(statusOf(() => s.open(1n, A, FILE, ShareAccess.READ, 3)), Nfs4Status.SHARE_DENIED, 'an upgrade to deny read is refused while B reads');
  t.equal(s.open(1n, A, FILE, ShareAccess.WRITE, 0).seqid, 2, 'an owner\'s own deny write does not refuse its own upgrade');

  t.equal(statusOf(() => s.checkIo(ANONYMOUS_STATEID, FILE, false)), Nfs4Status.OK, 'nobody denies read');
  t.equal(statusOf(() => s.checkIo(ANONYMOUS_STATEID, FILE, true)), Nfs4Status.LOCKED, 'the anonymous stateid honours deny write');
  t.equal(statusOf(() => s.checkIo(BYPASS_STATEID, FILE, true)), Nfs4Status.LOCKED, 'bypass on WRITE is anonymous');
  t.equal(statusOf(() => s.checkIo(BYPASS_STATEID, FILE, false)), Nfs4Status.OK);

  t.equal(statusOf(() => s.open(2n, A, OTHER_FILE, ShareAccess.BOTH, 3)), Nfs4Status.OK, 'reservations are per file');
  t.equal(statusOf(() => s.checkIo(ANONYMOUS_STATEID, OTHER_FILE, false)), Nfs4Status.LOCKED, 'the anonymous stateid honours deny read');
  t.equal(statusOf(() => s.checkIo(BYPASS_STATEID, OTHER_FILE, false)), Nfs4Status.OK, 'READ bypass skips reservations');

  s.close(reader, FILE);
  s.close(withSeqid(a, 0), FILE);
  t.equal(statusOf(() => s.open(2n, A, FILE, ShareAccess.BOTH, 3)), Nfs4Status.OK, 'a closed open denies nothing');
});

t.test('checkIo statuses', async (t) => {
  const s = fresh(7);
  const ro = s.open(1n, A, FILE, ShareAccess.READ, 0);
  const wo = s.open(1n, B, FILE, ShareAccess.WRITE, 0);
  const rw = s.open(2n, A, FILE, ShareAccess.BOTH, 0);
  const check = (sid: Stateid, write = false, file = FILE) => statusOf(() => s.checkIo(sid, file, write));

  t.equal(check(ANONYMOUS_STATEID), Nfs4Status.OK);
  t.equal(check(ANONYMOUS_STATEID, true), Nfs4Status.OK);
  t.equal(check(BYPASS_STATEID), Nfs4Status.OK);
  t.equal(check(BYPASS_STATEID, true), Nfs4Status.OK, 'bypass on WRITE is treated as anonymous (RFC 8881 §8.2.3)');
  t.equal(check(ro), Nfs4Status.OK);
  t.equal(check(ro, true), Nfs4Status.OPENMODE);
  t.equal(check(wo, true), Nfs4Status.OK);
  t.equal(check(wo), Nfs4Status.OK, 'reads through a write-only open are allowed, as Linux does');
  t.equal(check(rw, true), Nfs4Status.OK);

  const up = s.open(2n, A, FILE, ShareAccess.READ, 0);
  t.equal(up.seqid, 2);
  t.equal(check(withSeqid(up, 0), true), Nfs4Status.OK, 'seqid 0 is the current one');
  t.equal(check(withSeqid(up, 1)), Nfs4Status.OLD_STATEID);
  t.equal(check(withSeqid(up, 3)), Nfs4Status.BAD_STATEID, 'a seqid not given yet');

  const unknown = Buffer.from(up.other);
  unknown.writeBigUInt64BE(999_999n, 4);
  t.equal(check({ seqid: 1, other: unknown }), Nfs4Status.BAD_STATEID, 'unknown other of this boot');
  const earlier = Buffer.from(up.other);
  earlier.writeUInt32BE(6, 0);
  t.equal(check({ seqid: 1, other: earlier }), Nfs4Status.STALE_STATEID, 'other of another boot');
  t.equal(check(up, false, OTHER_FILE), Nfs4Status.BAD_STATEID, 'a stateid of another file');
  t.equal(check({ seqid: 1, other: Buffer.alloc(12) }), Nfs4Status.BAD_STATEID, 'the current stateid must be substituted by the caller');
  t.equal(check(INVALID_STATEID), Nfs4Status.BAD_STATEID);
  t.equal(check({ seqid: 5, other: Buffer.alloc(12) }), Nfs4Status.BAD_STATEID, 'zero other with another seqid is no special stateid');
  t.equal(check({ seqid: 0, other: Buffer.alloc(12, 0xff) }), Nfs4Status.BAD_STATEID);
  t.equal(check({ seqid: 1, other: Buffer.alloc(4) }), Nfs4Status.BAD_STATEID, 'other of the wrong size');

  // Advisory locks: another owner's write lock stops no I/O.
  s.lock({ type: 'write', range: range(0, TO_END), file: FILE, openStateid: withSeqid(rw, 0), owner: LA });
  t.equal(check(ANONYMOUS_STATEID, true), Nfs4Status.OK);
  t.equal(check(withSeqid(wo, 0), true), Nfs4Status.OK);
});

t.test('a lock stateid does I/O with the access of its open', async (t) => {
  const s = fresh();
  const open = s.open(1n, A, FILE, ShareAccess.BOTH, 0);
  const lock = s.lock({ type: 'read', range: range(0, 10), file: FILE, openStateid: open, owner: LA });
  t.equal(statusOf(() => s.checkIo(lock, FILE, true)), Nfs4Status.OK);
  const down = s.downgrade(open, FILE, ShareAccess.READ, 0);
  t.equal(statusOf(() => s.checkIo(lock, FILE, true)), Nfs4Status.OPENMODE);
  t.equal(statusOf(() => s.checkIo(lock, FILE, false)), Nfs4Status.OK);
  t.equal(statusOf(() => s.checkIo(lock, OTHER_FILE, false)), Nfs4Status.BAD_STATEID);
  s.unlock(lock, FILE, range(0, 10));
  s.close(down, FILE);
  t.equal(statusOf(() => s.checkIo(withSeqid(lock, 0), FILE, false)), Nfs4Status.BAD_STATEID, 'CLOSE frees its lock owners');
});

t.test('byte-range locks', async (t) => {
  const s = fresh();
  const oa = s.open(1n, A, FILE, ShareAccess.BOTH, 0);
  const ob = s.open(2n, B, FILE, ShareAccess.BOTH, 0);

  t.test('read locks share; write excludes other owners', async (t) => {
    const la = s.lock({ type: 'read', range: range(0, 100), file: FILE, openStateid: oa, owner: LA });
    t.equal(la.seqid, 1);
    const lb = s.lock({ type: 'read', range: range(50, 100), file: FILE, openStateid: ob, owner: LB });
    t.notOk(la.other.equals(lb.other));
    let err: unknown;
    try {
      s.lock({ type: 'write', range: range(120, 10), file: FILE, lockStateid: la });
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof LockDenied);
    t.ok(err instanceof Nfs4Error);
    t.equal((err as LockDenied).status, Nfs4Status.DENIED);
    t.same((err as LockDenied).conflict, { offset: 50n, length: 100n, type: 'read', clientId: 2n, owner: LB });
    t.equal(s.testStateid(la), Nfs4Status.OK, 'a denied LOCK leaves the seqid alone');

    t.same(s.lockTest(FILE, 'write', range(0, 1), 2n, LB), { offset: 0n, length: 100n, type: 'read', clientId: 1n, owner: LA });
    t.equal(s.lockTest(FILE, 'read', range(0, 1000), 3n, LA), undefined, 'reads test clear against reads');
    t.equal(s.lockTest(FILE, 'write', range(150, TO_END), 3n, LA), undefined, 'past every lock');
    t.equal(s.lockTest(FILE, 'write', range(0, 150), 1n, LA)?.owner.toString(), 'lock-owner-b', 'the tester\'s own locks never conflict');
    t.equal(s.lockTest(FILE, 'write', range(0, 10), 1n, LB)?.clientId, 1n, 'owner bytes of another client are another owner');
    t.equal(s.lockTest(OTHER_FILE, 'write', range(0, TO_END), 3n, LA), undefined, 'locks are per file');

    const la2 = s.unlock(la, FILE, range(0, TO_END));
    t.equal(la2.seqid, 2, 'LOCKU bumps the seqid');
    const lb2 = s.unlock(lb, FILE, range(0, TO_END));
    t.equal(lb2.seqid, 2);
    t.equal(s.lockTest(FILE, 'write', range(0, TO_END), 3n, LA), undefined);
  });

  t.test('a conflict to the end of the file reports length all ones', async (t) => {
    const la = s.lock({ type: 'write', range: range(1000, TO_END), file: FILE, openStateid: oa, owner: LA });
    t.equal(la.seqid, 3, 'new_lock_owner for a known lock owner keeps its stateid');
    try {
      s.lock({ type: 'read', range: range(5000, 1), file: FILE, openStateid: ob, owner: LB });
      t.fail('granted');
    } catch (err) {
      t.ok(err instanceof LockDenied);
      t.same((err as LockDenied).conflict, { offset: 1000n, length: TO_END, type: 'write', clientId: 1n, owner: LA });
    }
    const lb = s.lock({ type: 'write', range: range(0, 1000), file: FILE, openStateid: ob, owner: LB });
    t.equal(lb.seqid, 3, 'the byte before is free');
    s.unlock(lb, FILE, range(0, TO_END));
    s.unlock(withSeqid(la, 0), FILE, range(0, TO_END));
    t.equal(s.lockTest(FILE, 'write', range(0, TO_END), 3n, LA), undefined);
  });

  t.test('an owner\'s own ranges merge, split and change type', async (t) => {
    let la = s.lock({ type: 'write', range: range(0, 10), file: FILE, openStateid: oa, owner: LA });
    la = s.lock({ type: 'write', range: range(10, 10), file: FILE, lockStateid: la });
    t.same(s.lockTest(FILE, 'read', range(5, 1), 2n, LB), { offset: 0n, length: 20n, type: 'write', clientId: 1n, owner: LA }, 'touching ranges merge');
    la = s.lock({ type: 'write', range: range(30, 10), file: FILE, lockStateid: la });
    la = s.lock({ type: 'write', range: range(15, 20), file: FILE, lockStateid: la });
    t.same(s.lockTest(FILE, 'read', range(39, 1), 2n, LB)?.offset, 0n, 'overlapping ranges merge across the gap');
    t.same(s.lockTest(FILE, 'read', range(39, 1), 2n, LB)?.length, 40n);

    la = s.unlock(la, FILE, range(10, 5));
    t.same(s.lockTest(FILE, 'write', range(10, 5), 2n, LB), undefined, 'LOCKU opens a hole');
    t.same(s.lockTest(FILE, 'write', range(0, 10), 2n, LB), { offset: 0n, length: 10n, type: 'write', clientId: 1n, owner: LA });
    t.same(s.lockTest(FILE, 'write', range(15, 1), 2n, LB), { offset: 15n, length: 25n, type: 'write', clientId: 1n, owner: LA });

    la = s.lock({ type: 'read', range: range(20, 5), file: FILE, lockStateid: la });
    t.equal(s.lockTest(FILE, 'read', range(20, 5), 2n, LB), undefined, 'a write lock turned read in the middle');
    t.same(s.lockTest(FILE, 'write', range(20, 1), 2n, LB), { offset: 20n, length: 5n, type: 'read', clientId: 1n, owner: LA });
    t.same(s.lockTest(FILE, 'read', range(25, 1), 2n, LB), { offset: 25n, length: 15n, type: 'write', clientId: 1n, owner: LA });

    const lb = s.lock({ type: 'read', range: range(21, 2), file: FILE, openStateid: ob, owner: LB });
    t.equal(statusOf(() => s.lock({ type: 'write', range: range(20, 5), file: FILE, lockStateid: la })), Nfs4Status.DENIED, 'no upgrade over another reader');
    s.unlock(lb, FILE, range(0, TO_END));
    la = s.lock({ type: 'write', range: range(20, 5), file: FILE, lockStateid: la });
    t.same(s.lockTest(FILE, 'read', range(16, 1), 2n, LB), { offset: 15n, length: 25n, type: 'write', clientId: 1n, owner: LA }, 'upgrade merges again');

    const before = la.seqid;
    la = s.unlock(la, FILE, range(100, 5));
    t.equal(la.seqid, before + 1, 'unlocking unheld bytes is fine and still a change');
    la = s.unlock(la, FILE, range(0, TO_END));
    t.equal(s.lockTest(FILE, 'write', range(0, TO_END), 2n, LB), undefined);
    t.equal(statusOf(() => s.unlock(withSeqid(la, la.seqid - 1), FILE, range(0, 1))), Nfs4Status.OLD_STATEID);
    t.equal(statusOf(() => s.lock({ type: 'read', range: range(0, 1), file: FILE, lockStateid: withSeqid(la, la.seqid + 1) })), Nfs4Status.BAD_STATEID);
  });

  t.test('range limits', async (t) => {
    const lock = (r: LockRange) => statusOf(() => s.lock({ type: 'read', range: r, file: FILE, openStateid: withSeqid(oa, 0), owner: LA }));
    t.equal(lock(range(0, 0)), Nfs4Status.INVAL, 'length 0');
    t.equal(lock(range(TO_END, 1)), Nfs4Status.INVAL, 'the last byte would be 2^64');
    t.equal(lock(range(2n ** 63n, 2n ** 63n)), Nfs4Status.INVAL);
    t.equal(lock(range(TO_END - 1n, 1)), Nfs4Status.OK, 'the last byte is 2^64 - 2');
    t.equal(lock(range(TO_END, TO_END)), Nfs4Status.OK, 'to the end from the last offset');
    t.equal(lock(range(-1, 1)), Nfs4Status.INVAL);
    t.equal(statusOf(() => s.lockTest(FILE, 'read', range(5, 0), 2n, LB)), Nfs4Status.INVAL, 'LOCKT checks too');
    t.equal(statusOf(() => s.unlock(withSeqid(oa, 0), FILE, range(5, 0))), Nfs4Status.BAD_STATEID, 'an open stateid is no lock stateid');
    const la = s.lock({ type: 'read', range: range(0, 1), file: FILE, openStateid: withSeqid(oa, 0), owner: LA });
    t.equal(statusOf(() => s.unlock(la, FILE, range(TO_END, 2))), Nfs4Status.INVAL, 'LOCKU checks too');
    s.unlock(la, FILE, range(0, TO_END));
  });

  t.test('wrong stateids', async (t) => {
    t.equal(statusOf(() => s.lock({ type: 'read', range: range(0, 1), file: OTHER_FILE, openStateid: withSeqid(oa, 0), owner: LA })), Nfs4Status.BAD_STATEID, 'open of another file');
    const la = s.lock({ type: 'read', range: range(0, 1), file: FILE, openStateid: withSeqid(oa, 0), owner: LA });
    t.equal(statusOf(() => s.lock({ type: 'read', range: range(0, 1), file: FILE, openStateid: la, owner: LA })), Nfs4Status.BAD_STATEID, 'a lock stateid is no open stateid');
    t.equal(statusOf(() => s.lock({ type: 'read', range: range(0, 1), file: OTHER_FILE, lockStateid: la })), Nfs4Status.BAD_STATEID);
    t.equal(statusOf(() => s.lock({ type: 'read', range: range(0, 1), file: FILE, lockStateid: ANONYMOUS_STATEID })), Nfs4Status.BAD_STATEID);
    t.equal(statusOf(() => s.unlock(BYPASS_STATEID, FILE, range(0, 1))), Nfs4Status.BAD_STATEID);
    s.unlock(la, FILE, range(0, TO_END));
  });
});

t.test('a write lock on a read-only open is OPENMODE', async (t) => {
  const s = fresh();
  const ro = s.open(1n, A, FILE, ShareAccess.READ, 0);
  t.equal(statusOf(() => s.lock({ type: 'write', range: range(0, 1), file: FILE, openStateid: ro, owner: LA })), Nfs4Status.OPENMODE);
  const la = s.lock({ type: 'read', range: range(0, 1), file: FILE, openStateid: ro, owner: LA });
  t.equal(la.seqid, 1, 'a refused LOCK made no lock owner');
  t.equal(statusOf(() => s.lock({ type: 'write', range: range(0, 1), file: FILE, lockStateid: la })), Nfs4Status.OPENMODE);
});

t.test('CLOSE with locks held is LOCKS_HELD (RFC 8881 §18.2.4)', async (t) => {
  const s = fresh();
  const open = s.open(1n, A, FILE, ShareAccess.BOTH, 0);
  const other = s.open(1n, B, FILE, ShareAccess.BOTH, 0);
  const la = s.lock({ type: 'write', range: range(0, 10), file: FILE, openStateid: open, owner: LA });
  const idle = s.lock({ type: 'write', range: range(20, 10), file: FILE, openStateid: open, owner: LB });
  s.unlock(idle, FILE, range(0, TO_END));
  t.equal(statusOf(() => s.close(open, FILE)), Nfs4Status.LOCKS_HELD);
  t.equal(s.testStateid(open), Nfs4Status.OK, 'the open stays');
  t.equal(statusOf(() => s.close(other, FILE)), Nfs4Status.OK, 'locks under another open are not this one\'s');
  const unlocked = s.unlock(la, FILE, range(0, 10));
  s.close(open, FILE);
  t.equal(s.testStateid(unlocked), Nfs4Status.BAD_STATEID, 'its lock stateids go with it');
  t.equal(s.testStateid(withSeqid(idle, 0)), Nfs4Status.BAD_STATEID);
  t.notOk(s.hasState(1n));
});

t.test('TEST_STATEID and FREE_STATEID', async (t) => {
  const s = fresh(7);
  const open = s.open(1n, A, FILE, ShareAccess.BOTH, 0);
  let la = s.lock({ type: 'read', range: range(0, 10), file: FILE, openStateid: open, owner: LA });
  t.equal(s.testStateid(open), Nfs4Status.OK);
  t.equal(s.testStateid(la), Nfs4Status.OK);
  t.equal(s.testStateid(withSeqid(la, 0)), Nfs4Status.OK);
  la = s.lock({ type: 'read', range: range(20, 10), file: FILE, lockStateid: la });
  t.equal(s.testStateid(withSeqid(la, 1)), Nfs4Status.OLD_STATEID);
  t.equal(s.testStateid(withSeqid(la, 9)), Nfs4Status.BAD_STATEID);
  t.equal(s.testStateid(ANONYMOUS_STATEID), Nfs4Status.BAD_STATEID, 'special stateids are never valid here');
  t.equal(s.testStateid(BYPASS_STATEID), Nfs4Status.BAD_STATEID);
  t.equal(s.testStateid(INVALID_STATEID), Nfs4Status.BAD_STATEID);
  t.equal(fresh(8).testStateid(open), Nfs4Status.STALE_STATEID);

  t.equal(statusOf(() => s.freeStateid(la)), Nfs4Status.LOCKS_HELD, 'a lock stateid with locks');
  t.equal(statusOf(() => s.freeStateid(open)), Nfs4Status.LOCKS_HELD, 'an open stateid stands for the open itself');
  la = s.unlock(la, FILE, range(0, TO_END));
  s.freeStateid(la);
  t.equal(s.testStateid(la), Nfs4Status.BAD_STATEID);
  t.equal(statusOf(() => s.freeStateid(la)), Nfs4Status.BAD_STATEID, 'unknown');
  t.equal(statusOf(() => s.freeStateid(ANONYMOUS_STATEID)), Nfs4Status.BAD_STATEID);
  const again = s.lock({ type: 'read', range: range(0, 10), file: FILE, openStateid: open, owner: LA });
  t.equal(again.seqid, 1, 'after FREE_STATEID the lock owner starts over');
  t.notOk(again.other.equals(la.other));
});

t.test('dropClient frees every open and lock of that client', async (t) => {
  const s = fresh();
  const o1 = s.open(1n, A, FILE, ShareAccess.BOTH, ShareAccess.WRITE);
  const o1b = s.open(1n, A, OTHER_FILE, ShareAccess.READ, 0);
  const l1 = s.lock({ type: 'write', range: range(0, TO_END), file: FILE, openStateid: o1, owner: LA });
  const o2 = s.open(2n, A, FILE, ShareAccess.READ, 0);
  t.equal(statusOf(() => s.open(2n, B, FILE, ShareAccess.WRITE, 0)), Nfs4Status.SHARE_DENIED);
  t.equal(statusOf(() => s.lock({ type: 'read', range: range(5, 1), file: FILE, openStateid: o2, owner: LA })), Nfs4Status.DENIED);
  t.ok(s.hasState(1n));
  t.ok(s.hasState(2n));
  t.notOk(s.hasState(3n));

  s.dropClient(1n);
  t.notOk(s.hasState(1n));
  t.ok(s.hasState(2n));
  for (const sid of [o1, o1b, l1]) t.equal(s.testStateid(sid), Nfs4Status.BAD_STATEID);
  t.equal(s.lockTest(FILE, 'write', range(0, TO_END), 2n, LA), undefined, 'its locks are gone');
  t.equal(statusOf(() => s.lock({ type: 'read', range: range(5, 1), file: FILE, openStateid: o2, owner: LA })), Nfs4Status.OK);
  t.equal(statusOf(() => s.open(2n, B, FILE, ShareAccess.WRITE, 0)), Nfs4Status.OK, 'its deny is gone');
  s.dropClient(1n);
  s.dropClient(9n);
});

t.test('stateids of a previous boot are STALE; reclaims go through open and lock', async (t) => {
  const before = fresh(41);
  const open = before.open(1n, A, FILE, ShareAccess.BOTH, 0);
  const lock = before.lock({ type: 'write', range: range(0, 100), file: FILE, openStateid: open, owner: LA });

  const after = fresh(42);
  for (const sid of [open, lock, withSeqid(open, 0)]) {
    t.equal(after.testStateid(sid), Nfs4Status.STALE_STATEID);
    t.equal(statusOf(() => after.checkIo(sid, FILE, false)), Nfs4Status.STALE_STATEID);
  }
  t.equal(statusOf(() => after.close(open, FILE)), Nfs4Status.STALE_STATEID);
  t.equal(statusOf(() => after.lock({ type: 'read', range: range(0, 1), file: FILE, lockStateid: lock })), Nfs4Status.STALE_STATEID);
  t.equal(statusOf(() => after.unlock(lock, FILE, range(0, 1))), Nfs4Status.STALE_STATEID);
  t.equal(statusOf(() => after.freeStateid(lock)), Nfs4Status.STALE_STATEID);

  const reopened = after.open(1n, A, FILE, ShareAccess.BOTH, 0);
  t.equal(reopened.other.readUInt32BE(0), 42);
  after.lock({ type: 'write', range: range(0, 100), file: FILE, openStateid: reopened, owner: LA });
  t.equal(after.lockTest(FILE, 'read', range(50, 1), 2n, LB)?.clientId, 1n, 'the reclaimed lock holds');
  t.equal(fresh(-1).open(1n, A, FILE, 1, 0).other.readUInt32BE(0), 0xffffffff, 'the epoch is taken as a u32');
});

t.test('thousands of locks', async (t) => {
  const s = fresh();
  const started = Date.now();
  const owners: Stateid[] = [];
  for (let i = 0; i < 2000; i++) {
    const open = s.open(BigInt(i), A, FILE, ShareAccess.BOTH, 0);
    owners.push(s.lock({ type: 'write', range: range(i * 10, 5), file: FILE, openStateid: open, owner: LA }));
  }
  let mine = owners[0]!;
  for (let i = 0; i < 2000; i++) mine = s.lock({ type: i % 2 ? 'read' : 'write', range: range(1_000_000 + i * 3, 2), file: FILE, lockStateid: mine });
  t.equal(statusOf(() => s.lock({ type: 'read', range: range(0, 5), file: FILE, lockStateid: owners[1]! })), Nfs4Status.DENIED);
  for (let i = 0; i < 2000; i++) s.dropClient(BigInt(i));
  t.notOk(s.hasState(0n));
  t.ok(Date.now() - started < 20_000, `took ${Date.now() - started} ms`);
});

/**
 * Bytes 0..63 stand for themselves and byte 64 for everything from 64 to 2^64 - 1, so "to the end" is a range that
 * reaches the last model byte and nothing else is.
 */
const MODEL = 65;
type Held = (LockType | undefined)[];
type Step =
  | { op: 'lock'; who: 0 | 1; type: LockType; offset: number; length: number | 'end' }
  | { op: 'unlock'; who: 0 | 1; offset: number; length: number | 'end' };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    op: fc.constant('lock' as const), who: fc.constantFrom(0 as const, 1 as const), type: fc.constantFrom<LockType>('read', 'write'),
    offset: fc.integer({ min: 0, max: 63 }), length: fc.oneof(fc.integer({ min: 1, max: 24 }), fc.constant('end' as const)),
  }),
  fc.record({
    op: fc.constant('unlock' as const), who: fc.constantFrom(0 as const, 1 as const),
    offset: fc.integer({ min: 0, max: 63 }), length: fc.oneof(fc.integer({ min: 1, max: 24 }), fc.constant('end' as const)),
  }),
);

/** Model bytes [from, to) of a step, clipped so explicit ranges never reach byte 64. */
const span = (offset: number, length: number | 'end'): [number, number] => [offset, length === 'end' ? MODEL : Math.min(offset + length, MODEL - 1)];
const wire = (from: number, to: number): LockRange => range(from, to === MODEL ? TO_END : to - from);

t.test('random lock and unlock sequences of two owners match a per-byte model', async (t) => {
  const clients = [1n, 2n];
  const lockOwner = Buffer.from('same-bytes');
  fc.assert(
    fc.property(fc.array(stepArb, { maxLength: 40 }), (steps) => {
      const s = fresh();
      // Same owner bytes under two clients: the owner's identity includes its client.
      const opens = clients.map((c) => s.open(c, A, FILE, ShareAccess.BOTH, 0));
      const lockIds: (Stateid | undefined)[] = [undefined, undefined];
      const held: Held[] = [Array<LockType | undefined>(MODEL).fill(undefined), Array<LockType | undefined>(MODEL).fill(undefined)];
      for (const step of steps) {
        const [from, to] = span(step.offset, step.length);
        if (to <= from) continue;
        const me = held[step.who]!;
        const them = held[1 - step.who]!;
        if (step.op === 'lock') {
          let blocked = false;
          for (let b = from; b < to; b++) if (them[b] !== undefined && (them[b] === 'write' || step.type === 'write')) blocked = true;
          const current = lockIds[step.who];
          const req = current
            ? { type: step.type, range: wire(from, to), file: FILE, lockStateid: current }
            : { type: step.type, range: wire(from, to), file: FILE, openStateid: opens[step.who]!, owner: lockOwner };
          try {
            const next = s.lock(req);
            if (blocked) throw new Error(`granted over the other owner: ${JSON.stringify(step)}`);
            if (current && next.seqid !== current.seqid + 1) throw new Error('LOCK did not bump the seqid by one');
            lockIds[step.who] = next;
            for (let b = from; b < to; b++) me[b] = step.type;
          } catch (err) {
            if (!(err instanceof Nfs4Error)) throw err;
            if (!(err instanceof LockDenied) || !blocked) throw new Error(`refused with ${err.status}: ${JSON.stringify(step)}`);
            const c = err.conflict;
            const cFrom = Number(c.offset);
            const cTo = c.length === TO_END ? MODEL : cFrom + Number(c.length);
            if (c.clientId !== clients[1 - step.who] || !c.owner.equals(lockOwner)) throw new Error('the conflict names the wrong owner');
            if (cTo <= from || cFrom >= to) throw new Error('the conflict does not overlap the request');
            for (let b = cFrom; b < cTo; b++) if (them[b] !== c.type) throw new Error(`the conflict claims byte ${b}`);
          }
        } else {
          const current = lockIds[step.who];
          if (!current) continue;
          const next = s.unlock(current, FILE, wire(from, to));
          if (next.seqid !== current.seqid + 1) throw new Error('LOCKU did not bump the seqid by one');
          lockIds[step.who] = next;
          for (let b = from; b < to; b++) me[b] = undefined;
        }
      }
      // Probe every byte from the other owner's side: the reported range must be the owner's maximal run of one type.
      for (const who of [0, 1] as const) {
        const mine = held[who]!;
        for (let b = 0; b < MODEL; b++) {
          const c = s.lockTest(FILE, 'write', wire(b, b + 1), clients[1 - who]!, lockOwner);
          const want = mine[b];
          if (want === undefined) {
            if (c) throw new Error(`byte ${b} of owner ${who} reported held`);
            continue;
          }
          // The prober is the only other owner, so only this owner's locks can stand in its way.
          if (!c || c.clientId !== clients[who]) throw new Error(`byte ${b} of owner ${who} not reported`);
          let lo = b;
          while (lo > 0 && mine[lo - 1] === want) lo--;
          let hi = b + 1;
          while (hi < MODEL && mine[hi] === want) hi++;
          const expect = wire(lo, hi);
          if (c.type !== want || c.offset !== expect.offset || c.length !== expect.length) {
            throw new Error(`byte ${b}: got ${c.type} ${c.offset}+${c.length}, want ${want} ${expect.offset}+${expect.length}`);
          }
        }
      }
    }),
    { numRuns: 300 },
  );
  t.pass('matches the model');
});
