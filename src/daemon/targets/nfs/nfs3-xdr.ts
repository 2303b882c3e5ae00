/**
 * The NFSv3 data types this server reads and writes (RFC 1813 §2.5-2.6), on top of the RPC layer's XDR codec.
 */
import type { FileAttributes } from '../../../storage/files/file-attributes.js';
import type { XdrReader, XdrWriter } from '../rpc/xdr.js';

export const NFS3_FHSIZE = 64;
/** filename3 and nfspath3 are unbounded strings in the RFC; names longer than NAME_MAX are refused anyway. */
export const NAME_MAX = 255;
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

/** wcc_data with neither side: allowed by the RFC, and the client then refetches attributes. */
export function writeEmptyWcc(results: XdrWriter): void {
  results.bool(false).bool(false);
}
