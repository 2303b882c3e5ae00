/**
 * NFSv4.1 clients and sessions (RFC 8881 §2.10, §18.35, §18.36, §18.46): the order Linux mounts in, the replay
 * caches of CREATE_SESSION and of the slots, a client that rebooted, a server that restarted (stale ids, grace
 * only for the owners it saved), leases on a fake clock, and the owner file. The property throws random calls at
 * the state machine: whatever they are, a failure must be an NFS status, never a crash.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { Nfs4Error, Nfs4Status } from '../../../../../src/daemon/targets/nfs/v4/nfs4-constants.js';
import {
  CreateSessionFlags, MAX_SLOTS, Nfs4Clients, fileClientOwnerStore, type ChannelAttrs, type ClientOwnerStore, type SequenceOutcome,
} from '../../../../../src/daemon/targets/nfs/v4/nfs4-sessions.js';
import { statusOf } from './nfs4-status-of.js';

const LEASE = 1000;
const OWNER_A = Buffer.from('Linux NFSv4.1 host-a');
const OWNER_B = Buffer.from('Linux NFSv4.1 host-b');
const V1 = Buffer.from('verif001');
const V2 = Buffer.from('verif002');

interface MemoryStore extends ClientOwnerStore {
  owners: Buffer[];
  saves: number;
  fail: boolean;
}

function memoryStore(owners: Buffer[] = []): MemoryStore {
  const store: MemoryStore = {
    owners, saves: 0, fail: false,
    load: async () => store.owners.map((o) => Buffer.from(o)),
    save: async (list) => {
      if (store.fail) throw new Error('disk full');
      store.saves++;
      store.owners = list.map((o) => Buffer.from(o));
    },
  };
  return store;
}

const ownerNames = (store: MemoryStore): string[] => store.owners.map((o) => o.toString()).sort();

/** What Linux 6.x sends in CREATE_SESSION. */
function linuxAttrs(maxRequests = 64): ChannelAttrs {
  return { headerPadSize: 0, maxRequestSize: 1_049_620, maxResponseSize: 1_049_480, maxResponseSizeCached: 7584, maxOperations: 16, maxRequests, rdmaIrd: [] };
}
const backAttrs = (): ChannelAttrs => ({ headerPadSize: 0, maxRequestSize: 4096, maxResponseSize: 4096, maxResponseSizeCached: 0, maxOperations: 2, maxRequests: 16, rdmaIrd: [] });

function fixture(o: { store?: MemoryStore; bootEpoch?: number; hasState?: (id: bigint) => boolean } = {}) {
  let now = 1_000_000;
  const store = o.store ?? memoryStore();
  const expired: bigint[] = [];
  const warnings: unknown[] = [];
  const clients = new Nfs4Clients({
    store, bootEpoch: o.bootEpoch ?? 7, now: () => now, leaseMs: LEASE, graceMs: LEASE, hasState: o.hasState,
    log: { warn: (obj: unknown) => void warnings.push(obj) },
  });
  clients.onExpire((id) => expired.push(id));
  return { clients, store, expired, warnings, advance: (ms: number) => void (now += ms) };
}

async function mount(clients: Nfs4Clients, owner = OWNER_A, verifier = V1) {
  const ex = clients.exchangeId(owner, verifier);
  const session = await clients.createSession(ex.clientId, ex.sequenceId, CreateSessionFlags.CONN_BACK_CHAN, linuxAttrs(), backAttrs());
  return { clientId: ex.clientId, sessionId: session.sessionId };
}

const asyncStatusOf = async (fn: () => Promise<unknown>): Promise<number> => {
  try {
    await fn();
    return Nfs4Status.OK;
  } catch (err) {
    if (err instanceof Nfs4Error) return err.status;
    throw err;
  }
};

function execute(outcome: SequenceOutcome) {
  if (outcome.kind !== 'execute') throw new Error(`expected execute, got ${outcome.kind}`);
  return outcome;
}

/** Lets the background saves run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

t.test('the Linux mount: EXCHANGE_ID, CREATE_SESSION, SEQUENCE, RECLAIM_COMPLETE', async (t) => {
  const { clients, store } = fixture({ bootEpoch: 0x1234 });
  await clients.start();
  t.notOk(clients.inGrace(), 'nothing was saved: no grace');

  const ex = clients.exchangeId(OWNER_A, V1);
  t.same({ sequenceId: ex.sequenceId, confirmed: ex.confirmed }, { sequenceId: 1, confirmed: false });
  t.equal(ex.clientId >> 32n, 0x1234n, 'the boot epoch is the clientid\'s upper half');
  t.same(clients.exchangeId(OWNER_A, V1), ex, 'a resent EXCHANGE_ID gets the same record');

  const flags = CreateSessionFlags.PERSIST | CreateSessionFlags.CONN_BACK_CHAN | CreateSessionFlags.CONN_RDMA;
  const cs = await clients.createSession(ex.clientId, 1, flags, { ...linuxAttrs(200), headerPadSize: 8, rdmaIrd: [4] }, backAttrs());
  t.equal(cs.sessionId.length, 16);
  t.equal(cs.sessionId.readBigUInt64BE(0), ex.clientId);
  t.equal(cs.sequence, 1);
  t.equal(cs.flags, CreateSessionFlags.CONN_BACK_CHAN, 'PERSIST and CONN_RDMA cleared, CONN_BACK_CHAN kept');
  t.same(cs.fore, { ...linuxAttrs(MAX_SLOTS), headerPadSize: 0, rdmaIrd: [] }, 'echoed, but for the slot count');
  t.same(cs.back, backAttrs(), 'the back channel is echoed');
  t.same(ownerNames(store), [OWNER_A.toString()], 'the confirmed owner is saved before CREATE_SESSION answers');
  t.same(clients.exchangeId(OWNER_A, V1), { clientId: ex.clientId, sequenceId: 2, confirmed: true });
  t.equal(clients.clientOf(cs.sessionId), ex.clientId);

  const first = execute(clients.sequence(cs.sessionId, 1, 0, 63, false));
  t.same(first.result, { sessionId: cs.sessionId, sequenceId: 1, slotId: 0, highestSlotId: 63, targetHighestSlotId: 63, statusFlags: 0 });
  t.equal(first.session.clientId, ex.clientId);
  t.equal(first.session.fore.maxOperations, 16);
  first.finish(undefined);
  execute(clients.sequence(cs.sessionId, 2, 0, 63, false)).finish(undefined);
  execute(clients.sequence(cs.sessionId, 1, 5, 63, true)).finish(Buffer.from('r'));

  t.notOk(clients.mayReclaim(ex.clientId), 'no grace, nothing to reclaim');
  t.equal(statusOf(() => clients.reclaimComplete(ex.clientId)), Nfs4Status.OK);
  t.equal(statusOf(() => clients.reclaimComplete(ex.clientId)), Nfs4Status.COMPLETE_ALREADY);
  t.equal(statusOf(() => clients.reclaimComplete(0x1234_0000_0999n)), Nfs4Status.STALE_CLIENTID);
  t.equal(clients.clientOf(Buffer.alloc(16)), undefined);

  // At umount.
  clients.destroySession(cs.sessionId);
  clients.destroyClientId(ex.clientId);
  await settle();
  t.same(store.owners, [], 'a client that said goodbye is forgotten');
});

t.test('channel attributes: the fore slot count is clamped to 1..64', async (t) => {
  const { clients } = fixture();
  for (const [asked, granted] of [[0, 1], [1, 1], [16, 16], [64, 64], [65, 64], [0xffffffff, 64]] as const) {
    const ex = clients.exchangeId(Buffer.from(`owner-${asked}`), V1);
    const cs = await clients.createSession(ex.clientId, 1, 0, linuxAttrs(asked), backAttrs());
    t.equal(cs.fore.maxRequests, granted, `${asked} asked`);
    t.equal(cs.back.maxRequests, 16, 'the back channel is not clamped');
    const slot = granted - 1;
    t.equal(execute(clients.sequence(cs.sessionId, 1, slot, slot, false)).result.highestSlotId, slot);
    t.equal(statusOf(() => clients.sequence(cs.sessionId, 1, granted, granted, false)), Nfs4Status.BADSLOT);
  }
});

t.test('CREATE_SESSION: replay, misorder, unknown client id', async (t) => {
  const { clients } = fixture();
  const ex = clients.exchangeId(OWNER_A, V1);
  t.equal(await asyncStatusOf(() => clients.createSession(ex.clientId, 0, 0, linuxAttrs(), backAttrs())), Nfs4Status.SEQ_MISORDERED, 'no replay before the first');
  t.equal(await asyncStatusOf(() => clients.createSession(ex.clientId, 2, 0, linuxAttrs(), backAttrs())), Nfs4Status.SEQ_MISORDERED);
  const first = await clients.createSession(ex.clientId, 1, 0, linuxAttrs(), backAttrs());
  const replay = await clients.createSession(ex.clientId, 1, 0, linuxAttrs(), backAttrs());
  t.same(replay, first, 'the cached result');
  t.ok(replay.sessionId.equals(first.sessionId), 'no second session');
  t.equal(await asyncStatusOf(() => clients.createSession(ex.clientId, 3, 0, linuxAttrs(), backAttrs())), Nfs4Status.SEQ_MISORDERED);
  const second = await clients.createSession(ex.clientId, 2, 0, linuxAttrs(), backAttrs());
  t.notOk(second.sessionId.equals(first.sessionId));
  t.equal(await asyncStatusOf(() => clients.createSession(ex.clientId, 1, 0, linuxAttrs(), backAttrs())), Nfs4Status.SEQ_MISORDERED, 'only the last is a replay');
  t.same(await clients.createSession(ex.clientId, 2, 0, linuxAttrs(), backAttrs()), second);
  t.equal(clients.exchangeId(OWNER_A, V1).sequenceId, 3);
  t.equal(await asyncStatusOf(() => clients.createSession(ex.clientId + 1000n, 1, 0, linuxAttrs(), backAttrs())), Nfs4Status.STALE_CLIENTID);
});

t.test('slots: execute, replay, uncached retry, misorder, bad slot, busy', async (t) => {
  const { clients } = fixture();
  const { sessionId } = await mount(clients);
  t.equal(statusOf(() => clients.sequence(Buffer.alloc(16, 9), 1, 0, 0, false)), Nfs4Status.BADSESSION);
  t.equal(statusOf(() => clients.sequence(sessionId, 1, 64, 64, false)), Nfs4Status.BADSLOT);
  t.equal(statusOf(() => clients.sequence(sessionId, 0, 0, 0, false)), Nfs4Status.SEQ_MISORDERED, 'a fresh slot is at 0, so 0 is no replay');
  t.equal(statusOf(() => clients.sequence(sessionId, 2, 0, 0, false)), Nfs4Status.SEQ_MISORDERED);

  const one = execute(clients.sequence(sessionId, 1, 0, 0, true));
  t.equal(statusOf(() => clients.sequence(sessionId, 1, 0, 0, true)), Nfs4Status.DELAY, 'a resend while it runs');
  t.equal(statusOf(() => clients.sequence(sessionId, 1, 1, 1, true)), Nfs4Status.OK, 'other slots run meanwhile');
  one.finish(Buffer.from('reply-1'));
  one.finish(Buffer.from('late')); // a second call changes nothing
  const replay = clients.sequence(sessionId, 1, 0, 0, true);
  t.same(replay, { kind: 'replay', reply: Buffer.from('reply-1') });

  const two = execute(clients.sequence(sessionId, 2, 0, 0, false));
  two.finish(Buffer.from('reply-2'));
  t.equal(statusOf(() => clients.sequence(sessionId, 2, 0, 0, false)), Nfs4Status.RETRY_UNCACHED_REP, 'cachethis was false');
  t.equal(statusOf(() => clients.sequence(sessionId, 1, 0, 0, false)), Nfs4Status.SEQ_MISORDERED, 'older than the last');
  t.equal(statusOf(() => clients.sequence(sessionId, 4, 0, 0, false)), Nfs4Status.SEQ_MISORDERED);

  const three = execute(clients.sequence(sessionId, 3, 0, 0, true));
  three.finish(undefined);
  t.equal(statusOf(() => clients.sequence(sessionId, 3, 0, 0, true)), Nfs4Status.RETRY_UNCACHED_REP, 'no reply to cache');

  // The sequence id wraps: after 2^32 - 1 comes 0.
  const { sessionId: other } = await mount(clients, OWNER_B);
  // Four billion requests are too many for a test: the slot is moved near the end by hand.
  const table = (clients as unknown as { sessions: Map<string, { slots: Array<{ sequenceId: number }> }> }).sessions;
  table.get(other.toString('hex'))!.slots[0]!.sequenceId = 0xfffffffe;
  execute(clients.sequence(other, 0xffffffff, 0, 0, false)).finish(undefined);
  execute(clients.sequence(other, 0, 0, 0, true)).finish(Buffer.from('wrapped'));
  t.same(clients.sequence(other, 0, 0, 0, true), { kind: 'replay', reply: Buffer.from('wrapped') });
});

t.test('a client that rebooted: new verifier, new client id, old state dropped once confirmed', async (t) => {
  const { clients, expired, store } = fixture();
  const old = await mount(clients);
  execute(clients.sequence(old.sessionId, 1, 0, 0, false)).finish(undefined);

  const fresh = clients.exchangeId(OWNER_A, V2);
  t.not(fresh.clientId, old.clientId);
  t.same({ sequenceId: fresh.sequenceId, confirmed: fresh.confirmed }, { sequenceId: 1, confirmed: false });
  t.same(clients.exchangeId(OWNER_A, V1), { clientId: old.clientId, sequenceId: 2, confirmed: true }, 'the old verifier still finds the confirmed record');
  t.equal(clients.exchangeId(OWNER_A, V2).clientId, fresh.clientId);
  t.equal(statusOf(() => clients.sequence(old.sessionId, 2, 0, 0, false)), Nfs4Status.OK, 'nothing dropped before the confirmation');
  t.same(expired, []);

  // An unconfirmed record is replaced by the next EXCHANGE_ID with yet another verifier.
  const third = clients.exchangeId(OWNER_A, Buffer.from('verif003'));
  t.not(third.clientId, fresh.clientId);
  t.equal(await asyncStatusOf(() => clients.createSession(fresh.clientId, 1, 0, linuxAttrs(), backAttrs())), Nfs4Status.STALE_CLIENTID);

  const cs = await clients.createSession(third.clientId, 1, 0, linuxAttrs(), backAttrs());
  t.same(expired, [old.clientId], 'the old record\'s state is freed');
  t.equal(statusOf(() => clients.sequence(old.sessionId, 3, 0, 0, false)), Nfs4Status.BADSESSION);
  t.equal(await asyncStatusOf(() => clients.createSession(old.clientId, 2, 0, linuxAttrs(), backAttrs())), Nfs4Status.STALE_CLIENTID);
  t.equal(clients.clientOf(cs.sessionId), third.clientId);
  t.same(clients.exchangeId(OWNER_A, Buffer.from('verif003')), { clientId: third.clientId, sequenceId: 2, confirmed: true });
  t.same(ownerNames(store), [OWNER_A.toString()]);
});

t.test('DESTROY_SESSION and DESTROY_CLIENTID', async (t) => {
  let holdsState = true;
  const { clients, store } = fixture({ hasState: () => holdsState });
  const a = await mount(clients);
  const b = await mount(clients, OWNER_B);
  t.same(ownerNames(store), [OWNER_A, OWNER_B].map(String).sort());
  t.equal(statusOf(() => clients.destroyClientId(a.clientId)), Nfs4Status.CLIENTID_BUSY, 'a session remains');
  clients.destroySession(a.sessionId);
  t.equal(statusOf(() => clients.destroySession(a.sessionId)), Nfs4Status.BADSESSION);
  t.equal(statusOf(() => clients.sequence(a.sessionId, 1, 0, 0, false)), Nfs4Status.BADSESSION);
  t.equal(statusOf(() => clients.destroyClientId(a.clientId)), Nfs4Status.CLIENTID_BUSY, 'opens remain');
  holdsState = false;
  clients.destroyClientId(a.clientId);
  t.equal(statusOf(() => clients.destroyClientId(a.clientId)), Nfs4Status.STALE_CLIENTID);
  t.equal(statusOf(() => clients.reclaimComplete(a.clientId)), Nfs4Status.STALE_CLIENTID);
  await settle();
  t.same(ownerNames(store), [OWNER_B.toString()]);
  t.equal(clients.clientOf(b.sessionId), b.clientId, 'the other client is untouched');

  // An unconfirmed client may go at once; nothing of it was saved.
  const saves = store.saves;
  const u = clients.exchangeId(Buffer.from('never-confirmed'), V1);
  clients.destroyClientId(u.clientId);
  await settle();
  t.equal(store.saves, saves, 'no write for a set that did not change');
});

t.test('a restart: stale ids, grace for the saved owners, ended early by their RECLAIM_COMPLETE', async (t) => {
  const store = memoryStore();
  const before = fixture({ store, bootEpoch: 100 });
  await before.clients.start();
  const a = await mount(before.clients, OWNER_A);
  const b = await mount(before.clients, OWNER_B);

  const after = fixture({ store, bootEpoch: 101 });
  await after.clients.start();
  t.ok(after.clients.inGrace());
  // What Linux runs into: BADSESSION, then STALE_CLIENTID, then a new EXCHANGE_ID.
  t.equal(statusOf(() => after.clients.sequence(a.sessionId, 1, 0, 0, false)), Nfs4Status.BADSESSION);
  t.equal(await asyncStatusOf(() => after.clients.createSession(a.clientId, 2, 0, linuxAttrs(), backAttrs())), Nfs4Status.STALE_CLIENTID);
  t.equal(statusOf(() => after.clients.destroyClientId(a.clientId)), Nfs4Status.STALE_CLIENTID);

  const a2 = await mount(after.clients, OWNER_A);
  t.equal(a2.clientId >> 32n, 101n);
  t.not(a2.clientId, a.clientId);
  const stranger = await mount(after.clients, Buffer.from('new host'));
  t.ok(after.clients.mayReclaim(a2.clientId));
  t.notOk(after.clients.mayReclaim(stranger.clientId), 'not known before the restart');
  after.clients.reclaimComplete(stranger.clientId);
  after.clients.reclaimComplete(a2.clientId);
  t.notOk(after.clients.mayReclaim(a2.clientId), 'done reclaiming');
  t.ok(after.clients.inGrace(), 'B has not come back yet');
  await settle();
  t.same(ownerNames(store), ['Linux NFSv4.1 host-a', 'Linux NFSv4.1 host-b', 'new host'], 'B keeps its turn should we restart again');

  const b2 = await mount(after.clients, OWNER_B);
  t.not(b2.clientId, b.clientId);
  t.ok(after.clients.mayReclaim(b2.clientId));
  after.clients.reclaimComplete(b2.clientId);
  t.notOk(after.clients.inGrace(), 'every client of the last run is done: grace over early');
  t.notOk(after.clients.mayReclaim(b2.clientId));
});

t.test('grace: none without saved owners; it lapses on its own; a second restart keeps the owners that did not come back', async (t) => {
  const empty = fixture({ store: memoryStore() });
  await empty.clients.start();
  t.notOk(empty.clients.inGrace());
  const c = await mount(empty.clients);
  t.notOk(empty.clients.mayReclaim(c.clientId));

  const store = memoryStore([OWNER_A, OWNER_B]);
  const first = fixture({ store, bootEpoch: 2 });
  await first.clients.start();
  t.ok(first.clients.inGrace());
  const a = await mount(first.clients, OWNER_A);
  first.clients.reclaimComplete(a.clientId);

  // A restart in the middle of the grace period: B may still reclaim.
  const second = fixture({ store, bootEpoch: 3 });
  await second.clients.start();
  const b = await mount(second.clients, OWNER_B);
  t.ok(second.clients.mayReclaim(b.clientId));
  second.advance(LEASE - 1);
  t.ok(second.clients.inGrace());
  second.advance(1);
  t.notOk(second.clients.inGrace(), 'grace lasts graceMs');
  t.notOk(second.clients.mayReclaim(b.clientId));
  t.equal(statusOf(() => second.clients.reclaimComplete(b.clientId)), Nfs4Status.OK, 'RECLAIM_COMPLETE after the grace is still fine');

  // A never came back to this run: once the grace is over, it is dropped from the record.
  t.same(ownerNames(store), ['Linux NFSv4.1 host-a', 'Linux NFSv4.1 host-b']);
  second.clients.expireIdle();
  await settle();
  t.same(ownerNames(store), ['Linux NFSv4.1 host-b']);
});

t.test('leases on a fake clock: two leases of silence expire a client', async (t) => {
  const { clients, expired, store, advance } = fixture();
  await clients.start();
  const a = await mount(clients, OWNER_A);
  const b = await mount(clients, OWNER_B);
  const unconfirmed = clients.exchangeId(Buffer.from('half-mounted'), V1);

  advance(1500);
  execute(clients.sequence(b.sessionId, 1, 0, 0, false)).finish(undefined);
  clients.expireIdle();
  t.same(expired, [], 'one lease and a half: courtesy');
  advance(600);
  clients.expireIdle();
  t.same(expired.sort(), [a.clientId, unconfirmed.clientId].sort());
  t.equal(statusOf(() => clients.sequence(a.sessionId, 1, 0, 0, false)), Nfs4Status.BADSESSION);
  t.equal(await asyncStatusOf(() => clients.createSession(a.clientId, 2, 0, linuxAttrs(), backAttrs())), Nfs4Status.STALE_CLIENTID);
  t.equal(clients.clientOf(b.sessionId), b.clientId);
  await settle();
  t.same(ownerNames(store), [OWNER_B.toString()], 'an expired client has nothing left to reclaim');

  // A compound still running holds its client, and its end renews the lease.
  const running = execute(clients.sequence(b.sessionId, 2, 0, 0, false));
  advance(5000);
  clients.expireIdle();
  t.equal(clients.clientOf(b.sessionId), b.clientId);
  running.finish(undefined);
  advance(1999);
  clients.expireIdle();
  t.equal(clients.clientOf(b.sessionId), b.clientId);
  advance(2);
  clients.expireIdle();
  t.equal(clients.clientOf(b.sessionId), undefined);

  // A client that comes back after expiry starts over.
  const again = clients.exchangeId(OWNER_A, V1);
  t.not(again.clientId, a.clientId);
  t.same({ sequenceId: again.sequenceId, confirmed: again.confirmed }, { sequenceId: 1, confirmed: false });
});

t.test('owner saves that fail are logged, not answered', async (t) => {
  const store = memoryStore();
  store.fail = true;
  const { clients, warnings } = fixture({ store });
  const a = await mount(clients);
  t.equal(warnings.length, 1);
  t.equal(clients.clientOf(a.sessionId), a.clientId);
  store.fail = false;
  await mount(clients, OWNER_B);
  t.same(ownerNames(store), [OWNER_A, OWNER_B].map(String).sort(), 'the next change writes the whole set');
});

t.test('the owner file: round trip, atomic replacement, an unreadable file', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'nfs4-owners-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'clients.json');
  const store = fileClientOwnerStore(file);
  t.same(await store.load(), [], 'no file yet');
  const binary = Buffer.from([0, 1, 2, 0xff, 0xfe]);
  await store.save([OWNER_A, binary]);
  t.same(await store.load(), [OWNER_A, binary]);
  await store.save([]);
  t.same(await store.load(), []);
  t.same(await readdir(dir), ['clients.json'], 'no temp file left behind');

  // Owners saved by one run are the next one's grace.
  const run1 = new Nfs4Clients({ store, bootEpoch: 1 });
  await run1.start();
  await mount(run1);
  const run2 = new Nfs4Clients({ store, bootEpoch: 2 });
  await run2.start();
  t.ok(run2.inGrace());

  await writeFile(file, '{not json');
  await t.rejects(store.load());
  await writeFile(file, '[1,2]');
  await t.rejects(store.load());
  const warnings: unknown[] = [];
  const run3 = new Nfs4Clients({ store, bootEpoch: 3, log: { warn: (obj: unknown) => void warnings.push(obj) } });
  await run3.start();
  t.notOk(run3.inGrace(), 'an unreadable record: serve without grace');
  t.equal(warnings.length, 1);
});

t.test('default lease and grace, and a boot epoch from the clock', async (t) => {
  const clients = new Nfs4Clients({ store: memoryStore([OWNER_A]) });
  await clients.start();
  t.ok(clients.inGrace());
  const { clientId } = clients.exchangeId(OWNER_A, V1);
  const epoch = Number(clientId >> 32n);
  t.ok(Math.abs(epoch - Date.now() / 1000) < 60, 'seconds of the start');
});

t.test('property: random calls only ever fail with an NFS status', async (t) => {
  const owner = fc.constantFrom(OWNER_A, OWNER_B, Buffer.from('c'), Buffer.alloc(0));
  const verifier = fc.constantFrom(V1, V2);
  const attrs = fc.record({
    headerPadSize: fc.nat(), maxRequestSize: fc.nat(), maxResponseSize: fc.nat(), maxResponseSizeCached: fc.nat(),
    maxOperations: fc.nat(), maxRequests: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.nat({ max: 0xffffffff })), rdmaIrd: fc.array(fc.nat(), { maxLength: 1 }),
  });
  const pick = fc.nat({ max: 20 });
  /** How a sequence id relates to what the slot last saw: next, same, ahead, behind, or anything. */
  const seqOf = fc.oneof(fc.constantFrom(1, 0, 2, -1), fc.constant('any' as const));
  const command = fc.oneof(
    fc.record({ op: fc.constant('exchange' as const), owner, verifier }),
    fc.record({ op: fc.constant('create' as const), client: pick, delta: fc.integer({ min: -2, max: 1 }), flags: fc.nat({ max: 7 }), fore: attrs, back: attrs }),
    fc.record({ op: fc.constant('sequence' as const), session: pick, slot: fc.oneof(fc.nat({ max: 3 }), fc.nat({ max: 0xffffffff })), seq: seqOf, any: fc.nat({ max: 0xffffffff }), cacheThis: fc.boolean(), finishNow: fc.boolean() }),
    fc.record({ op: fc.constant('finish' as const), which: pick, cached: fc.boolean() }),
    fc.record({ op: fc.constant('destroySession' as const), session: pick }),
    fc.record({ op: fc.constant('destroyClient' as const), client: pick }),
    fc.record({ op: fc.constant('reclaimComplete' as const), client: pick }),
    fc.record({ op: fc.constant('advance' as const), ms: fc.nat({ max: 3 * LEASE }) }),
    fc.record({ op: fc.constant('expire' as const) }),
    fc.record({ op: fc.constant('query' as const), client: pick, session: pick }),
  );

  await fc.assert(
    fc.asyncProperty(fc.array(command, { maxLength: 60 }), fc.boolean(), fc.boolean(), async (commands, previousOwners, busy) => {
      const f = fixture({ store: memoryStore(previousOwners ? [OWNER_A, Buffer.from('c')] : []), hasState: () => busy });
      await f.clients.start();
      const clientIds: bigint[] = [0n, 7n << 32n];
      const sessionIds: Buffer[] = [Buffer.alloc(16), Buffer.alloc(3)];
      const sequences: Array<{ seq: number; clientId: bigint }> = [];
      const lastSeq = new Map<string, number>();
      const pending: Array<(reply: Buffer | undefined) => void> = [];
      const at = <T>(list: T[], i: number): T => list[i % list.length]!;

      for (const c of commands) {
        try {
          switch (c.op) {
            case 'exchange': {
              const r = f.clients.exchangeId(c.owner, c.verifier);
              if (r.clientId >> 32n !== 7n) throw new Error('client id without the boot epoch');
              clientIds.push(r.clientId);
              sequences.push({ seq: r.sequenceId, clientId: r.clientId });
              break;
            }
            case 'create': {
              const known = sequences.length > 0 ? at(sequences, c.client) : { seq: 1, clientId: at(clientIds, c.client) };
              const r = await f.clients.createSession(known.clientId, (known.seq + c.delta) >>> 0, c.flags, c.fore, c.back);
              if (r.fore.maxRequests < 1 || r.fore.maxRequests > MAX_SLOTS || (r.flags & ~CreateSessionFlags.CONN_BACK_CHAN) !== 0) throw new Error('bad channel');
              if (r.sequence === known.seq) known.seq = (known.seq + 1) >>> 0;
              sessionIds.push(r.sessionId);
              break;
            }
            case 'sequence': {
              const session = at(sessionIds, c.session);
              const slotKey = `${session.toString('hex')}/${c.slot}`;
              const last = lastSeq.get(slotKey) ?? 0;
              const seq = c.seq === 'any' ? c.any : (last + c.seq) >>> 0;
              const outcome = f.clients.sequence(session, seq, c.slot, c.slot, c.cacheThis);
              if (outcome.kind === 'execute') {
                lastSeq.set(slotKey, seq);
                if (outcome.result.statusFlags !== 0 || outcome.result.highestSlotId >= MAX_SLOTS) throw new Error('bad SEQUENCE result');
                if (c.finishNow) outcome.finish(Buffer.from([seq & 0xff]));
                else pending.push(outcome.finish);
              }
              break;
            }
            case 'finish':
              if (pending.length > 0) pending.splice(c.which % pending.length, 1)[0]!(c.cached ? Buffer.from('x') : undefined);
              break;
            case 'destroySession':
              f.clients.destroySession(at(sessionIds, c.session));
              break;
            case 'destroyClient':
              f.clients.destroyClientId(at(clientIds, c.client));
              break;
            case 'reclaimComplete':
              f.clients.reclaimComplete(at(clientIds, c.client));
              break;
            case 'advance':
              f.advance(c.ms);
              break;
            case 'expire':
              f.clients.expireIdle();
              break;
            case 'query': {
              const id = at(clientIds, c.client);
              if (f.clients.mayReclaim(id) && !f.clients.inGrace()) throw new Error('reclaim outside grace');
              const owner = f.clients.clientOf(at(sessionIds, c.session));
              if (owner !== undefined && !clientIds.includes(owner)) throw new Error('a session of an unknown client');
              break;
            }
          }
        } catch (err) {
          if (!(err instanceof Nfs4Error)) throw err;
        }
      }
      await settle();
      if (f.warnings.length > 0) throw new Error('a save failed');
    }),
    { numRuns: 300 },
  );
  t.pass('no other failure');
});
