/**
 * SCSI tape and changer commands over a real iSCSI session to sgwd (the raw-PDU test initiator), with CDBs built
 * from SSC-3 and SMC-3 on their own: what st, ch and mtx send.
 */
import { dataOut, TestInitiator, type Completion } from '../daemon/targets/iscsi/test-initiator.js';

/** The most data one PDU carries either way, and the first burst sent with a command. */
const SEGMENT = 262144;
/** Session keys that let a record of up to 256 KiB travel as immediate data with its command; more follows R2Ts. */
const KEYS = { InitialR2T: 'No', ImmediateData: 'Yes', FirstBurstLength: String(SEGMENT), MaxBurstLength: '1048576', MaxRecvDataSegmentLength: String(SEGMENT) };

export class ScsiSession {
  private constructor(private readonly ini: TestInitiator) {}

  static async open(port: number, targetName: string): Promise<ScsiSession> {
    const ini = await TestInitiator.connect(port);
    const response = await ini.login({ targetName, keys: KEYS, initiatorName: 'iqn.2026-01.test:backup-server' });
    if (response.bhs.readUInt16BE(36) !== 0) throw new Error(`login to ${targetName} failed: 0x${response.bhs.readUInt16BE(36).toString(16)}`);
    return new ScsiSession(ini);
  }

  /** A command with data-in of up to `read` bytes, or data-out `write` (the first 256 KiB with it, the rest as asked by R2T). */
  async run(cdb: Buffer, io: { read?: number; write?: Buffer } = {}, timeoutMs = 30_000): Promise<Completion> {
    const write = io.write;
    const itt = this.ini.scsi({
      cdb, edtl: io.read ?? write?.length ?? 0, ...(io.read ? { read: true } : {}),
      // The immediate data is the whole first burst, so no unsolicited Data-Out follows (F set); R2Ts ask for the rest.
      ...(write ? { write: true, data: write.subarray(0, SEGMENT) } : {}),
    });
    if (write && write.length > SEGMENT) {
      for (;;) {
        const pdu = await this.ini.next(timeoutMs);
        if (pdu.opcode !== 0x31) {
          // The status came before all the data was asked for (a refused write): that is the command's end.
          this.ini.unshift(pdu);
          break;
        }
        const end = pdu.word40 + pdu.word44;
        for (let offset = pdu.word40, dataSN = 0; offset < end; offset += SEGMENT, dataSN++) {
          this.ini.send(dataOut({ itt, ttt: pdu.ttt, dataSN, offset, data: write.subarray(offset, Math.min(end, offset + SEGMENT)), final: offset + SEGMENT >= end }));
        }
        if (end >= write.length) break;
      }
    }
    return this.ini.completion(itt, timeoutMs);
  }

  /** TEST UNIT READY until GOOD, passing unit attentions (as st's open does); the sense of each one skipped. */
  async ready(tries = 5): Promise<Buffer[]> {
    const seen: Buffer[] = [];
    for (let i = 0; i < tries; i++) {
      const r = await this.run(Buffer.alloc(6));
      if (r.status === 0) return seen;
      seen.push(r.sense);
    }
    throw new Error(`not ready: ${seen.map((s) => s.toString('hex')).join(' ')}`);
  }

  close(): Promise<void> {
    return this.ini.close();
  }
}

/** Sense key, ASC, ASCQ and the FILEMARK/EOM/ILI bits and INFORMATION of fixed sense data. */
export function senseOf(sense: Buffer): { key: number; asc: number; ascq: number; filemark: boolean; eom: boolean; ili: boolean; info?: number } {
  return {
    key: sense[2]! & 0x0f, asc: sense[12]!, ascq: sense[13]!, filemark: (sense[2]! & 0x80) !== 0, eom: (sense[2]! & 0x40) !== 0, ili: (sense[2]! & 0x20) !== 0,
    ...(sense[0]! & 0x80 ? { info: sense.readInt32BE(3) } : {}),
  };
}

const cdb6 = (op: number, b1: number, length: number, b5 = 0) => Buffer.from([op, b1, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff, b5]);

export const Tape = {
  /** WRITE(6), variable block mode: one record. */
  write: (length: number) => cdb6(0x0a, 0, length),
  /** READ(6), variable block mode, up to `length` bytes of one record. */
  read: (length: number) => cdb6(0x08, 0, length),
  writeFilemarks: (count: number) => cdb6(0x10, 0, count),
  /** SPACE(6): code 0 blocks, 1 filemarks, 3 end of data; a negative count goes backward. */
  space: (code: number, count: number) => cdb6(0x11, code, count & 0xffffff),
  rewind: () => Buffer.from([0x01, 0, 0, 0, 0, 0]),
  /** READ POSITION, short form (service action 0): 20 bytes. */
  readPosition: () => Buffer.from([0x34, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
  /** LOAD UNLOAD: load 1 loads, 0 unloads. */
  loadUnload: (load: boolean) => Buffer.from([0x1b, 0, 0, 0, load ? 1 : 0, 0]),
  modeSense: () => Buffer.from([0x1a, 0, 0, 0, 12, 0]),
};

/** The logical object number of a short READ POSITION answer, and its BOP bit. */
export function position(data: Buffer): { object: number; bop: boolean } {
  return { object: data.readUInt32BE(4), bop: (data[0]! & 0x80) !== 0 };
}

export const Changer = {
  /** READ ELEMENT STATUS with volume tags: element type (0 all, 2 storage, 3 import/export, 4 drive). */
  readElementStatus: (type: number, start: number, count: number, allocation = 0x40000) =>
    Buffer.from([0xb8, 0x10 | type, start >> 8, start & 0xff, count >> 8, count & 0xff, 0, (allocation >> 16) & 0xff, (allocation >> 8) & 0xff, allocation & 0xff, 0, 0]),
  moveMedium: (source: number, destination: number) => Buffer.from([0xa5, 0, 0, 0, source >> 8, source & 0xff, destination >> 8, destination & 0xff, 0, 0, 0, 0]),
};

export interface ElementStatus {
  address: number;
  full: boolean;
  barcode: string;
  source?: number;
}

/** Decodes READ ELEMENT STATUS as mtx does: pages of descriptors with a 36-byte primary volume tag. */
export function elementStatus(data: Buffer): ElementStatus[] {
  const out: ElementStatus[] = [];
  let at = 8;
  const end = 8 + data.readUIntBE(5, 3);
  while (at < Math.min(end, data.length)) {
    const length = data.readUInt16BE(at + 2);
    const pageBytes = data.readUIntBE(at + 5, 3);
    const tagged = (data[at + 1]! & 0x80) !== 0;
    for (let d = at + 8; d < at + 8 + pageBytes && d + length <= data.length; d += length) {
      const full = (data[d + 2]! & 0x01) !== 0;
      out.push({
        address: data.readUInt16BE(d), full, barcode: tagged ? data.subarray(d + 12, d + 44).toString('ascii').trim() : '',
        ...(data[d + 9]! & 0x80 ? { source: data.readUInt16BE(d + 10) } : {}),
      });
    }
    at += 8 + pageBytes;
  }
  return out;
}
