/**
 * The MOUNT and NFSv3 programs over a real catalog, share registry and local buckets in a temp dir, behind a TCP
 * listener on 127.0.0.1, with a client that decodes replies from the RFC 1813 layouts independently of the
 * server's encoders.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { mountProgram } from '../../../../src/daemon/targets/nfs/mount-program.js';
import { nfs3Program } from '../../../../src/daemon/targets/nfs/nfs3-program.js';
import { XdrWriter, type XdrReader } from '../../../../src/daemon/targets/rpc/xdr.js';
import { LocalObjectStore } from '../../../../src/storage/backends/local-store.js';
import { Catalog, type ShareRecord } from '../../../../src/storage/catalog/catalog.js';
import { CloudTraffic } from '../../../../src/storage/backends/metered-store.js';
import { ShareRegistry } from '../../../../src/storage/files/share-registry.js';
import { checkedSettings, DEFAULT_SETTINGS, type ChangeableSettings } from '../../../../src/storage/files/share-settings.js';
import { TcpRpcClient, authSys, silentLog, type Auth } from '../rpc/test-rpc-client.js';
import { startRpcServer, type LogLine } from '../rpc/test-server.js';

export const NFS = { program: 100003, version: 3 } as const;
export const MOUNT = { program: 100005, version: 3 } as const;

/** NFSv3 procedures (RFC 1813 §3.3). */
export const Proc = {
  GETATTR: 1, SETATTR: 2, LOOKUP: 3, ACCESS: 4, READLINK: 5, READ: 6, WRITE: 7, CREATE: 8, MKDIR: 9, SYMLINK: 10,
  MKNOD: 11, REMOVE: 12, RMDIR: 13, RENAME: 14, LINK: 15, READDIR: 16, READDIRPLUS: 17, FSSTAT: 18, FSINFO: 19,
  PATHCONF: 20, COMMIT: 21,
} as const;

/** nfsstat3 (RFC 1813 §2.6). */
export const Status = {
  OK: 0, NOENT: 2, ACCES: 13, NOTDIR: 20, ISDIR: 21, INVAL: 22, ROFS: 30, NAMETOOLONG: 63, STALE: 70,
  BADHANDLE: 10001, BAD_COOKIE: 10003, NOTSUPP: 10004, TOOSMALL: 10005,
} as const;

/** ACCESS3 bits. */
export const Access = { READ: 0x1, LOOKUP: 0x2, MODIFY: 0x4, EXTEND: 0x8, DELETE: 0x10, EXECUTE: 0x20 } as const;
export const ALL_ACCESS = 0x3f;

export const NOBODY = 65534;

export const sys = (uid: number, gid = uid, gids: number[] = []): Auth => authSys({ stamp: 7, machineName: 'client', uid, gid, gids });
export const ROOT = sys(0, 0);

/** When every test share was created: the times of directories no object stands for. */
export const CREATED = new Date('2026-01-02T03:04:05.678Z');
export const CREATED_TIME: Time = [1767323045, 678_000_000];

export function xdr(write: (w: XdrWriter) => unknown): Buffer {
  const writer = new XdrWriter();
  write(writer);
  return Buffer.from(writer.toBuffer());
}

export type Time = [seconds: number, nanoseconds: number];

/** fattr3, field by field. */
export interface Fattr3 {
  type: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  size: bigint;
  used: bigint;
  rdev: [number, number];
  fsid: bigint;
  fileid: bigint;
  atime: Time;
  mtime: Time;
  ctime: Time;
}

const time = (r: XdrReader): Time => [r.uint32(), r.uint32()];

export function fattr3(r: XdrReader): Fattr3 {
  return {
    type: r.uint32(), mode: r.uint32(), nlink: r.uint32(), uid: r.uint32(), gid: r.uint32(), size: r.uint64(), used: r.uint64(),
    rdev: [r.uint32(), r.uint32()], fsid: r.uint64(), fileid: r.uint64(), atime: time(r), mtime: time(r), ctime: time(r),
  };
}

export function postOpAttr(r: XdrReader): Fattr3 | undefined {
  return r.bool() ? fattr3(r) : undefined;
}

/** wcc_data: pre_op_attr (bool + size, mtime, ctime), then post_op_attr. */
export function wccData(r: XdrReader): { before?: { size: bigint; mtime: Time; ctime: Time }; after?: Fattr3 } {
  const before = r.bool() ? { size: r.uint64(), mtime: time(r), ctime: time(r) } : undefined;
  const after = postOpAttr(r);
  return { ...(before ? { before } : {}), ...(after ? { after } : {}) };
}

export interface DirEntry {
  fileid: bigint;
  name: string;
  cookie: bigint;
  attrs?: Fattr3;
  handle?: Buffer;
}

export interface DirList {
  dir: Fattr3 | undefined;
  verifier: Buffer;
  entries: DirEntry[];
  eof: boolean;
}

/** READDIR3resok / READDIRPLUS3resok. */
export function dirList(r: XdrReader, plus: boolean): DirList {
  const dir = postOpAttr(r);
  const verifier = Buffer.from(r.fixedOpaque(8));
  const entries: DirEntry[] = [];
  while (r.bool()) {
    const entry: DirEntry = { fileid: r.uint64(), name: r.string(255), cookie: r.uint64() };
    if (plus) {
      const attrs = postOpAttr(r);
      if (attrs) entry.attrs = attrs;
      if (r.bool()) entry.handle = Buffer.from(r.opaque(64));
    }
    entries.push(entry);
  }
  return { dir, verifier, entries, eof: r.bool() };
}

/** XDR bytes of one entry3 (with its list bool), or entryplus3 with attributes and a handle of `handleBytes`. */
export function entryBytes(name: string, plus: false | { handleBytes: number }): number {
  const padded = (n: number) => Math.ceil(n / 4) * 4;
  const base = 4 + 8 + 4 + padded(Buffer.byteLength(name)) + 8;
  return plus ? base + 4 + 84 + 4 + 4 + padded(plus.handleBytes) : base;
}

export interface NfsReply {
  status: number;
  /** The body after the status. */
  r: XdrReader;
  /** Bytes of the body after the status. */
  bytes: number;
}

export interface ShareOptions extends Partial<ChangeableSettings> {
  bucket: string;
  prefix?: string;
}

/** A catalog with an activated gateway and a share registry over local buckets, in a temp dir of their own. */
export async function openShares(t: { teardown(fn: () => unknown): void }): Promise<{ stateDir: string; catalog: Catalog; registry: ShareRegistry }> {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'sgw-nfs-'));
  t.teardown(() => rm(stateDir, { recursive: true, force: true }));
  const catalog = Catalog.open(path.join(stateDir, 'catalog.db'));
  t.teardown(() => catalog.close());
  catalog.saveGateway({ gatewayId: 'gw-test', name: 'lab', timezone: 'UTC', backend: { kind: 'local' }, activatedAt: new Date().toISOString() });
  const registry = new ShareRegistry({ catalog, stateDir, traffic: new CloudTraffic(null), log: silentLog() });
  t.teardown(() => registry.close());
  return { stateDir, catalog, registry };
}

export function addShare(catalog: Catalog, shareId: string, name: string, { bucket, prefix = '', ...settings }: ShareOptions): ShareRecord {
  const record: ShareRecord = {
    shareId, name, location: `${bucket}/${prefix}`, status: 'AVAILABLE', createdAt: CREATED.toISOString(),
    settings: checkedSettings({ ...DEFAULT_SETTINGS, ...settings, bucket, prefix }),
  };
  catalog.addShare(record);
  return record;
}

export class TestGateway {
  private constructor(
    readonly stateDir: string,
    readonly catalog: Catalog,
    readonly registry: ShareRegistry,
    readonly client: TcpRpcClient,
    /** Warnings and errors the RPC layer logged: a procedure that threw. */
    readonly warnings: LogLine[],
  ) {}

  static async start(t: { teardown(fn: () => unknown): void }): Promise<TestGateway> {
    const { stateDir, catalog, registry } = await openShares(t);
    const server = await startRpcServer(t, [mountProgram(registry), nfs3Program(registry)]);
    const client = await TcpRpcClient.connect(server.tcp.port);
    t.teardown(() => client.close());
    return new TestGateway(stateDir, catalog, registry, client, server.warnings);
  }

  addShare(shareId: string, name: string, options: ShareOptions): ShareRecord {
    return addShare(this.catalog, shareId, name, options);
  }

  /** A bucket as a plain S3 client sees it, where the registry opens it for the local backend. */
  bucket(name: string): LocalObjectStore {
    return new LocalObjectStore({ dir: path.join(this.stateDir, 'buckets', name) });
  }

  async call(program: { program: number; version: number }, procedure: number, args: Buffer, cred: Auth = ROOT): Promise<XdrReader> {
    const reply = await this.client.call({ ...program, procedure, cred, args });
    if (reply.stat !== 'SUCCESS') throw new Error(`procedure ${procedure} of ${program.program}: ${reply.stat}`);
    return reply.results;
  }

  async nfs(procedure: number, args: Buffer, cred: Auth = ROOT): Promise<NfsReply> {
    const results = await this.call(NFS, procedure, args, cred);
    const status = results.uint32();
    return { status, r: results, bytes: results.remaining };
  }

  /** The root (or sub-directory) handle MNT gives for a path. */
  async mount(dirpath: string, cred: Auth = ROOT): Promise<Buffer> {
    const r = await this.call(MOUNT, 1, xdr((w) => w.string(dirpath)), cred);
    const status = r.uint32();
    if (status !== 0) throw new Error(`MNT ${dirpath}: ${status}`);
    const fh = Buffer.from(r.opaque(64));
    r.array(8, (a) => a.uint32());
    return fh;
  }

  async lookup(dir: Buffer, name: string, cred: Auth = ROOT): Promise<Buffer> {
    const { status, r } = await this.nfs(Proc.LOOKUP, xdr((w) => w.opaque(dir).string(name)), cred);
    if (status !== Status.OK) throw new Error(`LOOKUP ${name}: ${status}`);
    return Buffer.from(r.opaque(64));
  }

  async getattr(fh: Buffer, cred: Auth = ROOT): Promise<Fattr3> {
    const { status, r } = await this.nfs(Proc.GETATTR, xdr((w) => w.opaque(fh)), cred);
    if (status !== Status.OK) throw new Error(`GETATTR: ${status}`);
    return fattr3(r);
  }
}
