/**
 * A minimal in-memory disk for exercising the iSCSI transport with real initiators: INQUIRY (standard, VPD 0x00 and
 * 0x80), TEST UNIT READY, READ CAPACITY 10/16, READ/WRITE 10/12/16 (WRITE AND VERIFY as a write), REPORT LUNS,
 * SYNCHRONIZE CACHE, a bare MODE SENSE(6); everything else is INVALID COMMAND OPERATION CODE. The real disk lives
 * in src/daemon/targets/scsi and is not used here on purpose.
 */
import { ScsiStatus, type ScsiLogicalUnit, type ScsiRequest, type ScsiResponse } from '../../../../src/daemon/targets/scsi/scsi-types.js';
import { encodeLun } from '../../../../src/daemon/targets/iscsi/pdu.js';

const BLOCK = 512;

function sense(key: number, asc: number, ascq: number): Buffer {
  const s = Buffer.alloc(18);
  s[0] = 0x70;
  s[2] = key;
  s[7] = 10;
  s[12] = asc;
  s[13] = ascq;
  return s;
}

const checkCondition = (key: number, asc: number, ascq: number, transferLength?: number): ScsiResponse => ({
  status: ScsiStatus.CHECK_CONDITION,
  sense: sense(key, asc, ascq),
  transferLength,
});

const good = (data: Buffer, allocation: number): ScsiResponse => ({ status: ScsiStatus.GOOD, dataIn: data.subarray(0, allocation) });

interface Rw {
  lba: number;
  blocks: number;
}

/** LBA and block count of READ/WRITE (AND VERIFY) 10, 12 and 16. */
function rwFields(cdb: Buffer): Rw {
  switch (cdb.length >= 16 && (cdb[0]! & 0xe0) === 0x80 ? 16 : (cdb[0]! & 0xe0) === 0xa0 ? 12 : 10) {
    case 16:
      return { lba: Number(cdb.readBigUInt64BE(2)), blocks: cdb.readUInt32BE(10) };
    case 12:
      return { lba: cdb.readUInt32BE(2), blocks: cdb.readUInt32BE(6) };
    default:
      return { lba: cdb.readUInt32BE(2), blocks: cdb.readUInt16BE(7) };
  }
}

export class RamDiskUnit implements ScsiLogicalUnit {
  readonly blocks: Buffer;
  readonly lostNexuses: string[] = [];
  resets = 0;
  /** Set to hold every command until it is resolved: a slow disk for abort and backpressure tests. */
  gate: Promise<void> | undefined;

  constructor(sizeBytes: number, readonly serialNumber: string, private readonly luns: () => number[] = () => [0]) {
    this.blocks = Buffer.alloc(sizeBytes);
  }

  async execute({ cdb, dataOut }: ScsiRequest): Promise<ScsiResponse> {
    await this.gate;
    switch (cdb[0]) {
      case 0x00:
      case 0x35:
      case 0x91:
        return { status: ScsiStatus.GOOD };
      case 0x12:
        return this.inquiry(cdb);
      case 0x25: {
        const data = Buffer.alloc(8);
        data.writeUInt32BE(Math.min(this.blockCount - 1, 0xffffffff), 0);
        data.writeUInt32BE(BLOCK, 4);
        return good(data, 8);
      }
      case 0x9e: {
        if ((cdb[1]! & 0x1f) !== 0x10) return checkCondition(5, 0x24, 0);
        const data = Buffer.alloc(32);
        data.writeBigUInt64BE(BigInt(this.blockCount - 1), 0);
        data.writeUInt32BE(BLOCK, 8);
        return good(data, cdb.readUInt32BE(10));
      }
      case 0xa0: {
        const luns = this.luns();
        const data = Buffer.alloc(8 + 8 * luns.length);
        data.writeUInt32BE(8 * luns.length, 0);
        luns.forEach((lun, i) => encodeLun(lun).copy(data, 8 + 8 * i));
        return good(data, cdb.readUInt32BE(6));
      }
      case 0x1a:
        return good(Buffer.from([3, 0, 0, 0]), cdb[4]!);
      case 0x28:
      case 0xa8:
      case 0x88:
        return this.read(rwFields(cdb));
      case 0x2a:
      case 0xaa:
      case 0x8a:
      case 0x2e:
      case 0xae:
      case 0x8e:
        return this.write(rwFields(cdb), dataOut);
      default:
        return checkCondition(5, 0x20, 0);
    }
  }

  reset(): void {
    this.resets++;
  }

  nexusLost(nexus: string): void {
    this.lostNexuses.push(nexus);
  }

  private get blockCount(): number {
    return this.blocks.length / BLOCK;
  }

  private inquiry(cdb: Buffer): ScsiResponse {
    const allocation = cdb.readUInt16BE(3);
    if ((cdb[1]! & 1) === 0) {
      if (cdb[2] !== 0) return checkCondition(5, 0x24, 0);
      const data = Buffer.alloc(36, 0x20);
      data.fill(0, 0, 8);
      data[2] = 0x05;
      data[3] = 0x02;
      data[4] = 31;
      data.write('SGWTEST', 8, 'latin1');
      data.write('RAMDISK', 16, 'latin1');
      data.write('0001', 32, 'latin1');
      return good(data, allocation);
    }
    switch (cdb[2]) {
      case 0x00:
        return good(Buffer.from([0, 0, 0, 2, 0x00, 0x80]), allocation);
      case 0x80: {
        const serial = Buffer.from(this.serialNumber, 'latin1');
        return good(Buffer.concat([Buffer.from([0, 0x80, 0, serial.length]), serial]), allocation);
      }
      default:
        return checkCondition(5, 0x24, 0);
    }
  }

  private read({ lba, blocks }: Rw): ScsiResponse {
    if (lba + blocks > this.blockCount) return checkCondition(5, 0x21, 0);
    return { status: ScsiStatus.GOOD, dataIn: Buffer.from(this.blocks.subarray(lba * BLOCK, (lba + blocks) * BLOCK)) };
  }

  /**
   * FCP-4 §9.4.2 (a): an EDTL other than the CDB's length writes only what both cover, in whole blocks, and the
   * transport reports the residual; a partial block is refused with INVALID FIELD IN COMMAND INFORMATION UNIT.
   */
  private write({ lba, blocks }: Rw, dataOut: Buffer | null): ScsiResponse {
    const length = blocks * BLOCK;
    if (lba + blocks > this.blockCount) return checkCondition(5, 0x21, 0, length);
    const covered = Math.min(dataOut?.length ?? 0, length);
    if (covered % BLOCK !== 0) return checkCondition(5, 0x0e, 0x03, length);
    dataOut?.copy(this.blocks, lba * BLOCK, 0, covered);
    return { status: ScsiStatus.GOOD, transferLength: length };
  }
}
