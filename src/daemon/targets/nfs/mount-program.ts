/**
 * MOUNT version 3 (RFC 1813 §5): hands out the root handle of a share's export path /<name>, or of a directory
 * below it (fio and some clients mount the whole URL path). The client list is checked here and again on every
 * NFS call. Mounts are remembered for DUMP only; UMNT just forgets them, as mountd does.
 */
import { ROOT_INO } from '../../../storage/files/file-attributes.js';
import type { ShareRegistry } from '../../../storage/files/share-registry.js';
import { AuthFlavor } from '../rpc/auth.js';
import type { RpcProgram } from '../rpc/rpc-dispatcher.js';
import { encodeHandle } from './file-handle.js';
import { nfsStatusOf, Nfs3Status } from './nfs3-status.js';
import { clientAllowed } from './share-access.js';

export const MOUNT_PROGRAM = 100005;
const MNTPATHLEN = 1024;
const MNTNAMLEN = 255;
const Procedure = { MNT: 1, DUMP: 2, UMNT: 3, UMNTALL: 4, EXPORT: 5 } as const;
/** mountstat3 */
const MountStatus = { OK: 0, NOENT: 2, IO: 5, ACCES: 13, NOTDIR: 20 } as const;

/** Mounts kept for DUMP, at most: a client that mounts forever cannot grow the list (or its reply) without end. */
const MAX_MOUNTS = 1000;

/** One entry per client and directory, however the path was spelled (// and trailing slashes). */
function mountKey(host: string, parts: string[]): string {
  return `${host} /${parts.filter((part) => part !== '').join('/')}`;
}

function remember(mounts: Map<string, { host: string; dir: string }>, host: string, parts: string[]): void {
  const key = mountKey(host, parts);
  mounts.delete(key);
  mounts.set(key, { host, dir: key.slice(host.length + 1) });
  if (mounts.size > MAX_MOUNTS) mounts.delete(mounts.keys().next().value!);
}

export function mountProgram(shares: ShareRegistry): RpcProgram {
  const mounts = new Map<string, { host: string; dir: string }>();
  return {
    name: 'mount',
    program: MOUNT_PROGRAM,
    versions: {
      3: {
        [Procedure.MNT]: async ({ args, client }, results) => {
          const dir = args.string(MNTPATHLEN);
          const [name, ...below] = dir.split('/').filter((part) => part !== '');
          const opened = name === undefined ? undefined : await shares.open(name);
          // A share is found by its name only: IDs are no export paths.
          if (!opened || opened.share.name !== name) return void results.uint32(MountStatus.NOENT);
          if (!clientAllowed(opened.share, client.address)) return void results.uint32(MountStatus.ACCES);
          let ino = ROOT_INO;
          try {
            for (const part of below) ino = (await opened.namespace.lookup(ino, part)).ino;
            if ((await opened.namespace.getattr(ino)).kind !== 'dir') return void results.uint32(MountStatus.NOTDIR);
          } catch (err) {
            const status = nfsStatusOf(err);
            return void results.uint32(status === Nfs3Status.NOENT ? MountStatus.NOENT : status === Nfs3Status.NOTDIR ? MountStatus.NOTDIR : MountStatus.IO);
          }
          remember(mounts, client.address, [name, ...below]);
          results.uint32(MountStatus.OK).opaque(encodeHandle({ shareId: opened.share.shareId, ino })).array([AuthFlavor.SYS], (w, flavor) => w.uint32(flavor));
        },
        [Procedure.DUMP]: (_call, results) => {
          results.list(mounts.values(), (w, m) => w.string(m.host.slice(0, MNTNAMLEN)).string(m.dir));
        },
        [Procedure.UMNT]: ({ args, client }) => {
          mounts.delete(mountKey(client.address, args.string(MNTPATHLEN).split('/')));
        },
        [Procedure.UMNTALL]: ({ client }) => {
          for (const [key, m] of mounts) if (m.host === client.address) mounts.delete(key);
        },
        [Procedure.EXPORT]: (_call, results) => {
          results.list(shares.list(), (w, share) => w.string(`/${share.name}`).list(share.settings.clientList, (g, entry) => g.string(entry)));
        },
      },
    },
  };
}
