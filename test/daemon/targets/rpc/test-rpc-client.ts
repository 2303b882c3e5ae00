/**
 * The client side of ONC RPC, for tests: encodes calls (any header values, including wrong ones), frames them,
 * and decodes replies from the RFC 5531 layout independently of the server's encoder.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { pino, type Logger } from 'pino';
import { XdrReader, XdrWriter } from '../../../../src/daemon/targets/rpc/xdr.js';

export const silentLog = (): Logger => pino({ level: process.env.SGW_TEST_LOG ?? 'silent' });

export interface Auth {
  flavor: number;
  body?: Buffer;
}

export interface CallSpec {
  xid: number;
  program: number;
  version: number;
  procedure: number;
  cred?: Auth;
  verf?: Auth;
  args?: Buffer;
  rpcVersion?: number;
  msgType?: number;
}

export function encodeCall(spec: CallSpec): Buffer {
  const writer = new XdrWriter()
    .uint32(spec.xid).uint32(spec.msgType ?? 0).uint32(spec.rpcVersion ?? 2)
    .uint32(spec.program).uint32(spec.version).uint32(spec.procedure);
  for (const auth of [spec.cred ?? { flavor: 0 }, spec.verf ?? { flavor: 0 }]) writer.uint32(auth.flavor).opaque(auth.body ?? Buffer.alloc(0));
  return Buffer.concat([writer.toBuffer(), spec.args ?? Buffer.alloc(0)]);
}

export interface AuthSysFields {
  stamp: number;
  machineName: string;
  uid: number;
  gid: number;
  gids: number[];
}

export function authSys(fields: AuthSysFields): Auth {
  const body = new XdrWriter().uint32(fields.stamp).string(fields.machineName).uint32(fields.uid).uint32(fields.gid)
    .array(fields.gids, (w, gid) => w.uint32(gid)).toBuffer();
  return { flavor: 1, body: Buffer.from(body) };
}

/** Frames a message as one record, cut into fragments of the given sizes (the rest in a last fragment). */
export function recordOf(message: Buffer, fragmentSizes: number[] = []): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  for (const size of fragmentSizes) {
    if (offset + size >= message.length) break;
    parts.push(fragmentHeader(size, false), message.subarray(offset, offset + size));
    offset += size;
  }
  parts.push(fragmentHeader(message.length - offset, true), message.subarray(offset));
  return Buffer.concat(parts);
}

export function fragmentHeader(length: number, last: boolean): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE((last ? 0x80000000 : 0) + length, 0);
  return header;
}

export type ParsedReply =
  | { xid: number; stat: 'SUCCESS'; results: XdrReader }
  | { xid: number; stat: 'PROG_UNAVAIL' | 'PROC_UNAVAIL' | 'GARBAGE_ARGS' | 'SYSTEM_ERR' }
  | { xid: number; stat: 'PROG_MISMATCH' | 'RPC_MISMATCH'; low: number; high: number }
  | { xid: number; stat: 'AUTH_ERROR'; auth: number };

const ACCEPT_STATS = ['SUCCESS', 'PROG_UNAVAIL', 'PROG_MISMATCH', 'PROC_UNAVAIL', 'GARBAGE_ARGS', 'SYSTEM_ERR'] as const;

export function decodeReply(message: Buffer): ParsedReply {
  const r = new XdrReader(message);
  const xid = r.uint32();
  if (r.uint32() !== 1) throw new Error('not a REPLY');
  const replyStat = r.uint32();
  if (replyStat === 1) {
    const rejectStat = r.uint32();
    if (rejectStat === 0) return { xid, stat: 'RPC_MISMATCH', low: r.uint32(), high: r.uint32() };
    if (rejectStat === 1) return { xid, stat: 'AUTH_ERROR', auth: r.uint32() };
    throw new Error(`reject_stat ${rejectStat}`);
  }
  if (replyStat !== 0) throw new Error(`reply_stat ${replyStat}`);
  const verfFlavor = r.uint32();
  const verfBody = r.opaque(400);
  if (verfFlavor !== 0 || verfBody.length !== 0) throw new Error('reply verifier is not AUTH_NONE');
  const stat = ACCEPT_STATS[r.uint32()];
  if (stat === undefined) throw new Error('unknown accept_stat');
  if (stat === 'SUCCESS') return { xid, stat, results: r };
  if (stat === 'PROG_MISMATCH') return { xid, stat, low: r.uint32(), high: r.uint32() };
  if (r.remaining !== 0) throw new Error(`${r.remaining} bytes after a ${stat} reply`);
  return { xid, stat };
}

/** Reassembles records the simple way (no cap): what a client does with our replies. */
function* recordsIn(stream: { buffer: Buffer }): Generator<Buffer> {
  for (;;) {
    const parts: Buffer[] = [];
    let offset = 0;
    let last = false;
    while (!last) {
      if (stream.buffer.length < offset + 4) return;
      const word = stream.buffer.readUInt32BE(offset);
      const length = word & 0x7fffffff;
      if (stream.buffer.length < offset + 4 + length) return;
      parts.push(stream.buffer.subarray(offset + 4, offset + 4 + length));
      offset += 4 + length;
      last = word >= 0x80000000;
    }
    stream.buffer = stream.buffer.subarray(offset);
    yield Buffer.concat(parts);
  }
}

/** A TCP client that pipelines calls and matches replies by xid, in whatever order they come. */
export class TcpRpcClient {
  /** Every reply record, in arrival order. */
  readonly received: Buffer[] = [];
  readonly closed: Promise<void>;
  private readonly stream = { buffer: Buffer.alloc(0) };
  private readonly waiting = new Map<number, (reply: ParsedReply) => void>();
  private nextXid = 1;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.stream.buffer = Buffer.concat([this.stream.buffer, chunk]);
      for (const record of recordsIn(this.stream)) {
        this.received.push(record);
        const reply = decodeReply(record);
        this.waiting.get(reply.xid)?.(reply);
        this.waiting.delete(reply.xid);
      }
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static connect(port: number): Promise<TcpRpcClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.off('error', reject);
        resolve(new TcpRpcClient(socket));
      });
      socket.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.socket.destroyed;
  }

  /** Sends a call (xid assigned unless given) and resolves with its reply. */
  call(spec: Omit<CallSpec, 'xid'> & { xid?: number }, fragmentSizes?: number[]): Promise<ParsedReply> {
    const xid = spec.xid ?? this.nextXid++;
    const reply = this.replyTo(xid);
    this.sendRaw(recordOf(encodeCall({ ...spec, xid }), fragmentSizes));
    return reply;
  }

  private replyTo(xid: number): Promise<ParsedReply> {
    return new Promise((resolve, reject) => {
      this.waiting.set(xid, resolve);
      void this.closed.then(() => reject(new Error(`connection closed before the reply to xid ${xid}`)));
    });
  }

  sendRaw(bytes: Buffer): boolean {
    return this.socket.write(bytes);
  }

  close(): Promise<void> {
    this.socket.destroy();
    return this.closed;
  }
}

/** One call in one datagram; resolves with the reply, or undefined when none comes within `timeoutMs`. */
export function udpExchange(port: number, message: Buffer, timeoutMs = 1000): Promise<ParsedReply | undefined> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      resolve(undefined);
    }, timeoutMs);
    socket.on('error', reject);
    socket.on('message', (reply) => {
      clearTimeout(timer);
      socket.close();
      resolve(decodeReply(reply));
    });
    socket.send(message, port, '127.0.0.1');
  });
}
