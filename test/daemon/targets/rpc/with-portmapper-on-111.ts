/**
 * Serves the portmapper on 127.0.0.1:111 (TCP and UDP) while it runs the command in its arguments, then prints that
 * command's exit status and output as JSON and exits. For tools that only ever ask port 111 (`rpcinfo -p`): the
 * test runs it inside a fresh network namespace, so it neither needs nor disturbs the machine's own port 111.
 */
import { execFile } from 'node:child_process';
import { IPPROTO_TCP, IPPROTO_UDP, PORTMAP_PROGRAM, portmapperProgram } from '../../../../src/daemon/targets/rpc/portmapper.js';
import { RpcDispatcher } from '../../../../src/daemon/targets/rpc/rpc-dispatcher.js';
import { RpcTcpListener } from '../../../../src/daemon/targets/rpc/tcp-listener.js';
import { RpcUdpListener } from '../../../../src/daemon/targets/rpc/udp-listener.js';
import { silentLog } from './test-rpc-client.js';

const LISTED = [
  { program: PORTMAP_PROGRAM, version: 2, protocol: IPPROTO_TCP, port: 111 },
  { program: PORTMAP_PROGRAM, version: 2, protocol: IPPROTO_UDP, port: 111 },
  { program: 100005, version: 3, protocol: IPPROTO_TCP, port: 20048 },
  { program: 100003, version: 3, protocol: IPPROTO_TCP, port: 2049 },
];

const [command, ...args] = process.argv.slice(2);
if (command === undefined) throw new Error('usage: with-portmapper-on-111.ts COMMAND [ARG...]');
const log = silentLog();
const dispatcher = new RpcDispatcher(log);
dispatcher.register(portmapperProgram(() => LISTED));
const tcp = await RpcTcpListener.listen({ host: '127.0.0.1', port: 111, dispatcher, log });
const udp = await RpcUdpListener.listen({ host: '127.0.0.1', port: 111, dispatcher, log });
execFile(command, args, { timeout: 30_000 }, (err, stdout, stderr) => {
  const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
  process.stdout.write(JSON.stringify({ code, output: `${stdout}${stderr}` }));
  void Promise.all([tcp.close(), udp.close()]);
});
