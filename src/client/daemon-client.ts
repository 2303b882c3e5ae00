import net from 'node:net';
import { SgwError, errorFromWire } from '../errors.js';
import type { Method, Params, Result } from '../rpc/api.js';
import { LineDecoder, encodeLine } from '../rpc/line-framing.js';

interface RpcResponse {
  id?: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

/**
 * Speaks the control protocol to sgwd: one connection, JSON-RPC requests matched to responses by id. Errors come
 * back as the SgwError the daemon threw, code intact.
 */
export class DaemonClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(private readonly socket: net.Socket, private readonly socketPath: string) {
    const decoder = new LineDecoder();
    socket.on('data', (chunk: Buffer) => {
      for (const line of decoder.push(chunk)) this.settle(JSON.parse(line) as RpcResponse);
    });
    socket.on('close', () => this.failAll(new SgwError('SGW_DAEMON_UNREACHABLE', `sgwd closed the connection at ${this.socketPath}; check its log (journalctl -u sgwd)`)));
    socket.on('error', () => undefined);
  }

  static connect(socketPath: string): Promise<DaemonClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(socketPath);
      socket.once('connect', () => resolve(new DaemonClient(socket, socketPath)));
      socket.once('error', (err: NodeJS.ErrnoException) => {
        reject(new SgwError('SGW_DAEMON_UNREACHABLE', unreachableMessage(socketPath, err)));
      });
    });
  }

  /** One request on a connection of its own. */
  static async call<M extends Method>(socketPath: string, method: M, params: Params<M>): Promise<Result<M>> {
    const client = await DaemonClient.connect(socketPath);
    try {
      return await client.call(method, params);
    } finally {
      client.close();
    }
  }

  call<M extends Method>(method: M, params: Params<M>): Promise<Result<M>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.socket.write(encodeLine({ jsonrpc: '2.0', id, method, params }));
    });
  }

  close(): void {
    this.socket.end();
  }

  private settle(response: RpcResponse): void {
    const waiter = this.pending.get(Number(response.id));
    if (!waiter) return;
    this.pending.delete(Number(response.id));
    if (response.error) {
      waiter.reject(response.error.data ? errorFromWire(response.error.data) : new SgwError('SGW_INTERNAL', response.error.message));
    } else {
      waiter.resolve(response.result);
    }
  }

  private failAll(err: Error): void {
    for (const waiter of this.pending.values()) waiter.reject(err);
    this.pending.clear();
  }
}

function unreachableMessage(socketPath: string, err: NodeJS.ErrnoException): string {
  const start = 'start it with: systemctl start sgwd (or sgwd --foreground)';
  if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') return `sgwd is not running: nothing answers at ${socketPath}; ${start}`;
  if (err.code === 'EACCES') return `no permission to use ${socketPath}; run as root or as a member of the sgw group`;
  return `cannot reach sgwd at ${socketPath} (${err.code ?? err.message}); ${start}`;
}
