/**
 * NFSv4.1's state for one run (RFC 8881 §8-9): opens with their share access and deny, lock owners, and POSIX
 * byte-range locks, each named by a stateid whose seqid counts its changes. Stateids carry the run's number, so one
 * of an earlier run is STALE however its other bytes look. Locks are advisory, as POSIX's: READ and WRITE check the
 * open and the share reservations, never the byte-range locks.
 */
import { NFS4_OTHER_SIZE, Nfs4Error, Nfs4Status } from './nfs4-constants.js';

export interface Stateid {
  seqid: number;
  other: Buffer;
}

export const ShareAccess = { READ: 1, WRITE: 2, BOTH: 3 } as const;
export type LockType = 'read' | 'write';

export interface LockRange {
  offset: bigint;
  /** All ones: to the end of the file. */
  length: bigint;
}

export interface LockConflict extends LockRange {
  type: LockType;
  clientId: bigint;
  owner: Buffer;
}

/** LOCK and LOCKT's DENIED, with the lock in the way. */
export class LockDenied extends Nfs4Error {
  constructor(readonly conflict: LockConflict) {
    super(Nfs4Status.DENIED, 'a conflicting byte-range lock is held');
  }
}

export const ANONYMOUS_STATEID: Stateid = { seqid: 0, other: Buffer.alloc(NFS4_OTHER_SIZE) };
export const BYPASS_STATEID: Stateid = { seqid: 0xffffffff, other: Buffer.alloc(NFS4_OTHER_SIZE, 0xff) };
/** What CLOSE returns: the stateid that names nothing. */
export const INVALID_STATEID: Stateid = { seqid: 0xffffffff, other: Buffer.alloc(NFS4_OTHER_SIZE) };

const isZero = (b: Buffer): boolean => b.every((byte) => byte === 0);
const isOnes = (b: Buffer): boolean => b.every((byte) => byte === 0xff);
/** seqid 1 and other zeros: "the current stateid" of the compound (RFC 8881 §16.2.3.1.2). */
export const isCurrentStateid = (s: Stateid): boolean => s.seqid === 1 && s.other.length === NFS4_OTHER_SIZE && isZero(s.other);

const TO_END = 2n ** 64n - 1n;
/** Ranges are kept as [start, end); a lock to the end of the file ends here. */
const LIMIT = 2n ** 64n;
const SHARE_DENY_ALL = 3;

interface OpenState {
  kind: 'open';
  id: bigint;
  seqid: number;
  clientId: bigint;
  owner: Buffer;
  file: string;
  access: number;
  deny: number;
}

/** One lock owner's locks on one file: RFC 8881 §8.2.1 gives them a single stateid. */
interface LockOwnerState {
  kind: 'lock';
  id: bigint;
  seqid: number;
  clientId: bigint;
  owner: Buffer;
  file: string;
  /** The open it was created from; CLOSE of that open must not leave its locks orphaned. */
  open: OpenState;
  /** Sorted by start, disjoint, and neighbours of one type merged. */
  ranges: HeldRange[];
}

interface HeldRange {
  start: bigint;
  end: bigint;
  type: LockType;
}

type State = OpenState | LockOwnerState;

interface FileState {
  opens: Map<string, OpenState>;
  lockOwners: Map<string, LockOwnerState>;
  /** How many opens hold each share bit, [READ, WRITE]: a new open is checked without walking the others. */
  access: [number, number];
  deny: [number, number];
}

const ownerKey = (clientId: bigint, owner: Buffer): string => `${clientId}:${owner.toString('base64')}`;
const SHARE_BITS = [ShareAccess.READ, ShareAccess.WRITE] as const;

/** Adds (sign 1) or takes away (sign -1) an open's share bits from its file's counts. */
function count(f: FileState, open: OpenState, sign: 1 | -1): void {
  SHARE_BITS.forEach((bit, i) => {
    if (open.access & bit) f.access[i]! += sign;
    if (open.deny & bit) f.deny[i]! += sign;
  });
}

export class Nfs4State {
  private readonly states = new Map<bigint, State>();
  private readonly files = new Map<string, FileState>();
  private readonly byClient = new Map<bigint, Set<State>>();
  private next = 1n;

  constructor(private readonly o: { bootEpoch: number }) {}

  open(clientId: bigint, owner: Buffer, file: string, access: number, deny: number): Stateid {
    checkShare(access, deny);
    const key = ownerKey(clientId, owner);
    const f = this.files.get(file);
    const mine = f?.opens.get(key);
    if (f) {
      SHARE_BITS.forEach((bit, i) => {
        const othersDeny = f.deny[i]! - (mine && mine.deny & bit ? 1 : 0);
        const othersAccess = f.access[i]! - (mine && mine.access & bit ? 1 : 0);
        if ((access & bit && othersDeny > 0) || (deny & bit && othersAccess > 0)) throw new Nfs4Error(Nfs4Status.SHARE_DENIED, 'another open denies this access');
      });
    }
    if (f && mine) {
      count(f, mine, -1);
      mine.access |= access;
      mine.deny |= deny;
      count(f, mine, 1);
      return this.bump(mine);
    }
    const state: OpenState = { kind: 'open', id: this.next++, seqid: 0, clientId, owner: Buffer.from(owner), file, access, deny };
    const into = this.add(state);
    into.opens.set(key, state);
    count(into, state, 1);
    return this.bump(state);
  }

  /**
   * RFC 8881 §18.2.4 lets a server either free the locks or refuse with LOCKS_HELD; refusing keeps a lock from
   * vanishing under a client that still believes it holds it. Linux unlocks before it closes, so it never sees this.
   */
  close(stateid: Stateid, file: string): void {
    const open = this.resolve(stateid, file, 'open');
    const owners = [...(this.files.get(file)?.lockOwners.values() ?? [])].filter((l) => l.open === open);
    if (owners.some((l) => l.ranges.length > 0)) throw new Nfs4Error(Nfs4Status.LOCKS_HELD, 'byte-range locks are still held under this open');
    for (const l of owners) this.remove(l);
    this.remove(open);
  }

  downgrade(stateid: Stateid, file: string, access: number, deny: number): Stateid {
    const open = this.resolve(stateid, file, 'open');
    checkShare(access, deny);
    if ((access & ~open.access) !== 0 || (deny & ~open.deny) !== 0) throw new Nfs4Error(Nfs4Status.INVAL, 'a downgrade may only take access and deny away');
    const f = this.files.get(file);
    if (f) count(f, open, -1);
    open.access = access;
    open.deny = deny;
    if (f) count(f, open, 1);
    return this.bump(open);
  }

  checkIo(stateid: Stateid, file: string, write: boolean): void {
    if (stateid.other.length === NFS4_OTHER_SIZE) {
      // RFC 8881 §8.2.3: the bypass stateid may skip share reservations on READ only; on WRITE and SETATTR it is
      // the anonymous stateid. Both still honour other opens' deny bits, as Linux's nfs4_share_conflict does.
      const bypass = stateid.seqid === BYPASS_STATEID.seqid && isOnes(stateid.other);
      if (bypass && !write) return;
      if (bypass || (stateid.seqid === 0 && isZero(stateid.other))) {
        const denied = this.files.get(file)?.deny[write ? 1 : 0] ?? 0;
        if (denied > 0) throw new Nfs4Error(Nfs4Status.LOCKED, 'an open denies this access');
        return;
      }
    }
    const state = this.resolve(stateid, file);
    const open = state.kind === 'open' ? state : state.open;
    if (!this.states.has(open.id)) throw new Nfs4Error(Nfs4Status.BAD_STATEID, 'the lock\'s open is closed');
    // Reads are let through a write-only open, as Linux does: the client's page cache reads around what it writes.
    if (write && (open.access & ShareAccess.WRITE) === 0) throw new Nfs4Error(Nfs4Status.OPENMODE, 'the file is open for reading only');
  }

  lock(req: { type: LockType; range: LockRange; file: string } & ({ openStateid: Stateid; owner: Buffer } | { lockStateid: Stateid })): Stateid {
    const [start, end] = bounds(req.range);
    let open: OpenState;
    let owner: LockOwnerState | undefined;
    if ('openStateid' in req) {
      open = this.resolve(req.openStateid, req.file, 'open');
      // A known lock owner with new_lock_owner set keeps its stateid: 4.1 has no lock seqid to tell a retry apart,
      // and Linux's server reuses it too.
      owner = this.files.get(req.file)?.lockOwners.get(ownerKey(open.clientId, req.owner));
    } else {
      owner = this.resolve(req.lockStateid, req.file, 'lock');
      open = owner.open;
      if (!this.states.has(open.id)) throw new Nfs4Error(Nfs4Status.BAD_STATEID, 'the lock\'s open is closed');
    }
    // POSIX: F_WRLCK needs a descriptor open for writing.
    if (req.type === 'write' && (open.access & ShareAccess.WRITE) === 0) throw new Nfs4Error(Nfs4Status.OPENMODE, 'a write lock needs an open for writing');
    const clientId = owner?.clientId ?? open.clientId;
    const ownerBytes = owner?.owner ?? ('owner' in req ? req.owner : Buffer.alloc(0));
    const conflict = this.conflict(req.file, req.type, start, end, clientId, ownerBytes);
    if (conflict) throw new LockDenied(conflict);
    if (!owner) {
      owner = { kind: 'lock', id: this.next++, seqid: 0, clientId, owner: Buffer.from(ownerBytes), file: req.file, open, ranges: [] };
      this.add(owner).lockOwners.set(ownerKey(clientId, ownerBytes), owner);
    }
    owner.ranges = setRange(owner.ranges, start, end, req.type);
    return this.bump(owner);
  }

  lockTest(file: string, type: LockType, range: LockRange, clientId: bigint, owner: Buffer): LockConflict | undefined {
    const [start, end] = bounds(range);
    return this.conflict(file, type, start, end, clientId, owner);
  }

  /** Unlocking bytes that are not locked is no error (RFC 8881 §18.12.3), yet it still counts as a change. */
  unlock(lockStateid: Stateid, file: string, range: LockRange): Stateid {
    const owner = this.resolve(lockStateid, file, 'lock');
    const [start, end] = bounds(range);
    owner.ranges = setRange(owner.ranges, start, end, undefined);
    return this.bump(owner);
  }

  testStateid(stateid: Stateid): number {
    try {
      this.resolve(stateid);
      return Nfs4Status.OK;
    } catch (err) {
      if (err instanceof Nfs4Error) return err.status;
      throw err;
    }
  }

  /** RFC 8881 §18.38.3: a stateid that still stands for an open or for locks is LOCKS_HELD, and stays. */
  freeStateid(stateid: Stateid): void {
    const state = this.resolve(stateid);
    if (state.kind === 'open' || state.ranges.length > 0) throw new Nfs4Error(Nfs4Status.LOCKS_HELD, 'the stateid still holds an open or locks');
    this.remove(state);
  }

  hasState(clientId: bigint): boolean {
    return (this.byClient.get(clientId)?.size ?? 0) > 0;
  }

  dropClient(clientId: bigint): void {
    for (const state of this.byClient.get(clientId) ?? []) this.remove(state);
    this.byClient.delete(clientId);
  }

  private add(state: State): FileState {
    this.states.set(state.id, state);
    let mine = this.byClient.get(state.clientId);
    if (!mine) this.byClient.set(state.clientId, (mine = new Set()));
    mine.add(state);
    let f = this.files.get(state.file);
    if (!f) this.files.set(state.file, (f = { opens: new Map(), lockOwners: new Map(), access: [0, 0], deny: [0, 0] }));
    return f;
  }

  private remove(state: State): void {
    this.states.delete(state.id);
    const mine = this.byClient.get(state.clientId);
    mine?.delete(state);
    if (mine?.size === 0) this.byClient.delete(state.clientId);
    const f = this.files.get(state.file);
    if (!f) return;
    const key = ownerKey(state.clientId, state.owner);
    if (state.kind === 'open') {
      if (f.opens.get(key) === state) {
        f.opens.delete(key);
        count(f, state, -1);
      }
    } else if (f.lockOwners.get(key) === state) f.lockOwners.delete(key);
    if (f.opens.size === 0 && f.lockOwners.size === 0) this.files.delete(state.file);
  }

  /** The state a client's stateid names, as of its seqid (0: whatever it is now). */
  private resolve(stateid: Stateid, file?: string): State;
  private resolve<K extends State['kind']>(stateid: Stateid, file: string, kind: K): Extract<State, { kind: K }>;
  private resolve(stateid: Stateid, file?: string, kind?: State['kind']): State {
    if (stateid.other.length !== NFS4_OTHER_SIZE) throw new Nfs4Error(Nfs4Status.BAD_STATEID, 'not a stateid');
    if (isZero(stateid.other) || isOnes(stateid.other)) throw new Nfs4Error(Nfs4Status.BAD_STATEID, 'a special stateid names no state');
    if (stateid.other.readUInt32BE(0) !== this.o.bootEpoch >>> 0) throw new Nfs4Error(Nfs4Status.STALE_STATEID, 'a stateid of an earlier run');
    const state = this.states.get(stateid.other.readBigUInt64BE(4));
    if (!state || (file !== undefined && state.file !== file) || (kind !== undefined && state.kind !== kind)) throw new Nfs4Error(Nfs4Status.BAD_STATEID, 'no such state');
    if (stateid.seqid !== 0 && stateid.seqid < state.seqid) throw new Nfs4Error(Nfs4Status.OLD_STATEID, `seqid ${stateid.seqid}, now ${state.seqid}`);
    if (stateid.seqid > state.seqid) throw new Nfs4Error(Nfs4Status.BAD_STATEID, `seqid ${stateid.seqid} was never given`);
    return state;
  }

  private bump(state: State): Stateid {
    // seqid 0 is "any" in a client's stateid, so the count wraps to 1.
    state.seqid = state.seqid === 0xffffffff ? 1 : state.seqid + 1;
    const other = Buffer.alloc(NFS4_OTHER_SIZE);
    other.writeUInt32BE(this.o.bootEpoch >>> 0, 0);
    other.writeBigUInt64BE(state.id, 4);
    return { seqid: state.seqid, other };
  }

  private conflict(file: string, type: LockType, start: bigint, end: bigint, clientId: bigint, owner: Buffer): LockConflict | undefined {
    const f = this.files.get(file);
    if (!f) return undefined;
    const self = f.lockOwners.get(ownerKey(clientId, owner));
    for (const l of f.lockOwners.values()) {
      if (l === self) continue;
      for (let i = firstEndingAfter(l.ranges, start); i < l.ranges.length; i++) {
        const h = l.ranges[i]!;
        if (h.start >= end) break;
        if (type === 'read' && h.type === 'read') continue;
        return { offset: h.start, length: h.end === LIMIT ? TO_END : h.end - h.start, type: h.type, clientId: l.clientId, owner: Buffer.from(l.owner) };
      }
    }
    return undefined;
  }
}

function checkShare(access: number, deny: number): void {
  if (!Number.isInteger(access) || access < ShareAccess.READ || access > ShareAccess.BOTH) throw new Nfs4Error(Nfs4Status.INVAL, `share access ${access}`);
  if (!Number.isInteger(deny) || deny < 0 || deny > SHARE_DENY_ALL) throw new Nfs4Error(Nfs4Status.INVAL, `share deny ${deny}`);
}

/**
 * [start, end) of a lock's offset and length. A length of 0, or a range whose last byte would lie past 2^64 - 1, is
 * INVAL (RFC 8881 §18.10.4, as Linux's check_lock_length); BAD_RANGE is for servers short of 64-bit offsets.
 */
function bounds(range: LockRange): [bigint, bigint] {
  if (range.offset < 0n || range.offset > TO_END || range.length < 0n || range.length > TO_END) throw new Nfs4Error(Nfs4Status.INVAL, 'not a 64-bit range');
  if (range.length === 0n) throw new Nfs4Error(Nfs4Status.INVAL, 'a lock of no bytes');
  if (range.length === TO_END) return [range.offset, LIMIT];
  const end = range.offset + range.length;
  if (end > TO_END) throw new Nfs4Error(Nfs4Status.INVAL, 'a lock past the 64-bit range');
  return [range.offset, end];
}

/** The index of the first of sorted, disjoint ranges that ends after `at`. */
function firstEndingAfter(ranges: HeldRange[], at: bigint): number {
  let lo = 0;
  let hi = ranges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ranges[mid]!.end <= at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * POSIX's rule for one owner: the new lock (or, with no type, the unlock) replaces whatever the owner held in
 * [start, end), splitting ranges it cuts; touching ranges of one type then merge, so the list stays minimal and a
 * DENIED reports the whole run. Only the ranges that touch [start, end) are rebuilt.
 */
function setRange(ranges: HeldRange[], start: bigint, end: bigint, type: LockType | undefined): HeldRange[] {
  // Neighbours that merely touch the new lock may merge with it, so they are taken in too.
  const from = Math.max(0, firstEndingAfter(ranges, start) - (type ? 1 : 0));
  let to = from;
  while (to < ranges.length && (ranges[to]!.start < end || (type !== undefined && ranges[to]!.start === end))) to++;
  const out: HeldRange[] = [];
  const push = (r: HeldRange): void => {
    const last = out.at(-1);
    if (last && last.type === r.type && last.end >= r.start) {
      if (r.end > last.end) last.end = r.end;
    } else out.push(r);
  };
  let placed = type === undefined;
  for (let i = from; i < to; i++) {
    const h = ranges[i]!;
    if (h.end <= start) {
      push({ ...h });
      continue;
    }
    if (h.start < start) push({ ...h, end: start });
    if (!placed && type) {
      push({ start, end, type });
      placed = true;
    }
    if (h.end > end) push({ ...h, start: h.start > end ? h.start : end });
  }
  if (!placed && type) push({ start, end, type });
  ranges.splice(from, to - from, ...out);
  return ranges;
}
