/**
 * NFSv4.1 file attributes (RFC 8881 §5): bitmap4 and fattr4 as GETATTR and READDIR return them, and fattr4 as
 * SETATTR, OPEN and CREATE send them. Files here are objects in a bucket, so most attributes are constants of the
 * gateway rather than of the file; the per-file ones come from FileAttributes.
 */
import type { FileAttributes } from '../../../../storage/files/file-attributes.js';
import type { AttributeChange } from '../../../../storage/files/share-namespace.js';
import { XdrDecodeError, XdrReader, XdrWriter } from '../../rpc/xdr.js';
import { BUCKET_BYTES, BUCKET_FILES, MAX_FILE_SIZE, MAX_IO, NAME_MAX } from '../nfs-limits.js';
import { FileType4, LEASE_SECONDS, Nfs4Error, Nfs4Status } from './nfs4-constants.js';
import { NUMERIC_OWNERS, type OwnerNames } from './nfs4-owners.js';

/** bitmap4: attribute n is bit 1 << (n & 31) of word n >> 5. */
export type Bitmap = number[];

/** FATTR4_* numbers (RFC 8881 §5.6-5.8, §5.11-5.12); SUPPORTED_ATTRS says which of them this server serves. */
export const Attr = {
  SUPPORTED_ATTRS: 0, TYPE: 1, FH_EXPIRE_TYPE: 2, CHANGE: 3, SIZE: 4, LINK_SUPPORT: 5, SYMLINK_SUPPORT: 6, NAMED_ATTR: 7,
  FSID: 8, UNIQUE_HANDLES: 9, LEASE_TIME: 10, RDATTR_ERROR: 11, ACL: 12, ACLSUPPORT: 13, ARCHIVE: 14, CANSETTIME: 15,
  CASE_INSENSITIVE: 16, CASE_PRESERVING: 17, CHOWN_RESTRICTED: 18, FILEHANDLE: 19, FILEID: 20, FILES_AVAIL: 21,
  FILES_FREE: 22, FILES_TOTAL: 23, FS_LOCATIONS: 24, HIDDEN: 25, HOMOGENEOUS: 26, MAXFILESIZE: 27, MAXLINK: 28,
  MAXNAME: 29, MAXREAD: 30, MAXWRITE: 31, MIMETYPE: 32, MODE: 33, NO_TRUNC: 34, NUMLINKS: 35, OWNER: 36, OWNER_GROUP: 37,
  QUOTA_AVAIL_HARD: 38, QUOTA_AVAIL_SOFT: 39, QUOTA_USED: 40, RAWDEV: 41, SPACE_AVAIL: 42, SPACE_FREE: 43,
  SPACE_TOTAL: 44, SPACE_USED: 45, SYSTEM: 46, TIME_ACCESS: 47, TIME_ACCESS_SET: 48, TIME_BACKUP: 49, TIME_CREATE: 50,
  TIME_DELTA: 51, TIME_METADATA: 52, TIME_MODIFY: 53, TIME_MODIFY_SET: 54, MOUNTED_ON_FILEID: 55, DIR_NOTIF_DELAY: 56,
  DIRENT_NOTIF_DELAY: 57, DACL: 58, SACL: 59, CHANGE_POLICY: 60, FS_STATUS: 61, FS_LAYOUT_TYPES: 62, LAYOUT_HINT: 63,
  LAYOUT_TYPES: 64, LAYOUT_BLKSIZE: 65, LAYOUT_ALIGNMENT: 66, FS_LOCATIONS_INFO: 67, MDSTHRESHOLD: 68,
  RETENTION_GET: 69, RETENTION_SET: 70, RETENTEVT_GET: 71, RETENTEVT_SET: 72, RETENTION_HOLD: 73, MODE_SET_MASKED: 74,
  SUPPATTR_EXCLCREAT: 75, FS_CHARSET_CAP: 76,
} as const;

/** 8 words reach attribute 255, far past the last one defined; more is a peer making us loop or allocate. */
const MAX_BITMAP_WORDS = 8;

export function bitmapOf(attrs: readonly number[]): Bitmap {
  const words: Bitmap = [];
  for (const a of attrs) {
    const word = a >> 5;
    while (words.length <= word) words.push(0);
    words[word] = (words[word]! | (1 << (a & 31))) >>> 0;
  }
  return words;
}

export function attrsIn(b: Bitmap): number[] {
  const attrs: number[] = [];
  b.forEach((word, i) => {
    for (let bit = 0; bit < 32; bit++) if ((word >>> bit) & 1) attrs.push(i * 32 + bit);
  });
  return attrs;
}

export function readBitmap(r: XdrReader): Bitmap {
  return r.array(MAX_BITMAP_WORDS, (x) => x.uint32());
}

export function writeBitmap(w: XdrWriter, b: Bitmap): void {
  w.array(b, (x, word) => x.uint32(word));
}

export interface AttrSubject {
  attrs: FileAttributes;
  /** The inode number. */
  fileid: number;
  /** One per share; the pseudo-root has its own, so that Linux sees each export as a filesystem of its own. */
  fsid: { major: bigint; minor: bigint };
  /** nfs_fh4, for attribute 19. */
  handle: Buffer;
  /** How owners are written; numeric ids when absent. */
  owners?: OwnerNames;
}

const NS_PER_S = 1_000_000_000n;

/** nfstime4; floor division keeps nseconds within 0..999999999 for times before the epoch. */
function writeTime(w: XdrWriter, ns: bigint): void {
  let seconds = ns / NS_PER_S;
  let rest = ns % NS_PER_S;
  if (rest < 0n) {
    seconds -= 1n;
    rest += NS_PER_S;
  }
  w.int64(seconds).uint32(Number(rest));
}

type AttrWriter = (w: XdrWriter, s: AttrSubject) => void;

/** Every attribute writeFattr returns, by number; rdattr_error is apart because its value is not the subject's. */
const WRITERS = new Map<number, AttrWriter>([
  [Attr.SUPPORTED_ATTRS, (w) => writeBitmap(w, SUPPORTED_ATTRS)],
  [Attr.TYPE, (w, s) => w.uint32(s.attrs.kind === 'dir' ? FileType4.DIR : FileType4.REG)],
  // Handles are derived from persistent ids (spec §14), so they never expire.
  [Attr.FH_EXPIRE_TYPE, (w) => w.uint32(0)],
  // Objects keep no ctime: mtime is the only stamp that moves with each change and survives a restart.
  [Attr.CHANGE, (w, s) => w.uint64(BigInt.asUintN(64, s.attrs.mtimeNs))],
  [Attr.SIZE, (w, s) => w.uint64(s.attrs.size)],
  // Hard links are refused, as AWS's file gateway does: an object has one key.
  [Attr.LINK_SUPPORT, (w) => w.bool(false)],
  [Attr.SYMLINK_SUPPORT, (w) => w.bool(false)],
  [Attr.NAMED_ATTR, (w) => w.bool(false)],
  [Attr.FSID, (w, s) => w.uint64(s.fsid.major).uint64(s.fsid.minor)],
  [Attr.UNIQUE_HANDLES, (w) => w.bool(true)],
  [Attr.LEASE_TIME, (w) => w.uint32(LEASE_SECONDS)],
  [Attr.ACLSUPPORT, (w) => w.uint32(0)],
  [Attr.CANSETTIME, (w) => w.bool(true)],
  [Attr.CASE_INSENSITIVE, (w) => w.bool(false)],
  [Attr.CASE_PRESERVING, (w) => w.bool(true)],
  [Attr.CHOWN_RESTRICTED, (w) => w.bool(true)],
  [Attr.FILEHANDLE, (w, s) => w.opaque(s.handle)],
  [Attr.FILEID, (w, s) => w.uint64(s.fileid)],
  [Attr.FILES_AVAIL, (w) => w.uint64(BUCKET_FILES)],
  [Attr.FILES_FREE, (w) => w.uint64(BUCKET_FILES)],
  [Attr.FILES_TOTAL, (w) => w.uint64(BUCKET_FILES)],
  [Attr.HOMOGENEOUS, (w) => w.bool(true)],
  // S3's largest object.
  [Attr.MAXFILESIZE, (w) => w.uint64(MAX_FILE_SIZE)],
  [Attr.MAXLINK, (w) => w.uint32(1)],
  [Attr.MAXNAME, (w) => w.uint32(NAME_MAX)],
  [Attr.MAXREAD, (w) => w.uint64(MAX_IO)],
  [Attr.MAXWRITE, (w) => w.uint64(MAX_IO)],
  [Attr.MODE, (w, s) => w.uint32(s.attrs.mode & 0o7777)],
  [Attr.NO_TRUNC, (w) => w.bool(true)],
  [Attr.NUMLINKS, (w, s) => w.uint32(s.attrs.kind === 'dir' ? 2 : 1)],
  // Numeric ids: Linux with sec=sys takes them as they are, with no idmapd on either side.
  [Attr.OWNER, (w, s) => w.string((s.owners ?? NUMERIC_OWNERS).nameOf(s.attrs.uid, false))],
  [Attr.OWNER_GROUP, (w, s) => w.string((s.owners ?? NUMERIC_OWNERS).nameOf(s.attrs.gid, true))],
  [Attr.RAWDEV, (w) => w.uint32(0).uint32(0)],
  [Attr.SPACE_AVAIL, (w) => w.uint64(BUCKET_BYTES)],
  [Attr.SPACE_FREE, (w) => w.uint64(BUCKET_BYTES)],
  [Attr.SPACE_TOTAL, (w) => w.uint64(BUCKET_BYTES)],
  [Attr.SPACE_USED, (w, s) => w.uint64(s.attrs.size)],
  [Attr.TIME_ACCESS, (w, s) => writeTime(w, s.attrs.atimeNs)],
  [Attr.TIME_DELTA, (w) => w.int64(0).uint32(1)],
  [Attr.TIME_METADATA, (w, s) => writeTime(w, s.attrs.mtimeNs)],
  [Attr.TIME_MODIFY, (w, s) => writeTime(w, s.attrs.mtimeNs)],
  // Shares are not mounted on one another inside this server, so no object is a mount point.
  [Attr.MOUNTED_ON_FILEID, (w, s) => w.uint64(s.fileid)],
  // Empty: Linux then sets the attributes of an EXCLUSIVE4_1 create with a SETATTR, which needs nothing special here.
  [Attr.SUPPATTR_EXCLCREAT, (w) => writeBitmap(w, [])],
]);

/** Attributes a client may set but never read back (RFC 8881 §5.7): GETATTR asking for one is NFS4ERR_INVAL. */
export const WRITE_ONLY_ATTRS: Bitmap = bitmapOf([Attr.TIME_ACCESS_SET, Attr.TIME_MODIFY_SET]);

/** What readFattr accepts. */
const SETTABLE = new Set<number>([Attr.SIZE, Attr.MODE, Attr.OWNER, Attr.OWNER_GROUP, Attr.TIME_ACCESS_SET, Attr.TIME_MODIFY_SET]);

/**
 * Everything writeFattr can return, plus the two write-only time attributes, which a client must see listed to
 * know it may set them.
 */
export const SUPPORTED_ATTRS: Bitmap = bitmapOf([...WRITERS.keys(), Attr.RDATTR_ERROR, ...attrsIn(WRITE_ONLY_ATTRS)]);

const SUPPORTED = new Set(attrsIn(SUPPORTED_ATTRS));

/**
 * fattr4 of the supported attrs among `requested`, in ascending order: bitmap4 then attrlist4 (opaque<>).
 * Unsupported requested attrs are silently left out. rdattrError (attr 11) is written only if requested and given.
 */
export function writeFattr(w: XdrWriter, requested: Bitmap, s: AttrSubject, rdattrError?: number): void {
  const returned: number[] = [];
  const values = new XdrWriter();
  for (const attr of attrsIn(requested)) {
    if (attr === Attr.RDATTR_ERROR) {
      if (rdattrError === undefined) continue;
      values.uint32(rdattrError);
    } else {
      const write = WRITERS.get(attr);
      if (!write) continue;
      write(values, s);
    }
    returned.push(attr);
  }
  writeBitmap(w, bitmapOf(returned));
  w.opaque(values.toBuffer());
}

export interface DecodedAttrs {
  change: AttributeChange;
  /** The attributes applied (attrsset in SETATTR, attrset in OPEN and CREATE). */
  set: Bitmap;
}

function readId(r: XdrReader, max: number, owners: OwnerNames, group: boolean): number {
  const text = r.string(max);
  const id = owners.idOf(text, group);
  if (id === undefined) throw new Nfs4Error(Nfs4Status.BADOWNER, `${group ? 'owner_group' : 'owner'} ${JSON.stringify(text.slice(0, 64))} names nobody here`);
  return id;
}

/** settime4 */
function readSetTime(r: XdrReader, now: () => bigint): bigint {
  const how = r.uint32();
  if (how === 0) return now();
  if (how !== 1) throw new Nfs4Error(Nfs4Status.BADXDR, `time_how4 ${how}`);
  const seconds = r.int64();
  const nseconds = r.uint32();
  if (nseconds >= 1_000_000_000) throw new Nfs4Error(Nfs4Status.INVAL, `nseconds ${nseconds}`);
  // Object metadata keeps unsigned nanoseconds, so a time before the epoch could not be read back.
  if (seconds < 0n) throw new Nfs4Error(Nfs4Status.INVAL, `time ${seconds} s is before the epoch`);
  return seconds * NS_PER_S + BigInt(nseconds);
}

/** Any value read from a peer fits in one request; the reader's own bound of the bytes left applies too. */
const MAX_ATTRLIST = 1 << 20;

/**
 * fattr4 sent by a client (SETATTR, OPEN/CREATE createattrs). An attr that is supported but read-only is
 * NFS4ERR_INVAL, an unsupported one NFS4ERR_ATTRNOTSUPP, and an attrlist that its attributes do not fill exactly is
 * NFS4ERR_BADXDR. An owner `owners` cannot map is NFS4ERR_BADOWNER; a size beyond maxfilesize is NFS4ERR_FBIG.
 */
export function readFattr(r: XdrReader, now: () => bigint, owners: OwnerNames = NUMERIC_OWNERS): DecodedAttrs {
  const attrs = attrsIn(readBitmap(r));
  const body = r.opaque(MAX_ATTRLIST);
  // Unsupported first: its value's length is unknown, and it is the more useful answer to a client probing us.
  const unsupported = attrs.find((a) => !SUPPORTED.has(a));
  if (unsupported !== undefined) throw new Nfs4Error(Nfs4Status.ATTRNOTSUPP, `attribute ${unsupported} is not supported`);
  const readOnly = attrs.find((a) => !SETTABLE.has(a));
  if (readOnly !== undefined) throw new Nfs4Error(Nfs4Status.INVAL, `attribute ${readOnly} is read-only`);

  let serverTime: bigint | undefined;
  // One reading of the clock for both times, so that `touch` sets atime and mtime alike.
  const serverNow = () => (serverTime ??= now());
  const values = new XdrReader(body);
  const change: AttributeChange = {};
  try {
    for (const attr of attrs) {
      switch (attr) {
        case Attr.SIZE: {
          const size = values.uint64();
          if (size > BigInt(MAX_FILE_SIZE)) throw new Nfs4Error(Nfs4Status.FBIG, `size ${size} exceeds maxfilesize`);
          change.size = Number(size);
          break;
        }
        case Attr.MODE: change.mode = values.uint32() & 0o7777; break;
        case Attr.OWNER: change.uid = readId(values, body.length, owners, false); break;
        case Attr.OWNER_GROUP: change.gid = readId(values, body.length, owners, true); break;
        case Attr.TIME_ACCESS_SET: change.atimeNs = readSetTime(values, serverNow); break;
        case Attr.TIME_MODIFY_SET: change.mtimeNs = readSetTime(values, serverNow); break;
      }
    }
  } catch (err) {
    if (err instanceof XdrDecodeError) throw new Nfs4Error(Nfs4Status.BADXDR, `attrlist4: ${err.message}`);
    throw err;
  }
  if (values.remaining !== 0) throw new Nfs4Error(Nfs4Status.BADXDR, `attrlist4 has ${values.remaining} bytes past its attributes`);
  return { change, set: bitmapOf(attrs) };
}
