import { asSgwError } from '../../../errors.js';

/** nfsstat3 (RFC 1813 §2.6), the ones this server answers. */
export const Nfs3Status = {
  OK: 0, PERM: 1, NOENT: 2, IO: 5, ACCES: 13, EXIST: 17, NOTDIR: 20, ISDIR: 21, INVAL: 22, FBIG: 27, NOSPC: 28,
  ROFS: 30, NAMETOOLONG: 63, NOTEMPTY: 66, STALE: 70, BADHANDLE: 10001, NOT_SYNC: 10002, BAD_COOKIE: 10003,
  NOTSUPP: 10004, TOOSMALL: 10005, SERVERFAULT: 10006, JUKEBOX: 10008,
} as const;
export type Nfs3Status = (typeof Nfs3Status)[keyof typeof Nfs3Status];

/** A procedure's answer other than OK, with the status the client gets. */
export class NfsError extends Error {
  constructor(readonly status: Nfs3Status, message: string) {
    super(message);
    this.name = 'NfsError';
  }
}

/**
 * The status for a failure of the storage layer. The store being away, or an object in an archive class, is
 * JUKEBOX: Linux and libnfs retry it later, as they would a hard mount, instead of failing the application.
 */
export function nfsStatusOf(err: unknown): Nfs3Status {
  if (err instanceof NfsError) return err.status;
  const e = asSgwError(err);
  switch (e.code) {
    case 'SGW_NOT_FOUND':
    case 'SGW_OBJECT_NOT_FOUND':
      return Nfs3Status.NOENT;
    case 'SGW_NOT_A_DIRECTORY':
      return Nfs3Status.NOTDIR;
    case 'SGW_IS_A_DIRECTORY':
      return Nfs3Status.ISDIR;
    case 'SGW_OBJECT_ARCHIVED':
      return Nfs3Status.JUKEBOX;
    case 'SGW_ALREADY_EXISTS':
      return Nfs3Status.EXIST;
    case 'SGW_NOT_EMPTY':
      return Nfs3Status.NOTEMPTY;
    case 'SGW_INVALID_ARGUMENT':
      return Nfs3Status.INVAL;
    default:
      return e.kind === 'backend' ? Nfs3Status.JUKEBOX : Nfs3Status.SERVERFAULT;
  }
}
