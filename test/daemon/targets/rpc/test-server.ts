/** RPC listeners on ephemeral loopback ports for the server tests, closed when the test ends. */
import { pino } from 'pino';
import { RpcDispatcher, type RpcProgram } from '../../../../src/daemon/targets/rpc/rpc-dispatcher.js';
import { RpcTcpListener, type RpcTcpListenerOptions } from '../../../../src/daemon/targets/rpc/tcp-listener.js';
import { RpcUdpListener } from '../../../../src/daemon/targets/rpc/udp-listener.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface TestServer {
  tcp: RpcTcpListener;
  udp: RpcUdpListener;
  /** Every line logged at warn or above. */
  warnings: LogLine[];
}

export async function startRpcServer(t: Teardown, programs: RpcProgram[], tcpOptions: Partial<RpcTcpListenerOptions> = {}): Promise<TestServer> {
  const warnings: LogLine[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line) as LogLine) });
  const dispatcher = new RpcDispatcher(log);
  for (const program of programs) dispatcher.register(program);
  const tcp = await RpcTcpListener.listen({ host: '127.0.0.1', port: 0, dispatcher, log, ...tcpOptions });
  const udp = await RpcUdpListener.listen({ host: '127.0.0.1', port: 0, dispatcher, log });
  t.teardown(() => Promise.all([tcp.close(), udp.close()]));
  return { tcp, udp, warnings };
}
