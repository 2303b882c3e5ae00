import { naaFromId, ScsiDisk, type ScsiDiskOptions } from '../../../../src/daemon/targets/scsi/scsi-disk.js';
import type { ScsiResponse } from '../../../../src/daemon/targets/scsi/scsi-types.js';
import { MemoryBackend } from './memory-backend.js';

export const NEXUS_A = 'iqn.1994-05.com.example:a,i,0x400001370000';
export const NEXUS_B = 'iqn.1994-05.com.example:b,i,0x400001370000';
export const TARGET = 'iqn.2024-01.test.sgw:vol1';

export function makeDisk(o: Partial<ScsiDiskOptions> & { blocks?: number } = {}): { disk: ScsiDisk; backend: MemoryBackend } {
  const blockSize = o.blockSize ?? 512;
  const backend = new MemoryBackend((o.blocks ?? 4096) * blockSize, Math.max(blockSize, 4096));
  const disk = new ScsiDisk({ backend, serial: 'vol-0123456789abcdef', naa: naaFromId('vol-0123456789abcdef'), targetName: TARGET, ...o });
  return { disk, backend };
}

export interface RunOptions {
  dataOut?: Buffer;
  /** Defaults to the data-out length, or 64 KiB for commands without data-out. */
  expectedLength?: number;
  nexus?: string;
}

export function run(disk: ScsiDisk, cdb: number[] | Buffer, o: RunOptions = {}): Promise<ScsiResponse> {
  return disk.execute({
    cdb: Buffer.from(cdb),
    dataOut: o.dataOut ?? null,
    expectedLength: o.expectedLength ?? o.dataOut?.length ?? 65536,
    nexus: o.nexus ?? NEXUS_A,
  });
}

export interface ParsedSense {
  key: number;
  asc: number;
  ascq: number;
  information?: number;
  field?: { inCdb: boolean; byte: number; bit?: number };
}

/** Parses fixed-format sense independently of the code under test. */
export function parseSense(sense: Buffer | undefined): ParsedSense | undefined {
  if (!sense) return undefined;
  const parsed: ParsedSense = { key: sense[2]! & 0x0f, asc: sense[12]!, ascq: sense[13]! };
  if (sense[0]! & 0x80) parsed.information = sense.readUInt32BE(3);
  if (sense[15]! & 0x80) {
    parsed.field = { inCdb: (sense[15]! & 0x40) !== 0, byte: sense.readUInt16BE(16) };
    if (sense[15]! & 0x08) parsed.field.bit = sense[15]! & 0x07;
  }
  return parsed;
}

/** Status and sense triple as one comparable string: "GOOD", "CC 5/24/00", "0x18". */
export function outcome(r: ScsiResponse): string {
  if (r.status === 0) return 'GOOD';
  if (r.status !== 2) return `0x${r.status.toString(16)}`;
  const s = parseSense(r.sense)!;
  return `CC ${s.key.toString(16)}/${s.asc.toString(16).padStart(2, '0')}/${s.ascq.toString(16).padStart(2, '0')}`;
}

const sizes: Record<number, 6 | 10 | 12 | 16> = {
  0x08: 6, 0x0a: 6,
  0x28: 10, 0x2a: 10, 0x2e: 10, 0x2f: 10, 0x34: 10, 0x35: 10, 0x41: 10,
  0xa8: 12, 0xaa: 12, 0xae: 12, 0xaf: 12,
  0x88: 16, 0x8a: 16, 0x8e: 16, 0x8f: 16, 0x90: 16, 0x91: 16, 0x93: 16,
};

/** A block command CDB: LBA and transfer length where SBC-3 puts them for the opcode's size. */
export function blockCdb(opcode: number, lba: number | bigint, blocks: number, flags = 0): Buffer {
  const size = sizes[opcode];
  if (!size) throw new Error(`no block layout for opcode ${opcode}`);
  const b = Buffer.alloc(size);
  b[0] = opcode;
  const big = BigInt.asUintN(64, BigInt(lba));
  if (size === 6) {
    b.writeUIntBE(Number(big & 0x1fffffn), 1, 3);
    b[4] = blocks & 0xff;
    return b;
  }
  b[1] = flags;
  if (size === 16) {
    b.writeBigUInt64BE(big, 2);
    b.writeUInt32BE(blocks, 10);
  } else {
    b.writeUInt32BE(Number(BigInt.asUintN(32, big)), 2);
    if (size === 10) b.writeUInt16BE(blocks, 7);
    else b.writeUInt32BE(blocks, 6);
  }
  return b;
}

export function compareAndWriteCdb(lba: number | bigint, blocks: number, flags = 0): Buffer {
  const b = Buffer.alloc(16);
  b[0] = 0x89;
  b[1] = flags;
  b.writeBigUInt64BE(BigInt.asUintN(64, BigInt(lba)), 2);
  b[13] = blocks;
  return b;
}

export function unmapCdb(parameterListLength: number, anchor = false): Buffer {
  const b = Buffer.alloc(10);
  b[0] = 0x42;
  b[1] = anchor ? 1 : 0;
  b.writeUInt16BE(parameterListLength, 7);
  return b;
}

export function unmapList(ranges: Array<[number | bigint, number]>): Buffer {
  const b = Buffer.alloc(8 + 16 * ranges.length);
  b.writeUInt16BE(b.length - 2, 0);
  b.writeUInt16BE(b.length - 8, 2);
  ranges.forEach(([lba, n], i) => {
    b.writeBigUInt64BE(BigInt.asUintN(64, BigInt(lba)), 8 + 16 * i);
    b.writeUInt32BE(n, 16 + 16 * i);
  });
  return b;
}

/** A buffer of `blocks` blocks, each byte set to `fill` (or a position-dependent pattern when omitted). */
export function blocksOf(blocks: number, fill?: number, blockSize = 512): Buffer {
  const b = Buffer.alloc(blocks * blockSize);
  for (let i = 0; i < b.length; i++) b[i] = fill ?? (i * 7 + (i >> 9)) & 0xff;
  return b;
}

export async function write10(disk: ScsiDisk, lba: number, data: Buffer, nexus = NEXUS_A): Promise<ScsiResponse> {
  return run(disk, blockCdb(0x2a, lba, data.length / 512), { dataOut: data, nexus });
}

export async function read10(disk: ScsiDisk, lba: number, blocks: number, nexus = NEXUS_A): Promise<ScsiResponse> {
  return run(disk, blockCdb(0x28, lba, blocks), { nexus });
}
