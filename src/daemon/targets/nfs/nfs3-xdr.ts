/**
 * The NFSv3 data types this server reads and writes (RFC 1813 §2.5-2.6), on top of the RPC layer's XDR codec.
 */
import type { FileAttributes } from '../../../storage/files/file-attributes.js';
import { XdrDecodeError, type XdrReader, type XdrWriter } from '../rpc/xdr.js';
import { MAX_FILE_SIZE } from './nfs-limits.js';

export const NFS3_FHSIZE = 64;
/** filename3 and nfspath3 are unbounded strings in the RFC: read up to this, names longer than NAME_MAX refused later. */
const MAX_PATH = 4096;

/** ftype3 */
const FileType = { REG: 1, DIR: 2 } as const;

export interface AttributeContext {
  /** fsid3 of the share. */
  fsid: bigint;
  fileid: number;
}

export function readHandle(args: XdrReader): Buffer {
  return args.opaque(NFS3_FHSIZE);
}

export function readName(args: XdrReader): string {
  return args.string(MAX_PATH);
}

export function writeHandle(results: XdrWriter, fh: Buffer): void {
  results.opaque(fh);
}

function writeTime(results: XdrWriter, ns: bigint): void {
  results.uint32(Number((ns / 1_000_000_000n) & 0xffffffffn)).uint32(Number(ns % 1_000_000_000n));
}

/** fattr3 */
export function writeAttributes(results: XdrWriter, a: FileAttributes, at: AttributeContext): void {
  const dir = a.kind === 'dir';
  results
    .uint32(dir ? FileType.DIR : FileType.REG)
    .uint32(a.mode)
    .uint32(dir ? 2 : 1)
    .uint32(a.uid)
    .uint32(a.gid)
    .uint64(a.size)
    .uint64(a.size)
    .uint32(0).uint32(0) // rdev
    .uint64(at.fsid)
    .uint64(at.fileid);
  writeTime(results, a.atimeNs);
  writeTime(results, a.mtimeNs);
  writeTime(results, a.mtimeNs); // ctime: objects keep no change time apart from their modification time
}

/** post_op_attr: attributes when they are at hand, else none (the client asks with GETATTR). */
export function writePostOpAttributes(results: XdrWriter, a: FileAttributes | undefined, at: AttributeContext): void {
  results.bool(a !== undefined);
  if (a) writeAttributes(results, a, at);
}

/** A change of attributes (sattr3): times are nanoseconds, or 'server' for the server's clock. */
export interface SetAttributes {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  atime?: bigint | 'server';
  mtime?: bigint | 'server';
}

function readTime(args: XdrReader): bigint {
  const seconds = BigInt(args.uint32());
  return seconds * 1_000_000_000n + BigInt(args.uint32());
}

function readSetTime(args: XdrReader): bigint | 'server' | undefined {
  // time_how: DONT_CHANGE, SET_TO_SERVER_TIME, SET_TO_CLIENT_TIME
  const how = args.uint32();
  if (how === 1) return 'server';
  if (how === 2) return readTime(args);
  if (how !== 0) throw new XdrDecodeError(`time_how ${how}`);
  return undefined;
}

/** sattr3 */
export function readSetAttributes(args: XdrReader): SetAttributes {
  const out: SetAttributes = {};
  if (args.bool()) out.mode = args.uint32() & 0o7777;
  if (args.bool()) out.uid = args.uint32();
  if (args.bool()) out.gid = args.uint32();
  if (args.bool()) {
    const size = args.uint64();
    out.size = size > BigInt(MAX_FILE_SIZE) ? MAX_FILE_SIZE + 1 : Number(size);
  }
  const atime = readSetTime(args);
  if (atime !== undefined) out.atime = atime;
  const mtime = readSetTime(args);
  if (mtime !== undefined) out.mtime = mtime;
  return out;
}

/** A time as sent in a guard (sattrguard3): the ctime the client expects. */
export function readGuard(args: XdrReader): bigint | undefined {
  return args.bool() ? readTime(args) : undefined;
}

/**
 * wcc_data: the attributes before (size, mtime, ctime) and after a change, each when at hand. The client checks
 * that nobody else changed the object in between and otherwise drops its cache of it.
 */
export function writeWcc(results: XdrWriter, before: FileAttributes | undefined, after: FileAttributes | undefined, at: AttributeContext): void {
  results.bool(before !== undefined);
  if (before) {
    results.uint64(before.size);
    writeTime(results, before.mtimeNs);
    writeTime(results, before.mtimeNs);
  }
  writePostOpAttributes(results, after, at);
}

/** wcc_data with neither side: allowed by the RFC, and the client then refetches attributes. */
export function writeEmptyWcc(results: XdrWriter): void {
  results.bool(false).bool(false);
}
