/**
 * Cuts a TCP byte stream into PDUs: BHS, AHS, header digest, padded data segment, data digest. The header is checked
 * as soon as its 48 bytes are in, so a DataSegmentLength above what we declared is refused before any of that data
 * is buffered: memory per connection stays at one PDU plus the chunk being parsed.
 */
import { crc32c } from './crc32c.js';
import { BHS_LENGTH, type RawPdu } from './pdu.js';
import { ProtocolError } from './protocol-error.js';

export interface FramingOptions {
  headerDigest: boolean;
  dataDigest: boolean;
  /** The MaxRecvDataSegmentLength we declared: longer data segments are a protocol error. */
  maxDataSegmentLength: number;
}

const padded = (length: number): number => (length + 3) & ~3;

export class PduReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private options: FramingOptions) {}

  /** Takes effect for the next PDU: digests start right after the final Login Response. */
  configure(options: FramingOptions): void {
    this.options = options;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** The next complete PDU, or null until more bytes arrive; throws ProtocolError on bad framing. */
  next(): RawPdu | null {
    if (this.buffered < BHS_LENGTH) return null;
    const bhs = this.peek(BHS_LENGTH);
    const ahsLength = bhs[4]! * 4;
    const dataLength = bhs.readUIntBE(5, 3);
    if (dataLength > this.options.maxDataSegmentLength) {
      throw new ProtocolError(`DataSegmentLength ${dataLength} exceeds our MaxRecvDataSegmentLength ${this.options.maxDataSegmentLength}`);
    }
    const headerDigestLength = this.options.headerDigest ? 4 : 0;
    const dataDigestLength = this.options.dataDigest && dataLength > 0 ? 4 : 0;
    const total = BHS_LENGTH + ahsLength + headerDigestLength + padded(dataLength) + dataDigestLength;
    if (this.buffered < total) return null;

    const pdu = this.take(total);
    const headerEnd = BHS_LENGTH + ahsLength;
    if (headerDigestLength > 0 && crc32c(pdu.subarray(0, headerEnd)) !== pdu.readUInt32LE(headerEnd)) {
      throw new ProtocolError('header digest mismatch');
    }
    const dataStart = headerEnd + headerDigestLength;
    const dataEnd = dataStart + padded(dataLength);
    const dataDigestOk = dataDigestLength === 0 || crc32c(pdu.subarray(dataStart, dataEnd)) === pdu.readUInt32LE(dataEnd);
    return {
      bhs: pdu.subarray(0, BHS_LENGTH),
      ahs: pdu.subarray(BHS_LENGTH, headerEnd),
      data: pdu.subarray(dataStart, dataStart + dataLength),
      dataDigestOk,
    };
  }

  /** The first `length` buffered bytes, without consuming them. */
  private peek(length: number): Buffer {
    let joined = 0;
    let count = 0;
    while (joined < length) joined += this.chunks[count++]!.length;
    if (count > 1) this.chunks.splice(0, count, Buffer.concat(this.chunks.slice(0, count)));
    return this.chunks[0]!.subarray(0, length);
  }

  /** Consumes `length` bytes; a PDU inside one chunk is a view of it, one spanning chunks is copied once. */
  private take(length: number): Buffer {
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= length) {
      out = first.subarray(0, length);
      if (first.length === length) this.chunks.shift();
      else this.chunks[0] = first.subarray(length);
    } else {
      out = Buffer.allocUnsafe(length);
      let filled = 0;
      while (filled < length) {
        const chunk = this.chunks[0]!;
        const n = Math.min(chunk.length, length - filled);
        chunk.copy(out, filled, 0, n);
        filled += n;
        if (n === chunk.length) this.chunks.shift();
        else this.chunks[0] = chunk.subarray(n);
      }
    }
    this.buffered -= length;
    return out;
  }
}
