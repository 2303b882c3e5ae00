import dgram from 'node:dgram';
import t from 'tap';
import type { RpcProgram } from '../../../../src/daemon/targets/rpc/rpc-dispatcher.js';
import { encodeCall, udpExchange } from './test-rpc-client.js';
import { startRpcServer } from './test-server.js';

const PROGRAM = 400300;
let release: () => void = () => {};
const gate = new Promise<void>((resolve) => (release = resolve));
let started = 0;
const program: RpcProgram = {
  name: 'test',
  program: PROGRAM,
  versions: {
    1: {
      1: (_call, results) => void results.string('over udp'),
      2: async () => {
        started++;
        await gate;
      },
    },
  },
};
const server = await startRpcServer(t, [program]);
const call = (xid: number, procedure: number, extra = {}) => encodeCall({ xid, program: PROGRAM, version: 1, procedure, ...extra });

t.test('one datagram is one call and one reply, with no record mark', async (t) => {
  t.match(await udpExchange(server.udp.port, call(1, 0)), { xid: 1, stat: 'SUCCESS' });
  const reply = await udpExchange(server.udp.port, call(2, 1));
  t.equal(reply?.stat === 'SUCCESS' && reply.results.string(100), 'over udp');
  t.same(await udpExchange(server.udp.port, call(3, 9)), { xid: 3, stat: 'PROC_UNAVAIL' });
  t.same(await udpExchange(server.udp.port, call(4, 0, { rpcVersion: 4 })), { xid: 4, stat: 'RPC_MISMATCH', low: 2, high: 2 });
  t.same(await udpExchange(server.udp.port, call(5, 0, { cred: { flavor: 6 } })), { xid: 5, stat: 'AUTH_ERROR', auth: 5 });
});

t.test('a datagram that is not a call gets no reply, and the listener keeps serving', async (t) => {
  t.equal(await udpExchange(server.udp.port, Buffer.from('garbage'), 300), undefined, 'too short for a header');
  t.equal(await udpExchange(server.udp.port, call(6, 0, { msgType: 1 }), 300), undefined, 'a REPLY');
  t.match(await udpExchange(server.udp.port, call(7, 0)), { xid: 7, stat: 'SUCCESS' });
  t.same(server.warnings, [], 'bad datagrams are not worth a warning');
});

t.test('datagrams beyond 64 calls in flight are dropped unread', async (t) => {
  const socket = dgram.createSocket('udp4');
  const replies: number[] = [];
  socket.on('message', (reply) => replies.push(reply.readUInt32BE(0)));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  for (let xid = 1000; xid < 1100; xid++) socket.send(call(xid, 2), server.udp.port, '127.0.0.1');
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(started, 64, 'only 64 calls started');
  release();
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(replies.length, 64, 'and only they were answered');
  socket.close();
  t.match(await udpExchange(server.udp.port, call(8, 0)), { xid: 8, stat: 'SUCCESS' }, 'the listener serves again once they are done');
});
