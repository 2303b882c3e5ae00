/**
 * A small raw-PDU initiator for the portal tests. Its encoder and decoder are written from RFC 7143's layouts on
 * their own, so that they check the target's pdu.ts rather than repeat it.
 */
import net from 'node:net';
import { crc32c } from '../../../../src/daemon/targets/iscsi/crc32c.js';

export const RESERVED = 0xffffffff;

/** Fields of an initiator PDU; numbers go big-endian at the byte offset that keys them. */
export interface OutgoingPdu {
  opcode: number;
  immediate?: boolean;
  flags?: number;
  /** Bytes 2 and 3. */
  byte2?: number;
  byte3?: number;
  /** Bytes 8-15 (LUN, or ISID + TSIH for a login). */
  lun?: Buffer;
  itt?: number;
  u32?: Record<number, number>;
  u16?: Record<number, number>;
  cdb?: Buffer;
  ahs?: Buffer;
  data?: Buffer;
  /** Overrides the DataSegmentLength the data implies. */
  dataSegmentLength?: number;
}

export function encodePdu(pdu: OutgoingPdu, digests = { header: false, data: false }): Buffer {
  const bhs = Buffer.alloc(48);
  bhs[0] = (pdu.immediate ? 0x40 : 0) | pdu.opcode;
  bhs[1] = pdu.flags ?? 0x80;
  bhs[2] = pdu.byte2 ?? 0;
  bhs[3] = pdu.byte3 ?? 0;
  const ahs = pdu.ahs ?? Buffer.alloc(0);
  const data = pdu.data ?? Buffer.alloc(0);
  bhs[4] = ahs.length / 4;
  bhs.writeUIntBE(pdu.dataSegmentLength ?? data.length, 5, 3);
  pdu.lun?.copy(bhs, 8);
  bhs.writeUInt32BE(pdu.itt ?? 0, 16);
  for (const [offset, value] of Object.entries(pdu.u32 ?? {})) bhs.writeUInt32BE(value >>> 0, Number(offset));
  for (const [offset, value] of Object.entries(pdu.u16 ?? {})) bhs.writeUInt16BE(value, Number(offset));
  pdu.cdb?.copy(bhs, 32);
  const parts = [bhs, ahs];
  if (digests.header) parts.push(le32(crc32c(Buffer.concat([bhs, ahs]))));
  if (data.length > 0) {
    const padded = Buffer.concat([data, Buffer.alloc((4 - (data.length % 4)) % 4)]);
    parts.push(padded);
    if (digests.data) parts.push(le32(crc32c(padded)));
  }
  return Buffer.concat(parts);
}

function le32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value, 0);
  return b;
}

/** A target PDU, with the fields the tests look at. */
export interface IncomingPdu {
  opcode: number;
  flags: number;
  byte2: number;
  byte3: number;
  bhs: Buffer;
  data: Buffer;
  itt: number;
  ttt: number;
  statSN: number;
  expCmdSN: number;
  maxCmdSN: number;
  /** Bytes 36, 40 and 44 (DataSN/R2TSN, BufferOffset, residual or desired length). */
  word36: number;
  word40: number;
  word44: number;
}

export function decodeIncoming(bhs: Buffer, data: Buffer): IncomingPdu {
  return {
    opcode: bhs[0]! & 0x3f,
    flags: bhs[1]!,
    byte2: bhs[2]!,
    byte3: bhs[3]!,
    bhs,
    data,
    itt: bhs.readUInt32BE(16),
    ttt: bhs.readUInt32BE(20),
    statSN: bhs.readUInt32BE(24),
    expCmdSN: bhs.readUInt32BE(28),
    maxCmdSN: bhs.readUInt32BE(32),
    word36: bhs.readUInt32BE(36),
    word40: bhs.readUInt32BE(40),
    word44: bhs.readUInt32BE(44),
  };
}

export function textData(pairs: Record<string, string> | Array<[string, string]>): Buffer {
  const list = Array.isArray(pairs) ? pairs : Object.entries(pairs);
  return Buffer.from(list.map(([k, v]) => `${k}=${v}\0`).join(''));
}

export function parseText(data: Buffer): Array<[string, string]> {
  return data.toString('utf8').split('\0').filter((s) => s.length > 0).map((s) => {
    const at = s.indexOf('=');
    return [s.slice(0, at), s.slice(at + 1)];
  });
}

export interface Completion {
  status: number;
  /** Positive for underflow, negative for overflow. */
  residual: number;
  data: Buffer;
  final: IncomingPdu;
  pdus: IncomingPdu[];
  sense: Buffer;
}

export const DEFAULT_INITIATOR = 'iqn.2026-01.test:initiator';

export interface LoginOptions {
  initiatorName?: string;
  targetName?: string;
  discovery?: boolean;
  isid?: Buffer;
  tsih?: number;
  keys?: Record<string, string>;
  cmdSN?: number;
}

export class TestInitiator {
  readonly closed: Promise<void>;
  cmdSN = 0;
  itt = 1;
  digests = { header: false, data: false };
  private buffer = Buffer.alloc(0);
  private readonly received: IncomingPdu[] = [];
  private waiter: (() => void) | undefined;
  private ended = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.parse();
      this.waiter?.();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => {
      this.ended = true;
      this.waiter?.();
      resolve();
    }));
  }

  static connect(port: number): Promise<TestInitiator> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new TestInitiator(socket)));
      socket.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.ended;
  }

  send(pdu: OutgoingPdu): void {
    this.socket.write(encodePdu(pdu, this.digests));
  }

  sendRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The next PDU from the target; rejects after `timeoutMs` or when the connection closes first. */
  async next(timeoutMs = 3000): Promise<IncomingPdu> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const pdu = this.received.shift();
      if (pdu) return pdu;
      if (this.ended) throw new Error('connection closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a PDU');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Puts a PDU back, to be the next one `next` returns. */
  unshift(pdu: IncomingPdu): void {
    this.received.unshift(pdu);
  }

  /** Resolves true when nothing arrives for `ms` (and the connection stays open). */
  async quietFor(ms: number): Promise<boolean> {
    try {
      await this.next(ms);
      return false;
    } catch (err) {
      return (err as Error).message.startsWith('timed out');
    }
  }

  /** Logs in with every key in one PDU (CSG=1 → NSG=3), as libiscsi does without CHAP. */
  async login(options: LoginOptions = {}): Promise<IncomingPdu> {
    this.cmdSN = options.cmdSN ?? 1000;
    const keys: Record<string, string> = {
      InitiatorName: options.initiatorName ?? DEFAULT_INITIATOR,
      ...(options.discovery ? { SessionType: 'Discovery' } : { TargetName: options.targetName ?? '' }),
      ...options.keys,
    };
    this.send(loginRequest({ csg: 1, nsg: 3, transit: true, isid: options.isid, tsih: options.tsih, itt: this.itt++, cmdSN: this.cmdSN, data: textData(keys) }));
    return this.next();
  }

  /** Sends a SCSI command with the next ITT (and CmdSN, unless immediate); returns the ITT. */
  scsi(f: Omit<Parameters<typeof scsiCommand>[0], 'itt' | 'cmdSN'>): number {
    const itt = this.itt++;
    this.send(scsiCommand({ ...f, itt, cmdSN: this.cmdSN }));
    if (!f.immediate) this.cmdSN++;
    return itt;
  }

  /** Reads until the command's status: Data-In (gathered), then S bit or SCSI Response. */
  async completion(itt: number, timeoutMs = 3000): Promise<Completion> {
    const pdus: IncomingPdu[] = [];
    for (;;) {
      const pdu = await this.next(timeoutMs);
      if (pdu.itt !== itt) throw new Error(`PDU 0x${pdu.opcode.toString(16)} for ITT ${pdu.itt} while waiting for ${itt}`);
      pdus.push(pdu);
      if (pdu.opcode === 0x21 || (pdu.opcode === 0x25 && (pdu.flags & 0x01) !== 0)) {
        const data = Buffer.concat(pdus.filter((p) => p.opcode === 0x25).map((p) => p.data));
        const residual = pdu.flags & 0x02 ? pdu.word44 : pdu.flags & 0x04 ? -pdu.word44 : 0;
        return { status: pdu.byte3, residual, data, final: pdu, pdus, sense: pdu.opcode === 0x21 ? pdu.data.subarray(2) : Buffer.alloc(0) };
      }
    }
  }

  async close(): Promise<void> {
    this.socket.destroy();
    await this.closed;
  }

  private parse(): void {
    for (;;) {
      if (this.buffer.length < 48) return;
      const ahs = this.buffer[4]! * 4;
      const length = this.buffer.readUIntBE(5, 3);
      const hd = this.digests.header ? 4 : 0;
      const dd = this.digests.data && length > 0 ? 4 : 0;
      const total = 48 + ahs + hd + ((length + 3) & ~3) + dd;
      if (this.buffer.length < total) return;
      const bhs = Buffer.from(this.buffer.subarray(0, 48));
      const data = Buffer.from(this.buffer.subarray(48 + ahs + hd, 48 + ahs + hd + length));
      this.buffer = this.buffer.subarray(total);
      this.received.push(decodeIncoming(bhs, data));
    }
  }
}

export const DEFAULT_ISID = Buffer.from([0x80, 0, 0, 0, 0, 1]);

export function loginRequest(f: {
  csg: number;
  nsg: number;
  transit: boolean;
  cont?: boolean;
  isid?: Buffer | undefined;
  tsih?: number | undefined;
  itt: number;
  cmdSN: number;
  expStatSN?: number;
  versionMin?: number;
  data: Buffer;
}): OutgoingPdu {
  const lun = Buffer.alloc(8);
  (f.isid ?? DEFAULT_ISID).copy(lun, 0);
  lun.writeUInt16BE(f.tsih ?? 0, 6);
  return {
    opcode: 0x03,
    immediate: true,
    flags: (f.transit ? 0x80 : 0) | (f.cont ? 0x40 : 0) | (f.csg << 2) | f.nsg,
    byte3: f.versionMin ?? 0,
    lun,
    itt: f.itt,
    u32: { 24: f.cmdSN, 28: f.expStatSN ?? 0 },
    data: f.data,
  };
}

export function lunField(lun: number): Buffer {
  const field = Buffer.alloc(8);
  field[1] = lun;
  return field;
}

export function scsiCommand(f: {
  itt: number;
  cmdSN: number;
  cdb: Buffer;
  read?: boolean;
  write?: boolean;
  final?: boolean;
  edtl: number;
  lun?: number;
  data?: Buffer;
  immediate?: boolean;
}): OutgoingPdu {
  return {
    opcode: 0x01,
    immediate: f.immediate ?? false,
    flags: (f.final === false ? 0 : 0x80) | (f.read ? 0x40 : 0) | (f.write ? 0x20 : 0) | 1,
    lun: lunField(f.lun ?? 0),
    itt: f.itt,
    u32: { 20: f.edtl, 24: f.cmdSN },
    cdb: f.cdb,
    data: f.data,
  };
}

export function dataOut(f: { itt: number; ttt: number; dataSN: number; offset: number; data: Buffer; final: boolean; lun?: number }): OutgoingPdu {
  return {
    opcode: 0x05,
    flags: f.final ? 0x80 : 0,
    lun: lunField(f.lun ?? 0),
    itt: f.itt,
    u32: { 20: f.ttt, 36: f.dataSN, 40: f.offset },
    data: f.data,
  };
}

export function read10(lba: number, blocks: number): Buffer {
  const cdb = Buffer.alloc(16);
  cdb[0] = 0x28;
  cdb.writeUInt32BE(lba, 2);
  cdb.writeUInt16BE(blocks, 7);
  return cdb;
}

export function write10(lba: number, blocks: number): Buffer {
  const cdb = read10(lba, blocks);
  cdb[0] = 0x2a;
  return cdb;
}

export const TEST_UNIT_READY = Buffer.alloc(16);
