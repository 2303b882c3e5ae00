/**
 * An ONC RPC listener on UDP, for the portmapper: mount.nfs asks it over UDP first and sits out a timeout when
 * nothing answers. One datagram carries one call, and its reply one datagram, with no record marking. A datagram
 * that is not a call is dropped, and so is every call beyond the cap in flight (UDP clients retransmit), so a flood
 * cannot grow memory.
 */
import dgram, { type RemoteInfo, type Socket } from 'node:dgram';
import net from 'node:net';
import type { Logger } from 'pino';
import { RpcProtocolError } from './protocol-error.js';
import { rpcClientAddress, type RpcDispatcher } from './rpc-dispatcher.js';
import { decodeCall, type DecodedCall } from './rpc-message.js';
import { XdrWriter } from './xdr.js';

export interface RpcUdpListenerOptions {
  host: string;
  /** 0 picks a free port; `port` tells which. */
  port: number;
  dispatcher: RpcDispatcher;
  log: Logger;
}

const MAX_CALLS_IN_FLIGHT = 64;

export class RpcUdpListener {
  private inFlight = 0;
  private closing: Promise<void> | undefined;

  private constructor(private readonly socket: Socket, private readonly options: RpcUdpListenerOptions) {}

  static async listen(options: RpcUdpListenerOptions): Promise<RpcUdpListener> {
    const socket = dgram.createSocket(net.isIPv6(options.host) ? 'udp6' : 'udp4');
    const listener = new RpcUdpListener(socket, options);
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(options.port, options.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', (err) => options.log.error({ err }, 'RPC listener error'));
    socket.on('message', (message, remote) => listener.receive(message, remote));
    options.log.info({ host: options.host, port: listener.port, transport: 'udp' }, 'RPC listening');
    return listener;
  }

  get port(): number {
    return this.socket.address().port;
  }

  close(): Promise<void> {
    this.closing ??= new Promise((resolve) => this.socket.close(() => resolve()));
    return this.closing;
  }

  private receive(message: Buffer, remote: RemoteInfo): void {
    const log = this.options.log.child({ peer: `${remote.address}:${remote.port}` });
    if (this.inFlight >= MAX_CALLS_IN_FLIGHT) {
      log.debug('too many RPC datagrams in flight: dropping one');
      return;
    }
    let decoded: DecodedCall;
    try {
      decoded = decodeCall(message);
    } catch (err) {
      if (err instanceof RpcProtocolError) log.debug({ reason: err.message }, 'dropping an RPC datagram');
      else log.error({ err }, 'internal error decoding an RPC datagram');
      return;
    }
    this.inFlight++;
    void this.options.dispatcher.reply(decoded, rpcClientAddress('udp', remote.address, remote.port), () => new XdrWriter())
      .then((reply) => {
        if (this.closing === undefined) this.socket.send(reply.toBuffer(), remote.port, remote.address, (err) => err && log.debug({ err }, 'RPC reply not sent'));
      }, (err: unknown) => log.error({ err }, 'internal error answering an RPC datagram'))
      .finally(() => this.inFlight--);
  }
}
