/**
 * Record marking for ONC RPC over TCP (RFC 5531 §11): a record is one or more fragments, each behind a 4-byte
 * big-endian header whose top bit marks the last fragment and whose other 31 bits give its length. Each fragment
 * header is checked against the record cap as soon as it is in, so a record over the cap is refused before any of
 * its data is kept: memory per connection stays at one record plus the input not yet parsed.
 */
import { RpcProtocolError } from './protocol-error.js';
import { XdrWriter } from './xdr.js';

export const DEFAULT_MAX_RECORD_BYTES = 4 * 1024 * 1024;

const HEADER_LENGTH = 4;
const LAST_FRAGMENT = 0x80000000;
const LENGTH_MASK = 0x7fffffff;

export class RecordReader {
  private readonly input: Buffer[] = [];
  private readonly header = Buffer.alloc(HEADER_LENGTH);
  private headerFilled = 0;
  /** False while a fragment header is being read. */
  private inFragment = false;
  private fragmentLeft = 0;
  private lastFragment = false;
  /** The record so far while it is one piece: a view of its chunk. */
  private only: Buffer | undefined;
  /**
   * The record so far once it has several pieces, copied as they come: views of many small fragments would each
   * cost far more than the bytes they hold, and keep their chunks alive besides.
   */
  private assembled: Buffer | undefined;
  private recordLength = 0;
  private assembledLength = 0;

  constructor(private readonly maxRecordBytes = DEFAULT_MAX_RECORD_BYTES) {}

  push(chunk: Buffer): void {
    if (chunk.length > 0) this.input.push(chunk);
  }

  /**
   * The next complete record, or null until more bytes arrive; throws RpcProtocolError on a record over the cap.
   * A record that arrived in one piece is a view of its chunk; one in several pieces is copied as it comes.
   */
  next(): Buffer | null {
    for (;;) {
      if (!this.inFragment && !this.readHeader()) return null;
      while (this.fragmentLeft > 0) {
        const bytes = this.consume(this.fragmentLeft);
        if (bytes === undefined) return null;
        this.append(bytes);
        this.fragmentLeft -= bytes.length;
      }
      this.inFragment = false;
      if (this.lastFragment) return this.takeRecord();
    }
  }

  private readHeader(): boolean {
    while (this.headerFilled < HEADER_LENGTH) {
      const bytes = this.consume(HEADER_LENGTH - this.headerFilled);
      if (bytes === undefined) return false;
      bytes.copy(this.header, this.headerFilled);
      this.headerFilled += bytes.length;
    }
    this.headerFilled = 0;
    const word = this.header.readUInt32BE(0);
    const length = word & LENGTH_MASK;
    if (this.recordLength + length > this.maxRecordBytes) {
      throw new RpcProtocolError(`record of more than ${this.recordLength + length} bytes exceeds the ${this.maxRecordBytes}-byte limit`);
    }
    this.recordLength += length;
    this.inFragment = true;
    this.fragmentLeft = length;
    this.lastFragment = word >= LAST_FRAGMENT;
    return true;
  }

  /** Up to `max` bytes off the front of the input, as a view; undefined when none are left. */
  private consume(max: number): Buffer | undefined {
    const chunk = this.input[0];
    if (chunk === undefined) return undefined;
    if (chunk.length <= max) {
      this.input.shift();
      return chunk;
    }
    this.input[0] = chunk.subarray(max);
    return chunk.subarray(0, max);
  }

  private append(bytes: Buffer): void {
    if (this.only === undefined && this.assembled === undefined) {
      this.only = bytes;
      return;
    }
    const held = this.only ?? this.assembled!.subarray(0, this.assembledLength);
    const needed = held.length + bytes.length;
    if (this.assembled === undefined || needed > this.assembled.length) {
      // Doubling keeps the copying linear; the header check has bounded the record by the cap already.
      const grown = Buffer.allocUnsafe(Math.min(this.maxRecordBytes, Math.max(needed, 2 * held.length, 4096)));
      held.copy(grown);
      this.assembled = grown;
      this.only = undefined;
    }
    bytes.copy(this.assembled, held.length);
    this.assembledLength = needed;
  }

  private takeRecord(): Buffer {
    const record = this.only ?? this.assembled?.subarray(0, this.assembledLength) ?? Buffer.alloc(0);
    this.only = undefined;
    this.assembled = undefined;
    this.assembledLength = 0;
    this.recordLength = 0;
    return record;
  }
}

/** A writer for one record sent as a single fragment: its header is reserved here and filled in by `sealRecord`. */
export function recordWriter(): XdrWriter {
  return new XdrWriter().uint32(0);
}

/** The record written since `recordWriter`, header included, ready for one socket write. */
export function sealRecord(writer: XdrWriter): Buffer {
  const record = writer.toBuffer();
  record.writeUInt32BE((LAST_FRAGMENT | (record.length - HEADER_LENGTH)) >>> 0, 0);
  return record;
}
