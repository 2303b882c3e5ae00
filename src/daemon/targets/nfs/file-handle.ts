/**
 * NFS file handles: opaque to clients, stable across restarts and renames, at most 64 bytes (NFS3_FHSIZE).
 *
 *   0 u8  format (1)   1 4B share id (the 8 hex digits of share-xxxxxxxx)   5 u64 inode
 *
 * A handle says nothing about the path, so a rename or a restart leaves it valid; a handle of another format, or
 * of a share that is gone, decodes to undefined and the caller answers NFS3ERR_STALE / BADHANDLE.
 */
const FORMAT = 1;
export const FILE_HANDLE_BYTES = 13;

export interface HandleTarget {
  shareId: string;
  ino: number;
}

export function encodeHandle({ shareId, ino }: HandleTarget): Buffer {
  const id = /^share-([0-9a-f]{8})$/.exec(shareId)?.[1];
  if (!id || !Number.isSafeInteger(ino) || ino < 1) throw new RangeError(`no handle for ${shareId} inode ${ino}`);
  const fh = Buffer.alloc(FILE_HANDLE_BYTES);
  fh.writeUInt8(FORMAT, 0);
  fh.write(id, 1, 'hex');
  fh.writeBigUInt64BE(BigInt(ino), 5);
  return fh;
}

export function decodeHandle(fh: Buffer): HandleTarget | undefined {
  if (fh.length !== FILE_HANDLE_BYTES || fh.readUInt8(0) !== FORMAT) return undefined;
  const ino = fh.readBigUInt64BE(5);
  if (ino < 1n || ino > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return { shareId: `share-${fh.subarray(1, 5).toString('hex')}`, ino: Number(ino) };
}
