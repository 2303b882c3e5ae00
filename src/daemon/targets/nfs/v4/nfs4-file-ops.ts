/**
 * NFSv4.1's file operations over the shares (RFC 8881 §18): file handles, lookups, attributes, opens and their
 * stateids, I/O, names and byte-range locks. The same share engine and permission checks as NFSv3 serve them;
 * what v4 adds is state: every READ, WRITE and size change is checked against the open it names.
 */
import { randomBytes } from 'node:crypto';
import type { FileAttributes } from '../../../../storage/files/file-attributes.js';
import { ROOT_INO } from '../../../../storage/files/file-attributes.js';
import { nowNs } from '../../../../storage/files/local-files.js';
import type { AttributeChange, CreateHow } from '../../../../storage/files/share-namespace.js';
import type { ShareRegistry } from '../../../../storage/files/share-registry.js';
import type { XdrReader, XdrWriter } from '../../rpc/xdr.js';
import { XdrWriter as Writer } from '../../rpc/xdr.js';
import { Nfs3Status, NfsError, nfsStatusOf } from '../nfs3-status.js';
import { MAX_FILE_SIZE, MAX_IO } from '../nfs-limits.js';
import { Access, callerOf, clientAllowed, grantedAccess } from '../share-access.js';
import { cookieVerifier, entriesAfter } from '../share-directory.js';
import { checkAttributeChange, checkedName, ownerOf, requireAccess, requireWrite } from '../share-permissions.js';
import { WRITE_ONLY_ATTRS, attrsIn, type Bitmap, readBitmap, readFattr, writeBitmap, writeFattr } from './nfs4-attributes.js';
import type { CompoundContext, Operation } from './nfs4-compound.js';
import { FileType4, NFS4_FHSIZE, NFS4_OPAQUE_LIMIT, NFS4_VERIFIER_SIZE, Nfs4Error, Nfs4Status, Op } from './nfs4-constants.js';
import { PSEUDO_ROOT, fileKey, fsidOf, handleBytes, pseudoRootAttributes, resolveHandle, shareRoot, type Nfs4FileHandle } from './nfs4-file-handle.js';
import type { OwnerNames } from './nfs4-owners.js';
import type { Nfs4Clients } from './nfs4-sessions.js';
import { INVALID_STATEID, LockDenied, type LockRange, type LockType, type Nfs4State, type Stateid, isCurrentStateid } from './nfs4-state.js';

const Stable = { UNSTABLE: 0, DATA_SYNC: 1, FILE_SYNC: 2 } as const;
const CreateMode = { UNCHECKED: 0, GUARDED: 1, EXCLUSIVE: 2, EXCLUSIVE_1: 3 } as const;
const Claim = { NULL: 0, PREVIOUS: 1, DELEGATE_CUR: 2, DELEGATE_PREV: 3, FH: 4, DELEG_PREV_FH: 5, DELEG_CUR_FH: 6 } as const;
/** OPEN4_RESULT_LOCKTYPE_POSIX: byte-range locks are POSIX ones. */
const OPEN_RESULT_LOCKTYPE_POSIX = 4;
const OPEN_DELEGATE_NONE = 0;
const AUTH_SYS = 1;
/** READDIR's cookies 0-2 are reserved; share entries use inode + 2, which starts at 4. */
const FIRST_COOKIE = 3n;
const ALL_ACCESS = Access.READ | Access.LOOKUP | Access.MODIFY | Access.EXTEND | Access.DELETE | Access.EXECUTE;

export interface FileOpsOptions {
  shares: ShareRegistry;
  clients: Nfs4Clients;
  state: Nfs4State;
  startedNs: bigint;
  /** owner and owner_group strings: numeric, or names of the ID-mapping domain. */
  owners: OwnerNames;
}

type ShareHandle = Extract<Nfs4FileHandle, { kind: 'share' }>;

export function fileOperations(o: FileOpsOptions): Map<number, Operation> {
  const writeVerifier = randomBytes(NFS4_VERIFIER_SIZE);
  const rootAttributes = pseudoRootAttributes(o.startedNs);

  const current = (ctx: CompoundContext): Nfs4FileHandle => {
    if (!ctx.current) throw new Nfs4Error(Nfs4Status.NOFILEHANDLE, 'no current file handle');
    return ctx.current;
  };
  const currentInShare = (ctx: CompoundContext, what: string): ShareHandle => {
    const fh = current(ctx);
    if (fh.kind === 'pseudo-root') throw new Nfs4Error(Nfs4Status.ROFS, `${what} in the directory of shares`);
    return fh;
  };
  const attributesOf = async (fh: Nfs4FileHandle): Promise<FileAttributes> => {
    if (fh.kind === 'pseudo-root') return rootAttributes;
    try {
      return await fh.open.namespace.getattr(fh.ino);
    } catch (err) {
      if (nfsStatusOf(err) === Nfs3Status.NOENT) throw new Nfs4Error(Nfs4Status.STALE, `inode ${fh.ino} is gone`);
      throw err;
    }
  };
  const subject = (fh: Nfs4FileHandle, attrs: FileAttributes) => ({ attrs, fileid: fh.kind === 'pseudo-root' ? ROOT_INO : fh.ino, fsid: fsidOf(fh), handle: handleBytes(fh), owners: o.owners });
  /** A directory of a share that is to change: its attributes before, and the right to change it. */
  const changingDirectory = async (ctx: CompoundContext, fh: ShareHandle): Promise<FileAttributes> => {
    const dir = await attributesOf(fh);
    if (dir.kind !== 'dir') throw new Nfs4Error(Nfs4Status.NOTDIR, 'not a directory');
    if (fh.open.share.settings.readOnly) throw new Nfs4Error(Nfs4Status.ROFS, 'the share is read-only');
    requireAccess(fh.open.share, ctx.call.auth, dir, Access.MODIFY | Access.EXTEND | Access.DELETE);
    return dir;
  };
  const changeInfo = async (res: XdrWriter, fh: ShareHandle, before: FileAttributes): Promise<void> => {
    const after = await attributesOf(fh);
    res.bool(false).uint64(before.mtimeNs).uint64(after.mtimeNs);
  };
  /** A stateid argument, with the compound's current stateid substituted (RFC 8881 §16.2.3.1.2). */
  const readStateid = (ctx: CompoundContext, args: XdrReader): Stateid => {
    const stateid = { seqid: args.uint32(), other: args.fixedOpaque(12) };
    if (!isCurrentStateid(stateid)) return stateid;
    if (!ctx.currentStateid) throw new Nfs4Error(Nfs4Status.BAD_STATEID, 'no current stateid');
    return ctx.currentStateid;
  };
  const writeStateid = (res: XdrWriter, s: Stateid) => res.uint32(s.seqid).fixedOpaque(s.other);
  const clientOf = (ctx: CompoundContext): bigint => {
    if (ctx.clientId === undefined) throw new Nfs4Error(Nfs4Status.OP_NOT_IN_SESSION, 'no session');
    return ctx.clientId;
  };
  const component = (args: XdrReader): string => {
    const name = args.string(NFS4_OPAQUE_LIMIT);
    if (name === '') throw new Nfs4Error(Nfs4Status.INVAL, 'an empty name');
    if (name === '.' || name === '..') throw new Nfs4Error(Nfs4Status.BADNAME, `"${name}"`);
    if (name.includes('/') || name.includes('\0')) throw new Nfs4Error(Nfs4Status.BADCHAR, 'a name with "/" or NUL');
    return checkedName(name);
  };
  /** The grace period refuses new state while clients of the last run take theirs back. */
  const checkGrace = (reclaim: boolean, clientId: bigint): void => {
    if (reclaim && !o.clients.mayReclaim(clientId)) throw new Nfs4Error(Nfs4Status.NO_GRACE, 'nothing to reclaim');
    if (!reclaim && o.clients.inGrace()) throw new Nfs4Error(Nfs4Status.GRACE, 'in the grace period after a restart');
  };
  const lockRange = (args: XdrReader): LockRange => ({ offset: args.uint64(), length: args.uint64() });
  const lockType = (value: number): LockType => {
    if (value < 1 || value > 4) throw new Nfs4Error(Nfs4Status.INVAL, `lock type ${value}`);
    return value % 2 === 1 ? 'read' : 'write';
  };
  const writeDenied = (err: unknown, res: XdrWriter) => {
    if (!(err instanceof LockDenied)) return;
    const c = err.conflict;
    res.uint64(c.offset).uint64(c.length).uint32(c.type === 'read' ? 1 : 2).uint64(c.clientId).opaque(c.owner);
  };

  const open = async (ctx: CompoundContext, res: XdrWriter): Promise<void> => {
    const args = ctx.call.args;
    args.uint32(); // seqid: ignored in 4.1
    const access = args.uint32() & 3;
    const deny = args.uint32() & 3;
    args.uint64(); // the owner's clientid: the session's is the one that counts
    const owner = args.opaque(NFS4_OPAQUE_LIMIT);
    let how: CreateHow | undefined;
    let createAttrs: { change: AttributeChange; set: Bitmap } | undefined;
    if (args.uint32() === 1) {
      const mode = args.uint32();
      if (mode === CreateMode.UNCHECKED || mode === CreateMode.GUARDED) {
        createAttrs = readFattr(args, nowNs, o.owners);
        how = { mode: mode === CreateMode.GUARDED ? 'guarded' : 'unchecked', attrs: createAttrs.change };
      } else if (mode === CreateMode.EXCLUSIVE || mode === CreateMode.EXCLUSIVE_1) {
        const verifier = args.fixedOpaque(NFS4_VERIFIER_SIZE).toString('hex');
        // EXCLUSIVE4_1's attributes: suppattr_exclcreat is empty, so the client sets them with SETATTR after.
        if (mode === CreateMode.EXCLUSIVE_1) readFattr(args, nowNs, o.owners);
        how = { mode: 'exclusive', verifier };
      } else {
        throw new Nfs4Error(Nfs4Status.INVAL, `createmode ${mode}`);
      }
    }
    const claim = args.uint32();
    const clientId = clientOf(ctx);
    if (access === 0) throw new Nfs4Error(Nfs4Status.INVAL, 'no share access');
    let file: ShareHandle;
    let cinfo: { dir: ShareHandle; before: FileAttributes } | undefined;
    if (claim === Claim.NULL) {
      const name = component(args);
      checkGrace(false, clientId);
      const dir = currentInShare(ctx, 'OPEN');
      if (how) {
        const before = await changingDirectory(ctx, dir);
        const entry = await dir.open.namespace.create(dir.ino, name, how, ownerOf(callerOf(dir.open.share, ctx.call.auth)));
        cinfo = { dir, before };
        file = { kind: 'share', open: dir.open, ino: entry.ino };
      } else {
        const attrs = await attributesOf(dir);
        if (attrs.kind !== 'dir') throw new Nfs4Error(Nfs4Status.NOTDIR, 'not a directory');
        requireAccess(dir.open.share, ctx.call.auth, attrs, Access.LOOKUP);
        file = { kind: 'share', open: dir.open, ino: (await dir.open.namespace.lookup(dir.ino, name)).ino };
      }
    } else if (claim === Claim.FH || claim === Claim.PREVIOUS) {
      if (claim === Claim.PREVIOUS) args.uint32(); // delegate_type: no delegations were ever granted
      checkGrace(claim === Claim.PREVIOUS, clientId);
      file = currentInShare(ctx, 'OPEN');
    } else {
      throw new Nfs4Error(Nfs4Status.NOTSUPP, 'no delegations are granted, so none is claimed');
    }
    const attrs = await attributesOf(file);
    if (attrs.kind === 'dir') throw new Nfs4Error(Nfs4Status.ISDIR, 'a directory');
    const share = file.open.share;
    if (access & 2) {
      if (share.settings.readOnly) throw new Nfs4Error(Nfs4Status.ROFS, 'the share is read-only');
      // The creator may write what it just created, whatever mode it gave the file.
      if (!cinfo) requireWrite(share, ctx.call.auth, attrs);
    }
    if (access & 1 && !cinfo) requireAccess(share, ctx.call.auth, attrs, Access.READ | Access.EXECUTE);
    const stateid = o.state.open(clientId, owner, fileKey(file), access, deny);
    ctx.current = file;
    ctx.currentStateid = stateid;
    writeStateid(res, stateid);
    if (cinfo) await changeInfo(res, cinfo.dir, cinfo.before);
    else res.bool(false).uint64(attrs.mtimeNs).uint64(attrs.mtimeNs);
    res.uint32(OPEN_RESULT_LOCKTYPE_POSIX);
    writeBitmap(res, createAttrs && how?.mode !== 'exclusive' ? createAttrs.set : []);
    res.uint32(OPEN_DELEGATE_NONE);
  };

  const readdir = async (ctx: CompoundContext, res: XdrWriter): Promise<void> => {
    const args = ctx.call.args;
    const cookie = args.uint64();
    const verifier = args.fixedOpaque(NFS4_VERIFIER_SIZE);
    args.uint32(); // dircount: a hint
    const maxcount = args.uint32();
    const requested = readBitmap(args);
    const dir = current(ctx);
    const dirAttrs = await attributesOf(dir);
    if (dirAttrs.kind !== 'dir') throw new Nfs4Error(Nfs4Status.NOTDIR, 'not a directory');
    if (cookie === 1n || cookie === 2n) throw new Nfs4Error(Nfs4Status.BAD_COOKIE, `reserved cookie ${cookie}`);
    const ours = dir.kind === 'pseudo-root' ? PSEUDO_ROOT_VERIFIER : cookieVerifier(dir.open.share.shareId);
    if (cookie !== 0n && !verifier.equals(ours)) throw new Nfs4Error(Nfs4Status.NOT_SAME, 'the cookie verifier is not this directory\'s');
    let entries: Array<{ fh: Nfs4FileHandle; name: string; cookie: bigint; attrs: FileAttributes }>;
    if (dir.kind === 'pseudo-root') {
      const shares = o.shares.list().filter((s) => clientAllowed(s, ctx.call.client.address)).sort((a, b) => (a.name < b.name ? -1 : 1));
      const listed = await Promise.all(shares.map(async (s, i) => {
        const fh = await shareRoot(o.shares, s.name, ctx.call.client.address);
        return { fh, name: s.name, cookie: FIRST_COOKIE + BigInt(i), attrs: await attributesOf(fh) };
      }));
      entries = listed.filter((e) => e.cookie > cookie);
    } else {
      requireAccess(dir.open.share, ctx.call.auth, dirAttrs, Access.READ);
      const listed = await entriesAfter(dir.open.namespace, dir.ino, cookie).catch((err: unknown) => {
        if (err instanceof NfsError && err.status === Nfs3Status.BAD_COOKIE) throw new Nfs4Error(Nfs4Status.BAD_COOKIE, err.message);
        throw err;
      });
      entries = listed.map((e) => ({ fh: { kind: 'share', open: dir.open, ino: e.ino }, name: e.name, cookie: e.cookie, attrs: e.attrs }));
    }
    // resok4: the verifier, the entries, the list's end and eof; each entry in whole or not at all.
    let used = NFS4_VERIFIER_SIZE + 8;
    const body = new Writer(4096);
    let shown = 0;
    for (const entry of entries) {
      const one = new Writer(256);
      one.bool(true).uint64(entry.cookie).string(entry.name);
      writeFattr(one, requested, subject(entry.fh, entry.attrs), Nfs4Status.OK);
      if (used + one.length > maxcount) break;
      used += one.length;
      body.fixedOpaque(one.toBuffer());
      shown++;
    }
    if (shown === 0 && entries.length > 0) throw new Nfs4Error(Nfs4Status.TOOSMALL, 'not even one entry fits the reply');
    res.fixedOpaque(ours).fixedOpaque(body.toBuffer()).bool(false).bool(shown === entries.length);
  };

  const ops = new Map<number, Operation>();
  const op = (code: number, run: Operation['run'], failure?: Operation['failure']) => ops.set(code, failure ? { run, failure } : { run });

  op(Op.PUTROOTFH, (ctx) => void (ctx.current = PSEUDO_ROOT));
  op(Op.PUTPUBFH, (ctx) => void (ctx.current = PSEUDO_ROOT));
  op(Op.PUTFH, async (ctx) => {
    ctx.current = await resolveHandle(o.shares, ctx.call.args.opaque(NFS4_FHSIZE), ctx.call.client.address);
  });
  op(Op.GETFH, (ctx, res) => void res.opaque(handleBytes(current(ctx))));
  op(Op.SAVEFH, (ctx) => void (ctx.saved = current(ctx)));
  op(Op.RESTOREFH, (ctx) => {
    if (!ctx.saved) throw new Nfs4Error(Nfs4Status.RESTOREFH, 'no saved file handle');
    ctx.current = ctx.saved;
  });
  op(Op.LOOKUP, async (ctx) => {
    const name = component(ctx.call.args);
    const dir = current(ctx);
    if (dir.kind === 'pseudo-root') {
      ctx.current = await shareRoot(o.shares, name, ctx.call.client.address);
      return;
    }
    const attrs = await attributesOf(dir);
    if (attrs.kind !== 'dir') throw new Nfs4Error(Nfs4Status.NOTDIR, 'not a directory');
    requireAccess(dir.open.share, ctx.call.auth, attrs, Access.LOOKUP);
    ctx.current = { kind: 'share', open: dir.open, ino: (await dir.open.namespace.lookup(dir.ino, name)).ino };
  });
  op(Op.LOOKUPP, async (ctx) => {
    const fh = current(ctx);
    if (fh.kind === 'pseudo-root') throw new Nfs4Error(Nfs4Status.NOENT, 'the pseudo-root has no parent');
    if ((await attributesOf(fh)).kind !== 'dir') throw new Nfs4Error(Nfs4Status.NOTDIR, 'not a directory');
    ctx.current = fh.ino === ROOT_INO ? PSEUDO_ROOT : { kind: 'share', open: fh.open, ino: fh.open.namespace.parentOf(fh.ino) };
  });
  // Only AUTH_SYS (and AUTH_NONE) are spoken; both answers use the current handle up, as RFC 8881 §2.6.3.1.1.8 says.
  const secinfo = (ctx: CompoundContext, res: XdrWriter) => {
    current(ctx);
    res.uint32(1).uint32(AUTH_SYS);
    ctx.current = undefined;
  };
  op(Op.SECINFO_NO_NAME, (ctx, res) => {
    ctx.call.args.uint32();
    secinfo(ctx, res);
  });
  op(Op.SECINFO, (ctx, res) => {
    component(ctx.call.args);
    secinfo(ctx, res);
  });
  op(Op.GETATTR, async (ctx, res) => {
    const requested = readBitmap(ctx.call.args);
    if (attrsIn(requested).some((a) => attrsIn(WRITE_ONLY_ATTRS).includes(a))) throw new Nfs4Error(Nfs4Status.INVAL, 'time_access_set and time_modify_set are only set');
    const fh = current(ctx);
    writeFattr(res, requested, subject(fh, await attributesOf(fh)));
  });
  op(Op.ACCESS, async (ctx, res) => {
    const wanted = ctx.call.args.uint32() & ALL_ACCESS;
    const fh = current(ctx);
    const attrs = await attributesOf(fh);
    const granted = fh.kind === 'pseudo-root'
      ? wanted & (Access.READ | Access.LOOKUP | Access.EXECUTE)
      : grantedAccess(attrs, callerOf(fh.open.share, ctx.call.auth), wanted, !fh.open.share.settings.readOnly);
    res.uint32(wanted).uint32(granted);
  });
  op(Op.SETATTR, async (ctx, res) => {
    const stateid = readStateid(ctx, ctx.call.args);
    const { change, set } = readFattr(ctx.call.args, nowNs, o.owners);
    const fh = currentInShare(ctx, 'SETATTR');
    const attrs = await attributesOf(fh);
    if (fh.open.share.settings.readOnly) throw new Nfs4Error(Nfs4Status.ROFS, 'the share is read-only');
    checkAttributeChange(fh.open.share, ctx.call.auth, attrs, change);
    if (change.size !== undefined) o.state.checkIo(stateid, fileKey(fh), true);
    await fh.open.namespace.setattr(fh.ino, change);
    writeBitmap(res, set);
  }, (_err, res) => writeBitmap(res, []));
  op(Op.READLINK, async (ctx) => {
    await attributesOf(current(ctx));
    throw new Nfs4Error(Nfs4Status.INVAL, 'no object is a symbolic link');
  });
  op(Op.OPEN, open);
  op(Op.CLOSE, (ctx, res) => {
    ctx.call.args.uint32(); // seqid: ignored in 4.1
    const stateid = readStateid(ctx, ctx.call.args);
    o.state.close(stateid, fileKey(current(ctx)));
    writeStateid(res, INVALID_STATEID);
  });
  op(Op.OPEN_DOWNGRADE, (ctx, res) => {
    const args = ctx.call.args;
    const stateid = readStateid(ctx, args);
    args.uint32(); // seqid
    const access = args.uint32() & 3;
    const deny = args.uint32() & 3;
    const next = o.state.downgrade(stateid, fileKey(current(ctx)), access, deny);
    ctx.currentStateid = next;
    writeStateid(res, next);
  });
  op(Op.READ, async (ctx, res) => {
    const args = ctx.call.args;
    const stateid = readStateid(ctx, args);
    const offset = args.uint64();
    const count = Math.min(args.uint32(), MAX_IO);
    const fh = currentInShare(ctx, 'READ');
    const attrs = await attributesOf(fh);
    if (attrs.kind === 'dir') throw new Nfs4Error(Nfs4Status.ISDIR, 'a directory');
    o.state.checkIo(stateid, fileKey(fh), false);
    requireAccess(fh.open.share, ctx.call.auth, attrs, Access.READ | Access.EXECUTE);
    if (offset > BigInt(Number.MAX_SAFE_INTEGER)) {
      res.bool(true).opaque(Buffer.alloc(0));
      return;
    }
    const { data, eof } = await fh.open.namespace.read(fh.ino, Number(offset), count).catch((err: unknown) => {
      if (nfsStatusOf(err) === Nfs3Status.NOENT) throw new Nfs4Error(Nfs4Status.STALE, 'the object is gone from the bucket');
      throw err;
    });
    res.bool(eof).opaque(data);
  });
  op(Op.WRITE, async (ctx, res) => {
    const args = ctx.call.args;
    const stateid = readStateid(ctx, args);
    const offset = args.uint64();
    const stable = args.uint32();
    const data = args.opaque(MAX_IO);
    const fh = currentInShare(ctx, 'WRITE');
    const attrs = await attributesOf(fh);
    if (attrs.kind === 'dir') throw new Nfs4Error(Nfs4Status.ISDIR, 'a directory');
    if (fh.open.share.settings.readOnly) throw new Nfs4Error(Nfs4Status.ROFS, 'the share is read-only');
    if (offset + BigInt(data.length) > BigInt(MAX_FILE_SIZE)) throw new Nfs4Error(Nfs4Status.FBIG, 'beyond S3\'s largest object');
    o.state.checkIo(stateid, fileKey(fh), true);
    requireWrite(fh.open.share, ctx.call.auth, attrs);
    await fh.open.namespace.write(fh.ino, Number(offset), data, stable !== Stable.UNSTABLE);
    res.uint32(data.length).uint32(stable === Stable.UNSTABLE ? Stable.UNSTABLE : Stable.FILE_SYNC).fixedOpaque(writeVerifier);
  });
  op(Op.COMMIT, async (ctx, res) => {
    ctx.call.args.uint64();
    ctx.call.args.uint32();
    const fh = currentInShare(ctx, 'COMMIT');
    if ((await attributesOf(fh)).kind === 'dir') throw new Nfs4Error(Nfs4Status.ISDIR, 'a directory');
    await fh.open.namespace.commit(fh.ino);
    res.fixedOpaque(writeVerifier);
  });
  op(Op.CREATE, async (ctx, res) => {
    const args = ctx.call.args;
    const type = args.uint32();
    if (type === FileType4.LNK) args.string(NFS4_OPAQUE_LIMIT * 4);
    if (type === FileType4.BLK || type === FileType4.CHR) {
      // specdata4: both words, whatever the first one is.
      args.uint32();
      args.uint32();
    }
    const name = component(args);
    const { change, set } = readFattr(args, nowNs, o.owners);
    if (type === FileType4.REG) throw new Nfs4Error(Nfs4Status.BADTYPE, 'regular files are created by OPEN');
    // As on AWS's file gateway: directories only, no symbolic links or special files.
    if (type !== FileType4.DIR) throw new Nfs4Error(Nfs4Status.NOTSUPP, 'only directories are created');
    const dir = currentInShare(ctx, 'CREATE');
    const before = await changingDirectory(ctx, dir);
    const { size: _size, ...dirChange } = change;
    const entry = await dir.open.namespace.mkdir(dir.ino, name, dirChange, ownerOf(callerOf(dir.open.share, ctx.call.auth)));
    await changeInfo(res, dir, before);
    writeBitmap(res, set);
    ctx.current = { kind: 'share', open: dir.open, ino: entry.ino };
  });
  op(Op.REMOVE, async (ctx, res) => {
    const name = component(ctx.call.args);
    const dir = currentInShare(ctx, 'REMOVE');
    const before = await changingDirectory(ctx, dir);
    const entry = await dir.open.namespace.lookup(dir.ino, name);
    if (entry.attrs.kind === 'dir') await dir.open.namespace.rmdir(dir.ino, name);
    else await dir.open.namespace.remove(dir.ino, name);
    await changeInfo(res, dir, before);
  });
  op(Op.RENAME, async (ctx, res) => {
    const from = component(ctx.call.args);
    const to = component(ctx.call.args);
    if (!ctx.saved) throw new Nfs4Error(Nfs4Status.NOFILEHANDLE, 'no saved file handle');
    const source = ctx.saved;
    const target = currentInShare(ctx, 'RENAME');
    if (source.kind === 'pseudo-root') throw new Nfs4Error(Nfs4Status.ROFS, 'RENAME in the directory of shares');
    if (source.open.share.shareId !== target.open.share.shareId) throw new Nfs4Error(Nfs4Status.XDEV, 'a rename between shares');
    const sourceBefore = await changingDirectory(ctx, source);
    const targetBefore = await changingDirectory(ctx, target);
    await target.open.namespace.rename(source.ino, from, target.ino, to);
    await changeInfo(res, source, sourceBefore);
    await changeInfo(res, target, targetBefore);
  });
  // As on AWS's file gateway, objects have no hard links.
  op(Op.LINK, (ctx) => {
    component(ctx.call.args);
    current(ctx);
    throw new Nfs4Error(Nfs4Status.NOTSUPP, 'no hard links');
  });
  op(Op.READDIR, readdir);
  op(Op.LOCK, (ctx, res) => {
    const args = ctx.call.args;
    const type = lockType(args.uint32());
    const reclaim = args.bool();
    const range = lockRange(args);
    const clientId = clientOf(ctx);
    const file = fileKey(currentInShare(ctx, 'LOCK'));
    let stateid: Stateid;
    if (args.bool()) {
      args.uint32(); // open seqid
      const openStateid = readStateid(ctx, args);
      args.uint32(); // lock seqid
      args.uint64(); // the owner's clientid: the session's counts
      const owner = args.opaque(NFS4_OPAQUE_LIMIT);
      checkGrace(reclaim, clientId);
      stateid = o.state.lock({ type, range, file, openStateid, owner });
    } else {
      const lockStateid = readStateid(ctx, args);
      args.uint32(); // lock seqid
      checkGrace(reclaim, clientId);
      stateid = o.state.lock({ type, range, file, lockStateid });
    }
    ctx.currentStateid = stateid;
    writeStateid(res, stateid);
  }, writeDenied);
  op(Op.LOCKT, (ctx) => {
    const args = ctx.call.args;
    const type = lockType(args.uint32());
    const range = lockRange(args);
    args.uint64();
    const owner = args.opaque(NFS4_OPAQUE_LIMIT);
    const clientId = clientOf(ctx);
    const conflict = o.state.lockTest(fileKey(currentInShare(ctx, 'LOCKT')), type, range, clientId, owner);
    if (conflict) throw new LockDenied(conflict);
  }, writeDenied);
  op(Op.LOCKU, (ctx, res) => {
    const args = ctx.call.args;
    lockType(args.uint32());
    args.uint32(); // seqid
    const stateid = readStateid(ctx, args);
    const range = lockRange(args);
    const next = o.state.unlock(stateid, fileKey(currentInShare(ctx, 'LOCKU')), range);
    ctx.currentStateid = next;
    writeStateid(res, next);
  });
  op(Op.TEST_STATEID, (ctx, res) => {
    const stateids = ctx.call.args.array(1024, (r) => ({ seqid: r.uint32(), other: r.fixedOpaque(12) }));
    res.array(stateids, (w, s) => w.uint32(o.state.testStateid(s)));
  });
  op(Op.FREE_STATEID, (ctx) => o.state.freeStateid(readStateid(ctx, ctx.call.args)));
  // No delegation was ever granted.
  op(Op.DELEGRETURN, (ctx) => {
    readStateid(ctx, ctx.call.args);
    throw new Nfs4Error(Nfs4Status.BAD_STATEID, 'no delegation was granted');
  });
  return ops;
}

/** The pseudo-root's listing changes only with the shares, and its cookies are positions: no verifier needed. */
const PSEUDO_ROOT_VERIFIER = Buffer.alloc(NFS4_VERIFIER_SIZE);
