/**
 * NFSv4 file handles: those of NFSv3 for the shares' files and directories (persistent across restarts and
 * renames), and one more for the pseudo-root, the directory above the shares that `mount server:/` shows and
 * through which `mount server:/share` looks the share up.
 */
import type { FileAttributes } from '../../../../storage/files/file-attributes.js';
import { ROOT_INO } from '../../../../storage/files/file-attributes.js';
import type { OpenShare, ShareRegistry } from '../../../../storage/files/share-registry.js';
import { decodeHandle, encodeHandle } from '../file-handle.js';
import { clientAllowed } from '../share-access.js';
import { Nfs4Error, Nfs4Status } from './nfs4-constants.js';

export type Nfs4FileHandle = { kind: 'pseudo-root' } | { kind: 'share'; open: OpenShare; ino: number };

/** A format byte no NFSv3 handle uses, alone. */
const PSEUDO_ROOT_HANDLE = Buffer.from([2]);

export const PSEUDO_ROOT: Nfs4FileHandle = { kind: 'pseudo-root' };

export function handleBytes(fh: Nfs4FileHandle): Buffer {
  return fh.kind === 'pseudo-root' ? PSEUDO_ROOT_HANDLE : encodeHandle({ shareId: fh.open.share.shareId, ino: fh.ino });
}

/** The handle a client sent: BADHANDLE for garbage, STALE for a share that is gone, ACCESS for a client not on its list. */
export async function resolveHandle(shares: ShareRegistry, bytes: Buffer, clientAddress: string): Promise<Nfs4FileHandle> {
  if (bytes.equals(PSEUDO_ROOT_HANDLE)) return PSEUDO_ROOT;
  const decoded = decodeHandle(bytes);
  if (!decoded) throw new Nfs4Error(Nfs4Status.BADHANDLE, 'not a handle of this server');
  const open = await shares.open(decoded.shareId);
  // The registry finds shares by name too: a share named like the ID of a deleted one must not take its handles.
  if (open?.share.shareId !== decoded.shareId) throw new Nfs4Error(Nfs4Status.STALE, `share ${decoded.shareId} is gone`);
  if (!clientAllowed(open.share, clientAddress)) throw new Nfs4Error(Nfs4Status.ACCESS, `${clientAddress} is not on the share's client list`);
  return { kind: 'share', open, ino: decoded.ino };
}

/** A share's root, found by its export name below the pseudo-root; shares the client may not use are not there. */
export async function shareRoot(shares: ShareRegistry, name: string, clientAddress: string): Promise<Nfs4FileHandle> {
  const open = await shares.open(name);
  if (open?.share.name !== name || !clientAllowed(open.share, clientAddress)) throw new Nfs4Error(Nfs4Status.NOENT, `no share ${name}`);
  return { kind: 'share', open, ino: ROOT_INO };
}

/** The key the open and lock state files its stateids under. */
export function fileKey(fh: Nfs4FileHandle): string {
  return fh.kind === 'pseudo-root' ? 'pseudo-root' : `${fh.open.share.shareId}:${fh.ino}`;
}

/** fsid of a share: its ID's 32 bits, as NFSv3's fsid3; the pseudo-root's is 0. */
export function fsidOf(fh: Nfs4FileHandle): { major: bigint; minor: bigint } {
  return { major: fh.kind === 'pseudo-root' ? 0n : BigInt(`0x${fh.open.share.shareId.slice('share-'.length)}`), minor: 0n };
}

/** The pseudo-root is read-only to everyone and as old as the daemon. */
export function pseudoRootAttributes(startedNs: bigint): FileAttributes {
  return { kind: 'dir', mode: 0o555, uid: 0, gid: 0, size: 0, mtimeNs: startedNs, atimeNs: startedNs };
}
