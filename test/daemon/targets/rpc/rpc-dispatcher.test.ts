import { pino } from 'pino';
import t from 'tap';
import { BugError } from '../../../../src/errors.js';
import { AuthError, AuthStat } from '../../../../src/daemon/targets/rpc/auth.js';
import { RpcDispatcher, rpcClientAddress, type RpcCall, type RpcProgram } from '../../../../src/daemon/targets/rpc/rpc-dispatcher.js';
import { decodeCall } from '../../../../src/daemon/targets/rpc/rpc-message.js';
import { XdrWriter } from '../../../../src/daemon/targets/rpc/xdr.js';
import { authSys, decodeReply, encodeCall, type CallSpec, type ParsedReply } from './test-rpc-client.js';

const PROGRAM = 400123;
const CLIENT = rpcClientAddress('tcp', '::ffff:10.1.2.3', 812);

const calls: RpcCall[] = [];
const testProgram: RpcProgram = {
  name: 'test',
  program: PROGRAM,
  versions: {
    3: {
      1: async (call, results) => {
        calls.push(call);
        const text = call.args.string(100);
        await new Promise((resolve) => setImmediate(resolve));
        results.string(text.toUpperCase());
      },
      2: () => {
        throw new Error('disk on fire');
      },
      3: ({ auth }) => {
        if (auth.flavor !== 'sys') throw new AuthError(AuthStat.TOOWEAK, 'needs AUTH_SYS');
      },
      4: (_call, results) => {
        results.string('partial results');
        throw new Error('failed halfway');
      },
    },
    4: {},
  },
};

function setup() {
  const lines: Array<{ level: number; msg: string; program?: string }> = [];
  const dispatcher = new RpcDispatcher(pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) }));
  dispatcher.register(testProgram);
  const call = async (spec: Omit<CallSpec, 'xid' | 'program'> & { program?: number }): Promise<ParsedReply> => {
    const writer = await dispatcher.reply(decodeCall(encodeCall({ xid: 42, program: PROGRAM, ...spec })), CLIENT, () => new XdrWriter());
    return decodeReply(writer.toBuffer());
  };
  return { dispatcher, call, lines };
}

const arg = (text: string) => Buffer.from(new XdrWriter().string(text).toBuffer());

t.test('a procedure gets the decoded call and its results follow the SUCCESS header', async (t) => {
  const { call } = setup();
  const cred = authSys({ stamp: 5, machineName: 'client', uid: 1000, gid: 100, gids: [100, 27] });
  const reply = await call({ version: 3, procedure: 1, cred, args: arg('hello') });
  t.equal(reply.xid, 42);
  t.equal(reply.stat, 'SUCCESS');
  if (reply.stat === 'SUCCESS') t.equal(reply.results.string(100), 'HELLO');
  const seen = calls.at(-1)!;
  t.match(seen, { xid: 42, program: PROGRAM, version: 3, procedure: 1, auth: { flavor: 'sys', uid: 1000, gid: 100, gids: [100, 27], machineName: 'client' } });
  t.same(seen.client, { transport: 'tcp', address: '10.1.2.3', port: 812 }, 'an IPv4-mapped address is shown as IPv4');
});

t.test('NULL of every registered version answers SUCCESS with no results', async (t) => {
  const { call } = setup();
  for (const version of [3, 4]) {
    const reply = await call({ version, procedure: 0 });
    t.equal(reply.stat, 'SUCCESS', `version ${version}`);
    if (reply.stat === 'SUCCESS') t.equal(reply.results.remaining, 0);
  }
});

t.test('unknown program, version and procedure', async (t) => {
  const { call } = setup();
  t.same(await call({ program: PROGRAM + 1, version: 3, procedure: 0 }), { xid: 42, stat: 'PROG_UNAVAIL' });
  t.same(await call({ version: 2, procedure: 0 }), { xid: 42, stat: 'PROG_MISMATCH', low: 3, high: 4 });
  t.same(await call({ version: 5, procedure: 1 }), { xid: 42, stat: 'PROG_MISMATCH', low: 3, high: 4 });
  t.same(await call({ version: 3, procedure: 99 }), { xid: 42, stat: 'PROC_UNAVAIL' });
  t.same(await call({ version: 4, procedure: 1 }), { xid: 42, stat: 'PROC_UNAVAIL' });
  t.same(await call({ version: 3, procedure: 1, rpcVersion: 3 }), { xid: 42, stat: 'RPC_MISMATCH', low: 2, high: 2 });
});

t.test('arguments that do not decode are GARBAGE_ARGS', async (t) => {
  const { call } = setup();
  t.same(await call({ version: 3, procedure: 1, args: Buffer.alloc(3) }), { xid: 42, stat: 'GARBAGE_ARGS' });
  t.same(await call({ version: 3, procedure: 1, args: new XdrWriter().uint32(101).toBuffer() }), { xid: 42, stat: 'GARBAGE_ARGS' }, 'a string over its maximum');
});

t.test('a failing procedure is SYSTEM_ERR and an error in the log; what it wrote is dropped', async (t) => {
  const { call, lines } = setup();
  t.same(await call({ version: 3, procedure: 2 }), { xid: 42, stat: 'SYSTEM_ERR' });
  t.same(await call({ version: 3, procedure: 4 }), { xid: 42, stat: 'SYSTEM_ERR' }, 'no partial results after the status');
  const errors = lines.filter((line) => line.level >= 50);
  t.equal(errors.length, 2);
  t.match(errors[0], { msg: 'RPC procedure failed', program: 'test', procedure: 2, err: { message: 'disk on fire' } });
});

t.test('credentials are checked before routing; procedures may refuse them too', async (t) => {
  const { call } = setup();
  t.same(await call({ program: 1, version: 1, procedure: 0, cred: { flavor: 6, body: Buffer.alloc(8) } }), { xid: 42, stat: 'AUTH_ERROR', auth: AuthStat.TOOWEAK }, 'RPCSEC_GSS, even on an unknown program');
  t.same(await call({ version: 3, procedure: 0, cred: { flavor: 1, body: Buffer.alloc(3) } }), { xid: 42, stat: 'AUTH_ERROR', auth: AuthStat.BADCRED });
  t.same(await call({ version: 3, procedure: 0, verf: { flavor: 1 } }), { xid: 42, stat: 'AUTH_ERROR', auth: AuthStat.BADVERF });
  t.same(await call({ version: 3, procedure: 3 }), { xid: 42, stat: 'AUTH_ERROR', auth: AuthStat.TOOWEAK }, 'AUTH_NONE refused by the procedure');
  const ok = await call({ version: 3, procedure: 3, cred: authSys({ stamp: 0, machineName: 'h', uid: 0, gid: 0, gids: [] }) });
  t.equal(ok.stat, 'SUCCESS');
});

t.test('registration mistakes are defects', async (t) => {
  const { dispatcher } = setup();
  t.throws(() => dispatcher.register(testProgram), BugError, 'the same program twice');
  t.throws(() => dispatcher.register({ name: 'x', program: 1, versions: {} }), BugError, 'no versions');
  t.throws(() => dispatcher.register({ name: 'x', program: 2, versions: { 1: { 0: () => {} } } }), BugError, 'its own NULL');
});
