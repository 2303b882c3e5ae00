/**
 * Where the common fields sit in a CDB, so handlers ask for "the LBA" or "the allocation length" instead of
 * repeating offsets. Callers pass a CDB padded to 16 bytes: every read here is in bounds.
 */

export const Opcode = {
  TEST_UNIT_READY: 0x00,
  REQUEST_SENSE: 0x03,
  FORMAT_UNIT: 0x04,
  READ_6: 0x08,
  WRITE_6: 0x0a,
  INQUIRY: 0x12,
  MODE_SELECT_6: 0x15,
  RESERVE_6: 0x16,
  RELEASE_6: 0x17,
  MODE_SENSE_6: 0x1a,
  START_STOP_UNIT: 0x1b,
  SEND_DIAGNOSTIC: 0x1d,
  PREVENT_ALLOW_MEDIUM_REMOVAL: 0x1e,
  READ_CAPACITY_10: 0x25,
  READ_10: 0x28,
  WRITE_10: 0x2a,
  WRITE_AND_VERIFY_10: 0x2e,
  VERIFY_10: 0x2f,
  PRE_FETCH_10: 0x34,
  SYNCHRONIZE_CACHE_10: 0x35,
  READ_DEFECT_DATA_10: 0x37,
  WRITE_SAME_10: 0x41,
  UNMAP: 0x42,
  MODE_SELECT_10: 0x55,
  RESERVE_10: 0x56,
  RELEASE_10: 0x57,
  MODE_SENSE_10: 0x5a,
  PERSISTENT_RESERVE_IN: 0x5e,
  PERSISTENT_RESERVE_OUT: 0x5f,
  READ_16: 0x88,
  COMPARE_AND_WRITE: 0x89,
  WRITE_16: 0x8a,
  WRITE_AND_VERIFY_16: 0x8e,
  VERIFY_16: 0x8f,
  PRE_FETCH_16: 0x90,
  SYNCHRONIZE_CACHE_16: 0x91,
  WRITE_SAME_16: 0x93,
  SERVICE_ACTION_IN_16: 0x9e,
  REPORT_LUNS: 0xa0,
  MAINTENANCE_IN: 0xa3,
  READ_12: 0xa8,
  WRITE_12: 0xaa,
  WRITE_AND_VERIFY_12: 0xae,
  VERIFY_12: 0xaf,
  READ_DEFECT_DATA_12: 0xb7,
} as const;

/** Service actions of the commands that have them (CDB byte 1, bits 4-0). */
export const ServiceAction = {
  READ_CAPACITY_16: 0x10,
  GET_LBA_STATUS: 0x12,
  REPORT_SUPPORTED_OPERATION_CODES: 0x0c,
} as const;

const CDB_SIZE = 16;

/** The CDB's length from its group code (SPC-4); 0 for the reserved and vendor-specific groups. */
export function cdbLength(opcode: number): number {
  return [6, 10, 10, 0, 16, 12, 0, 0][opcode >> 5] ?? 0;
}

export function serviceAction(cdb: Buffer): number {
  return cdb[1]! & 0x1f;
}

/** A CDB of at least 16 bytes: short ones are zero-padded so that decoders never read past the end. */
export function paddedCdb(cdb: Buffer): Buffer {
  if (cdb.length >= CDB_SIZE) return cdb;
  const padded = Buffer.alloc(CDB_SIZE);
  cdb.copy(padded);
  return padded;
}

export interface BlockRange {
  /** Up to 64 bits, so it stays a bigint until it is known to be inside the medium. */
  lba: bigint;
  blocks: number;
}

/**
 * LBA and TRANSFER LENGTH (or NUMBER OF LOGICAL BLOCKS) of the block commands: READ, WRITE, VERIFY, WRITE AND
 * VERIFY, WRITE SAME, PRE-FETCH, SYNCHRONIZE CACHE, COMPARE AND WRITE.
 */
export function blockRange(cdb: Buffer): BlockRange {
  const opcode = cdb[0]!;
  if (opcode === Opcode.READ_6 || opcode === Opcode.WRITE_6) {
    // A 6-byte transfer length of 0 means 256 blocks (SBC-3).
    return { lba: BigInt(cdb.readUIntBE(1, 3) & 0x1fffff), blocks: cdb[4] || 256 };
  }
  if (opcode === Opcode.COMPARE_AND_WRITE) return { lba: cdb.readBigUInt64BE(2), blocks: cdb[13]! };
  switch (cdbLength(opcode)) {
    case 10:
      return { lba: BigInt(cdb.readUInt32BE(2)), blocks: cdb.readUInt16BE(7) };
    case 12:
      return { lba: BigInt(cdb.readUInt32BE(2)), blocks: cdb.readUInt32BE(6) };
    default:
      return { lba: cdb.readBigUInt64BE(2), blocks: cdb.readUInt32BE(10) };
  }
}

/** Byte offset of the TRANSFER LENGTH field, for sense field pointers. */
export function transferLengthField(cdb: Buffer): number {
  const opcode = cdb[0]!;
  if (opcode === Opcode.READ_6 || opcode === Opcode.WRITE_6) return 4;
  if (opcode === Opcode.COMPARE_AND_WRITE) return 13;
  return { 10: 7, 12: 6 }[cdbLength(opcode)] ?? 10;
}

/** ALLOCATION LENGTH: how many bytes of data-in the initiator has room for. */
export function allocationLength(cdb: Buffer): number {
  switch (cdb[0]) {
    case Opcode.REQUEST_SENSE:
    case Opcode.MODE_SENSE_6:
      return cdb[4]!;
    case Opcode.INQUIRY:
      return cdb.readUInt16BE(3);
    case Opcode.MODE_SENSE_10:
    case Opcode.PERSISTENT_RESERVE_IN:
    case Opcode.READ_DEFECT_DATA_10:
      return cdb.readUInt16BE(7);
    case Opcode.REPORT_LUNS:
    case Opcode.MAINTENANCE_IN:
    case Opcode.READ_DEFECT_DATA_12:
      return cdb.readUInt32BE(6);
    case Opcode.SERVICE_ACTION_IN_16:
      return cdb.readUInt32BE(10);
    default:
      return 0;
  }
}

/** PARAMETER LIST LENGTH: how many bytes of data-out the command carries. */
export function parameterListLength(cdb: Buffer): number {
  switch (cdb[0]) {
    case Opcode.MODE_SELECT_6:
      return cdb[4]!;
    case Opcode.SEND_DIAGNOSTIC:
      return cdb.readUInt16BE(3);
    case Opcode.MODE_SELECT_10:
    case Opcode.UNMAP:
      return cdb.readUInt16BE(7);
    case Opcode.PERSISTENT_RESERVE_OUT:
      return cdb.readUInt32BE(5);
    default:
      return 0;
  }
}

/** The data-in a command returns, cut to what the initiator made room for. */
export function truncated(data: Buffer, cdb: Buffer): Buffer {
  const room = allocationLength(cdb);
  return data.length > room ? data.subarray(0, room) : data;
}
