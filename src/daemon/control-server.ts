import { chmod, chown, mkdir, readFile, unlink } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { JSONRPCServer, createJSONRPCErrorResponse, JSONRPCErrorCode } from 'json-rpc-2.0';
import { SgwError, asSgwError } from '../errors.js';
import { LineDecoder, encodeLine } from '../rpc/line-framing.js';
import { peerCredentials, type PeerCredentials } from './audit/peer-credentials.js';
import type { Logger } from './logger.js';

/** A handler receives the request's params (unvalidated: each handler parses its own) and returns the result. */
export type Handler = (params: unknown) => Promise<unknown> | unknown;

/** JSON-RPC application error code; the sgw error code and kind travel in `data`. */
export const SGW_RPC_ERROR = -32000;

/** A call that has finished, with who made it and how it ended. */
export interface FinishedCall {
  method: string;
  /** As sent, unvalidated. */
  params: unknown;
  peer: PeerCredentials;
  outcome: 'ok' | { error: string; message: string };
  finishedAt: Date;
}

/** Sees the calls it picks, after they finish; the audit log is one. */
export interface CallObserver {
  /** Only for calls picked here is the caller looked up, which costs a few milliseconds per connection. */
  observes(method: string, params: unknown): boolean;
  /** Awaited before the answer goes out, so a caller holding its answer finds its call already seen. */
  finished(call: FinishedCall): Promise<void>;
}

/** One accepted connection; who is at the other end is looked up once, when first needed. */
class Connection {
  private peerLookup: Promise<PeerCredentials> | undefined;

  constructor(readonly socket: net.Socket) {}

  peer(): Promise<PeerCredentials> {
    this.peerLookup ??= peerCredentials(this.socket);
    return this.peerLookup;
  }
}

/**
 * The control socket: newline-delimited JSON-RPC 2.0 over a Unix socket, mode 0660 (group `sgw` when that group
 * exists), so only root and the gateway's operators can drive the daemon.
 */
export class ControlServer {
  // Failed requests are the caller's to report; internal ones are logged below, through the daemon's logger.
  private readonly rpc = new JSONRPCServer<Connection>({ errorListener: () => undefined });
  private readonly server = net.createServer((socket) => this.serve(socket));
  private readonly sockets = new Set<net.Socket>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private socketPath: string | undefined;
  private unknownPeerReported = false;

  constructor(handlers: Record<string, Handler>, private readonly log: Logger, private readonly observer?: CallObserver) {
    for (const [name, handler] of Object.entries(handlers)) {
      this.rpc.addMethod(name, (params: unknown, connection: Connection) => this.run(name, handler, params, connection));
    }
    this.rpc.mapErrorToJSONRPCErrorResponse = (id, error: unknown) => {
      const err = asSgwError(error);
      if (err.kind === 'internal') this.log.error({ err: error }, 'request failed');
      return createJSONRPCErrorResponse(id, SGW_RPC_ERROR, err.message, err.toWire());
    };
  }

  async listen(socketPath: string): Promise<void> {
    await mkdir(path.dirname(socketPath), { recursive: true, mode: 0o755 });
    await removeStaleSocket(socketPath);
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(socketPath, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.socketPath = socketPath;
    await chmod(socketPath, 0o660);
    const gid = await operatorsGroupId();
    if (gid !== undefined) await chown(socketPath, -1, gid).catch(() => undefined);
  }

  /** Stops taking connections, lets requests already running finish, then closes every connection. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await Promise.allSettled([...this.inFlight]);
    for (const socket of this.sockets) socket.end();
    await closed;
    if (this.socketPath) await unlink(this.socketPath).catch(() => undefined);
  }

  private async run(method: string, handler: Handler, params: unknown, connection: Connection): Promise<unknown> {
    const observer = this.observer;
    if (!observer?.observes(method, params)) return handler(params);
    // Looked up while the call runs, and before the answer lets the caller hang up and take its socket with it.
    const peer = connection.peer().then((credentials) => {
      if (credentials.uid === null && !this.unknownPeerReported) {
        this.unknownPeerReported = true;
        this.log.warn({ method }, 'the caller over the control socket could not be identified, so audit records lack uid and pid: '
          + 'sgwd needs ss (iproute2) and, when it runs with reduced capabilities, CAP_SYS_PTRACE to see its callers in /proc');
      }
      return credentials;
    });
    const finished = async (outcome: FinishedCall['outcome']): Promise<void> => {
      await observer.finished({ method, params, peer: await peer, outcome, finishedAt: new Date() }).catch((err: unknown) => {
        this.log.error({ err, method }, 'a call could not be recorded');
      });
    };
    let result: unknown;
    try {
      result = await handler(params);
    } catch (error) {
      const err = asSgwError(error);
      await finished({ error: err.code, message: err.message });
      throw error;
    }
    await finished('ok');
    return result;
  }

  private serve(socket: net.Socket): void {
    const connection = new Connection(socket);
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', (err) => this.log.debug({ err }, 'control connection error'));
    const decoder = new LineDecoder();
    socket.on('data', (chunk: Buffer) => {
      let lines: string[];
      try {
        lines = decoder.push(chunk);
      } catch (err) {
        this.log.warn({ err }, 'dropping a control connection that sent an oversized message');
        socket.destroy();
        return;
      }
      for (const line of lines) this.answer(connection, line);
    });
  }

  private answer(connection: Connection, line: string): void {
    const { socket } = connection;
    let request: unknown;
    try {
      request = JSON.parse(line);
    } catch {
      // A peer that does not speak JSON gets the protocol's error and is then cut off.
      socket.end(encodeLine(createJSONRPCErrorResponse(null, JSONRPCErrorCode.ParseError, 'the request is not JSON')));
      return;
    }
    const work = Promise.resolve(this.rpc.receive(request as never, connection)).then((response) => {
      if (response && !socket.destroyed) socket.write(encodeLine(response));
    });
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }
}

/** A socket file left by a daemon that was killed is removed; one that still answers belongs to a live daemon. */
async function removeStaleSocket(socketPath: string): Promise<void> {
  const live = await new Promise<boolean>((resolve) => {
    const probe = net.connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live) {
    throw new SgwError('SGW_STATE_LOCKED', `another sgwd already answers at ${socketPath}; stop it first or use another --socket`);
  }
  await unlink(socketPath).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

async function operatorsGroupId(): Promise<number | undefined> {
  const groups = await readFile('/etc/group', 'utf8').catch(() => '');
  const entry = groups.split('\n').find((line) => line.startsWith('sgw:'));
  const gid = entry?.split(':')[2];
  return gid ? Number(gid) : undefined;
}
