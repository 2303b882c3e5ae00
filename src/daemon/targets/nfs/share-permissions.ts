/**
 * The server's own checks before a change, the same for every NFS version: the mode bits decide, not the client,
 * and POSIX's rules say who may change which attribute. Failures are NfsErrors whose statuses NFSv4 shares with v3.
 */
import type { ShareRecord } from '../../../storage/catalog/catalog.js';
import type { FileAttributes } from '../../../storage/files/file-attributes.js';
import type { AttributeChange } from '../../../storage/files/share-namespace.js';
import type { Credentials } from '../rpc/auth.js';
import { Nfs3Status, NfsError } from './nfs3-status.js';
import { MAX_FILE_SIZE, NAME_MAX } from './nfs-limits.js';
import { Access, callerOf, grantedAccess, type Caller } from './share-access.js';

/** A call the mode bits do not allow the (squashed) caller is refused. */
export function requireAccess(share: ShareRecord, auth: Credentials, attrs: FileAttributes, anyOf: number): void {
  if (grantedAccess(attrs, callerOf(share, auth), anyOf, true) === 0) throw new NfsError(Nfs3Status.ACCES, 'the mode bits do not allow it');
}

/** The owner may always write its file, as with a local file it opened for writing before a chmod. */
export function requireWrite(share: ShareRecord, auth: Credentials, attrs: FileAttributes): void {
  if (callerOf(share, auth).uid !== attrs.uid) requireAccess(share, auth, attrs, Access.MODIFY | Access.EXTEND);
}

/** POSIX's rules: owner and group change by the owner (owner only by root), a size by a writer, times by either. */
export function checkAttributeChange(share: ShareRecord, auth: Credentials, attrs: FileAttributes, change: AttributeChange): void {
  const caller = callerOf(share, auth);
  const owner = caller.uid === 0 || caller.uid === attrs.uid;
  if ((change.mode !== undefined || change.gid !== undefined) && !owner) throw new NfsError(Nfs3Status.PERM, 'only the owner changes the mode or group');
  if (change.uid !== undefined && change.uid !== attrs.uid && caller.uid !== 0) throw new NfsError(Nfs3Status.PERM, 'only root changes the owner');
  if (change.size !== undefined) {
    if (attrs.kind === 'dir') throw new NfsError(Nfs3Status.INVAL, 'a directory has no size to set');
    if (change.size > MAX_FILE_SIZE) throw new NfsError(Nfs3Status.FBIG, 'beyond S3\'s largest object');
    requireWrite(share, auth, attrs);
  }
  if ((change.atimeNs !== undefined || change.mtimeNs !== undefined) && !owner) requireWrite(share, auth, attrs);
}

/** The owner and group a caller's new file or directory gets. */
export function ownerOf(caller: Caller): { uid: number; gid: number } {
  return { uid: caller.uid, gid: caller.gids[0] ?? caller.uid };
}

export function checkedName(name: string): string {
  if (name === '') throw new NfsError(Nfs3Status.NOENT, 'an empty name');
  if (Buffer.byteLength(name) > NAME_MAX) throw new NfsError(Nfs3Status.NAMETOOLONG, 'a name longer than 255 bytes');
  return name;
}
