/**
 * NFSv4.1's clients and sessions (RFC 8881 §2.4, §2.10, §18.35-18.37, §18.46, §18.49-18.51): client ids from
 * EXCHANGE_ID, confirmed by CREATE_SESSION; each session's slots, whose last reply is resent for a request sent
 * again; leases renewed by SEQUENCE; and the grace period after a restart, in which the clients of the last run
 * take their state back. Only the owners of confirmed clients outlive a restart (so that they may reclaim, and
 * nobody waits for a grace period when there were none); sessions and client ids end with the run, which is how
 * Linux learns of a restart: BADSESSION, then STALE_CLIENTID.
 */
import { open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { LEASE_SECONDS, NFS4_SESSIONID_SIZE, Nfs4Error, Nfs4Status } from './nfs4-constants.js';

export interface ChannelAttrs {
  headerPadSize: number;
  maxRequestSize: number;
  maxResponseSize: number;
  maxResponseSizeCached: number;
  maxOperations: number;
  maxRequests: number;
  rdmaIrd: number[];
}

export interface ExchangeIdResult {
  clientId: bigint;
  /** What the next CREATE_SESSION must carry. */
  sequenceId: number;
  confirmed: boolean;
}

export interface CreateSessionResult {
  sessionId: Buffer;
  sequence: number;
  flags: number;
  fore: ChannelAttrs;
  back: ChannelAttrs;
}

export interface SequenceResult {
  sessionId: Buffer;
  sequenceId: number;
  slotId: number;
  highestSlotId: number;
  targetHighestSlotId: number;
  statusFlags: number;
}

export interface Session {
  readonly id: Buffer;
  readonly clientId: bigint;
  readonly fore: ChannelAttrs;
}

export type SequenceOutcome =
  | {
    kind: 'execute';
    result: SequenceResult;
    session: Session;
    /** Call with the encoded COMPOUND reply (or undefined when it is not to be cached) once the compound is done. */
    finish(reply: Buffer | undefined): void;
  }
  | { kind: 'replay'; reply: Buffer };

/** Where the owners of confirmed clients are kept across restarts. */
export interface ClientOwnerStore {
  load(): Promise<Buffer[]>;
  save(owners: Buffer[]): Promise<void>;
}

export interface Nfs4ClientsOptions {
  store: ClientOwnerStore;
  /** This run's number (u32): client ids carry it, so those of an earlier run are told apart. */
  bootEpoch?: number;
  /** Whether a client still holds opens or locks: DESTROY_CLIENTID is refused then. */
  hasState?: (clientId: bigint) => boolean;
  now?: () => number;
  leaseMs?: number;
  graceMs?: number;
  log?: Pick<Logger, 'warn'>;
}

/** CREATE_SESSION flags (RFC 8881 §18.36). */
export const CreateSessionFlags = { PERSIST: 0x1, CONN_BACK_CHAN: 0x2, CONN_RDMA: 0x4 } as const;
/**
 * Slots per session. Linux asks for 64; more would only let one client hold more cached replies, and none would
 * be refused: Linux accepts fewer slots than it asked for.
 */
export const MAX_SLOTS = 64;

interface Slot {
  /** The last sequence id seen; 0 before the first request, which carries 1. */
  sequenceId: number;
  /** Whether a request came at all: after the wrap, 0 is a sequence id like any other and may be resent. */
  used: boolean;
  busy: boolean;
  reply: Buffer | undefined;
}

interface SessionState extends Session {
  slots: Slot[];
}

interface Client {
  clientId: bigint;
  owner: Buffer;
  verifier: Buffer;
  confirmed: boolean;
  /** The sequence the next CREATE_SESSION must carry; the one before it is a replay once a session was made. */
  createSequence: number;
  lastCreate: CreateSessionResult | undefined;
  sessions: Set<string>;
  renewedAt: number;
  reclaimComplete: boolean;
}

/** RFC 8881 §18.35.5 keeps up to two records per owner: the confirmed one, and a newer one not yet confirmed. */
interface OwnerRecords {
  confirmed?: Client;
  unconfirmed?: Client;
}

const key = (bytes: Buffer): string => bytes.toString('hex');
const u32 = (n: number): number => n >>> 0;

export class Nfs4Clients {
  private readonly clients = new Map<bigint, Client>();
  private readonly owners = new Map<string, OwnerRecords>();
  private readonly sessions = new Map<string, SessionState>();
  /** Owners of the last run's clients that have not sent RECLAIM_COMPLETE yet. */
  private readonly previous = new Map<string, Buffer>();
  private readonly expireListeners: Array<(clientId: bigint) => void> = [];
  private graceEndsAt = 0;
  private clientCounter = 0;
  private sessionCounter = 0;
  /** Saves run one after another, so the last one written is the newest set. */
  private saving: Promise<void> = Promise.resolve();
  private lastSaved: string | undefined;
  private readonly bootEpoch: number;
  private readonly now: () => number;
  private readonly leaseMs: number;
  private readonly graceMs: number;

  constructor(private readonly o: Nfs4ClientsOptions) {
    this.now = o.now ?? Date.now;
    this.bootEpoch = u32(o.bootEpoch ?? Math.floor(Date.now() / 1000));
    this.leaseMs = o.leaseMs ?? LEASE_SECONDS * 1000;
    this.graceMs = o.graceMs ?? this.leaseMs;
  }

  async start(): Promise<void> {
    let owners: Buffer[] = [];
    try {
      owners = await this.o.store.load();
    } catch (err) {
      // An unreadable record must not keep NFS down: clients of the last run then get NO_GRACE for their
      // reclaims, which costs them their opens but not the mount.
      this.o.log?.warn({ err }, 'NFSv4 client owners of the last run could not be read; no grace period');
    }
    for (const owner of owners) this.previous.set(key(owner), owner);
    this.lastSaved = this.ownerSetKey([...this.previous.keys()]);
    if (this.previous.size > 0) this.graceEndsAt = this.now() + this.graceMs;
  }

  exchangeId(ownerId: Buffer, verifier: Buffer): ExchangeIdResult {
    const records = this.ownerRecords(ownerId);
    for (const client of [records.confirmed, records.unconfirmed]) {
      if (client?.verifier.equals(verifier)) return this.exchangeResult(client);
    }
    // A confirmed record with another verifier is a client that rebooted: the confirmed record, and the state
    // under it, stay until CREATE_SESSION confirms the new one, in case this EXCHANGE_ID was not the client's.
    if (records.unconfirmed) this.forget(records.unconfirmed);
    this.clientCounter = u32(this.clientCounter + 1);
    const client: Client = {
      clientId: (BigInt(this.bootEpoch) << 32n) | BigInt(this.clientCounter),
      owner: Buffer.from(ownerId), verifier: Buffer.from(verifier), confirmed: false, createSequence: 1, lastCreate: undefined,
      sessions: new Set(), renewedAt: this.now(), reclaimComplete: false,
    };
    this.clients.set(client.clientId, client);
    records.unconfirmed = client;
    return this.exchangeResult(client);
  }

  /**
   * Resolves once a newly confirmed client's owner is on disk, so that a client never holds state the next run
   * would refuse to let it reclaim. A failed save is logged, not answered: the session itself is sound.
   */
  async createSession(clientId: bigint, sequence: number, flags: number, fore: ChannelAttrs, back: ChannelAttrs): Promise<CreateSessionResult> {
    const client = this.clientById(clientId);
    if (client.lastCreate && sequence === u32(client.createSequence - 1)) return client.lastCreate;
    if (sequence !== client.createSequence) {
      throw new Nfs4Error(Nfs4Status.SEQ_MISORDERED, `CREATE_SESSION sequence ${sequence}, ${client.createSequence} expected`);
    }
    client.createSequence = u32(client.createSequence + 1);
    client.renewedAt = this.now();
    this.sessionCounter = u32(this.sessionCounter + 1);
    const sessionId = Buffer.alloc(NFS4_SESSIONID_SIZE);
    sessionId.writeBigUInt64BE(clientId, 0);
    sessionId.writeUInt32BE(this.bootEpoch, 8);
    sessionId.writeUInt32BE(this.sessionCounter, 12);
    // Linux refuses a reply that grants other than it asked for (spec §10), so its values are echoed; only the
    // slot count is ours to choose. No header padding and no RDMA over TCP.
    const granted: ChannelAttrs = { ...fore, headerPadSize: 0, maxRequests: Math.min(Math.max(fore.maxRequests, 1), MAX_SLOTS), rdmaIrd: [] };
    const result: CreateSessionResult = {
      sessionId, sequence, flags: flags & CreateSessionFlags.CONN_BACK_CHAN, fore: granted, back: { ...back, headerPadSize: 0, rdmaIrd: [] },
    };
    const slots = Array.from({ length: granted.maxRequests }, (): Slot => ({ sequenceId: 0, used: false, busy: false, reply: undefined }));
    this.sessions.set(key(sessionId), { id: sessionId, clientId, fore: granted, slots });
    client.sessions.add(key(sessionId));
    client.lastCreate = result;
    if (!client.confirmed) {
      const records = this.ownerRecords(client.owner);
      if (records.confirmed) this.drop(records.confirmed);
      records.unconfirmed = undefined;
      records.confirmed = client;
      client.confirmed = true;
      await this.saveOwners();
    }
    return result;
  }

  sequence(sessionId: Buffer, sequenceId: number, slotId: number, _highestSlotId: number, cacheThis: boolean): SequenceOutcome {
    const session = this.sessions.get(key(sessionId));
    if (!session) throw new Nfs4Error(Nfs4Status.BADSESSION, 'no such session');
    const slot = session.slots[slotId];
    if (!slot) throw new Nfs4Error(Nfs4Status.BADSLOT, `slot ${slotId}, the highest is ${session.slots.length - 1}`);
    const client = this.clients.get(session.clientId);
    // Even a resend shows the client alive.
    if (client) client.renewedAt = this.now();
    if (slot.busy) throw new Nfs4Error(Nfs4Status.DELAY, `slot ${slotId} is still running a request`);
    if (slot.used && sequenceId === slot.sequenceId) {
      if (slot.reply) return { kind: 'replay', reply: slot.reply };
      throw new Nfs4Error(Nfs4Status.RETRY_UNCACHED_REP, `the reply to sequence ${sequenceId} on slot ${slotId} was not cached`);
    }
    if (sequenceId !== u32(slot.sequenceId + 1)) {
      throw new Nfs4Error(Nfs4Status.SEQ_MISORDERED, `sequence ${sequenceId} on slot ${slotId}, ${u32(slot.sequenceId + 1)} expected`);
    }
    slot.sequenceId = sequenceId;
    slot.used = true;
    slot.busy = true;
    slot.reply = undefined;
    const highest = session.slots.length - 1;
    let finished = false;
    return {
      kind: 'execute',
      session,
      result: { sessionId: session.id, sequenceId, slotId, highestSlotId: highest, targetHighestSlotId: highest, statusFlags: 0 },
      finish: (reply) => {
        if (finished) return;
        finished = true;
        slot.busy = false;
        slot.reply = cacheThis ? reply : undefined;
        // A compound that ran for long (a slow backend) must not cost its client the lease it renewed.
        const owner = this.clients.get(session.clientId);
        if (owner) owner.renewedAt = this.now();
      },
    };
  }

  destroySession(sessionId: Buffer): void {
    const session = this.sessions.get(key(sessionId));
    if (!session) throw new Nfs4Error(Nfs4Status.BADSESSION, 'no such session');
    this.sessions.delete(key(sessionId));
    this.clients.get(session.clientId)?.sessions.delete(key(sessionId));
  }

  destroyClientId(clientId: bigint): void {
    const client = this.clientById(clientId);
    if (client.sessions.size > 0 || this.o.hasState?.(clientId)) {
      throw new Nfs4Error(Nfs4Status.CLIENTID_BUSY, 'the client still has sessions or state');
    }
    this.forget(client);
    // A client that said goodbye has nothing to reclaim, and must not hold up the grace period of this run either.
    if (this.previous.delete(key(client.owner))) this.endGraceIfDone();
    this.saveInBackground();
  }

  reclaimComplete(clientId: bigint): void {
    const client = this.clientById(clientId);
    if (client.reclaimComplete) throw new Nfs4Error(Nfs4Status.COMPLETE_ALREADY, 'RECLAIM_COMPLETE was sent already');
    client.reclaimComplete = true;
    if (this.previous.delete(key(client.owner))) this.endGraceIfDone();
  }

  inGrace(): boolean {
    return this.now() < this.graceEndsAt;
  }

  mayReclaim(clientId: bigint): boolean {
    const client = this.clients.get(clientId);
    return client !== undefined && this.inGrace() && !client.reclaimComplete && this.previous.has(key(client.owner));
  }

  clientOf(sessionId: Buffer): bigint | undefined {
    return this.sessions.get(key(sessionId))?.clientId;
  }

  onExpire(listener: (clientId: bigint) => void): void {
    this.expireListeners.push(listener);
  }

  /**
   * Clients silent for two leases lose their sessions and state. RFC 8881 allows this after one; the second is
   * the leniency of Linux's "courtesy clients", for a client whose network was away for a while.
   */
  expireIdle(): void {
    const cutoff = this.now() - 2 * this.leaseMs;
    const idle = [...this.clients.values()].filter((c) => c.renewedAt < cutoff && !this.hasBusySlot(c));
    for (const client of idle) this.drop(client);
    // Owners of the last run that never came back cannot reclaim anything any more: forgotten with the grace.
    if (!this.inGrace()) this.previous.clear();
    this.saveInBackground();
  }

  private exchangeResult(client: Client): ExchangeIdResult {
    return { clientId: client.clientId, sequenceId: client.createSequence, confirmed: client.confirmed };
  }

  private clientById(clientId: bigint): Client {
    const client = this.clients.get(clientId);
    if (!client) throw new Nfs4Error(Nfs4Status.STALE_CLIENTID, `client id ${clientId} is not one of this run`);
    return client;
  }

  private ownerRecords(ownerId: Buffer): OwnerRecords {
    let records = this.owners.get(key(ownerId));
    if (!records) this.owners.set(key(ownerId), (records = {}));
    return records;
  }

  private hasBusySlot(client: Client): boolean {
    for (const id of client.sessions) if (this.sessions.get(id)?.slots.some((s) => s.busy)) return true;
    return false;
  }

  private endGraceIfDone(): void {
    if (this.previous.size === 0) this.graceEndsAt = 0;
  }

  /** A client and all it holds: its sessions, and through the listeners its opens and locks. */
  private drop(client: Client): void {
    this.forget(client);
    for (const listener of this.expireListeners) listener(client.clientId);
  }

  private forget(client: Client): void {
    for (const id of client.sessions) this.sessions.delete(id);
    client.sessions.clear();
    this.clients.delete(client.clientId);
    const ownerKey = key(client.owner);
    const records = this.owners.get(ownerKey);
    if (!records) return;
    if (records.confirmed === client) records.confirmed = undefined;
    if (records.unconfirmed === client) records.unconfirmed = undefined;
    if (!records.confirmed && !records.unconfirmed) this.owners.delete(ownerKey);
  }

  private ownerSetKey(keys: string[]): string {
    return keys.sort().join(',');
  }

  private saveInBackground(): void {
    void this.saveOwners();
  }

  /**
   * The owners that may have to reclaim after a restart: this run's confirmed clients, and the last run's that
   * may still come back in this grace period (a second restart must not cost them their turn). Never rejects.
   */
  private saveOwners(): Promise<void> {
    const owners = new Map(this.previous);
    for (const records of this.owners.values()) if (records.confirmed) owners.set(key(records.confirmed.owner), records.confirmed.owner);
    const setKey = this.ownerSetKey([...owners.keys()]);
    if (setKey === this.lastSaved) return this.saving;
    this.lastSaved = setKey;
    this.saving = this.saving.then(() => this.o.store.save([...owners.values()])).catch((err: unknown) => {
      // Written again with the next change; until then a restart may refuse some client's reclaims.
      if (this.lastSaved === setKey) this.lastSaved = undefined;
      this.o.log?.warn({ err }, 'NFSv4 client owners could not be saved');
    });
    return this.saving;
  }
}

/** The owners as JSON (base64), replaced atomically: a temp file synced, renamed over the old one, the directory synced. */
export function fileClientOwnerStore(file: string): ClientOwnerStore {
  return {
    async load() {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
      const parsed: unknown = JSON.parse(text);
      if (!Array.isArray(parsed) || !parsed.every((o): o is string => typeof o === 'string')) {
        throw new Error(`${file}: not a list of client owners`);
      }
      return parsed.map((o) => Buffer.from(o, 'base64'));
    },
    async save(owners) {
      const temp = `${file}.tmp`;
      const handle = await open(temp, 'w');
      try {
        await handle.writeFile(JSON.stringify(owners.map((o) => o.toString('base64'))));
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, file);
      const dir = await open(path.dirname(file), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    },
  };
}
