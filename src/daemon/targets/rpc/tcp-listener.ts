/**
 * An ONC RPC listener on TCP: every connection serves the programs of one dispatcher (MOUNT and NFS on theirs,
 * the portmapper on port 111).
 */
import net, { type AddressInfo, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { DEFAULT_MAX_RECORD_BYTES } from './record-marking.js';
import type { RpcDispatcher } from './rpc-dispatcher.js';
import { RpcTcpConnection, type TcpConnectionLimits } from './tcp-connection.js';

export interface RpcTcpListenerOptions {
  host: string;
  /** 0 picks a free port; `port` tells which. */
  port: number;
  dispatcher: RpcDispatcher;
  log: Logger;
  /** Largest call record accepted; default 4 MiB. A bigger one drops the connection. */
  maxRecordBytes?: number;
  /** Calls of one connection running at once; default 64. Reading waits while that many are. */
  maxCallsInFlight?: number;
}

const DEFAULT_MAX_CALLS_IN_FLIGHT = 64;

export class RpcTcpListener {
  private readonly connections = new Set<RpcTcpConnection>();
  private closing = false;

  private constructor(private readonly server: Server, private readonly options: RpcTcpListenerOptions, private readonly limits: TcpConnectionLimits) {}

  static async listen(options: RpcTcpListenerOptions): Promise<RpcTcpListener> {
    // Half-open: a client that shuts down its side after its last call still gets the replies.
    const server = net.createServer({ allowHalfOpen: true });
    const listener = new RpcTcpListener(server, options, {
      maxRecordBytes: options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES,
      maxCallsInFlight: options.maxCallsInFlight ?? DEFAULT_MAX_CALLS_IN_FLIGHT,
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => options.log.error({ err }, 'RPC listener error'));
    server.on('connection', (socket) => listener.accept(socket));
    options.log.info({ host: options.host, port: listener.port, transport: 'tcp' }, 'RPC listening');
    return listener;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Stops accepting, drops all connections, resolves when they are closed. */
  async close(): Promise<void> {
    this.closing = true;
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const connections = [...this.connections];
    for (const connection of connections) connection.destroy('listener closing');
    await Promise.all([stopped, ...connections.map((connection) => connection.closed)]);
  }

  private accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const connection = new RpcTcpConnection(socket, this.options.dispatcher, this.limits, this.options.log);
    this.connections.add(connection);
    void connection.closed.then(() => this.connections.delete(connection));
  }
}
