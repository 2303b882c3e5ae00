import { chmod, chown, mkdir, readFile, unlink } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { JSONRPCServer, createJSONRPCErrorResponse, JSONRPCErrorCode } from 'json-rpc-2.0';
import { SgwError, asSgwError } from '../errors.js';
import { LineDecoder, encodeLine } from '../rpc/line-framing.js';
import type { Logger } from './logger.js';

/** A handler receives the request's params (unvalidated: each handler parses its own) and returns the result. */
export type Handler = (params: unknown) => Promise<unknown> | unknown;

/** JSON-RPC application error code; the sgw error code and kind travel in `data`. */
export const SGW_RPC_ERROR = -32000;

/**
 * The control socket: newline-delimited JSON-RPC 2.0 over a Unix socket, mode 0660 (group `sgw` when that group
 * exists), so only root and the gateway's operators can drive the daemon.
 */
export class ControlServer {
  // Failed requests are the caller's to report; internal ones are logged below, through the daemon's logger.
  private readonly rpc = new JSONRPCServer({ errorListener: () => undefined });
  private readonly server = net.createServer((socket) => this.serve(socket));
  private readonly sockets = new Set<net.Socket>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private socketPath: string | undefined;

  constructor(handlers: Record<string, Handler>, private readonly log: Logger) {
    for (const [name, handler] of Object.entries(handlers)) this.rpc.addMethod(name, handler);
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

  private serve(socket: net.Socket): void {
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
      for (const line of lines) this.answer(socket, line);
    });
  }

  private answer(socket: net.Socket, line: string): void {
    let request: unknown;
    try {
      request = JSON.parse(line);
    } catch {
      // A peer that does not speak JSON gets the protocol's error and is then cut off.
      socket.end(encodeLine(createJSONRPCErrorResponse(null, JSONRPCErrorCode.ParseError, 'the request is not JSON')));
      return;
    }
    const work = Promise.resolve(this.rpc.receive(request as never)).then((response) => {
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
