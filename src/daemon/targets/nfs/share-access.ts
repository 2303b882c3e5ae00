/**
 * Who may call a share and as whom: the client list (checked at MNT and on every call, as AWS does), squash of
 * the caller's identity, and the permission bits an ACCESS call reports.
 */
import type { ShareRecord } from '../../../storage/catalog/catalog.js';
import type { FileAttributes } from '../../../storage/files/file-attributes.js';
import { ClientList } from '../../../storage/files/client-list.js';
import type { Credentials } from '../rpc/auth.js';

/** The anonymous user that squashed callers become (AWS's and knfsd's nfsnobody). */
const NOBODY = 65534;

export interface Caller {
  uid: number;
  gids: number[];
}

/** ACCESS3 bits (RFC 1813 §3.3.4). */
export const Access = { READ: 0x1, LOOKUP: 0x2, MODIFY: 0x4, EXTEND: 0x8, DELETE: 0x10, EXECUTE: 0x20 } as const;
const CHANGES = Access.MODIFY | Access.EXTEND | Access.DELETE;

const clientLists = new WeakMap<ShareRecord, ClientList>();

export function clientAllowed(share: ShareRecord, address: string): boolean {
  let list = clientLists.get(share);
  if (!list) clientLists.set(share, (list = new ClientList(share.settings.clientList)));
  return list.allows(address);
}

export function callerOf(share: ShareRecord, auth: Credentials): Caller {
  if (auth.flavor !== 'sys') return { uid: NOBODY, gids: [NOBODY] };
  const squash = share.settings.squash;
  if (squash === 'all' || (squash === 'root' && auth.uid === 0)) return { uid: NOBODY, gids: [NOBODY] };
  const gids = [auth.gid, ...auth.gids];
  // Root squash takes root's group too, as knfsd's does.
  return { uid: auth.uid, gids: squash === 'root' ? gids.map((gid) => (gid === 0 ? NOBODY : gid)) : gids };
}

/** The rights among `wanted` that the mode bits give the caller; a read-only share grants no change. */
export function grantedAccess(a: FileAttributes, caller: Caller, wanted: number, writable: boolean): number {
  let bits: number;
  if (caller.uid === 0) bits = 0o7;
  else if (caller.uid === a.uid) bits = (a.mode >> 6) & 0o7;
  else if (caller.gids.includes(a.gid)) bits = (a.mode >> 3) & 0o7;
  else bits = a.mode & 0o7;
  let granted = 0;
  if (bits & 0o4) granted |= Access.READ;
  if (bits & 0o2) granted |= a.kind === 'dir' ? CHANGES : Access.MODIFY | Access.EXTEND;
  if (bits & 0o1) granted |= a.kind === 'dir' ? Access.LOOKUP : Access.EXECUTE;
  // Root may search any directory, but runs only what someone may run.
  if (caller.uid === 0 && a.kind === 'file' && (a.mode & 0o111) === 0) granted &= ~Access.EXECUTE;
  if (!writable) granted &= ~CHANGES;
  return granted & wanted;
}
