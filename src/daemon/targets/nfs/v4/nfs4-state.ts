/**
 * NFSv4.1's state for one run (RFC 8881 §8-9): opens with their share access and deny, lock owners, and POSIX
 * byte-range locks, each named by a stateid whose seqid counts its changes. Stateids carry the run's number, so one
 * of an earlier run is STALE however its other bytes look. Locks are advisory, as POSIX's: READ and WRITE check the
 * open, never the locks.
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
/** seqid 1 and other zeros: "the current stateid" of the compound (RFC 8881 §16.2.3.1.2). */
export const isCurrentStateid = (s: Stateid): boolean => s.seqid === 1 && isZero(s.other);

const TO_END = 2n ** 64n - 1n;
const LIMIT = 2n ** 64n;

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

interface LockOwnerState {
  kind: 'lock';
  id: bigint;
  seqid: number;
  clientId: bigint;
  owner: Buffer;
  file: string;
  open: bigint;
}

type State = OpenState | LockOwnerState;

/** A held range [start, end) of one lock owner. */
interface HeldLock {
  start: bigint;
  end: bigint;
  type: LockType;
  lock: bigint;
}

const ownedBy = (a: { clientId: bigint; owner: Buffer }, clientId: bigint, owner: Buffer): boolean => a.clientId === clientId && a.owner.equals(owner);

export class Nfs4State {
  private readonly states = new Map<bigint, State>();
  private readonly held = new Map<string, HeldLock[]>();
  private next = 1n;

  constructor(private readonly o: { bootEpoch: number }) {}

  open(clientId: bigint, owner: Buffer, file: string, access: number, deny: number): Stateid {
    const mine = this.opensOf(file).find((s) => ownedBy(s, clientId, owner));
    for (const other of this.opensOf(file)) {
      if (other === mine) continue;
      if ((other.deny & access) !== 0 || (other.access & deny) !== 0) throw new Nfs4Error(Nfs4Status.SHARE_DENIED, 'another open denies this access');
    }
    if (mine) {
      mine.access |= access;
      mine.deny |= deny;
      return this.bump(mine);
    }
    const state: OpenState = { kind: 'open', id: this.next++, seqid: 0, clientId, owner: Buffer.from(owner), file, access, deny };
    this.states.set(state.id, state);
    return this.bump(state);
  }

  close(stateid: Stateid, file: string): void {
    const state = this.resolve(stateid, file, 'open');
    const locks = this.lockOwnersOf(state);
    if (locks.some((l) => this.rangesOf(l).length > 0)) throw new Nfs4Error(Nfs4Status.LOCKS_HELD, 'byte-range locks are still held under this open');
    for (const l of locks) this.states.delete(l.id);
    this.states.delete(state.id);
  }

  downgrade(stateid: Stateid, file: string, access: number, deny: number): Stateid {
    const state = this.resolve(stateid, file, 'open');
    if (access === 0 || (access & ~state.access) !== 0 || (deny & ~state.deny) !== 0) throw new Nfs4Error(Nfs4Status.INVAL, 'a downgrade may only take access and deny away');
    state.access = access;
    state.deny = deny;
    return this.bump(state);
  }

  checkIo(stateid: Stateid, file: string, write: boolean): void {
    if (stateid.seqid === 0 && isZero(stateid.other)) return;
    if (stateid.seqid === BYPASS_STATEID.seqid && stateid.other.equals(BYPASS_STATEID.other)) {
      if (write) throw new Nfs4Error(Nfs4Status.BAD_STATEID, 'the bypass stateid only reads');
      return;
    }
    const state = this.resolve(stateid, file);
    const open = state.kind === 'open' ? state : this.states.get(state.open);
    if (open?.kind !== 'open') throw new Nfs4Error(Nfs4Status.BAD_STATEID, 'the lock\'s open is closed');
    // Reads are let through a write-only open: the client's page cache reads around what it writes.
    if (write && (open.access & ShareAccess.WRITE) === 0) throw new Nfs4Error(Nfs4Status.OPENMODE, 'the file is open for reading only');
  }

  lock(req: { type: LockType; range: LockRange; file: string } & ({ openStateid: Stateid; owner: Buffer } | { lockStateid: Stateid })): Stateid {
    const [start, end] = bounds(req.range);
    let owner: LockOwnerState;
    if ('openStateid' in req) {
      const open = this.resolve(req.openStateid, req.file, 'open');
      owner = this.lockOwnersOf(open).find((l) => l.owner.equals(req.owner))
        ?? this.add({ kind: 'lock', id: this.next++, seqid: 0, clientId: open.clientId, owner: Buffer.from(req.owner), file: req.file, open: open.id });
    } else {
      owner = this.resolve(req.lockStateid, req.file, 'lock');
    }
    const open = this.states.get(owner.open);
    if (req.type === 'write' && open?.kind === 'open' && (open.access & ShareAccess.WRITE) === 0) throw new Nfs4Error(Nfs4Status.OPENMODE, 'a write lock needs an open for writing');
    const conflict = this.conflict(req.file, req.type, start, end, owner.clientId, owner.owner);
    if (conflict) throw new LockDenied(conflict);
    this.setRange(owner, start, end, req.type);
    return this.bump(owner);
  }

  lockTest(file: string, type: LockType, range: LockRange, clientId: bigint, owner: Buffer): LockConflict | undefined {
    const [start, end] = bounds(range);
    return this.conflict(file, type, start, end, clientId, owner);
  }

  unlock(lockStateid: Stateid, file: string, range: LockRange): Stateid {
    const owner = this.resolve(lockStateid, file, 'lock');
    const [start, end] = bounds(range);
    this.setRange(owner, start, end, undefined);
    return this.bump(owner);
  }

  testStateid(stateid: Stateid): number {
    try {
      this.resolve(stateid);
      return Nfs4Status.OK;
    } catch (err) {
      return err instanceof Nfs4Error ? err.status : Nfs4Status.BAD_STATEID;
    }
  }

  freeStateid(stateid: Stateid): void {
    const state = this.resolve(stateid);
    if (state.kind === 'open' || this.rangesOf(state).length > 0) throw new Nfs4Error(Nfs4Status.LOCKS_HELD, 'the stateid still holds an open or locks');
    this.states.delete(state.id);
  }

  hasState(clientId: bigint): boolean {
    return [...this.states.values()].some((s) => s.clientId === clientId);
  }

  dropClient(clientId: bigint): void {
    for (const state of [...this.states.values()]) {
      if (state.clientId !== clientId) continue;
      if (state.kind === 'lock') this.setRange(state, 0n, LIMIT, undefined);
      this.states.delete(state.id);
    }
  }

  private add<S extends State>(state: S): S {
    this.states.set(state.id, state);
    return state;
  }

  /** The state a client's stateid names, as of its seqid (0: whatever it is now). */
  private resolve(stateid: Stateid, file?: string): State;
  private resolve<K extends State['kind']>(stateid: Stateid, file: string, kind: K): Extract<State, { kind: K }>;
  private resolve(stateid: Stateid, file?: string, kind?: State['kind']): State {
    if (stateid.other.length !== NFS4_OTHER_SIZE) throw new Nfs4Error(Nfs4Status.BAD_STATEID, 'not a stateid');
    if (isZero(stateid.other) || stateid.other.equals(BYPASS_STATEID.other)) throw new Nfs4Error(Nfs4Status.BAD_STATEID, 'a special stateid names no state');
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

  private opensOf(file: string): OpenState[] {
    return [...this.states.values()].filter((s): s is OpenState => s.kind === 'open' && s.file === file);
  }

  private lockOwnersOf(open: OpenState): LockOwnerState[] {
    return [...this.states.values()].filter((s): s is LockOwnerState => s.kind === 'lock' && s.open === open.id);
  }

  private rangesOf(owner: LockOwnerState): HeldLock[] {
    return (this.held.get(owner.file) ?? []).filter((h) => h.lock === owner.id);
  }

  private conflict(file: string, type: LockType, start: bigint, end: bigint, clientId: bigint, owner: Buffer): LockConflict | undefined {
    for (const h of this.held.get(file) ?? []) {
      if (h.end <= start || h.start >= end || (type === 'read' && h.type === 'read')) continue;
      const holder = this.states.get(h.lock);
      if (!holder || ownedBy(holder, clientId, owner)) continue;
      return { offset: h.start, length: h.end === LIMIT ? TO_END : h.end - h.start, type: h.type, clientId: holder.clientId, owner: holder.owner };
    }
    return undefined;
  }

  /**
   * POSIX's rule for one owner: the new lock (or, with no type, the unlock) replaces whatever the owner held in
   * [start, end), splitting ranges it cuts; neighbouring ranges of one type then merge.
   */
  private setRange(owner: LockOwnerState, start: bigint, end: bigint, type: LockType | undefined): void {
    const all = this.held.get(owner.file) ?? [];
    const others = all.filter((h) => h.lock !== owner.id);
    const mine: HeldLock[] = [];
    for (const h of all.filter((x) => x.lock === owner.id)) {
      if (h.end <= start || h.start >= end) mine.push(h);
      else {
        if (h.start < start) mine.push({ ...h, end: start });
        if (h.end > end) mine.push({ ...h, start: end });
      }
    }
    if (type) mine.push({ start, end, type, lock: owner.id });
    mine.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    const merged: HeldLock[] = [];
    for (const h of mine) {
      const last = merged.at(-1);
      if (last && last.type === h.type && last.end >= h.start) last.end = last.end > h.end ? last.end : h.end;
      else merged.push({ ...h });
    }
    const next = [...others, ...merged];
    if (next.length > 0) this.held.set(owner.file, next);
    else this.held.delete(owner.file);
  }
}

/** [start, end) of a lock's offset and length; a length of 0, or past 2^64, is INVAL (RFC 8881 §18.10.3). */
function bounds(range: LockRange): [bigint, bigint] {
  if (range.length === 0n) throw new Nfs4Error(Nfs4Status.INVAL, 'a lock of no bytes');
  if (range.length === TO_END) return [range.offset, LIMIT];
  const end = range.offset + range.length;
  if (end > LIMIT) throw new Nfs4Error(Nfs4Status.INVAL, 'a lock past the 64-bit range');
  return [range.offset, end];
}
