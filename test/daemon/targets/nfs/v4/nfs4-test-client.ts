/**
 * An NFSv4.1 client for the tests, written from RFC 8881's XDR independently of the server's encoders: it builds
 * COMPOUNDs from operations and decodes each result to its last byte, so a field out of place fails the test.
 */
import { XdrReader, XdrWriter } from '../../../../../src/daemon/targets/rpc/xdr.js';
import { TcpRpcClient, authSys, type Auth } from '../../rpc/test-rpc-client.js';

export const NFS4 = { program: 100003, version: 4 } as const;
export const ROOT4: Auth = authSys({ stamp: 9, machineName: 'v4client', uid: 0, gid: 0, gids: [] });
export const user4 = (uid: number, gid = uid): Auth => authSys({ stamp: 9, machineName: 'v4client', uid, gid, gids: [] });

export const OP = {
  ACCESS: 3, CLOSE: 4, COMMIT: 5, CREATE: 6, GETATTR: 9, GETFH: 10, LINK: 11, LOCK: 12, LOCKT: 13, LOCKU: 14, LOOKUP: 15,
  LOOKUPP: 16, OPEN: 18, OPEN_CONFIRM: 20, OPEN_DOWNGRADE: 21, PUTFH: 22, PUTROOTFH: 24, READ: 25, READDIR: 26, READLINK: 27,
  REMOVE: 28, RENAME: 29, RESTOREFH: 31, SAVEFH: 32, SETATTR: 34, SETCLIENTID: 35, WRITE: 38, BIND_CONN_TO_SESSION: 41,
  EXCHANGE_ID: 42, CREATE_SESSION: 43, DESTROY_SESSION: 44, FREE_STATEID: 45, LAYOUTGET: 50, SECINFO_NO_NAME: 52,
  SEQUENCE: 53, TEST_STATEID: 55, DESTROY_CLIENTID: 57, RECLAIM_COMPLETE: 58, ILLEGAL: 10044,
} as const;

export const NFS4ERR = {
  OK: 0, PERM: 1, NOENT: 2, ACCESS: 13, EXIST: 17, XDEV: 18, NOTDIR: 20, ISDIR: 21, INVAL: 22, ROFS: 30, NOTEMPTY: 66,
  STALE: 70, BADHANDLE: 10001, BAD_COOKIE: 10003, NOTSUPP: 10004, TOOSMALL: 10005, SERVERFAULT: 10006, BADTYPE: 10007,
  DELAY: 10008, DENIED: 10010, GRACE: 10013, NOFILEHANDLE: 10020, MINOR_VERS_MISMATCH: 10021, STALE_CLIENTID: 10022,
  STALE_STATEID: 10023, OLD_STATEID: 10024, BAD_STATEID: 10025, RESTOREFH: 10030, ATTRNOTSUPP: 10032, NO_GRACE: 10033,
  BADXDR: 10036, LOCKS_HELD: 10037, OPENMODE: 10038, BADOWNER: 10039, BADNAME: 10041, OP_ILLEGAL: 10044, BADSESSION: 10052,
  BADSLOT: 10053, COMPLETE_ALREADY: 10054, SEQ_MISORDERED: 10063, SEQUENCE_POS: 10064, RETRY_UNCACHED_REP: 10068,
  TOO_MANY_OPS: 10070, OP_NOT_IN_SESSION: 10071, CLIENTID_BUSY: 10074, NOT_ONLY_OP: 10081,
} as const;

/** Attribute numbers the tests ask for; `decodeAttrs` knows how to read each. */
export const A = {
  SUPPORTED: 0, TYPE: 1, FH_EXPIRE_TYPE: 2, CHANGE: 3, SIZE: 4, LINK_SUPPORT: 5, SYMLINK_SUPPORT: 6, FSID: 8, LEASE_TIME: 10,
  RDATTR_ERROR: 11, FILEHANDLE: 19, FILEID: 20, MAXREAD: 30, MAXWRITE: 31, MODE: 33, NUMLINKS: 35, OWNER: 36, OWNER_GROUP: 37,
  SPACE_USED: 45, TIME_ACCESS: 47, TIME_MODIFY: 53, TIME_MODIFY_SET: 54, MOUNTED_ON_FILEID: 55, SUPPATTR_EXCLCREAT: 75,
} as const;

export interface Attrs {
  supported?: number[];
  type?: number;
  fhExpireType?: number;
  change?: bigint;
  size?: bigint;
  linkSupport?: boolean;
  symlinkSupport?: boolean;
  fsid?: [bigint, bigint];
  leaseTime?: number;
  rdattrError?: number;
  filehandle?: Buffer;
  fileid?: bigint;
  maxread?: bigint;
  maxwrite?: bigint;
  mode?: number;
  numlinks?: number;
  owner?: string;
  ownerGroup?: string;
  spaceUsed?: bigint;
  timeAccess?: [bigint, number];
  timeModify?: [bigint, number];
  mountedOnFileid?: bigint;
  suppattrExclcreat?: number[];
}

export function bitmap(attrs: readonly number[]): number[] {
  const words: number[] = [];
  for (const a of attrs) {
    while (words.length <= a >> 5) words.push(0);
    words[a >> 5] = (words[a >> 5]! | (1 << (a & 31))) >>> 0;
  }
  return words;
}

export function attrsOf(words: number[]): number[] {
  return words.flatMap((word, i) => Array.from({ length: 32 }, (_, bit) => bit).filter((bit) => (word >>> bit) & 1).map((bit) => i * 32 + bit));
}

const readBitmap = (r: XdrReader) => r.array(16, (x) => x.uint32());
const writeBitmap = (w: XdrWriter, words: number[]) => w.array(words, (x, v) => x.uint32(v));

/** fattr4 as sent: the attributes a test sets. */
export function fattr(values: { mode?: number; owner?: string; size?: bigint; mtime?: [bigint, number] }): (w: XdrWriter) => void {
  return (w) => {
    const attrs: number[] = [];
    const body = new XdrWriter();
    if (values.size !== undefined) { attrs.push(A.SIZE); body.uint64(values.size); }
    if (values.mode !== undefined) { attrs.push(A.MODE); body.uint32(values.mode); }
    if (values.owner !== undefined) { attrs.push(A.OWNER); body.string(values.owner); }
    if (values.mtime !== undefined) { attrs.push(A.TIME_MODIFY_SET); body.uint32(1).int64(values.mtime[0]).uint32(values.mtime[1]); }
    writeBitmap(w, bitmap(attrs));
    w.opaque(body.toBuffer());
  };
}

/** fattr4 as received, every returned attribute decoded in order; one the test cannot read fails it. */
export function decodeFattr(r: XdrReader): Attrs {
  const returned = attrsOf(readBitmap(r));
  const values = new XdrReader(Buffer.from(r.opaque(1 << 20)));
  const a: Attrs = {};
  for (const n of returned) {
    switch (n) {
      case A.SUPPORTED: a.supported = attrsOf(readBitmap(values)); break;
      case A.TYPE: a.type = values.uint32(); break;
      case A.FH_EXPIRE_TYPE: a.fhExpireType = values.uint32(); break;
      case A.CHANGE: a.change = values.uint64(); break;
      case A.SIZE: a.size = values.uint64(); break;
      case A.LINK_SUPPORT: a.linkSupport = values.bool(); break;
      case A.SYMLINK_SUPPORT: a.symlinkSupport = values.bool(); break;
      case A.FSID: a.fsid = [values.uint64(), values.uint64()]; break;
      case A.LEASE_TIME: a.leaseTime = values.uint32(); break;
      case A.RDATTR_ERROR: a.rdattrError = values.uint32(); break;
      case A.FILEHANDLE: a.filehandle = Buffer.from(values.opaque(128)); break;
      case A.FILEID: a.fileid = values.uint64(); break;
      case A.MAXREAD: a.maxread = values.uint64(); break;
      case A.MAXWRITE: a.maxwrite = values.uint64(); break;
      case A.MODE: a.mode = values.uint32(); break;
      case A.NUMLINKS: a.numlinks = values.uint32(); break;
      case A.OWNER: a.owner = values.string(1024); break;
      case A.OWNER_GROUP: a.ownerGroup = values.string(1024); break;
      case A.SPACE_USED: a.spaceUsed = values.uint64(); break;
      case A.TIME_ACCESS: a.timeAccess = [values.int64(), values.uint32()]; break;
      case A.TIME_MODIFY: a.timeModify = [values.int64(), values.uint32()]; break;
      case A.MOUNTED_ON_FILEID: a.mountedOnFileid = values.uint64(); break;
      case A.SUPPATTR_EXCLCREAT: a.suppattrExclcreat = attrsOf(readBitmap(values)); break;
      default: throw new Error(`attribute ${n} came back, which was not asked for`);
    }
  }
  if (values.remaining !== 0) throw new Error(`${values.remaining} bytes after the attributes`);
  return a;
}

export interface Stateid {
  seqid: number;
  other: Buffer;
}

const readStateid = (r: XdrReader): Stateid => ({ seqid: r.uint32(), other: Buffer.from(r.fixedOpaque(12)) });
const writeStateid = (w: XdrWriter, s: Stateid) => w.uint32(s.seqid).fixedOpaque(s.other);
export const ANONYMOUS: Stateid = { seqid: 0, other: Buffer.alloc(12) };
export const CURRENT: Stateid = { seqid: 1, other: Buffer.alloc(12) };
const changeInfo = (r: XdrReader) => ({ atomic: r.bool(), before: r.uint64(), after: r.uint64() });

/** One operation: its arguments, and how to read its result after the status (for OK, and for the errors that carry a body). */
export interface Op<T = unknown> {
  op: number;
  args?: (w: XdrWriter) => void;
  result?: (r: XdrReader, status: number) => T;
}

export interface OpResult {
  op: number;
  status: number;
  value?: unknown;
}

export interface CompoundReply {
  status: number;
  tag: string;
  results: OpResult[];
}

const channel = (w: XdrWriter, c: { maxreq: number; maxresp: number; cached: number; ops: number; reqs: number }) =>
  w.uint32(0).uint32(c.maxreq).uint32(c.maxresp).uint32(c.cached).uint32(c.ops).uint32(c.reqs).uint32(0);
const readChannel = (r: XdrReader) => ({
  headerPad: r.uint32(), maxreq: r.uint32(), maxresp: r.uint32(), cached: r.uint32(), ops: r.uint32(), reqs: r.uint32(), rdmaIrd: r.array(1, (x) => x.uint32()),
});

export const ops = {
  exchangeId: (owner: string, verifier: Buffer = Buffer.alloc(8, 1)): Op<{ clientId: bigint; sequenceId: number; flags: number; majorId: Buffer; scope: Buffer }> => ({
    op: OP.EXCHANGE_ID,
    args: (w) => w.fixedOpaque(verifier).string(owner).uint32(0x1).uint32(0).uint32(0),
    result: (r) => {
      const clientId = r.uint64();
      const sequenceId = r.uint32();
      const flags = r.uint32();
      if (r.uint32() !== 0) throw new Error('state protection is not SP4_NONE');
      r.uint64();
      const majorId = Buffer.from(r.opaque(1024));
      const scope = Buffer.from(r.opaque(1024));
      r.array(1, () => { throw new Error('an implementation id'); });
      return { clientId, sequenceId, flags, majorId, scope };
    },
  }),
  createSession: (clientId: bigint, sequence: number, fore = { maxreq: 1049620, maxresp: 1049480, cached: 7584, ops: 16, reqs: 64 }): Op<{ sessionId: Buffer; sequence: number; flags: number; fore: ReturnType<typeof readChannel> }> => ({
    op: OP.CREATE_SESSION,
    args: (w) => {
      w.uint64(clientId).uint32(sequence).uint32(0x3);
      channel(w, fore);
      channel(w, { maxreq: 4096, maxresp: 4096, cached: 0, ops: 2, reqs: 16 });
      w.uint32(0x40000000).uint32(1).uint32(1).uint32(0).string('v4client').uint32(0).uint32(0).uint32(0);
    },
    result: (r) => {
      const sessionId = Buffer.from(r.fixedOpaque(16));
      const seq = r.uint32();
      const flags = r.uint32();
      const f = readChannel(r);
      readChannel(r);
      return { sessionId, sequence: seq, flags, fore: f };
    },
  }),
  sequence: (sessionId: Buffer, sequenceId: number, slot = 0, cacheThis = false): Op<{ sequenceId: number; slot: number; highest: number; target: number; flags: number }> => ({
    op: OP.SEQUENCE,
    args: (w) => w.fixedOpaque(sessionId).uint32(sequenceId).uint32(slot).uint32(slot).bool(cacheThis),
    result: (r) => {
      r.fixedOpaque(16);
      return { sequenceId: r.uint32(), slot: r.uint32(), highest: r.uint32(), target: r.uint32(), flags: r.uint32() };
    },
  }),
  reclaimComplete: (): Op => ({ op: OP.RECLAIM_COMPLETE, args: (w) => w.bool(false) }),
  destroySession: (sessionId: Buffer): Op => ({ op: OP.DESTROY_SESSION, args: (w) => w.fixedOpaque(sessionId) }),
  destroyClientId: (clientId: bigint): Op => ({ op: OP.DESTROY_CLIENTID, args: (w) => w.uint64(clientId) }),
  putrootfh: (): Op => ({ op: OP.PUTROOTFH }),
  putfh: (fh: Buffer): Op => ({ op: OP.PUTFH, args: (w) => w.opaque(fh) }),
  getfh: (): Op<Buffer> => ({ op: OP.GETFH, result: (r) => Buffer.from(r.opaque(128)) }),
  savefh: (): Op => ({ op: OP.SAVEFH }),
  restorefh: (): Op => ({ op: OP.RESTOREFH }),
  lookup: (name: string): Op => ({ op: OP.LOOKUP, args: (w) => w.string(name) }),
  lookupp: (): Op => ({ op: OP.LOOKUPP }),
  secinfoNoName: (): Op<number[]> => ({ op: OP.SECINFO_NO_NAME, args: (w) => w.uint32(0), result: (r) => r.array(8, (x) => x.uint32()) }),
  getattr: (attrs: readonly number[]): Op<Attrs> => ({ op: OP.GETATTR, args: (w) => writeBitmap(w, bitmap(attrs)), result: (r) => decodeFattr(r) }),
  setattr: (stateid: Stateid, attrs: (w: XdrWriter) => void): Op<number[]> => ({
    op: OP.SETATTR, args: (w) => { writeStateid(w, stateid); attrs(w); }, result: (r) => attrsOf(readBitmap(r)),
  }),
  access: (mask: number): Op<{ supported: number; access: number }> => ({ op: OP.ACCESS, args: (w) => w.uint32(mask), result: (r) => ({ supported: r.uint32(), access: r.uint32() }) }),
  /** OPEN by name in the current directory; `create` UNCHECKED (0), GUARDED (1) or EXCLUSIVE4_1 (3). */
  open: (name: string, o: { access?: number; deny?: number; owner?: string; create?: 0 | 1 | 3; attrs?: (w: XdrWriter) => void; claim?: 'null' | 'fh' | 'previous' } = {}): Op<{ stateid: Stateid; cinfo: ReturnType<typeof changeInfo>; rflags: number; attrset: number[] }> => ({
    op: OP.OPEN,
    args: (w) => {
      w.uint32(0).uint32(o.access ?? 3).uint32(o.deny ?? 0).uint64(0n).string(o.owner ?? 'open-owner');
      if (o.create === undefined) w.uint32(0);
      else if (o.create === 3) { w.uint32(1).uint32(3).fixedOpaque(Buffer.alloc(8, 7)); (o.attrs ?? fattr({}))(w); }
      else { w.uint32(1).uint32(o.create); (o.attrs ?? fattr({ mode: 0o644 }))(w); }
      if ((o.claim ?? 'null') === 'null') w.uint32(0).string(name);
      else if (o.claim === 'fh') w.uint32(4);
      else w.uint32(1).uint32(0);
    },
    result: (r) => {
      const stateid = readStateid(r);
      const cinfo = changeInfo(r);
      const rflags = r.uint32();
      const attrset = attrsOf(readBitmap(r));
      if (r.uint32() !== 0) throw new Error('a delegation was granted');
      return { stateid, cinfo, rflags, attrset };
    },
  }),
  close: (stateid: Stateid): Op<Stateid> => ({ op: OP.CLOSE, args: (w) => { w.uint32(0); writeStateid(w, stateid); }, result: readStateid }),
  openDowngrade: (stateid: Stateid, access: number): Op<Stateid> => ({ op: OP.OPEN_DOWNGRADE, args: (w) => { writeStateid(w, stateid); w.uint32(0).uint32(access).uint32(0); }, result: readStateid }),
  read: (stateid: Stateid, offset: bigint, count: number): Op<{ eof: boolean; data: Buffer }> => ({
    op: OP.READ, args: (w) => { writeStateid(w, stateid); w.uint64(offset).uint32(count); }, result: (r) => ({ eof: r.bool(), data: Buffer.from(r.opaque(1 << 21)) }),
  }),
  write: (stateid: Stateid, offset: bigint, data: Buffer, stable = 0): Op<{ count: number; committed: number; verifier: Buffer }> => ({
    op: OP.WRITE, args: (w) => { writeStateid(w, stateid); w.uint64(offset).uint32(stable).opaque(data); },
    result: (r) => ({ count: r.uint32(), committed: r.uint32(), verifier: Buffer.from(r.fixedOpaque(8)) }),
  }),
  commit: (): Op<Buffer> => ({ op: OP.COMMIT, args: (w) => w.uint64(0n).uint32(0), result: (r) => Buffer.from(r.fixedOpaque(8)) }),
  mkdir: (name: string, attrs = fattr({ mode: 0o755 })): Op<{ cinfo: ReturnType<typeof changeInfo>; attrset: number[] }> => ({
    op: OP.CREATE, args: (w) => { w.uint32(2).string(name); attrs(w); }, result: (r) => ({ cinfo: changeInfo(r), attrset: attrsOf(readBitmap(r)) }),
  }),
  createOther: (type: number, name: string): Op => ({
    op: OP.CREATE, args: (w) => { w.uint32(type); if (type === 5) w.string('target'); if (type === 3 || type === 4) w.uint32(0).uint32(2); w.string(name); fattr({})(w); },
  }),
  remove: (name: string): Op<ReturnType<typeof changeInfo>> => ({ op: OP.REMOVE, args: (w) => w.string(name), result: changeInfo }),
  rename: (from: string, to: string): Op => ({ op: OP.RENAME, args: (w) => w.string(from).string(to), result: (r) => [changeInfo(r), changeInfo(r)] }),
  link: (name: string): Op => ({ op: OP.LINK, args: (w) => w.string(name) }),
  readlink: (): Op => ({ op: OP.READLINK }),
  readdir: (cookie: bigint, verifier: Buffer, attrs: readonly number[], maxcount = 32768): Op<{ verifier: Buffer; entries: Array<{ cookie: bigint; name: string; attrs: Attrs }>; eof: boolean }> => ({
    op: OP.READDIR,
    args: (w) => { w.uint64(cookie).fixedOpaque(verifier).uint32(maxcount).uint32(maxcount); writeBitmap(w, bitmap(attrs)); },
    result: (r) => {
      const v = Buffer.from(r.fixedOpaque(8));
      const entries: Array<{ cookie: bigint; name: string; attrs: Attrs }> = [];
      while (r.bool()) entries.push({ cookie: r.uint64(), name: r.string(1024), attrs: decodeFattr(r) });
      return { verifier: v, entries, eof: r.bool() };
    },
  }),
  lock: (type: 1 | 2, offset: bigint, length: bigint, locker: { open: Stateid; owner: string } | { lock: Stateid }, reclaim = false): Op<Stateid | { denied: { offset: bigint; length: bigint; type: number; owner: string } }> => ({
    op: OP.LOCK,
    args: (w) => {
      w.uint32(type).bool(reclaim).uint64(offset).uint64(length);
      if ('open' in locker) { w.bool(true).uint32(0); writeStateid(w, locker.open); w.uint32(0).uint64(0n).string(locker.owner); }
      else { w.bool(false); writeStateid(w, locker.lock); w.uint32(0); }
    },
    result: (r, status) => (status === NFS4ERR.DENIED ? { denied: { offset: r.uint64(), length: r.uint64(), type: r.uint32(), owner: (r.uint64(), r.string(1024)) } } : readStateid(r)),
  }),
  lockt: (type: 1 | 2, offset: bigint, length: bigint, owner: string): Op => ({
    op: OP.LOCKT, args: (w) => w.uint32(type).uint64(offset).uint64(length).uint64(0n).string(owner),
    result: (r, status) => (status === NFS4ERR.DENIED ? { offset: r.uint64(), length: r.uint64(), type: r.uint32(), owner: (r.uint64(), r.string(1024)) } : undefined),
  }),
  locku: (stateid: Stateid, offset: bigint, length: bigint): Op<Stateid> => ({
    op: OP.LOCKU, args: (w) => { w.uint32(2).uint32(0); writeStateid(w, stateid); w.uint64(offset).uint64(length); }, result: readStateid,
  }),
  testStateid: (stateids: Stateid[]): Op<number[]> => ({ op: OP.TEST_STATEID, args: (w) => w.array(stateids, writeStateid), result: (r) => r.array(64, (x) => x.uint32()) }),
  freeStateid: (stateid: Stateid): Op => ({ op: OP.FREE_STATEID, args: (w) => writeStateid(w, stateid) }),
  raw: (op: number, args?: (w: XdrWriter) => void): Op => (args ? { op, args } : { op }),
};

/** Statuses whose failed results carry a body this client reads; SETATTR's bitmap comes with every status. */
const BODY_ON_ERROR = new Map<number, number[]>([[OP.LOCK, [NFS4ERR.DENIED]], [OP.LOCKT, [NFS4ERR.DENIED]]]);

export class Nfs4TestClient {
  sessionId: Buffer = Buffer.alloc(16);
  clientId = 0n;
  private slotSequence = 0;

  private constructor(readonly rpc: TcpRpcClient) {}

  static async connect(port: number): Promise<Nfs4TestClient> {
    return new Nfs4TestClient(await TcpRpcClient.connect(port));
  }

  /** One COMPOUND; every result is decoded, and bytes left over fail the test. */
  async compound(list: Op[], o: { minor?: number; cred?: Auth; tag?: string } = {}): Promise<CompoundReply> {
    const args = new XdrWriter();
    args.string(o.tag ?? 'test').uint32(o.minor ?? 1).uint32(list.length);
    for (const item of list) {
      args.uint32(item.op);
      item.args?.(args);
    }
    const reply = await this.rpc.call({ ...NFS4, procedure: 1, cred: o.cred ?? ROOT4, args: Buffer.from(args.toBuffer()) });
    if (reply.stat !== 'SUCCESS') throw new Error(`COMPOUND: ${reply.stat}`);
    return decodeCompound(reply.results, list);
  }

  /** The Linux mount's start: EXCHANGE_ID, CREATE_SESSION, RECLAIM_COMPLETE. */
  async establish(owner: string, verifier?: Buffer): Promise<void> {
    const ex = await this.only(ops.exchangeId(owner, verifier));
    this.clientId = ex.clientId;
    const cs = await this.only(ops.createSession(ex.clientId, ex.sequenceId));
    this.sessionId = cs.sessionId;
    this.slotSequence = 0;
    const rc = await this.session([ops.reclaimComplete()]);
    if (rc.status !== 0) throw new Error(`RECLAIM_COMPLETE: ${rc.status}`);
  }

  /** A compound on the session's slot 0: SEQUENCE first, its sequence id the next. */
  session(list: Op[], o: { cred?: Auth; cacheThis?: boolean } = {}): Promise<CompoundReply> {
    this.slotSequence++;
    return this.compound([ops.sequence(this.sessionId, this.slotSequence, 0, o.cacheThis ?? false), ...list], o);
  }

  /** The same sequence id again: what a client sends after a lost reply. */
  resend(list: Op[], o: { cred?: Auth } = {}): Promise<CompoundReply> {
    return this.compound([ops.sequence(this.sessionId, this.slotSequence, 0, true), ...list], o);
  }

  /** The value of a compound of one session-less operation, which must succeed. */
  async only<T>(op: Op<T>): Promise<T> {
    const reply = await this.compound([op]);
    if (reply.status !== 0) throw new Error(`operation ${op.op}: status ${reply.status}`);
    return reply.results[0]!.value as T;
  }

  /** The values of a session compound whose every operation must succeed (SEQUENCE's left out). */
  async ok(list: Op[], cred?: Auth): Promise<unknown[]> {
    const reply = await this.session(list, cred ? { cred } : {});
    if (reply.status !== 0) {
      const failed = reply.results.find((r) => r.status !== 0);
      throw new Error(`operation ${failed?.op} failed: ${reply.status}`);
    }
    return reply.results.slice(1).map((r) => r.value);
  }

  close(): Promise<void> {
    return this.rpc.close();
  }
}

export function decodeCompound(r: XdrReader, list: Op[]): CompoundReply {
  const status = r.uint32();
  const tag = r.string(1024);
  const count = r.uint32();
  if (count > list.length) throw new Error(`${count} results for ${list.length} operations`);
  const results: OpResult[] = [];
  for (let i = 0; i < count; i++) {
    const op = r.uint32();
    const opStatus = r.uint32();
    const sent = list[i]!;
    if (op !== sent.op && op !== OP.ILLEGAL) throw new Error(`result ${i} is of operation ${op}, not ${sent.op}`);
    const result: OpResult = { op, status: opStatus };
    if (sent.result && (opStatus === 0 || BODY_ON_ERROR.get(op)?.some((s) => s === opStatus) || (op === OP.SETATTR))) {
      result.value = sent.result(r, opStatus);
    }
    results.push(result);
    if (opStatus !== 0 && i !== count - 1) throw new Error(`operation ${op} failed with ${opStatus} but others followed`);
  }
  if (count > 0 && results[count - 1]!.status !== status) throw new Error(`compound status ${status} is not its last result's ${results[count - 1]!.status}`);
  if (r.remaining !== 0) throw new Error(`${r.remaining} bytes after the compound's results`);
  return { status, tag, results };
}
