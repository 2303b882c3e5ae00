/**
 * READDIR's cookies, the same for NFSv3 and v4: a cookie names an entry, not a place in a list (inode + 2, so
 * never one of the cookies 0-2 both versions reserve), and a client resuming after an entry that has since gone
 * still goes on at the right name.
 */
import type { FileAttributes } from '../../../storage/files/file-attributes.js';
import type { ShareNamespace } from '../../../storage/files/share-namespace.js';
import { Nfs3Status, NfsError } from './nfs3-status.js';

export interface DirectoryEntry {
  ino: number;
  name: string;
  cookie: bigint;
  attrs: FileAttributes;
}

/** The directory's entries after the one `cookie` names (0: from the first), in name order. */
export async function entriesAfter(namespace: ShareNamespace, dirIno: number, cookie: bigint): Promise<DirectoryEntry[]> {
  const listed = (await namespace.readdir(dirIno)).map((e) => ({ ino: e.ino, name: e.name, cookie: BigInt(e.ino) + 2n, attrs: e.attrs }));
  if (cookie === 0n) return listed;
  const at = listed.findIndex((e) => e.cookie === cookie);
  if (at >= 0) return listed.slice(at + 1);
  const name = cookie > 2n ? namespace.nameOf(Number(cookie - 2n)) : undefined;
  if (name === undefined) throw new NfsError(Nfs3Status.BAD_COOKIE, `cookie ${cookie} names no entry`);
  return listed.filter((e) => e.name > name);
}

/** The verifier READDIR hands out with its cookies: they stay valid as long as the share does. */
export function cookieVerifier(shareId: string): Buffer {
  return Buffer.from(shareId.slice('share-'.length).padEnd(16, '0'), 'hex');
}
