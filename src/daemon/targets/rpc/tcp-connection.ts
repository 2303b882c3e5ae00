/**
 * One TCP connection of an RPC listener. Clients pipeline calls (Linux keeps many in flight), so calls run
 * concurrently and each reply is written the moment it is ready, in whatever order that is, as one record in one
 * write so two replies never interleave. Memory stays bounded: reading stops while the cap of calls in flight is
 * reached or while replies the client has not taken pile up. A framing or header error drops this connection and
 * nothing else.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { RpcProtocolError } from './protocol-error.js';
import { RecordReader, recordWriter, sealRecord } from './record-marking.js';
import { rpcClientAddress, type RpcClientAddress, type RpcDispatcher } from './rpc-dispatcher.js';
import { decodeCall } from './rpc-message.js';
import type { XdrWriter } from './xdr.js';

export interface TcpConnectionLimits {
  maxRecordBytes: number;
  maxCallsInFlight: number;
}

const KEEPALIVE_MS = 60_000;
/** Reading stops while more reply bytes than this wait for the client to take them, and resumes once they have. */
const MAX_UNSENT_BYTES = 4 * 1024 * 1024;

export class RpcTcpConnection {
  readonly closed: Promise<void>;
  private readonly log: Logger;
  private readonly client: RpcClientAddress;
  private readonly reader: RecordReader;
  private inFlight = 0;
  private reading = true;
  /** The client has shut down its side: once the calls it sent are answered, we close ours. */
  private inputEnded = false;

  constructor(private readonly socket: Socket, private readonly dispatcher: RpcDispatcher, private readonly limits: TcpConnectionLimits, log: Logger) {
    this.client = rpcClientAddress('tcp', socket.remoteAddress, socket.remotePort);
    this.log = log.child({ peer: `${this.client.address}:${this.client.port}` });
    this.reader = new RecordReader(limits.maxRecordBytes);
    socket.setNoDelay(true);
    // Finds clients that vanished without a FIN.
    socket.setKeepAlive(true, KEEPALIVE_MS);
    this.closed = new Promise((resolve) => socket.once('close', () => {
      this.log.debug('connection closed');
      resolve();
    }));
    socket.on('error', (err) => this.log.debug({ err }, 'socket error'));
    socket.on('data', (chunk: Buffer) => this.guard(() => {
      this.reader.push(chunk);
      this.pump();
    }));
    socket.on('end', () => this.guard(() => {
      this.inputEnded = true;
      this.pump();
    }));
    socket.on('drain', () => this.guard(() => this.pump()));
  }

  destroy(reason: string): void {
    if (this.socket.destroyed) return;
    this.log.debug({ reason }, 'dropping the connection');
    this.socket.destroy();
  }

  private pump(): void {
    if (this.socket.destroyed) return;
    while (this.inFlight < this.limits.maxCallsInFlight && !this.backlogged()) {
      const record = this.reader.next();
      if (record === null) {
        if (this.inputEnded && this.inFlight === 0) this.socket.end();
        break;
      }
      this.start(record);
    }
    const read = this.inFlight < this.limits.maxCallsInFlight && !this.backlogged();
    if (read === this.reading) return;
    this.reading = read;
    if (read) this.socket.resume();
    else this.socket.pause();
  }

  private start(record: Buffer): void {
    const decoded = decodeCall(record);
    this.inFlight++;
    void this.dispatcher.reply(decoded, this.client, recordWriter).then((reply) => this.finish(reply), (err: unknown) => this.fail(err));
  }

  private finish(reply: XdrWriter): void {
    this.inFlight--;
    if (this.socket.writable) this.socket.write(sealRecord(reply));
    this.guard(() => this.pump());
  }

  private backlogged(): boolean {
    return this.socket.writableLength > MAX_UNSENT_BYTES;
  }

  private guard(work: () => void): void {
    try {
      work();
    } catch (err) {
      this.fail(err);
    }
  }

  private fail(err: unknown): void {
    if (err instanceof RpcProtocolError) this.log.warn({ reason: err.message }, 'RPC protocol error: dropping the connection');
    else this.log.error({ err }, 'internal error: dropping the connection');
    this.destroy('error');
  }
}
