/**
 * fattr4 encoding and decoding, checked against RFC 8881's XDR as written out here rather than against the
 * module's own tables: a value of the wrong width or in the wrong place shifts every attribute after it.
 */
import fc from 'fast-check';
import t from 'tap';
import type { FileAttributes } from '../../../../../src/storage/files/file-attributes.js';
import { XdrDecodeError, XdrReader, XdrWriter } from '../../../../../src/daemon/targets/rpc/xdr.js';
import {
  Attr, SUPPORTED_ATTRS, WRITE_ONLY_ATTRS, attrsIn, bitmapOf, readBitmap, readFattr, writeBitmap, writeFattr, type AttrSubject, type Bitmap,
} from '../../../../../src/daemon/targets/nfs/v4/nfs4-attributes.js';
import { Nfs4Error, Nfs4Status } from '../../../../../src/daemon/targets/nfs/v4/nfs4-constants.js';

const TiB = 2 ** 40;
const MTIME = 1_700_000_000_123_456_789n;
const ATIME = 1_700_000_100_000_000_001n;
const FILE: FileAttributes = { kind: 'file', mode: 0o640, uid: 1000, gid: 100, size: 12345, mtimeNs: MTIME, atimeNs: ATIME };
const subject = (attrs: FileAttributes = FILE): AttrSubject => ({
  attrs, fileid: 4242, fsid: { major: 7n, minor: 9n }, handle: Buffer.from('0123456789abcdefXYZ'),
});

/** The XDR type of every attribute the server may return (RFC 8881 §5.6-5.8). */
type Kind = 'bitmap' | 'u32' | 'u64' | 'bool' | 'fsid' | 'fh' | 'utf8' | 'time' | 'specdata';
const KIND: Record<number, Kind> = {
  0: 'bitmap', 1: 'u32', 2: 'u32', 3: 'u64', 4: 'u64', 5: 'bool', 6: 'bool', 7: 'bool', 8: 'fsid', 9: 'bool', 10: 'u32',
  11: 'u32', 13: 'u32', 15: 'bool', 16: 'bool', 17: 'bool', 18: 'bool', 19: 'fh', 20: 'u64', 21: 'u64', 22: 'u64', 23: 'u64',
  26: 'bool', 27: 'u64', 28: 'u32', 29: 'u32', 30: 'u64', 31: 'u64', 33: 'u32', 34: 'bool', 35: 'u32', 36: 'utf8', 37: 'utf8',
  41: 'specdata', 42: 'u64', 43: 'u64', 44: 'u64', 45: 'u64', 47: 'time', 51: 'time', 52: 'time', 53: 'time', 55: 'u64',
  75: 'bitmap',
};

type Value = number | bigint | boolean | string | Buffer | number[] | [bigint, bigint] | [bigint, number] | [number, number];

function readValue(r: XdrReader, kind: Kind): Value {
  switch (kind) {
    case 'bitmap': return r.array(16, (x) => x.uint32());
    case 'u32': return r.uint32();
    case 'u64': return r.uint64();
    case 'bool': return r.bool();
    case 'fsid': return [r.uint64(), r.uint64()];
    case 'fh': return Buffer.from(r.opaque(128));
    case 'utf8': return r.string(1024);
    case 'time': return [r.int64(), r.uint32()];
    case 'specdata': return [r.uint32(), r.uint32()];
  }
}

/** A whole fattr4, each returned attribute read by its own type; leftover bytes fail it. */
function decode(buf: Buffer): { bitmap: Bitmap; values: Map<number, Value>; rest: number } {
  const r = new XdrReader(buf);
  const bitmap = r.array(16, (x) => x.uint32());
  const body = new XdrReader(r.opaque(1 << 20));
  const values = new Map<number, Value>();
  for (const attr of attrsIn(bitmap)) {
    const kind = KIND[attr];
    if (!kind) throw new Error(`attribute ${attr} has no known type`);
    values.set(attr, readValue(body, kind));
  }
  if (body.remaining !== 0) throw new Error(`${body.remaining} bytes after the attributes`);
  return { bitmap, values, rest: r.remaining };
}

const fattr = (requested: Bitmap, s = subject(), rdattrError?: number): Buffer => {
  const w = new XdrWriter();
  writeFattr(w, requested, s, rdattrError);
  return Buffer.from(w.toBuffer());
};

/** A client's fattr4: bitmap, then the values as the test packs them. */
const sent = (attrs: readonly number[], values: (w: XdrWriter) => void): XdrReader => {
  const body = new XdrWriter();
  values(body);
  const w = new XdrWriter();
  writeBitmap(w, bitmapOf(attrs));
  w.opaque(body.toBuffer());
  return new XdrReader(Buffer.from(w.toBuffer()));
};

const status = (fn: () => unknown): number | string => {
  try {
    fn();
    return 'no error';
  } catch (err) {
    return err instanceof Nfs4Error ? err.status : String(err);
  }
};

const LINUX_DEFAULT = [1, 3, 4, 8, 20, 33, 35, 36, 37, 41, 45, 47, 52, 53, 55];

t.test('bitmaps', async (t) => {
  t.same(bitmapOf([]), []);
  t.same(bitmapOf([0]), [1]);
  t.same(bitmapOf([31]), [0x80000000], 'bit 31 stays unsigned');
  t.same(bitmapOf([75]), [0, 0, 0x800]);
  t.same(bitmapOf(LINUX_DEFAULT), [0x0010011a, 0x00b0a23a]);
  t.same(attrsIn([0x0010011a, 0x00b0a23a]), LINUX_DEFAULT);
  t.same(attrsIn([0, 0, 0]), []);

  const w = new XdrWriter();
  writeBitmap(w, [0x0010011a, 0x00b0a23a]);
  t.same(w.toBuffer(), Buffer.from('000000020010011a00b0a23a', 'hex'));
  t.same(readBitmap(new XdrReader(Buffer.from(w.toBuffer()))), [0x0010011a, 0x00b0a23a]);

  const words = (n: number) => new XdrWriter().array(Array.from({ length: n }, () => 0xffffffff), (x, v) => x.uint32(v)).toBuffer();
  t.equal(readBitmap(new XdrReader(Buffer.from(words(8)))).length, 8);
  t.throws(() => readBitmap(new XdrReader(Buffer.from(words(9)))), XdrDecodeError);
  t.throws(() => readBitmap(new XdrReader(Buffer.from('ffffffff', 'hex'))), XdrDecodeError, 'a count the bytes cannot hold');
});

t.test("Linux's default GETATTR, byte for byte", async (t) => {
  const buf = fattr(bitmapOf(LINUX_DEFAULT));
  const r = new XdrReader(buf);
  t.same(r.array(8, (x) => x.uint32()), [0x0010011a, 0x00b0a23a], 'every attribute asked for is returned');
  const length = r.uint32();
  t.equal(length, r.remaining, 'attrlist4 runs to the end');
  t.equal(r.uint32(), 1, 'type REG');
  t.equal(r.uint64(), MTIME, 'change = mtime in ns');
  t.equal(r.uint64(), 12345n, 'size');
  t.same([r.uint64(), r.uint64()], [7n, 9n], 'fsid');
  t.equal(r.uint64(), 4242n, 'fileid');
  t.equal(r.uint32(), 0o640, 'mode');
  t.equal(r.uint32(), 1, 'numlinks');
  t.same(r.opaque(100), Buffer.from('1000'), 'owner');
  t.same(r.opaque(100), Buffer.from('100'), 'owner_group');
  t.same([r.uint32(), r.uint32()], [0, 0], 'rawdev');
  t.equal(r.uint64(), 12345n, 'space_used');
  t.same([r.int64(), r.uint32()], [1_700_000_100n, 1], 'time_access');
  t.same([r.int64(), r.uint32()], [1_700_000_000n, 123_456_789], 'time_metadata');
  t.same([r.int64(), r.uint32()], [1_700_000_000n, 123_456_789], 'time_modify');
  t.equal(r.uint64(), 4242n, 'mounted_on_fileid');
  t.equal(r.remaining, 0);
  t.equal(length, 4 + 8 + 8 + 16 + 8 + 4 + 4 + 8 + 8 + 8 + 8 + 3 * 12 + 8);

  // owner_group "100" takes 3 bytes plus one of padding, which must be zero.
  const group = buf.indexOf(Buffer.from('100'), buf.indexOf(Buffer.from('1000')) + 4);
  t.equal(buf[group + 3], 0);
});

t.test('a directory', async (t) => {
  const dir: FileAttributes = { ...FILE, kind: 'dir', mode: 0o2755, size: 4096 };
  const { values } = decode(fattr(bitmapOf([Attr.TYPE, Attr.MODE, Attr.NUMLINKS]), subject(dir)));
  t.same([...values], [[1, 2], [33, 0o2755], [35, 2]]);
});

t.test('constant attributes (spec §11)', async (t) => {
  const { values } = decode(fattr(bitmapOf(attrsIn(SUPPORTED_ATTRS))));
  const expected: [number, Value][] = [
    [Attr.FH_EXPIRE_TYPE, 0], [Attr.LINK_SUPPORT, false], [Attr.SYMLINK_SUPPORT, false], [Attr.NAMED_ATTR, false],
    [Attr.UNIQUE_HANDLES, true], [Attr.LEASE_TIME, 90], [Attr.ACLSUPPORT, 0], [Attr.CANSETTIME, true],
    [Attr.CASE_INSENSITIVE, false], [Attr.CASE_PRESERVING, true], [Attr.CHOWN_RESTRICTED, true],
    [Attr.FILEHANDLE, Buffer.from('0123456789abcdefXYZ')], [Attr.FILES_AVAIL, 2n ** 32n], [Attr.FILES_FREE, 2n ** 32n],
    [Attr.FILES_TOTAL, 2n ** 32n], [Attr.HOMOGENEOUS, true], [Attr.MAXFILESIZE, BigInt(5 * TiB)], [Attr.MAXLINK, 1],
    [Attr.MAXNAME, 255], [Attr.MAXREAD, 1048576n], [Attr.MAXWRITE, 1048576n], [Attr.NO_TRUNC, true],
    [Attr.SPACE_AVAIL, 2n ** 63n - 1n], [Attr.SPACE_FREE, 2n ** 63n - 1n], [Attr.SPACE_TOTAL, 2n ** 63n - 1n],
    [Attr.TIME_DELTA, [0n, 1]], [Attr.SUPPATTR_EXCLCREAT, []], [Attr.SUPPORTED_ATTRS, SUPPORTED_ATTRS],
  ];
  for (const [attr, value] of expected) t.same(values.get(attr), value, `attribute ${attr}`);
  t.notOk(values.has(Attr.RDATTR_ERROR), 'rdattr_error only when one is given');
});

t.test('supported_attrs', async (t) => {
  const supported = attrsIn(SUPPORTED_ATTRS);
  for (const required of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 19, 75]) t.ok(supported.includes(required), `REQUIRED ${required}`);
  for (const left of [12, 14, 24, 25, 46, 49, 50, 62, 64, 65]) t.notOk(supported.includes(left), `not ${left}`);
  for (const settable of [48, 54]) t.ok(supported.includes(settable), `settable ${settable}`);
  t.same(attrsIn(WRITE_ONLY_ATTRS), [48, 54]);
  t.equal(SUPPORTED_ATTRS.length, 3, 'no trailing zero word');

  // Everything listed but the write-only pair comes back when asked for, so the list promises nothing it lacks.
  const { bitmap } = decode(fattr(SUPPORTED_ATTRS, subject(), Nfs4Status.OK));
  t.same(attrsIn(bitmap), supported.filter((a) => a !== 48 && a !== 54));
});

t.test('unsupported and write-only attributes are left out', async (t) => {
  const asked = [Attr.TYPE, 12, 14, 25, 46, 48, 49, 50, 54, 62, 65, 76, 100, 255];
  const { bitmap, values } = decode(fattr(bitmapOf(asked)));
  t.same(attrsIn(bitmap), [Attr.TYPE]);
  t.same(values.get(Attr.TYPE), 1);
  const empty = decode(fattr(bitmapOf([12, 50])));
  t.same(empty.bitmap, [], 'nothing returned is an empty bitmap');
  t.equal(empty.values.size, 0);
});

t.test('rdattr_error', async (t) => {
  const asked = bitmapOf([Attr.RDATTR_ERROR, Attr.MOUNTED_ON_FILEID]);
  t.same([...decode(fattr(asked, subject(), Nfs4Status.OK)).values], [[11, 0], [55, 4242n]]);
  t.same([...decode(fattr(asked, subject(), Nfs4Status.ACCESS)).values], [[11, 13], [55, 4242n]]);
  t.same([...decode(fattr(asked, subject())).values], [[55, 4242n]], 'left out when none is given');
  t.same([...decode(fattr(bitmapOf([Attr.FILEID]), subject(), Nfs4Status.OK)).values], [[20, 4242n]], 'left out when not asked for');
});

t.test('times before the epoch and odd mtimes still encode', async (t) => {
  const old = { ...FILE, mtimeNs: -1n, atimeNs: -1_500_000_000n };
  const { values } = decode(fattr(bitmapOf([Attr.CHANGE, Attr.TIME_ACCESS, Attr.TIME_MODIFY]), subject(old)));
  t.same(values.get(Attr.TIME_MODIFY), [-1n, 999_999_999]);
  t.same(values.get(Attr.TIME_ACCESS), [-2n, 500_000_000]);
  t.equal(values.get(Attr.CHANGE), 2n ** 64n - 1n);
});

const arbAttrs = fc.array(fc.nat({ max: 255 }), { maxLength: 40 });
const arbSubject: fc.Arbitrary<AttrSubject> = fc.record({
  attrs: fc.record({
    kind: fc.constantFrom('file' as const, 'dir' as const),
    mode: fc.nat({ max: 0o7777 }),
    uid: fc.nat({ max: 4294967294 }),
    gid: fc.nat({ max: 4294967294 }),
    size: fc.nat({ max: 5 * TiB }),
    mtimeNs: fc.bigInt({ min: -(2n ** 62n), max: 2n ** 63n - 1n }),
    atimeNs: fc.bigInt({ min: -(2n ** 62n), max: 2n ** 63n - 1n }),
  }),
  fileid: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
  fsid: fc.record({ major: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), minor: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }),
  handle: fc.uint8Array({ maxLength: 128 }).map((a) => Buffer.from(a)),
});

t.test('property: bitmapOf and attrsIn', async (t) => {
  fc.assert(fc.property(arbAttrs, (attrs) => {
    const b = bitmapOf(attrs);
    const sorted = [...new Set(attrs)].sort((x, y) => x - y);
    if (JSON.stringify(attrsIn(b)) !== JSON.stringify(sorted)) return false;
    if (b.length > 0 && b[b.length - 1] === 0) return false;
    return JSON.stringify(bitmapOf(attrsIn(b))) === JSON.stringify(b);
  }));
  fc.assert(fc.property(fc.array(fc.nat({ max: 0xffffffff }), { maxLength: 8 }), (words) => {
    const w = new XdrWriter();
    writeBitmap(w, words);
    const r = new XdrReader(Buffer.from(w.toBuffer()));
    return JSON.stringify(readBitmap(r)) === JSON.stringify(words) && r.remaining === 0;
  }));
  t.pass();
});

t.test('property: writeFattr returns exactly the supported attrs asked for, each to its exact length', async (t) => {
  const readable = new Set(attrsIn(SUPPORTED_ATTRS).filter((a) => !attrsIn(WRITE_ONLY_ATTRS).includes(a)));
  fc.assert(fc.property(arbAttrs, arbSubject, fc.option(fc.nat({ max: 10087 }), { nil: undefined }), (attrs, s, err) => {
    const { bitmap, values, rest } = decode(fattr(bitmapOf(attrs), s, err));
    const expected = [...new Set(attrs)].filter((a) => readable.has(a) && (a !== Attr.RDATTR_ERROR || err !== undefined)).sort((x, y) => x - y);
    if (rest !== 0 || JSON.stringify(attrsIn(bitmap)) !== JSON.stringify(expected)) return false;
    if (!attrsIn(bitmap).every((a) => attrsIn(SUPPORTED_ATTRS).includes(a))) return false;
    const owner = values.get(Attr.OWNER);
    if (owner !== undefined && owner !== String(s.attrs.uid)) return false;
    const size = values.get(Attr.SIZE);
    if (size !== undefined && size !== BigInt(s.attrs.size)) return false;
    const fh = values.get(Attr.FILEHANDLE);
    return fh === undefined || (fh as Buffer).equals(s.handle);
  }));
  t.pass();
});

t.test('property: readFattr on any bytes fails only with XdrDecodeError or Nfs4Error', async (t) => {
  const settable: number[] = [Attr.SIZE, Attr.MODE, Attr.OWNER, Attr.OWNER_GROUP, Attr.TIME_ACCESS_SET, Attr.TIME_MODIFY_SET];
  // Pure noise rarely gets past the bitmap, so half the cases are a well-formed header over a random attrlist.
  const noise = fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a));
  const framed = fc.tuple(fc.subarray(settable), fc.uint8Array({ maxLength: 80 }), fc.integer({ min: -8, max: 8 })).map(([attrs, body, skew]) => {
    const w = new XdrWriter();
    writeBitmap(w, bitmapOf(attrs));
    w.uint32(Math.max(0, body.length + skew)).fixedOpaque(body);
    return Buffer.from(w.toBuffer());
  });
  fc.assert(fc.property(fc.oneof(noise, framed), (buf) => {
    try {
      const { change, set } = readFattr(new XdrReader(buf), () => 5n);
      return attrsIn(set).every((a) => settable.includes(a)) && (change.size === undefined || change.size <= 5 * TiB);
    } catch (err) {
      return err instanceof XdrDecodeError || err instanceof Nfs4Error;
    }
  }), { numRuns: 2000 });
  t.pass();
});

t.test('readFattr applies mode, owners, size and times', async (t) => {
  let clock = 0;
  const now = () => {
    clock++;
    return 77n;
  };
  const r = sent([4, 33, 36, 37, 48, 54], (w) => {
    w.uint64(4096n).uint32(0o100755).string('1000').string('0').uint32(0).uint32(1).int64(1_600_000_000n).uint32(5);
  });
  const { change, set } = readFattr(r, now);
  t.same(change, { size: 4096, mode: 0o755, uid: 1000, gid: 0, atimeNs: 77n, mtimeNs: 1_600_000_000_000_000_005n });
  t.same(attrsIn(set), [4, 33, 36, 37, 48, 54]);
  t.equal(r.remaining, 0);

  const both = readFattr(sent([48, 54], (w) => w.uint32(0).uint32(0)), now);
  t.same(both.change, { atimeNs: 77n, mtimeNs: 77n });
  t.equal(clock, 2, 'one reading of the clock per fattr4');

  const none = readFattr(sent([], () => {}), now);
  t.same(none, { change: {}, set: [] });
  t.equal(readFattr(sent([4], (w) => w.uint64(BigInt(5 * TiB))), now).change.size, 5 * TiB, 'maxfilesize itself is allowed');
});

t.test('readFattr refusals', async (t) => {
  const now = () => 1n;
  t.equal(status(() => readFattr(sent([36], (w) => w.string('alice@example')), now)), Nfs4Status.BADOWNER);
  t.equal(status(() => readFattr(sent([37], (w) => w.string('')), now)), Nfs4Status.BADOWNER);
  t.equal(status(() => readFattr(sent([37], (w) => w.string('-1')), now)), Nfs4Status.BADOWNER);
  t.equal(status(() => readFattr(sent([36], (w) => w.string('4294967295')), now)), Nfs4Status.BADOWNER);
  t.equal(status(() => readFattr(sent([1], (w) => w.uint32(1)), now)), Nfs4Status.INVAL, 'type is read-only');
  t.equal(status(() => readFattr(sent([20], (w) => w.uint64(1n)), now)), Nfs4Status.INVAL, 'fileid is read-only');
  t.equal(status(() => readFattr(sent([11], (w) => w.uint32(0)), now)), Nfs4Status.INVAL, 'rdattr_error is read-only');
  t.equal(status(() => readFattr(sent([12], (w) => w.uint32(0)), now)), Nfs4Status.ATTRNOTSUPP, 'acl');
  t.equal(status(() => readFattr(sent([1, 12], (w) => w.uint32(1).uint32(0)), now)), Nfs4Status.ATTRNOTSUPP, 'unsupported before read-only');
  t.equal(status(() => readFattr(sent([33, 200], (w) => w.uint32(0o644)), now)), Nfs4Status.ATTRNOTSUPP);
  t.equal(status(() => readFattr(sent([4], (w) => w.uint64(BigInt(5 * TiB) + 1n)), now)), Nfs4Status.FBIG);
  t.equal(status(() => readFattr(sent([54], (w) => w.uint32(1).int64(1n).uint32(1_000_000_000)), now)), Nfs4Status.INVAL, 'nseconds');
  t.equal(status(() => readFattr(sent([54], (w) => w.uint32(1).int64(-1n).uint32(0)), now)), Nfs4Status.INVAL, 'before the epoch');
  t.equal(status(() => readFattr(sent([54], (w) => w.uint32(2)), now)), Nfs4Status.BADXDR, 'time_how4 2');
  t.equal(status(() => readFattr(sent([33, 4], (w) => w.uint64(1n)), now)), Nfs4Status.BADXDR, 'attrlist too short');
  t.equal(status(() => readFattr(sent([33], (w) => w.uint32(0o644).uint32(0)), now)), Nfs4Status.BADXDR, 'attrlist too long');
  t.equal(status(() => readFattr(sent([36], (w) => w.uint32(40).uint32(0)), now)), Nfs4Status.BADXDR, 'owner past the attrlist');
  t.throws(() => readFattr(new XdrReader(Buffer.from('00000001000000100000000800', 'hex')), now), XdrDecodeError, 'fattr4 itself truncated');
});
