/**
 * Puts target PDUs on the wire for one connection. Each PDU is stamped when it is written (DataSegmentLength,
 * StatSN, ExpCmdSN, MaxCmdSN), framed with padding and digests, and written in one corked batch so PDUs never
 * interleave. Control PDUs go out at once; Data-In streams are paced by the socket's buffer, one stream after the
 * other, so a NOP-In or an R2T never waits behind a megabyte of read data.
 */
import type { Socket } from 'node:net';
import type { SequenceNumbers } from './command-window.js';
import { digestBytes } from './crc32c.js';
import { serialAdd, type TargetPdu } from './pdu.js';

/** Data-In is handed to the socket while less than this is waiting in it. */
const PACING_BYTES = 256 * 1024;
const PADDING = Buffer.alloc(3);

interface Stream {
  pdus: readonly TargetPdu[];
  next: number;
  beforeLast?: () => void;
}

export class PduSender {
  private statSN: number;
  private headerDigest = false;
  private dataDigest = false;
  private readonly streams: Stream[] = [];
  private afterStreams: (() => void) | undefined;

  constructor(private readonly socket: Socket, firstStatSN: number, private readonly sequence: SequenceNumbers) {
    this.statSN = firstStatSN >>> 0;
    socket.on('drain', () => this.pump());
  }

  /** Digests apply from the first PDU after the final Login Response. */
  useDigests(header: boolean, data: boolean): void {
    this.headerDigest = header;
    this.dataDigest = data;
  }

  /** Bytes written but not yet taken by the kernel: what the connection weighs to stop reading. */
  get backlog(): number {
    return this.socket.writableLength;
  }

  /** Writes a control PDU now, ahead of any stream still queued. */
  send(pdu: TargetPdu): void {
    if (!this.socket.writable) return;
    this.socket.cork();
    this.write(pdu);
    this.socket.uncork();
  }

  /**
   * Queues PDUs to go out in order behind earlier streams. `beforeLast` runs just before the last one is stamped,
   * so that what it changes (a freed command slot) shows in that PDU's MaxCmdSN.
   */
  stream(pdus: readonly TargetPdu[], beforeLast?: () => void): void {
    this.streams.push({ pdus, next: 0, beforeLast });
    this.pump();
  }

  /** Runs `callback` once every queued stream has been handed to the socket (at once if none is queued). */
  whenStreamsWritten(callback: () => void): void {
    this.afterStreams = callback;
    this.pump();
  }

  private pump(): void {
    if (!this.socket.writable) return;
    this.socket.cork();
    while (this.streams.length > 0 && this.socket.writableLength < PACING_BYTES) {
      const stream = this.streams[0]!;
      const last = stream.next === stream.pdus.length - 1;
      if (last) {
        this.streams.shift();
        stream.beforeLast?.();
      }
      this.write(stream.pdus[stream.next++]!);
    }
    this.socket.uncork();
    if (this.streams.length === 0 && this.afterStreams) {
      const callback = this.afterStreams;
      this.afterStreams = undefined;
      callback();
    }
  }

  private write(pdu: TargetPdu): void {
    const { bhs, data } = pdu;
    bhs.writeUIntBE(data.length, 5, 3);
    bhs.writeUInt32BE(this.statSN, 24);
    bhs.writeUInt32BE(this.sequence.expCmdSN(), 28);
    bhs.writeUInt32BE(this.sequence.maxCmdSN(), 32);
    if (pdu.advancesStatSN) this.statSN = serialAdd(this.statSN, 1);

    const parts: Buffer[] = [bhs];
    if (this.headerDigest) parts.push(digestBytes(bhs));
    if (data.length > 0) {
      parts.push(data);
      const padding = PADDING.subarray(0, (4 - (data.length % 4)) % 4);
      if (padding.length > 0) parts.push(padding);
      if (this.dataDigest) parts.push(digestBytes(data, padding));
    }
    for (const part of parts) this.socket.write(part);
  }
}
