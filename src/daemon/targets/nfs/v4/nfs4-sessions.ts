/**
 * NFSv4.1's clients and sessions (RFC 8881 §2.4, §2.10, §18.35-18.37, §18.46): client ids from EXCHANGE_ID,
 * confirmed by CREATE_SESSION; each session's slots, whose last reply is resent for a request sent again; leases
 * renewed by SEQUENCE; and the grace period after a restart, in which the clients of the last run take their
 * state back. Only the owners of confirmed clients outlive a restart (so that they may reclaim, and nobody waits
 * for a grace period when there were none); sessions and client ids end with the run, which is how Linux learns
 * of a restart: BADSESSION, then STALE_CLIENTID.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
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
  | { kind: 'execute'; result: SequenceResult; session: Session; finish(reply: Buffer | undefined): void }
  | { kind: 'replay'; reply: Buffer };

/** Where the owners of confirmed clients are kept across restarts. */
export interface ClientOwnerStore {
  load(): Promise<Buffer[]>;
  save(owners: Buffer[]): Promise<void>;
}

/** CREATE_SESSION flags: only CONN_BACK_CHAN is kept (no persistent reply cache, no RDMA). */
const CONN_BACK_CHAN = 0x2;
/** Slots per session: enough for Linux's 64 requests in flight. */
const MAX_SLOTS = 64;

interface Slot {
  sequenceId: number;
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
  /** The sequence id the next CREATE_SESSION must carry; the one before it is a replay. */
  createSequence: number;
  lastCreate: CreateSessionResult | undefined;
  sessions: Set<string>;
  renewedAt: number;
  reclaimed: boolean;
  /** A confirmed record of the same owner that this one replaces once confirmed: the client rebooted. */
  replaces: bigint | undefined;
}

export interface Nfs4ClientsOptions {
  store: ClientOwnerStore;
  /** This run's number: client ids carry it, so those of an earlier run are stale. */
  bootEpoch: number;
  /** Whether a client still holds opens or locks (DESTROY_CLIENTID is refused then). */
  hasState?: (clientId: bigint) => boolean;
  now?: () => number;
  leaseMs?: number;
  graceMs?: number;
}

const key = (bytes: Buffer): string => bytes.toString('hex');

export class Nfs4Clients {
  private readonly clients = new Map<bigint, Client>();
  private readonly byOwner = new Map<string, Client>();
  private readonly sessions = new Map<string, SessionState>();
  /** Owners of the last run's clients that have not finished reclaiming. */
  private readonly previous = new Map<string, Buffer>();
  private readonly expireListeners: Array<(clientId: bigint) => void> = [];
  private graceEndsAt = 0;
  private counter = 0;
  private saving: Promise<void> = Promise.resolve();
  private readonly now: () => number;
  private readonly leaseMs: number;
  private readonly graceMs: number;

  constructor(private readonly o: Nfs4ClientsOptions) {
    this.now = o.now ?? Date.now;
    this.leaseMs = o.leaseMs ?? LEASE_SECONDS * 1000;
    this.graceMs = o.graceMs ?? this.leaseMs;
  }

  async start(): Promise<void> {
    for (const owner of await this.o.store.load()) this.previous.set(key(owner), owner);
    if (this.previous.size > 0) this.graceEndsAt = this.now() + this.graceMs;
  }

  exchangeId(owner: Buffer, verifier: Buffer): ExchangeIdResult {
    const existing = this.byOwner.get(key(owner));
    if (existing && existing.verifier.equals(verifier)) {
      return { clientId: existing.clientId, sequenceId: existing.createSequence, confirmed: existing.confirmed };
    }
    // An unconfirmed record is simply replaced; a confirmed one with another verifier is a client that rebooted,
    // and its state goes once the new record is confirmed.
    if (existing && !existing.confirmed) this.forget(existing);
    const replaces = existing?.confirmed ? existing.clientId : undefined;
    const client: Client = {
      clientId: (BigInt(this.o.bootEpoch >>> 0) << 32n) | BigInt(++this.counter),
      owner: Buffer.from(owner), verifier: Buffer.from(verifier), confirmed: false, createSequence: 1, lastCreate: undefined,
      sessions: new Set(), renewedAt: this.now(), reclaimed: false, replaces,
    };
    this.clients.set(client.clientId, client);
    this.byOwner.set(key(owner), client);
    return { clientId: client.clientId, sequenceId: client.createSequence, confirmed: false };
  }

  async createSession(clientId: bigint, sequence: number, flags: number, fore: ChannelAttrs, back: ChannelAttrs): Promise<CreateSessionResult> {
    const client = this.clients.get(clientId);
    if (!client) throw new Nfs4Error(Nfs4Status.STALE_CLIENTID, `client id ${clientId} is not of this run`);
    if (client.lastCreate && sequence === ((client.createSequence - 1) >>> 0)) return client.lastCreate;
    if (sequence !== client.createSequence) throw new Nfs4Error(Nfs4Status.SEQ_MISORDERED, `CREATE_SESSION sequence ${sequence}, ${client.createSequence} expected`);
    client.createSequence = (client.createSequence + 1) >>> 0;
    client.renewedAt = this.now();
    const sessionId = Buffer.alloc(NFS4_SESSIONID_SIZE);
    sessionId.writeBigUInt64BE(clientId, 0);
    randomBytes(8).copy(sessionId, 8);
    // Linux refuses a reply with less than it asked for, so what it asks is granted, within our slot table.
    const granted: ChannelAttrs = { ...fore, headerPadSize: 0, maxRequests: Math.min(Math.max(fore.maxRequests, 1), MAX_SLOTS), rdmaIrd: [] };
    const result: CreateSessionResult = { sessionId, sequence, flags: flags & CONN_BACK_CHAN, fore: granted, back: { ...back, headerPadSize: 0, rdmaIrd: [] } };
    const slots = Array.from({ length: granted.maxRequests }, (): Slot => ({ sequenceId: 0, busy: false, reply: undefined }));
    this.sessions.set(key(sessionId), { id: sessionId, clientId, fore: granted, slots });
    client.sessions.add(key(sessionId));
    client.lastCreate = result;
    if (!client.confirmed) {
      client.confirmed = true;
      const replaced = client.replaces === undefined ? undefined : this.clients.get(client.replaces);
      if (replaced) this.drop(replaced);
      await this.saveOwners();
    }
    return result;
  }

  sequence(sessionId: Buffer, sequenceId: number, slotId: number, _highestSlotId: number, _cacheThis: boolean): SequenceOutcome {
    const session = this.sessions.get(key(sessionId));
    if (!session) throw new Nfs4Error(Nfs4Status.BADSESSION, 'no such session');
    const slot = session.slots[slotId];
    if (!slot) throw new Nfs4Error(Nfs4Status.BADSLOT, `slot ${slotId} of ${session.slots.length}`);
    const client = this.clients.get(session.clientId);
    if (client) client.renewedAt = this.now();
    if (slot.busy) throw new Nfs4Error(Nfs4Status.DELAY, `slot ${slotId} is still busy`);
    if (sequenceId === slot.sequenceId && slot.sequenceId !== 0) {
      if (slot.reply) return { kind: 'replay', reply: slot.reply };
      throw new Nfs4Error(Nfs4Status.RETRY_UNCACHED_REP, 'the reply was not cached');
    }
    if (sequenceId !== ((slot.sequenceId + 1) >>> 0)) throw new Nfs4Error(Nfs4Status.SEQ_MISORDERED, `sequence ${sequenceId} on slot ${slotId}, ${slot.sequenceId + 1} expected`);
    slot.sequenceId = sequenceId;
    slot.busy = true;
    slot.reply = undefined;
    const highest = session.slots.length - 1;
    return {
      kind: 'execute',
      session,
      result: { sessionId: session.id, sequenceId, slotId, highestSlotId: highest, targetHighestSlotId: highest, statusFlags: 0 },
      finish: (reply) => {
        slot.busy = false;
        slot.reply = reply;
      },
    };
  }

  destroySession(sessionId: Buffer): void {
    const session = this.sessions.get(key(sessionId));
    if (!session) throw new Nfs4Error(Nfs4Status.BADSESSION, 'no such session');
    this.sessions.delete(key(sessionId));
    this.clients.get(session.clientId)?.sessions.delete(key(sessionId));
  }

  async destroyClientId(clientId: bigint): Promise<void> {
    const client = this.clients.get(clientId);
    if (!client) throw new Nfs4Error(Nfs4Status.STALE_CLIENTID, `client id ${clientId} is not of this run`);
    if (client.sessions.size > 0 || this.o.hasState?.(clientId)) throw new Nfs4Error(Nfs4Status.CLIENTID_BUSY, 'the client still has sessions or state');
    this.forget(client);
    await this.saveOwners();
  }

  reclaimComplete(clientId: bigint): void {
    const client = this.clients.get(clientId);
    if (!client) throw new Nfs4Error(Nfs4Status.STALE_CLIENTID, `client id ${clientId} is not of this run`);
    if (client.reclaimed) throw new Nfs4Error(Nfs4Status.COMPLETE_ALREADY, 'RECLAIM_COMPLETE was sent already');
    client.reclaimed = true;
    this.previous.delete(key(client.owner));
    if (this.previous.size === 0) this.graceEndsAt = 0;
  }

  inGrace(): boolean {
    return this.now() < this.graceEndsAt;
  }

  mayReclaim(clientId: bigint): boolean {
    const client = this.clients.get(clientId);
    return this.inGrace() && client !== undefined && !client.reclaimed && this.previous.has(key(client.owner));
  }

  clientOf(sessionId: Buffer): bigint | undefined {
    return this.sessions.get(key(sessionId))?.clientId;
  }

  onExpire(listener: (clientId: bigint) => void): void {
    this.expireListeners.push(listener);
  }

  /**
   * Clients silent for two leases lose their sessions and state. That is longer than RFC 8881 asks; as Linux's
   * "courtesy clients", it spares a client whose network was away for a while.
   */
  expireIdle(): void {
    const cutoff = this.now() - 2 * this.leaseMs;
    const idle = [...this.clients.values()].filter((c) => c.renewedAt < cutoff);
    for (const client of idle) this.drop(client);
    if (!this.inGrace() && this.previous.size > 0) this.previous.clear();
    if (idle.length > 0) void this.saveOwners().catch(() => undefined);
  }

  /** A client and all it holds: its sessions, and through the listeners its opens and locks. */
  private drop(client: Client): void {
    this.forget(client);
    for (const listener of this.expireListeners) listener(client.clientId);
  }

  private forget(client: Client): void {
    for (const id of client.sessions) this.sessions.delete(id);
    this.clients.delete(client.clientId);
    if (this.byOwner.get(key(client.owner)) === client) this.byOwner.delete(key(client.owner));
  }

  /** The owners that may have to reclaim after a restart: this run's confirmed clients and the last run's still in grace. */
  private saveOwners(): Promise<void> {
    const owners = new Map(this.previous);
    for (const client of this.clients.values()) if (client.confirmed) owners.set(key(client.owner), client.owner);
    this.saving = this.saving.catch(() => undefined).then(() => this.o.store.save([...owners.values()]));
    return this.saving;
  }
}

/** The owners as JSON, replaced atomically: a temp file synced, renamed over the old one, the directory synced. */
export function fileClientOwnerStore(file: string): ClientOwnerStore {
  return {
    async load() {
      const text = await readFile(file, 'utf8').catch(() => '[]');
      try {
        const parsed: unknown = JSON.parse(text);
        return Array.isArray(parsed) ? parsed.filter((o): o is string => typeof o === 'string').map((o) => Buffer.from(o, 'base64')) : [];
      } catch {
        return [];
      }
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
