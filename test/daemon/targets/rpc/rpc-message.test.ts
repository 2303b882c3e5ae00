import fc from 'fast-check';
import t from 'tap';
import { AuthError, AuthStat, authenticate } from '../../../../src/daemon/targets/rpc/auth.js';
import { RpcProtocolError } from '../../../../src/daemon/targets/rpc/protocol-error.js';
import { decodeCall, writeReplyHeader, type Reply } from '../../../../src/daemon/targets/rpc/rpc-message.js';
import { XdrWriter } from '../../../../src/daemon/targets/rpc/xdr.js';
import { authSys, encodeCall, type Auth } from './test-rpc-client.js';

const u32 = fc.nat({ max: 0xffffffff });
const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));

const validCall = fc.record({
  xid: u32,
  program: u32,
  version: u32,
  procedure: u32,
  cred: fc.oneof<fc.Arbitrary<Auth>[]>(fc.constant({ flavor: 0 }), fc.constant(authSys({ stamp: 9, machineName: 'host', uid: 1, gid: 2, gids: [3] })), fc.record({ flavor: u32, body: bytes(400) })),
  verf: fc.oneof(fc.constant({ flavor: 0 }), fc.record({ flavor: u32, body: bytes(400) })),
  args: bytes(64),
});

t.test('a CALL decodes into its header, with the arguments reader just past it', async (t) => {
  fc.assert(fc.property(validCall, (spec) => {
    const decoded = decodeCall(encodeCall(spec));
    if (decoded.kind !== 'call') return false;
    const { header, args } = decoded;
    return header.xid === spec.xid && header.program === spec.program && header.version === spec.version && header.procedure === spec.procedure
      && header.cred.flavor === spec.cred.flavor && header.cred.body.equals(spec.cred.body ?? Buffer.alloc(0))
      && header.verf.flavor === spec.verf.flavor && args.remaining === spec.args.length && (spec.args.length < 4 || args.uint32() === spec.args.readUInt32BE(0));
  }));
  t.same(decodeCall(encodeCall({ xid: 77, rpcVersion: 3, program: 1, version: 1, procedure: 0 })), { kind: 'rpc-mismatch', xid: 77 });
  t.same(decodeCall(encodeCall({ xid: 78, rpcVersion: 1, program: 1, version: 1, procedure: 0 }).subarray(0, 12)), { kind: 'rpc-mismatch', xid: 78 }, 'only the xid is needed for RPC_MISMATCH');
});

t.test('a REPLY, an unknown msg_type, a short header or an over-long credential is a protocol error', async (t) => {
  const call = encodeCall({ xid: 1, program: 100000, version: 2, procedure: 0 });
  t.throws(() => decodeCall(encodeCall({ xid: 1, msgType: 1, program: 100000, version: 2, procedure: 0 })), RpcProtocolError);
  t.throws(() => decodeCall(encodeCall({ xid: 1, msgType: 7, program: 100000, version: 2, procedure: 0 })), RpcProtocolError);
  for (let cut = 0; cut < call.length; cut++) t.throws(() => decodeCall(call.subarray(0, cut)), RpcProtocolError, `cut at ${cut}`);
  t.throws(() => decodeCall(encodeCall({ xid: 1, program: 1, version: 1, procedure: 0, cred: { flavor: 1, body: Buffer.alloc(404) } })), RpcProtocolError);
});

t.test('random, mutated and truncated calls only ever raise our own errors', async () => {
  const mutated = fc.tuple(validCall, fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 6 }), fc.nat()).map(([spec, flips, cut]) => {
    const wire = encodeCall(spec);
    for (const [at, value] of flips) wire[at % wire.length] = value;
    return wire.subarray(0, wire.length - (cut % 3 === 0 ? cut % wire.length : 0));
  });
  fc.assert(fc.property(fc.oneof(bytes(120), mutated), (message) => {
    try {
      const decoded = decodeCall(message);
      if (decoded.kind === 'call') authenticate(decoded.header.cred, decoded.header.verf);
    } catch (err) {
      if (!(err instanceof RpcProtocolError) && !(err instanceof AuthError)) throw err;
    }
  }), { numRuns: 5000 });
});

t.test('reply headers follow RFC 5531 word for word', async (t) => {
  const words = (reply: Reply) => {
    const writer = new XdrWriter();
    writeReplyHeader(writer, 0xabcd, reply);
    const buffer = writer.toBuffer();
    return Array.from({ length: buffer.length / 4 }, (_, i) => buffer.readUInt32BE(i * 4));
  };
  // xid, REPLY, MSG_ACCEPTED, verifier AUTH_NONE + empty body, accept_stat
  const accepted = [0xabcd, 1, 0, 0, 0];
  t.same(words({ stat: 'SUCCESS' }), [...accepted, 0]);
  t.same(words({ stat: 'PROG_UNAVAIL' }), [...accepted, 1]);
  t.same(words({ stat: 'PROG_MISMATCH', low: 3, high: 4 }), [...accepted, 2, 3, 4]);
  t.same(words({ stat: 'PROC_UNAVAIL' }), [...accepted, 3]);
  t.same(words({ stat: 'GARBAGE_ARGS' }), [...accepted, 4]);
  t.same(words({ stat: 'SYSTEM_ERR' }), [...accepted, 5]);
  // xid, REPLY, MSG_DENIED, reject_stat, then the mismatch range or the auth_stat
  t.same(words({ stat: 'RPC_MISMATCH' }), [0xabcd, 1, 1, 0, 2, 2]);
  t.same(words({ stat: 'AUTH_ERROR', auth: AuthStat.TOOWEAK }), [0xabcd, 1, 1, 1, 5]);
});
