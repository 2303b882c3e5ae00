import { crc32 } from 'node:zlib';
import { alignUp, SECTOR } from './upload-buffer-layout.js';

/**
 * One journal record on disk: a 96-byte header, the payload ('data' only), zero padding to a whole sector.
 *
 *    0 u32 magic            8 u64 seq          32 u32 epoch         56 32B stream (ASCII, zero padded)
 *    4 u16 format version  16 u64 offset       36 u32 payload CRC   88 u32 reserved (0)
 *    6 u8  kind             24 u64 length       40 16B disk set id   92 u32 CRC of bytes 0..91
 *    7 u8  stream length
 *
 * A wrap marker (kind 3) says the record with the same seq is at logical position `offset` instead, because it did
 * not fit in the rest of its region. The set id keeps records of an earlier format of the same disks out; the epoch
 * (bumped at every open) keeps out records that a crash cut off and a later run wrote over only in part.
 */

export const HEADER_BYTES = 96;
export const MAX_STREAM_BYTES = 32;
export const SET_ID_BYTES = 16;
const MAGIC = 0x4a574753; // "SGWJ"
const VERSION = 1;
const KIND_CODES = { data: 1, zero: 2, wrap: 3 } as const;

export type RecordKind = keyof typeof KIND_CODES;

export interface RecordHeader {
  kind: RecordKind;
  seq: number;
  epoch: number;
  stream: string;
  /** Byte offset in the stream; for a wrap marker, where the record went. */
  offset: number;
  length: number;
  payloadCrc: number;
}

/** Ring bytes a record takes. */
export function footprint(kind: RecordKind, length: number): number {
  return alignUp(HEADER_BYTES + (kind === 'data' ? length : 0));
}

export function payloadBytes(header: RecordHeader): number {
  return header.kind === 'data' ? header.length : 0;
}

/**
 * The record as the pieces to write one after another: header, payload, padding. The payload is the caller's
 * buffer, not a copy: a 1 MiB write would otherwise cost another 1 MiB allocation and copy on the event loop.
 */
export function encodeRecord(header: Omit<RecordHeader, 'payloadCrc'>, setId: Buffer, data?: Buffer): Buffer[] {
  const payload = header.kind === 'data' && data ? data : Buffer.alloc(0);
  const head = Buffer.alloc(HEADER_BYTES);
  writeHeader(head, { ...header, payloadCrc: crc32(payload) }, setId);
  const padding = footprint(header.kind, header.length) - HEADER_BYTES - payload.length;
  return padding > 0 ? [head, payload, Buffer.alloc(padding)] : [head, payload];
}

export function encodeWrapMarker(seq: number, epoch: number, target: number, setId: Buffer): Buffer {
  const buf = Buffer.alloc(SECTOR);
  writeHeader(buf, { kind: 'wrap', seq, epoch, stream: '', offset: target, length: 0, payloadCrc: 0 }, setId);
  return buf;
}

function writeHeader(buf: Buffer, h: RecordHeader, setId: Buffer): void {
  buf.writeUInt32LE(MAGIC, 0);
  buf.writeUInt16LE(VERSION, 4);
  buf.writeUInt8(KIND_CODES[h.kind], 6);
  const streamLength = buf.write(h.stream, 56, MAX_STREAM_BYTES, 'latin1');
  buf.writeUInt8(streamLength, 7);
  buf.writeBigUInt64LE(BigInt(h.seq), 8);
  buf.writeBigUInt64LE(BigInt(h.offset), 16);
  buf.writeBigUInt64LE(BigInt(h.length), 24);
  buf.writeUInt32LE(h.epoch, 32);
  buf.writeUInt32LE(h.payloadCrc, 36);
  setId.copy(buf, 40);
  buf.writeUInt32LE(crc32(buf.subarray(0, 92)), 92);
}

/** The header at the start of `buf`, or undefined when it is not an intact header of this disk set. */
export function decodeHeader(buf: Buffer, setId: Buffer): RecordHeader | undefined {
  if (buf.length < HEADER_BYTES || buf.readUInt32LE(0) !== MAGIC || buf.readUInt16LE(4) !== VERSION) return undefined;
  if (buf.readUInt32LE(92) !== crc32(buf.subarray(0, 92))) return undefined;
  if (!buf.subarray(40, 40 + SET_ID_BYTES).equals(setId)) return undefined;
  const kind = (Object.keys(KIND_CODES) as RecordKind[]).find((k) => KIND_CODES[k] === buf.readUInt8(6));
  const streamLength = buf.readUInt8(7);
  const seq = readSafe(buf, 8);
  const offset = readSafe(buf, 16);
  const length = readSafe(buf, 24);
  if (!kind || streamLength > MAX_STREAM_BYTES || seq === undefined || offset === undefined || length === undefined) {
    return undefined;
  }
  return {
    kind,
    seq,
    epoch: buf.readUInt32LE(32),
    stream: buf.toString('latin1', 56, 56 + streamLength),
    offset,
    length,
    payloadCrc: buf.readUInt32LE(36),
  };
}

function readSafe(buf: Buffer, at: number): number | undefined {
  const n = buf.readBigUInt64LE(at);
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : undefined;
}

export function payloadIntact(header: RecordHeader, payload: Buffer): boolean {
  return payload.length === payloadBytes(header) && crc32(payload) === header.payloadCrc;
}
