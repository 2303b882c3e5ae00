import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { SgwError } from '../errors.js';
import { DiskSet, MAX_DISKS } from './upload-buffer-disks.js';
import { alignUp, FIRST_DISK_RESERVED, SECTOR, SUPERBLOCK_SLOT_BYTES } from './upload-buffer-layout.js';
import { SET_ID_BYTES } from './upload-buffer-record.js';

/**
 * The superblock says where the ring's tail is and which disks, in which order, make up the set. It has two copies at
 * the start of the first disk; each write goes to the copy not holding the newest generation, so a write torn by a
 * crash leaves the other copy intact. Every other disk carries a label naming its set and its place in it.
 *
 * Superblock:  0 u32 magic  4 u16 version  6 u16 disk count  8 u64 generation  16 u32 epoch  20 u32 tail epoch
 *             24 u64 tail position  32 u64 tail seq  40 16B set id  56 u64 size of each disk  then u32 CRC
 * Label:       0 u32 magic  4 u16 version  6 u16 index  8 u16 count  16 16B set id  32 u64 size  40 u32 CRC
 */

export interface Superblock {
  setId: Buffer;
  /** Which copy is newest; bumped by every write. */
  gen: number;
  /** Bumped at every open; stamped into each record written until the next. */
  epoch: number;
  /** Logical position of the first unreleased record (or of the head when none is left). */
  tailPos: number;
  tailSeq: number;
  /** Epoch of the record `tailSeq`, which the first unreleased record's epoch cannot be below. */
  tailEpoch: number;
  diskSizes: number[];
}

const SUPERBLOCK_MAGIC = 0x55574753; // "SGWU"
const LABEL_MAGIC = 0x4c574753; // "SGWL"
const VERSION = 1;
const LABEL_BYTES = 40;

export function encodeSuperblock(sb: Superblock): Buffer {
  const crcAt = 56 + 8 * sb.diskSizes.length;
  const buf = Buffer.alloc(alignUp(crcAt + 4));
  buf.writeUInt32LE(SUPERBLOCK_MAGIC, 0);
  buf.writeUInt16LE(VERSION, 4);
  buf.writeUInt16LE(sb.diskSizes.length, 6);
  buf.writeBigUInt64LE(BigInt(sb.gen), 8);
  buf.writeUInt32LE(sb.epoch, 16);
  buf.writeUInt32LE(sb.tailEpoch, 20);
  buf.writeBigUInt64LE(BigInt(sb.tailPos), 24);
  buf.writeBigUInt64LE(BigInt(sb.tailSeq), 32);
  sb.setId.copy(buf, 40);
  sb.diskSizes.forEach((size, i) => buf.writeBigUInt64LE(BigInt(size), 56 + 8 * i));
  buf.writeUInt32LE(crc32(buf.subarray(0, crcAt)), crcAt);
  return buf;
}

export function decodeSuperblock(buf: Buffer): Superblock | undefined {
  if (buf.length < 60 || buf.readUInt32LE(0) !== SUPERBLOCK_MAGIC || buf.readUInt16LE(4) !== VERSION) return undefined;
  const count = buf.readUInt16LE(6);
  const crcAt = 56 + 8 * count;
  if (count === 0 || count > MAX_DISKS || buf.length < crcAt + 4) return undefined;
  if (buf.readUInt32LE(crcAt) !== crc32(buf.subarray(0, crcAt))) return undefined;
  return {
    setId: Buffer.from(buf.subarray(40, 40 + SET_ID_BYTES)),
    gen: Number(buf.readBigUInt64LE(8)),
    epoch: buf.readUInt32LE(16),
    tailEpoch: buf.readUInt32LE(20),
    tailPos: Number(buf.readBigUInt64LE(24)),
    tailSeq: Number(buf.readBigUInt64LE(32)),
    diskSizes: Array.from({ length: count }, (_, i) => Number(buf.readBigUInt64LE(56 + 8 * i))),
  };
}

interface DiskLabel {
  setId: Buffer;
  index: number;
  count: number;
  sizeBytes: number;
}

function encodeLabel(label: DiskLabel): Buffer {
  const buf = Buffer.alloc(SECTOR);
  buf.writeUInt32LE(LABEL_MAGIC, 0);
  buf.writeUInt16LE(VERSION, 4);
  buf.writeUInt16LE(label.index, 6);
  buf.writeUInt16LE(label.count, 8);
  label.setId.copy(buf, 16);
  buf.writeBigUInt64LE(BigInt(label.sizeBytes), 32);
  buf.writeUInt32LE(crc32(buf.subarray(0, LABEL_BYTES)), LABEL_BYTES);
  return buf;
}

function decodeLabel(buf: Buffer): DiskLabel | undefined {
  if (buf.readUInt32LE(0) !== LABEL_MAGIC || buf.readUInt16LE(4) !== VERSION) return undefined;
  if (buf.readUInt32LE(LABEL_BYTES) !== crc32(buf.subarray(0, LABEL_BYTES))) return undefined;
  return {
    setId: Buffer.from(buf.subarray(16, 16 + SET_ID_BYTES)),
    index: buf.readUInt16LE(6),
    count: buf.readUInt16LE(8),
    sizeBytes: Number(buf.readBigUInt64LE(32)),
  };
}

/** Writes the copy that does not hold generation `sb.gen - 1` and makes it durable. */
export async function writeSuperblock(disks: DiskSet, sb: Superblock): Promise<void> {
  await disks.write(0, (sb.gen % 2) * SUPERBLOCK_SLOT_BYTES, [encodeSuperblock(sb)]);
  await disks.sync(0);
}

/** The newest intact copy of the two at the start of a first disk. */
export function newestSuperblock(reserved: Buffer): Superblock | undefined {
  const copies = [0, 1]
    .map((slot) => decodeSuperblock(reserved.subarray(slot * SUPERBLOCK_SLOT_BYTES, (slot + 1) * SUPERBLOCK_SLOT_BYTES)))
    .filter((sb): sb is Superblock => sb !== undefined);
  return copies.sort((a, b) => b.gen - a.gen)[0];
}

/**
 * The superblock for this open, already durable with a new epoch: a blank disk set is formatted, an existing one
 * checked to be the same disks in the same order.
 */
export async function openSuperblock(disks: DiskSet): Promise<Superblock> {
  const reserved = await disks.read(0, 0, FIRST_DISK_RESERVED);
  const found = newestSuperblock(reserved);
  if (!found) {
    if (reserved.some((b) => b !== 0)) throw foreignFirstDisk(disks.path(0), reserved);
    return format(disks);
  }
  await checkSameDisks(disks, found);
  const next = { ...found, gen: found.gen + 1, epoch: found.epoch + 1 };
  await writeSuperblock(disks, next);
  return next;
}

async function format(disks: DiskSet): Promise<Superblock> {
  const sizes = disks.disks.map((d) => d.sizeBytes);
  for (let i = 1; i < sizes.length; i++) {
    // A first disk of some set listed later would be overwritten by its label: refuse rather than lose that set.
    if (newestSuperblock(await disks.read(i, 0, FIRST_DISK_RESERVED))) {
      throw new SgwError('SGW_DISK_UNSUITABLE', `${disks.path(i)} is the first disk of an upload buffer: list the disks in the order they were added`);
    }
  }
  const setId = randomBytes(SET_ID_BYTES);
  for (let i = 1; i < sizes.length; i++) {
    await disks.write(i, 0, [encodeLabel({ setId, index: i, count: sizes.length, sizeBytes: sizes[i]! })]);
    await disks.sync(i);
  }
  // The superblock goes last: until it is durable the set still reads as blank and a retry formats it again.
  const sb: Superblock = { setId, gen: 1, epoch: 1, tailPos: 0, tailSeq: 0, tailEpoch: 0, diskSizes: sizes };
  await writeSuperblock(disks, sb);
  return sb;
}

async function checkSameDisks(disks: DiskSet, sb: Superblock): Promise<void> {
  const given = disks.disks.map((d) => d.sizeBytes);
  if (given.length !== sb.diskSizes.length || given.some((size, i) => size !== sb.diskSizes[i])) {
    throw new SgwError(
      'SGW_DISK_UNSUITABLE',
      `the upload buffer on ${disks.path(0)} was formatted on ${sb.diskSizes.length} disk(s) of ${sb.diskSizes.join(', ')} bytes in that order, ` +
        `not ${given.length} of ${given.join(', ')} bytes`,
    );
  }
  for (let i = 1; i < given.length; i++) {
    const label = decodeLabel(await disks.read(i, 0, SECTOR));
    if (!label || !label.setId.equals(sb.setId)) {
      throw new SgwError('SGW_DISK_UNSUITABLE', `${disks.path(i)} is not a disk of the upload buffer on ${disks.path(0)}`);
    }
    if (label.index !== i) {
      throw new SgwError(
        'SGW_DISK_UNSUITABLE',
        `${disks.path(i)} is disk ${label.index + 1} of its upload buffer but is listed as disk ${i + 1}: list the disks in the order they were added`,
      );
    }
  }
}

function foreignFirstDisk(path: string, reserved: Buffer): SgwError {
  const label = decodeLabel(reserved);
  if (label) {
    return new SgwError('SGW_DISK_UNSUITABLE', `${path} is disk ${label.index + 1} of an upload buffer, not its first: list the disks in the order they were added`);
  }
  return new SgwError('SGW_DISK_UNSUITABLE', `${path} holds data that is not an sgw upload buffer, or its superblock is damaged; it is left untouched`);
}
