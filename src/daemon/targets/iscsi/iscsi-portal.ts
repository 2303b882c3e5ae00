/**
 * The iSCSI portal: a TCP listener whose connections log in to the targets of a directory (RFC 7143, error recovery
 * level 0, one connection per session). Targets come and go with the directory; `dropTarget` ends the sessions of
 * one that is going away.
 */
import net, { type AddressInfo, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { IscsiConnection } from './connection.js';
import { SessionRegistry } from './session-registry.js';
import type { IscsiSessionInfo, TargetDirectory } from './target-directory.js';

export interface IscsiPortalOptions {
  host: string;
  port: number;
  directory: TargetDirectory;
  log: Logger;
  /** The address:port initiators should be told in SendTargets; default: the local address of the connection (getsockname), never 0.0.0.0. */
  advertiseAddress?: string;
  /** Commands a session may have queued or running (the CmdSN window); default 128. */
  queueDepth?: number;
}

const DEFAULT_QUEUE_DEPTH = 128;

export class IscsiPortal {
  private readonly connections = new Set<IscsiConnection>();
  private readonly registry = new SessionRegistry();
  private closing = false;

  private constructor(private readonly server: Server, private readonly options: IscsiPortalOptions) {}

  static async listen(options: IscsiPortalOptions): Promise<IscsiPortal> {
    const server = net.createServer();
    const portal = new IscsiPortal(server, options);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => options.log.error({ err }, 'iSCSI portal listener error'));
    server.on('connection', (socket) => portal.accept(socket));
    options.log.info({ host: options.host, port: portal.port }, 'iSCSI portal listening');
    return portal;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  sessions(): IscsiSessionInfo[] {
    return this.registry.all().filter((session) => session.target !== undefined).map((session) => session.info());
  }

  /** Ends every session logged in to this target (the volume behind it is going away). */
  dropTarget(name: string): void {
    this.registry.dropTarget(name);
  }

  /** Stops accepting, ends all connections, resolves when they are closed. */
  async close(): Promise<void> {
    this.closing = true;
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const connections = [...this.connections];
    for (const connection of connections) connection.destroy('portal closing');
    await Promise.all([stopped, ...connections.map((connection) => connection.closed)]);
  }

  private accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const connection = new IscsiConnection(socket, {
      directory: this.options.directory,
      registry: this.registry,
      queueDepth: this.options.queueDepth ?? DEFAULT_QUEUE_DEPTH,
      advertiseAddress: this.options.advertiseAddress,
    }, this.options.log);
    this.connections.add(connection);
    void connection.closed.then(() => this.connections.delete(connection));
  }
}
