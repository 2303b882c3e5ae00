/**
 * NFS version 3 (RFC 1813) over file shares. Every call is checked against its share's client list, and changes
 * against its read-only flag. Links, symbolic links and special files answer NFS3ERR_NOTSUPP, as AWS's file gateway
 * has none. Unstable writes are answered once in the cache file, COMMIT once synced to disk; the write verifier is
 * new with every start, so that a client sends again what it wrote and had not committed before a crash.
 */
import { randomBytes } from 'node:crypto';
import type { FileAttributes } from '../../../storage/files/file-attributes.js';
import { nowNs } from '../../../storage/files/local-files.js';
import type { AttributeChange, CreateHow, NamespaceEntry } from '../../../storage/files/share-namespace.js';
import type { OpenShare, ShareRegistry } from '../../../storage/files/share-registry.js';
import type { ProcedureHandler, RpcCall, RpcProgram } from '../rpc/rpc-dispatcher.js';
import { XdrDecodeError, type XdrWriter } from '../rpc/xdr.js';
import { decodeHandle, encodeHandle } from './file-handle.js';
import { BUCKET_BYTES, BUCKET_FILES, MAX_FILE_SIZE, MAX_IO, NAME_MAX } from './nfs-limits.js';
import { Nfs3Status, NfsError, nfsStatusOf } from './nfs3-status.js';
import {
  readGuard, readHandle, readName, readSetAttributes, writeAttributes, writeEmptyWcc, writeHandle,
  writePostOpAttributes, writeWcc, type AttributeContext, type SetAttributes,
} from './nfs3-xdr.js';
import { Access, callerOf, clientAllowed, grantedAccess } from './share-access.js';
import { type DirectoryEntry, cookieVerifier, entriesAfter } from './share-directory.js';
import { checkAttributeChange, checkedName, ownerOf, requireAccess, requireWrite } from './share-permissions.js';

export const NFS_PROGRAM = 100003;

/** Preferred sizes (FSINFO). */
const PREFERRED_READDIR = 64 * 1024;
/** stable_how */
const Stable = { UNSTABLE: 0, DATA_SYNC: 1, FILE_SYNC: 2 } as const;
/** createmode3 */
const CreateMode = { UNCHECKED: 0, GUARDED: 1, EXCLUSIVE: 2 } as const;
/** FSINFO properties: FSF_HOMOGENEOUS | FSF_CANSETTIME. */
const FS_PROPERTIES = 0x8 | 0x10;

/** Reply sizes for READDIR / READDIRPLUS accounting (XDR bytes). */
const ENTRY_FIXED = 4 + 8 + 4 + 8;
const ATTRIBUTES_BYTES = 4 + 84;
const HANDLE_BYTES = 4 + 4 + 16;
const REPLY_OVERHEAD = 4 + ATTRIBUTES_BYTES + 8 + 4 + 4;

interface Resolved extends OpenShare {
  ino: number;
  at: AttributeContext;
  /** The attributes of the handle's object once fetched: a failure after that still reports them. */
  attrs?: FileAttributes;
  /** Its attributes before a change, for wcc_data. */
  before?: FileAttributes;
  /** RENAME's second directory. */
  to?: Resolved;
}

/** A procedure that reaches a share through its first file handle; what it writes on failure is `onError`. */
type ShareProcedure = (call: RpcCall, target: Resolved, results: XdrWriter) => Promise<void>;

export function nfs3Program(shares: ShareRegistry): RpcProgram {
  const writeVerifier = randomBytes(8);
  const resolve = async (call: RpcCall): Promise<Resolved> => {
    const decoded = decodeHandle(readHandle(call.args));
    if (!decoded) throw new NfsError(Nfs3Status.BADHANDLE, 'not a handle of this server');
    const opened = await shares.open(decoded.shareId);
    // The registry finds shares by name too: a share named like the ID of a deleted one must not take its handles.
    if (opened?.share.shareId !== decoded.shareId) throw new NfsError(Nfs3Status.STALE, `share ${decoded.shareId} is gone`);
    if (!clientAllowed(opened.share, call.client.address)) throw new NfsError(Nfs3Status.ACCES, `${call.client.address} is not on the share's client list`);
    return { ...opened, ino: decoded.ino, at: attributeContext(opened.share.shareId, decoded.ino) };
  };

  /**
   * Runs a procedure on the share its handle names. A procedure writes nothing until it can no longer fail; on a
   * failure the status goes out with the body it carries (post_op_attr, wcc_data, ...), which the RFC defines per
   * procedure.
   */
  const onShare = (procedure: ShareProcedure, onError: (results: XdrWriter, target: Resolved | undefined) => void): ProcedureHandler => async (call, results) => {
    let target: Resolved | undefined;
    try {
      target = await resolve(call);
      await procedure(call, target, results);
    } catch (err) {
      // Arguments that do not decode are the client's fault: the dispatcher answers GARBAGE_ARGS.
      if (err instanceof XdrDecodeError) throw err;
      const status = nfsStatusOf(err);
      results.uint32(status);
      // An object that is gone has no attributes left to report.
      onError(results, status === Nfs3Status.STALE ? undefined : target);
    }
  };
  /** post_op_attr of the handle's object, as far as the call got. */
  const objectAttributes = (results: XdrWriter, target: Resolved | undefined) => {
    if (target?.attrs) writePostOpAttributes(results, target.attrs, target.at);
    else results.bool(false);
  };
  /** What this server does not have, refused once the handle and the client have been checked as for any other call. */
  const refused = (body: (results: XdrWriter) => void): ProcedureHandler => onShare(async () => {
    throw new NfsError(Nfs3Status.NOTSUPP, 'no links, symbolic links or special files');
  }, body);
  /** wcc_data of the handle's object, as far as the call got. */
  const targetWcc = (results: XdrWriter, target: Resolved | undefined) => {
    if (target) writeWcc(results, target.before, target.attrs, target.at);
    else writeEmptyWcc(results);
  };

  /** The handle's attributes before a change; the share must take changes. */
  const beforeChange = async (target: Resolved): Promise<FileAttributes> => {
    const attrs = await attributesOf(target);
    target.before = attrs;
    if (target.share.settings.readOnly) throw new NfsError(Nfs3Status.ROFS, 'the share is read-only');
    return attrs;
  };
  const afterChange = async (target: Resolved): Promise<void> => {
    target.attrs = await target.namespace.getattr(target.ino);
  };

  /** A change of a name in the handle's directory: the caller needs write permission there. */
  const checkDirectory = async (call: RpcCall, target: Resolved): Promise<void> => {
    const dir = await beforeChange(target);
    if (dir.kind !== 'dir') throw new NfsError(Nfs3Status.NOTDIR, 'not a directory');
    requireAccess(target.share, call.auth, dir, Access.MODIFY | Access.EXTEND | Access.DELETE);
  };

  /** CREATE and MKDIR: post_op_fh3, post_op_attr, wcc_data of the directory. */
  const created = (results: XdrWriter, target: Resolved, entry: NamespaceEntry) => {
    results.uint32(Nfs3Status.OK).bool(true);
    writeHandle(results, encodeHandle({ shareId: target.share.shareId, ino: entry.ino }));
    writePostOpAttributes(results, entry.attrs, attributeContext(target.share.shareId, entry.ino));
    targetWcc(results, target);
  };

  const attributesOf = async (target: Resolved, ino = target.ino): Promise<FileAttributes> => {
    try {
      const attrs = await target.namespace.getattr(ino);
      if (ino === target.ino) target.attrs = attrs;
      return attrs;
    } catch (err) {
      if (nfsStatusOf(err) === Nfs3Status.NOENT) throw new NfsError(Nfs3Status.STALE, `inode ${ino} is gone`);
      throw err;
    }
  };

  const readdir = (plus: boolean): ShareProcedure => async (call, target, results) => {
    const cookie = call.args.uint64();
    const verifier = call.args.fixedOpaque(8);
    const dircount = call.args.uint32();
    const maxcount = plus ? call.args.uint32() : dircount;
    const dir = await attributesOf(target);
    if (dir.kind !== 'dir') throw new NfsError(Nfs3Status.NOTDIR, 'not a directory');
    requireAccess(target.share, call.auth, dir, Access.READ);
    const ours = cookieVerifier(target.share.shareId);
    if (cookie !== 0n && !verifier.equals(ours)) throw new NfsError(Nfs3Status.BAD_COOKIE, 'the cookie verifier is not this directory\'s');
    const entries = await directoryEntries(target, dir, cookie);
    // As many entries as fit the client's limits: maxcount for the whole reply, and for READDIRPLUS dircount for
    // the entries without their attributes and handles.
    let used = REPLY_OVERHEAD;
    let names = 0;
    let end = 0;
    for (; end < entries.length; end++) {
      const nameBytes = ENTRY_FIXED + padded(Buffer.byteLength(entries[end]!.name));
      const size = nameBytes + (plus ? ATTRIBUTES_BYTES + HANDLE_BYTES : 0);
      if (used + size > maxcount || (plus && names + nameBytes > dircount)) break;
      used += size;
      names += nameBytes;
    }
    if (end === 0 && entries.length > 0) throw new NfsError(Nfs3Status.TOOSMALL, 'not even one entry fits the reply');
    results.uint32(Nfs3Status.OK);
    writePostOpAttributes(results, dir, target.at);
    results.fixedOpaque(ours);
    for (const entry of entries.slice(0, end)) {
      results.bool(true).uint64(entry.ino).string(entry.name).uint64(entry.cookie);
      if (plus) {
        writePostOpAttributes(results, entry.attrs, attributeContext(target.share.shareId, entry.ino));
        results.bool(true);
        writeHandle(results, encodeHandle({ shareId: target.share.shareId, ino: entry.ino }));
      }
    }
    results.bool(false).bool(end === entries.length);
  };

  const renameProcedure = (): ProcedureHandler => onShare(async (call, target, results) => {
    const fromName = checkedName(readName(call.args));
    const to = await resolve(call);
    const toName = checkedName(readName(call.args));
    target.to = to;
    if (to.share.shareId !== target.share.shareId) throw new NfsError(Nfs3Status.INVAL, 'a rename between shares');
    await checkDirectory(call, target);
    await checkDirectory(call, to);
    if ([fromName, toName].some((n) => n === '.' || n === '..')) throw new NfsError(Nfs3Status.INVAL, 'a dot name');
    await target.namespace.rename(target.ino, fromName, to.ino, toName);
    await afterChange(target);
    await afterChange(to);
    results.uint32(Nfs3Status.OK);
    targetWcc(results, target);
    targetWcc(results, to);
  }, (results, target) => {
    targetWcc(results, target);
    targetWcc(results, target?.to);
  });

  const procedures: Record<number, ProcedureHandler> = {
    // GETATTR
    1: onShare(async (_call, target, results) => {
      const attrs = await attributesOf(target);
      results.uint32(Nfs3Status.OK);
      writeAttributes(results, attrs, target.at);
    }, () => {}),
    // SETATTR
    2: onShare(async (call, target, results) => {
      const set = readSetAttributes(call.args);
      const guard = readGuard(call.args);
      const attrs = await beforeChange(target);
      if (guard !== undefined && guard !== attrs.mtimeNs) throw new NfsError(Nfs3Status.NOT_SYNC, 'the object changed since the client looked');
      const change = attributeChange(set);
      checkAttributeChange(target.share, call.auth, attrs, change);
      await target.namespace.setattr(target.ino, change);
      await afterChange(target);
      results.uint32(Nfs3Status.OK);
      targetWcc(results, target);
    }, targetWcc),
    // LOOKUP
    3: onShare(async (call, target, results) => {
      const name = checkedName(readName(call.args));
      const dir = await attributesOf(target);
      if (dir.kind !== 'dir') throw new NfsError(Nfs3Status.NOTDIR, 'not a directory');
      requireAccess(target.share, call.auth, dir, Access.LOOKUP);
      const found = name === '.' ? { ino: target.ino, attrs: dir } : name === '..' ? await parentOf(target) : await target.namespace.lookup(target.ino, name);
      results.uint32(Nfs3Status.OK);
      writeHandle(results, encodeHandle({ shareId: target.share.shareId, ino: found.ino }));
      writePostOpAttributes(results, found.attrs, attributeContext(target.share.shareId, found.ino));
      writePostOpAttributes(results, dir, target.at);
    }, objectAttributes),
    // ACCESS
    4: onShare(async (call, target, results) => {
      const wanted = call.args.uint32();
      const attrs = await attributesOf(target);
      results.uint32(Nfs3Status.OK);
      writePostOpAttributes(results, attrs, target.at);
      results.uint32(grantedAccess(attrs, callerOf(target.share, call.auth), wanted, !target.share.settings.readOnly));
    }, objectAttributes),
    // READLINK: no object is a symbolic link
    5: onShare(async (_call, target, results) => {
      const attrs = await attributesOf(target);
      results.uint32(Nfs3Status.INVAL);
      writePostOpAttributes(results, attrs, target.at);
    }, objectAttributes),
    // READ
    6: onShare(async (call, target, results) => {
      const offset = call.args.uint64();
      const count = Math.min(call.args.uint32(), MAX_IO);
      if (offset > BigInt(Number.MAX_SAFE_INTEGER)) throw new NfsError(Nfs3Status.INVAL, 'offset beyond any file');
      const attrs = await attributesOf(target);
      if (attrs.kind === 'dir') throw new NfsError(Nfs3Status.ISDIR, 'a directory');
      // Reading a file one may only run is reading too: the client needs its bytes to run it.
      requireAccess(target.share, call.auth, attrs, Access.READ | Access.EXECUTE);
      const { data, eof } = await target.namespace.read(target.ino, Number(offset), count).catch((err: unknown) => {
        if (nfsStatusOf(err) === Nfs3Status.NOENT) throw new NfsError(Nfs3Status.STALE, 'the object is gone from the bucket');
        throw err;
      });
      results.uint32(Nfs3Status.OK);
      writePostOpAttributes(results, attrs, target.at);
      results.uint32(data.length).bool(eof).opaque(data);
    }, objectAttributes),
    // WRITE
    7: onShare(async (call, target, results) => {
      const offset = call.args.uint64();
      const count = call.args.uint32();
      const stable = call.args.uint32();
      const data = call.args.opaque(MAX_IO);
      const attrs = await beforeChange(target);
      if (attrs.kind === 'dir') throw new NfsError(Nfs3Status.ISDIR, 'a directory');
      if (offset + BigInt(count) > BigInt(MAX_FILE_SIZE)) throw new NfsError(Nfs3Status.FBIG, 'beyond S3\'s largest object');
      requireWrite(target.share, call.auth, attrs);
      const written = data.subarray(0, Math.min(count, data.length));
      target.attrs = await target.namespace.write(target.ino, Number(offset), written, stable !== Stable.UNSTABLE);
      results.uint32(Nfs3Status.OK);
      targetWcc(results, target);
      results.uint32(written.length).uint32(stable === Stable.UNSTABLE ? Stable.UNSTABLE : Stable.FILE_SYNC).fixedOpaque(writeVerifier);
    }, targetWcc),
    // CREATE
    8: onShare(async (call, target, results) => {
      const name = checkedName(readName(call.args));
      const mode = call.args.uint32();
      let how: CreateHow;
      if (mode === CreateMode.EXCLUSIVE) how = { mode: 'exclusive', verifier: call.args.fixedOpaque(8).toString('hex') };
      else if (mode === CreateMode.UNCHECKED || mode === CreateMode.GUARDED) how = { mode: mode === CreateMode.GUARDED ? 'guarded' : 'unchecked', attrs: attributeChange(readSetAttributes(call.args)) };
      else throw new XdrDecodeError(`createmode3 ${mode}`);
      await checkDirectory(call, target);
      if (name === '.' || name === '..') throw new NfsError(Nfs3Status.EXIST, 'a dot name');
      const entry = await target.namespace.create(target.ino, name, how, ownerOf(callerOf(target.share, call.auth)));
      await afterChange(target);
      created(results, target, entry);
    }, targetWcc),
    // MKDIR
    9: onShare(async (call, target, results) => {
      const name = checkedName(readName(call.args));
      const set = readSetAttributes(call.args);
      await checkDirectory(call, target);
      if (name === '.' || name === '..') throw new NfsError(Nfs3Status.EXIST, 'a dot name');
      const { size: _size, ...change } = attributeChange(set);
      const entry = await target.namespace.mkdir(target.ino, name, change, ownerOf(callerOf(target.share, call.auth)));
      await afterChange(target);
      created(results, target, entry);
    }, targetWcc),
    // SYMLINK, MKNOD
    10: refused(writeEmptyWcc),
    11: refused(writeEmptyWcc),
    // REMOVE, RMDIR
    12: onShare(async (call, target, results) => {
      const name = checkedName(readName(call.args));
      await checkDirectory(call, target);
      if (name === '.' || name === '..') throw new NfsError(Nfs3Status.INVAL, 'a dot name');
      await target.namespace.remove(target.ino, name);
      await afterChange(target);
      results.uint32(Nfs3Status.OK);
      targetWcc(results, target);
    }, targetWcc),
    13: onShare(async (call, target, results) => {
      const name = checkedName(readName(call.args));
      await checkDirectory(call, target);
      if (name === '.' || name === '..') throw new NfsError(name === '.' ? Nfs3Status.INVAL : Nfs3Status.NOTEMPTY, 'a dot name');
      await target.namespace.rmdir(target.ino, name);
      await afterChange(target);
      results.uint32(Nfs3Status.OK);
      targetWcc(results, target);
    }, targetWcc),
    // RENAME: wcc_data of both directories
    14: renameProcedure(),
    // LINK: post_op_attr of the file, wcc_data of the directory
    15: refused((results) => { results.bool(false); writeEmptyWcc(results); }),
    // READDIR, READDIRPLUS
    16: onShare(readdir(false), objectAttributes),
    17: onShare(readdir(true), objectAttributes),
    // FSSTAT
    18: onShare(async (_call, target, results) => {
      const attrs = await attributesOf(target);
      results.uint32(Nfs3Status.OK);
      writePostOpAttributes(results, attrs, target.at);
      results.uint64(BUCKET_BYTES).uint64(BUCKET_BYTES).uint64(BUCKET_BYTES).uint64(BUCKET_FILES).uint64(BUCKET_FILES).uint64(BUCKET_FILES).uint32(0);
    }, objectAttributes),
    // FSINFO
    19: onShare(async (_call, target, results) => {
      const attrs = await attributesOf(target);
      results.uint32(Nfs3Status.OK);
      writePostOpAttributes(results, attrs, target.at);
      results.uint32(MAX_IO).uint32(MAX_IO).uint32(4096).uint32(MAX_IO).uint32(MAX_IO).uint32(4096).uint32(PREFERRED_READDIR)
        .uint64(MAX_FILE_SIZE).uint32(0).uint32(1).uint32(FS_PROPERTIES);
    }, objectAttributes),
    // PATHCONF
    20: onShare(async (_call, target, results) => {
      const attrs = await attributesOf(target);
      results.uint32(Nfs3Status.OK);
      writePostOpAttributes(results, attrs, target.at);
      results.uint32(1).uint32(NAME_MAX).bool(true).bool(true).bool(false).bool(true);
    }, objectAttributes),
    // COMMIT: the whole file, whatever range is asked (the RFC allows committing more)
    21: onShare(async (call, target, results) => {
      call.args.uint64();
      call.args.uint32();
      const attrs = await beforeChange(target);
      if (attrs.kind === 'dir') throw new NfsError(Nfs3Status.ISDIR, 'a directory');
      target.attrs = await target.namespace.commit(target.ino);
      results.uint32(Nfs3Status.OK);
      targetWcc(results, target);
      results.fixedOpaque(writeVerifier);
    }, targetWcc),
  };
  return { name: 'nfs', program: NFS_PROGRAM, versions: { 3: procedures } };
}

/**
 * ".", ".." and the directory's entries after the cookie, in name order: the dots have cookies 1 and 2, the
 * entries those of share-directory.ts.
 */
async function directoryEntries(target: Resolved, dir: FileAttributes, cookie: bigint): Promise<DirectoryEntry[]> {
  const parent = await parentOf(target);
  const dots: DirectoryEntry[] = [
    { ino: target.ino, name: '.', cookie: 1n, attrs: dir },
    { ino: parent.ino, name: '..', cookie: 2n, attrs: parent.attrs },
  ];
  return [...dots.filter((d) => d.cookie > cookie), ...await entriesAfter(target.namespace, target.ino, cookie <= 2n ? 0n : cookie)];
}

async function parentOf(target: Resolved): Promise<{ ino: number; attrs: FileAttributes }> {
  const ino = target.namespace.parentOf(target.ino);
  return { ino, attrs: await target.namespace.getattr(ino) };
}

function attributeContext(shareId: string, fileid: number): AttributeContext {
  return { fsid: BigInt(`0x${shareId.slice('share-'.length)}`), fileid };
}

function attributeChange(set: SetAttributes): AttributeChange {
  const time = (t: bigint | 'server') => (t === 'server' ? nowNs() : t);
  return {
    ...(set.mode !== undefined ? { mode: set.mode } : {}),
    ...(set.uid !== undefined ? { uid: set.uid } : {}),
    ...(set.gid !== undefined ? { gid: set.gid } : {}),
    ...(set.size !== undefined ? { size: set.size } : {}),
    ...(set.atime !== undefined ? { atimeNs: time(set.atime) } : {}),
    ...(set.mtime !== undefined ? { mtimeNs: time(set.mtime) } : {}),
  };
}

function padded(length: number): number {
  return (length + 3) & ~3;
}
