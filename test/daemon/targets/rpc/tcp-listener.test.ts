/**
 * The TCP listener on a loopback port against the test client: every kind of reply, pipelined calls answered out
 * of order, replies never interleaved, bad framing dropping only its own connection, and a flood held at the cap.
 */
import fc from 'fast-check';
import t from 'tap';
import { AuthStat } from '../../../../src/daemon/targets/rpc/auth.js';
import type { RpcProgram } from '../../../../src/daemon/targets/rpc/rpc-dispatcher.js';
import { XdrWriter } from '../../../../src/daemon/targets/rpc/xdr.js';
import { TcpRpcClient, authSys, encodeCall, fragmentHeader, recordOf, type ParsedReply } from './test-rpc-client.js';
import { startRpcServer } from './test-server.js';

const PROGRAM = 400200;
const Proc = { ECHO_AFTER: 1, BLOCKED: 2, BIG: 3, NEEDS_SYS: 4 } as const;

let release: () => void = () => {};
let gate = new Promise<void>((resolve) => (release = resolve));
let running = 0;
let mostRunning = 0;
let started = 0;

const program: RpcProgram = {
  name: 'test',
  program: PROGRAM,
  versions: {
    1: {
      /** Echoes an id after a delay, so later calls can finish first. */
      [Proc.ECHO_AFTER]: async ({ args }, results) => {
        const id = args.uint32();
        const delayMs = args.uint32();
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        results.uint32(id);
      },
      /** Waits for the gate, counting how many wait at once. */
      [Proc.BLOCKED]: async (_call, results) => {
        started++;
        mostRunning = Math.max(mostRunning, ++running);
        await gate;
        running--;
        results.uint32(started);
      },
      /** Results of the requested size, filled with one byte value. */
      [Proc.BIG]: async ({ args }, results) => {
        const size = args.uint32();
        const fill = args.uint32();
        await new Promise((resolve) => setImmediate(resolve));
        results.opaque(Buffer.alloc(size, fill));
      },
      [Proc.NEEDS_SYS]: () => {},
    },
    2: {},
  },
};

const args = (...words: number[]) => Buffer.from(words.reduce((w, n) => w.uint32(n), new XdrWriter()).toBuffer());
const stat = (reply: ParsedReply) => reply.stat;
const server = await startRpcServer(t, [program]);

async function connect(t: { teardown(fn: () => unknown): void }, port = server.tcp.port): Promise<TcpRpcClient> {
  const client = await TcpRpcClient.connect(port);
  t.teardown(() => client.close());
  return client;
}

t.test('every kind of reply, all on one connection that stays open', async (t) => {
  const client = await connect(t);
  const base = { program: PROGRAM, version: 1 };
  t.same(stat(await client.call({ ...base, procedure: 0 })), 'SUCCESS', 'NULL');
  t.same(await client.call({ ...base, xid: 900, program: 100003, procedure: 0 }), { xid: 900, stat: 'PROG_UNAVAIL' });
  t.same(await client.call({ ...base, xid: 901, version: 3, procedure: 0 }), { xid: 901, stat: 'PROG_MISMATCH', low: 1, high: 2 });
  t.same(await client.call({ ...base, xid: 902, procedure: 42 }), { xid: 902, stat: 'PROC_UNAVAIL' });
  t.same(await client.call({ ...base, xid: 903, procedure: Proc.ECHO_AFTER, args: args(1) }), { xid: 903, stat: 'GARBAGE_ARGS' });
  t.same(await client.call({ ...base, xid: 904, rpcVersion: 1, procedure: 0 }), { xid: 904, stat: 'RPC_MISMATCH', low: 2, high: 2 });
  t.same(await client.call({ ...base, xid: 905, procedure: 0, cred: { flavor: 6, body: Buffer.alloc(16) } }), { xid: 905, stat: 'AUTH_ERROR', auth: AuthStat.TOOWEAK });
  t.same(await client.call({ ...base, xid: 906, procedure: 0, cred: { flavor: 1, body: Buffer.alloc(2) } }), { xid: 906, stat: 'AUTH_ERROR', auth: AuthStat.BADCRED });
  const sys = authSys({ stamp: 1, machineName: 'box', uid: 1000, gid: 1000, gids: [] });
  t.same(stat(await client.call({ ...base, procedure: Proc.NEEDS_SYS, cred: sys }, [4, 8, 0, 12])), 'SUCCESS', 'a call in several fragments');
  t.notOk(client.isClosed);
  t.same(server.warnings, []);
});

t.test('pipelined calls are answered as they finish, each matched by its xid', async (t) => {
  const client = await connect(t);
  const ids = Array.from({ length: 20 }, (_, i) => i);
  const replies = ids.map((id) => client.call({ xid: 5000 + id, program: PROGRAM, version: 1, procedure: Proc.ECHO_AFTER, args: args(id, (20 - id) * 10) }));
  for (const [id, reply] of (await Promise.all(replies)).entries()) {
    t.equal(reply.stat === 'SUCCESS' && reply.results.uint32(), id, `xid ${5000 + id}`);
  }
  const order = client.received.map((record) => record.readUInt32BE(0) - 5000);
  t.same(order, [...ids].reverse(), 'the slowest call, sent first, was answered last');
});

t.test('large and small replies in flight together arrive whole, never interleaved', async (t) => {
  const client = await connect(t);
  const sizes = [300_000, 12, 1_000_000, 7, 65_537, 0, 2_000_000, 3];
  const replies = await Promise.all(sizes.map((size, i) => client.call({ program: PROGRAM, version: 1, procedure: Proc.BIG, args: args(size, i + 1) })));
  replies.forEach((reply, i) => {
    const data = reply.stat === 'SUCCESS' ? reply.results.opaque(4_000_000) : undefined;
    t.ok(data !== undefined && data.length === sizes[i] && data.every((b) => b === i + 1), `reply ${i} of ${sizes[i]} bytes is whole`);
  });
});

t.test('bad framing drops only its own connection', async (t) => {
  const healthy = await connect(t);
  t.equal(stat(await healthy.call({ program: PROGRAM, version: 1, procedure: 0 })), 'SUCCESS');
  const badStreams: Array<[string, Buffer]> = [
    ['a REPLY from the client', recordOf(encodeCall({ xid: 1, msgType: 1, program: PROGRAM, version: 1, procedure: 0 }))],
    ['a record over the 4 MiB cap', fragmentHeader(4 * 1024 * 1024 + 1, true)],
    ['fragments adding up to over the cap', Buffer.concat([fragmentHeader(3 * 1024 * 1024, false), Buffer.alloc(3 * 1024 * 1024), fragmentHeader(2 * 1024 * 1024, true)])],
    ['a header too short for a call', recordOf(Buffer.alloc(6))],
    ['a credential over 400 bytes', recordOf(encodeCall({ xid: 1, program: PROGRAM, version: 1, procedure: 0, cred: { flavor: 1, body: Buffer.alloc(600) } }))],
  ];
  for (const [what, bytes] of badStreams) {
    const bad = await connect(t);
    t.equal(stat(await bad.call({ program: PROGRAM, version: 1, procedure: 0 })), 'SUCCESS', `${what}: a call before it is answered`);
    bad.sendRaw(bytes);
    bad.sendRaw(recordOf(encodeCall({ xid: 77, program: PROGRAM, version: 1, procedure: 0 })));
    await bad.closed;
    t.notOk(bad.received.some((r) => r.readUInt32BE(0) === 77), `${what}: closes the connection, and nothing after it is answered`);
  }
  t.equal(stat(await healthy.call({ program: PROGRAM, version: 1, procedure: 0 })), 'SUCCESS', 'the other connection kept working');
  t.equal(server.warnings.length, badStreams.length, 'one warning per dropped connection');
  t.ok(server.warnings.every((line) => line.level === 40 && line.msg === 'RPC protocol error: dropping the connection'), 'warnings, not internal errors');
  server.warnings.length = 0;
});

t.test('random, mutated and truncated streams only ever cost their own connection', async (t) => {
  const healthy = await connect(t);
  const u32 = fc.nat({ max: 0xffffffff });
  const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));
  const call = fc.record({ xid: u32, msgType: fc.oneof(fc.constant(0), u32), rpcVersion: fc.oneof(fc.constant(2), u32), program: fc.constantFrom(PROGRAM, 100000, 7), version: fc.nat(3),
    // Not the procedures that wait or allocate what their arguments ask.
    procedure: fc.constantFrom(0, Proc.NEEDS_SYS, 42),
    cred: fc.oneof(fc.constant({ flavor: 0 }), fc.record({ flavor: fc.nat(7), body: bytes(420) })), args: bytes(16) });
  const piece = fc.oneof(
    bytes(100),
    fc.tuple(call, fc.array(fc.nat(60), { maxLength: 3 })).map(([spec, fragments]) => recordOf(encodeCall(spec), fragments)),
    fc.tuple(call, fc.nat(), fc.nat(255)).map(([spec, at, value]) => {
      const record = recordOf(encodeCall(spec));
      record[at % record.length] = value;
      return record;
    }),
  );
  let runs = 0;
  await fc.assert(fc.asyncProperty(fc.array(piece, { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 500 }), async (pieces, chunk) => {
    runs++;
    const client = await TcpRpcClient.connect(server.tcp.port);
    const stream = Buffer.concat(pieces);
    for (let offset = 0; offset < stream.length && !client.isClosed; offset += chunk) client.sendRaw(stream.subarray(offset, offset + chunk));
    await new Promise((resolve) => setTimeout(resolve, 5));
    await client.close();
    return server.warnings.every((line) => line.level < 50);
  }), { numRuns: 300, interruptAfterTimeLimit: 5_000, markInterruptAsFailure: false });
  t.ok(runs > 20, `${runs} fuzzed connections`);
  t.same(server.warnings.filter((line) => line.level >= 50), [], 'no internal errors logged');
  t.equal(stat(await healthy.call({ program: PROGRAM, version: 1, procedure: 0 })), 'SUCCESS', 'another connection kept working throughout');
  server.warnings.length = 0;
});

t.test('a flood of pipelined calls waits at the cap: no more calls start and reading stops', async (t) => {
  const client = await connect(t);
  const padding = Buffer.alloc(4096);
  const calls = 4000;
  const replies: Array<Promise<ParsedReply>> = [];
  for (let i = 0; i < calls; i++) replies.push(client.call({ program: PROGRAM, version: 1, procedure: Proc.BLOCKED, args: padding }));
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.equal(started, 64, 'exactly the default cap of 64 calls started');
  t.ok(client.socket.writableLength > 0, `the server stopped reading: ${client.socket.writableLength} bytes of ${calls * 4140} still wait at the client`);
  release();
  const all = await Promise.all(replies);
  t.ok(all.every((reply) => reply.stat === 'SUCCESS'), `all ${calls} calls answered once the gate opened`);
  t.equal(mostRunning, 64, 'never more than 64 in flight');
  gate = new Promise<void>((resolve) => (release = resolve));
});

t.test('a client that shuts down its side after its calls still gets every reply', async (t) => {
  const client = await connect(t);
  const replies = [3, 2, 1].map((id) => client.call({ program: PROGRAM, version: 1, procedure: Proc.ECHO_AFTER, args: args(id, id * 20) }));
  client.socket.end();
  const ids = (await Promise.all(replies)).map((reply) => reply.stat === 'SUCCESS' && reply.results.uint32());
  t.same(ids, [3, 2, 1]);
  await client.closed;
  t.pass('and then the server closed its side');
});

t.test('the record cap can be lowered', async (t) => {
  const small = await startRpcServer(t, [program], { maxRecordBytes: 1024 });
  const client = await connect(t, small.tcp.port);
  t.equal(stat(await client.call({ program: PROGRAM, version: 1, procedure: 0, args: Buffer.alloc(1024 - 40) })), 'SUCCESS', 'a call of exactly 1024 bytes');
  client.sendRaw(recordOf(encodeCall({ xid: 1, program: PROGRAM, version: 1, procedure: 0, args: Buffer.alloc(1024) })));
  await client.closed;
  t.pass('a bigger one dropped the connection');
});

t.test('close() drops open connections, even with calls in flight', async (t) => {
  const own = await startRpcServer(t, [program]);
  const client = await connect(t, own.tcp.port);
  void client.call({ program: PROGRAM, version: 1, procedure: Proc.BLOCKED }).catch(() => {});
  await new Promise((resolve) => setTimeout(resolve, 50));
  await own.tcp.close();
  await client.closed;
  t.pass('the connection closed');
  release();
  gate = new Promise<void>((resolve) => (release = resolve));
});
