/**
 * Fuzzed NFSv4.1 COMPOUNDs against a real sgwd: well-formed operations (on a real session, with real handles and
 * stateids) in random orders and counts, then mutated byte by byte. Whatever arrives, sgwd keeps running and
 * answering, no answer blames the server (SYSTEM_ERR, NFS4ERR_SERVERFAULT, an error in its log), and a client that
 * behaves still mounts, writes and reads afterwards. SGW_FUZZ_SEED=<n> replays a run.
 */
import path from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { XdrWriter } from '../../src/daemon/targets/rpc/xdr.js';
import type { GatewayInfo } from '../../src/rpc/api.js';
import { LocalObjectStore } from '../../src/storage/backends/local-store.js';
import { TestDaemon } from '../harness/daemon.js';
import { NFS4, NFS4ERR, Nfs4TestClient, ROOT4, ops, user4, type Op, type Stateid } from './targets/nfs/v4/nfs4-test-client.js';

t.setTimeout(240_000);

const SEED = process.env.SGW_FUZZ_SEED === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.SGW_FUZZ_SEED);
const RUNS = 2000;
const ANSWER_TIMEOUT_MS = 10_000;
const SERVERFAULT = 10006;

function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer to ${what} within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The args of a COMPOUND as bytes, so that they can be mutated before they are sent. */
function compoundArgs(list: Op[], minor = 1): Buffer {
  const w = new XdrWriter();
  w.string('fuzz').uint32(minor).uint32(list.length);
  for (const item of list) {
    w.uint32(item.op);
    item.args?.(w);
  }
  return Buffer.from(w.toBuffer());
}

type Mutation = { kind: 'flip'; at: number; xor: number } | { kind: 'word'; at: number; value: number } | { kind: 'truncate'; at: number } | { kind: 'insert'; at: number; bytes: Buffer };

function mutate(bytes: Buffer, mutations: Mutation[]): Buffer {
  let out = Buffer.from(bytes);
  for (const m of mutations) {
    const at = out.length === 0 ? 0 : m.at % out.length;
    if (m.kind === 'flip' && out.length > 0) out[at] = out[at]! ^ m.xor;
    else if (m.kind === 'word' && out.length >= 4) out.writeUInt32BE(m.value >>> 0, at - (at % 4) > out.length - 4 ? out.length - 4 : at - (at % 4));
    else if (m.kind === 'truncate') out = out.subarray(0, at);
    else if (m.kind === 'insert') out = Buffer.concat([out.subarray(0, at), m.bytes, out.subarray(at)]);
  }
  return out;
}

t.test('fuzzed NFSv4.1 COMPOUNDs never crash sgwd nor make it fault', async (t) => {
  t.comment(`fast-check seed ${SEED} (replay with SGW_FUZZ_SEED=${SEED})`);
  const d = await TestDaemon.start(t, { SGW_LOG_LEVEL: 'info' });
  await d.sgwJson('activate');
  const store = new LocalObjectStore({ dir: path.join(d.stateDir, 'buckets', 'fuzz-files') });
  await store.put('readme.txt', Buffer.from('read me\n'));
  await store.put('docs/a.txt', Buffer.from('a'.repeat(5000)));
  await d.sgwJson('share', 'create', 'fuzz', '--bucket', 'fuzz-files', '--squash', 'none');
  const { nfsServer } = (await d.sgwJson<GatewayInfo>('gateway', 'info')).daemon;
  const port = Number(nfsServer.split(/:(?=\d+$)/)[1]);

  const c = await Nfs4TestClient.connect(port);
  t.teardown(() => c.close());
  await c.establish('fuzzer');
  const share = [ops.putrootfh(), ops.lookup('fuzz')];
  const [, , rootFh] = await c.ok([...share, ops.getfh()]) as [unknown, unknown, Buffer];
  const [, , , docsFh] = await c.ok([...share, ops.lookup('docs'), ops.getfh()]) as [unknown, unknown, unknown, Buffer];
  const opened = await c.ok([...share, ops.open('fuzzed.bin', { create: 0 }), ops.getfh()]);
  const openStateid = (opened[2] as { stateid: Stateid }).stateid;
  const fileFh = opened[3] as Buffer;
  const lockStateid = (await c.ok([ops.putfh(fileFh), ops.lock(2, 0n, 10n, { open: openStateid, owner: 'fuzz-lock' })]))[1] as Stateid;

  const handles = [rootFh, docsFh, fileFh, Buffer.from([2]), Buffer.alloc(13), Buffer.alloc(0), Buffer.alloc(129, 1)];
  const stateids: Stateid[] = [openStateid, lockStateid, { seqid: 0, other: Buffer.alloc(12) }, { seqid: 1, other: Buffer.alloc(12) }, { seqid: 0xffffffff, other: Buffer.alloc(12, 0xff) }];
  const names = ['readme.txt', 'docs', 'a.txt', 'fuzzed.bin', 'new-file', 'new-dir', '.', '..', '', 'x'.repeat(300), 'a/b'];
  const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
  const offset = fc.oneof(fc.constantFrom(0n, 1n, 4999n, 5000n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n), u64);
  const word = fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 5, 7, 8, 63, 64, 128, 1024, 1025, 0x7fffffff, 0xffffffff), fc.integer({ min: 0, max: 0xffffffff }));
  const name = fc.constantFrom(...names);
  const stateid = fc.constantFrom(...stateids);
  const attrs = fc.array(fc.integer({ min: 0, max: 90 }), { maxLength: 8 });
  const operation: fc.Arbitrary<Op> = fc.oneof(
    fc.constant(ops.putrootfh()),
    fc.constantFrom(...handles).map((fh) => ops.putfh(fh)),
    fc.constant(ops.getfh()), fc.constant(ops.savefh()), fc.constant(ops.restorefh()), fc.constant(ops.lookupp()),
    name.map((n) => ops.lookup(n)),
    attrs.map((a) => ops.getattr(a)),
    word.map((m) => ops.access(m)),
    fc.tuple(name, fc.constantFrom(undefined, 0 as const, 1 as const, 3 as const), fc.constantFrom('null' as const, 'fh' as const, 'previous' as const), fc.integer({ min: 0, max: 3 }))
      .map(([n, create, claim, access]) => ops.open(n, { create, claim, access, owner: 'fuzz-owner' })),
    stateid.map((s) => ops.close(s)),
    fc.tuple(stateid, offset, word).map(([s, o, n]) => ops.read(s, o, n)),
    fc.tuple(stateid, offset, fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 0, max: 3 })).map(([s, o, data, stable]) => ops.write(s, o, Buffer.from(data), stable)),
    fc.constant(ops.commit()),
    name.map((n) => ops.mkdir(n)),
    fc.tuple(fc.integer({ min: 0, max: 10 }), name).map(([type, n]) => ops.createOther(type, n)),
    name.map((n) => ops.remove(n)),
    fc.tuple(name, name).map(([a, b]) => ops.rename(a, b)),
    name.map((n) => ops.link(n)),
    fc.constant(ops.readlink()),
    fc.tuple(offset, fc.uint8Array({ minLength: 8, maxLength: 8 }), attrs, word).map(([cookie, v, a, max]) => ops.readdir(cookie, Buffer.from(v), a, max)),
    fc.tuple(fc.constantFrom(1 as const, 2 as const), offset, offset, stateid).map(([type, o, l, s]) => ops.lock(type, o, l, { lock: s })),
    fc.tuple(fc.constantFrom(1 as const, 2 as const), offset, offset, stateid).map(([type, o, l, s]) => ops.lock(type, o, l, { open: s, owner: 'fuzz-lock-2' })),
    fc.tuple(fc.constantFrom(1 as const, 2 as const), offset, offset).map(([type, o, l]) => ops.lockt(type, o, l, 'other')),
    fc.tuple(stateid, offset, offset).map(([s, o, l]) => ops.locku(s, o, l)),
    fc.array(stateid, { maxLength: 4 }).map((s) => ops.testStateid(s)),
    stateid.map((s) => ops.freeStateid(s)),
    fc.constant(ops.secinfoNoName()),
    fc.constant(ops.reclaimComplete()),
    fc.integer({ min: 0, max: 70 }).map((code) => ops.raw(code)),
  );
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
    fc.record({ kind: fc.constant('word' as const), at: fc.nat(), value: word }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 32 }).map((a) => Buffer.from(a)) }),
  );
  const compound = fc.record({
    list: fc.array(operation, { minLength: 0, maxLength: 8 }),
    inSession: fc.boolean(),
    mutations: fc.oneof({ weight: 2, arbitrary: fc.constant([] as Mutation[]) }, { weight: 1, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }) }),
    user: fc.boolean(),
  });

  // Slot 1's sequence: one more for each compound whose SEQUENCE went through, as the server counts.
  let sequence = 0;
  let faults = 0;
  const answered = new Map<string, number>();
  await fc.assert(fc.asyncProperty(compound, async ({ list, inSession, mutations, user }) => {
    // A sequence id of its own for each compound, on a slot that the fuzzing never shares with the well-behaved client.
    const sent = inSession ? [ops.sequence(c.sessionId, sequence + 1, 1), ...list] : list;
    const args = mutate(compoundArgs(sent), mutations);
    const reply = await within(ANSWER_TIMEOUT_MS, 'a fuzzed COMPOUND', c.rpc.call({ ...NFS4, procedure: 1, cred: user ? user4(1000) : ROOT4, args }));
    answered.set(reply.stat, (answered.get(reply.stat) ?? 0) + 1);
    if (reply.stat === 'SYSTEM_ERR') faults++;
    if (reply.stat !== 'SUCCESS') return reply.stat === 'GARBAGE_ARGS';
    const status = reply.results.uint32();
    reply.results.string(1024);
    if (reply.results.uint32() > 0 && reply.results.uint32() === 53 && reply.results.uint32() === 0) sequence++;
    if (status === SERVERFAULT) faults++;
    return status !== SERVERFAULT;
  }), { seed: SEED, numRuns: RUNS, endOnFailure: true, interruptAfterTimeLimit: 150_000 });
  t.equal(faults, 0, `no answer blamed the server (${[...answered].map(([k, v]) => `${k} ${v}`).join(', ')})`);

  t.ok(d.proc && d.proc.exitCode === null, 'sgwd is still running');
  t.same(await d.client('ping', {}).then((r) => r.pong), true, 'and its control socket answers');
  const fresh = await Nfs4TestClient.connect(port);
  t.teardown(() => fresh.close());
  await fresh.establish('after-the-fuzz');
  const data = Buffer.from('still fine\n');
  const wrote = await fresh.ok([...share, ops.open('after.txt', { create: 0, owner: 'after' }), ops.write({ seqid: 1, other: Buffer.alloc(12) }, 0n, data, 2), ops.read({ seqid: 1, other: Buffer.alloc(12) }, 0n, 100)]);
  t.same((wrote[4] as { data: Buffer }).data, data, 'a well-behaved client still writes and reads');
  t.equal((await fresh.compound([ops.putrootfh()], { minor: 0 })).status, NFS4ERR.MINOR_VERS_MISMATCH);
  t.notMatch(d.output, /"level":(50|60)/, 'nothing went wrong in sgwd\'s log');
});
