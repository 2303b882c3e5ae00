import t from 'tap';
import { IPPROTO_TCP, IPPROTO_UDP, PORTMAP_PROGRAM, portmapperProgram, type PortMapping } from '../../../../src/daemon/targets/rpc/portmapper.js';
import { XdrWriter, type XdrReader } from '../../../../src/daemon/targets/rpc/xdr.js';
import { TcpRpcClient, encodeCall, udpExchange, type ParsedReply } from './test-rpc-client.js';
import { startRpcServer } from './test-server.js';

const MOUNT = 100005;
const NFS = 100003;
const mappings: PortMapping[] = [
  { program: MOUNT, version: 3, protocol: IPPROTO_TCP, port: 20048 },
  { program: NFS, version: 3, protocol: IPPROTO_TCP, port: 2049 },
];
const server = await startRpcServer(t, [portmapperProgram(() => mappings)]);
const client = await TcpRpcClient.connect(server.tcp.port);
t.teardown(() => client.close());

const GETPORT = 3;
const DUMP = 4;
const mappingArgs = (program: number, version: number, protocol: number) => Buffer.from(new XdrWriter().uint32(program).uint32(version).uint32(protocol).uint32(0).toBuffer());
const results = (reply: ParsedReply | undefined): XdrReader => {
  if (reply?.stat !== 'SUCCESS') throw new Error(`expected SUCCESS, got ${JSON.stringify(reply)}`);
  return reply.results;
};

t.test('GETPORT finds registered TCP programs and answers 0 for anything else', async (t) => {
  const getport = async (program: number, version: number, protocol: number) => results(await client.call({ program: PORTMAP_PROGRAM, version: 2, procedure: GETPORT, args: mappingArgs(program, version, protocol) })).uint32();
  t.equal(await getport(MOUNT, 3, IPPROTO_TCP), 20048);
  t.equal(await getport(NFS, 3, IPPROTO_TCP), 2049);
  t.equal(await getport(MOUNT, 3, IPPROTO_UDP), 0, 'MOUNT is not served over UDP');
  t.equal(await getport(MOUNT, 1, IPPROTO_TCP), 0, 'nor MOUNT version 1');
  t.equal(await getport(NFS, 4, IPPROTO_TCP), 0);
  const overUdp = await udpExchange(server.udp.port, encodeCall({ xid: 9, program: PORTMAP_PROGRAM, version: 2, procedure: GETPORT, args: mappingArgs(NFS, 3, IPPROTO_TCP) }));
  t.equal(results(overUdp).uint32(), 2049, 'the same answer over UDP, where mount.nfs asks first');
  mappings.push({ program: MOUNT, version: 3, protocol: IPPROTO_UDP, port: 20048 });
  t.equal(await getport(MOUNT, 3, IPPROTO_UDP), 20048, 'mappings are read at each call');
  mappings.pop();
  t.same(await client.call({ xid: 12, program: PORTMAP_PROGRAM, version: 2, procedure: GETPORT, args: Buffer.alloc(8) }), { xid: 12, stat: 'GARBAGE_ARGS' }, 'a short mapping');
});

t.test('DUMP lists every mapping as a linked list', async (t) => {
  const reader = results(await client.call({ program: PORTMAP_PROGRAM, version: 2, procedure: DUMP }));
  const listed: PortMapping[] = [];
  while (reader.bool()) listed.push({ program: reader.uint32(), version: reader.uint32(), protocol: reader.uint32(), port: reader.uint32() });
  t.same(listed, mappings);
  t.equal(reader.remaining, 0);
});

t.test('SET, UNSET and CALLIT are not offered; rpcbind versions 3 and 4 get PROG_MISMATCH {2, 2}', async (t) => {
  for (const procedure of [1, 2, 5]) t.same(await client.call({ xid: procedure, program: PORTMAP_PROGRAM, version: 2, procedure, args: mappingArgs(1, 1, 6) }), { xid: procedure, stat: 'PROC_UNAVAIL' });
  for (const version of [3, 4]) t.same(await client.call({ xid: version, program: PORTMAP_PROGRAM, version, procedure: 3 }), { xid: version, stat: 'PROG_MISMATCH', low: 2, high: 2 });
  t.match(await client.call({ program: PORTMAP_PROGRAM, version: 2, procedure: 0 }), { stat: 'SUCCESS' }, 'NULL');
});
