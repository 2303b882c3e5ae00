/**
 * A sequential-access device (SSC-3 tape drive) with the identity of an IBM ULT3580-TD5 (LTO-5), as Linux st, mt,
 * tar and backup software drive it: variable and fixed block modes, filemarks, SPACE, LOCATE, READ POSITION (the
 * logical object number), early warning and end of medium at the tape's capacity, blank check at end of data.
 * The position belongs to the drive; a different tape in the drive starts at BOP with UNIT ATTENTION 28/00.
 */
import { Opcode, paddedCdb, parameterListLength, truncated } from './scsi-cdb.js';
import { deviceIdentification, inquiryData, standardInquiry, unitSerialNumber, VersionDescriptor, vpdPage, VpdPage } from './scsi-inquiry.js';
import { reportLunsData } from './scsi-report-luns.js';
import { fixedSense, invalidCdbField, ScsiCheckCondition, Sense, UnitAttentions, type SenseDetails } from './scsi-sense.js';
import { filemarkFrom, filemarksBefore, type TapeDriveBackend, type TapeMedium } from './scsi-tape-medium.js';
import { ScsiStatus, type ScsiLogicalUnit, type ScsiRequest, type ScsiResponse } from './scsi-types.js';

export type { TapeDriveBackend, TapeMedium } from './scsi-tape-medium.js';

export interface ScsiTapeOptions {
  backend: TapeDriveBackend;
  /** VPD page 0x80; it must not change across restarts. */
  serial: string;
  naa: Buffer;
  targetName: string;
  luns?: () => number[];
}

const TapeOpcode = {
  REWIND: 0x01,
  READ_BLOCK_LIMITS: 0x05,
  READ_6: 0x08,
  WRITE_6: 0x0a,
  WRITE_FILEMARKS_6: 0x10,
  SPACE_6: 0x11,
  ERASE_6: 0x19,
  LOAD_UNLOAD: 0x1b,
  LOCATE_10: 0x2b,
  READ_POSITION: 0x34,
} as const;

const DEVICE_TYPE_TAPE = 0x01;
const SSC_3 = 0x0340;
const VENDOR = 'IBM';
const PRODUCT = 'ULT3580-TD5';
const REVISION = 'D8D5';
const LTO5_DENSITY = 0x58;
const RELATIVE_TARGET_PORT = 1;
/** READ BLOCK LIMITS: records of 1 byte to 8 MiB. */
const MAX_BLOCK = 0x800000;
const PAGE_COMPRESSION = 0x0f;
const PAGE_DEVICE_CONFIGURATION = 0x10;
const ALL_PAGES = 0x3f;

/** Commands that need a loaded tape. */
const MEDIA_COMMANDS = new Set<number>([
  Opcode.TEST_UNIT_READY, TapeOpcode.REWIND, TapeOpcode.READ_6, TapeOpcode.WRITE_6, TapeOpcode.WRITE_FILEMARKS_6, TapeOpcode.SPACE_6,
  TapeOpcode.ERASE_6, TapeOpcode.LOCATE_10, TapeOpcode.READ_POSITION,
]);
/** Commands that answer whatever unit attention is pending. */
const UNRESTRICTED = new Set<number>([Opcode.INQUIRY, Opcode.REQUEST_SENSE, Opcode.REPORT_LUNS]);

function check(sense: typeof Sense[keyof typeof Sense], details: SenseDetails = {}): ScsiCheckCondition {
  return new ScsiCheckCondition(sense, details);
}

/** A command that ends with CHECK CONDITION and still moves data (a short read, a read stopped at a filemark). */
interface Ended {
  data?: Buffer;
  condition?: ScsiCheckCondition;
}

export class ScsiTape implements ScsiLogicalUnit {
  private readonly backend: TapeDriveBackend;
  private readonly luns: () => number[];
  private readonly unitAttentions = new UnitAttentions();
  private readonly standard: Buffer;
  private readonly vpdPages: ReadonlyMap<number, Buffer>;
  private seen: TapeMedium | undefined;
  private loaded = false;
  private position = 0;
  /** 0: variable block mode. */
  private blockSize = 0;
  private compression = true;
  private prevented = false;
  /** Commands run one at a time: a tape has one position. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(o: ScsiTapeOptions) {
    if (o.naa.length !== 16) throw new RangeError('the NAA designator must be 16 bytes');
    this.backend = o.backend;
    this.luns = o.luns ?? (() => [0]);
    this.standard = standardInquiry({
      deviceType: DEVICE_TYPE_TAPE, removable: true, vendor: VENDOR, product: PRODUCT, revision: REVISION,
      versionDescriptors: [VersionDescriptor.ISCSI, VersionDescriptor.SPC_4, SSC_3],
    });
    const page = (code: number, body: Buffer): [number, Buffer] => [code, vpdPage(DEVICE_TYPE_TAPE, code, body)];
    this.vpdPages = new Map([
      page(VpdPage.UNIT_SERIAL_NUMBER, unitSerialNumber(o.serial)),
      page(VpdPage.DEVICE_IDENTIFICATION, deviceIdentification({
        naa: o.naa, vendor: VENDOR, vendorSpecific: o.serial,
        targetPortName: `${o.targetName},t,0x${RELATIVE_TARGET_PORT.toString(16).padStart(4, '0')}`, relativeTargetPort: RELATIVE_TARGET_PORT,
      })),
    ]);
  }

  execute(request: ScsiRequest): Promise<ScsiResponse> {
    const run = this.queue.then(() => this.run(request));
    this.queue = run.catch(() => undefined);
    return run;
  }

  reset(): void {
    this.unitAttentions.raiseAll(Sense.LU_RESET);
  }

  nexusLost(nexus: string): void {
    this.unitAttentions.forget(nexus);
  }

  private async run(request: ScsiRequest): Promise<ScsiResponse> {
    const cdb = paddedCdb(request.cdb);
    try {
      this.unitAttentions.see(request.nexus);
      this.noticeMedium();
      const opcode = cdb[0]!;
      if (!UNRESTRICTED.has(opcode)) {
        const attention = this.unitAttentions.take(request.nexus);
        if (attention) return { status: ScsiStatus.CHECK_CONDITION, sense: fixedSense(attention) };
      }
      const ended = await this.dispatch(cdb, request);
      if (ended.condition) return { status: ScsiStatus.CHECK_CONDITION, sense: ended.condition.toSense(), ...(ended.data ? { dataIn: ended.data } : {}) };
      return { status: ScsiStatus.GOOD, ...(ended.data ? { dataIn: ended.data } : {}) };
    } catch (err) {
      if (err instanceof ScsiCheckCondition) return { status: ScsiStatus.CHECK_CONDITION, sense: err.toSense() };
      const write = [TapeOpcode.WRITE_6, TapeOpcode.WRITE_FILEMARKS_6, TapeOpcode.ERASE_6].includes(cdb[0]! as 0x0a);
      return { status: ScsiStatus.CHECK_CONDITION, sense: fixedSense(write ? Sense.WRITE_ERROR : Sense.UNRECOVERED_READ_ERROR) };
    }
  }

  /** A tape put in or taken out by the changer: loaded at BOP, and every nexus hears of it. */
  private noticeMedium(): void {
    const medium = this.backend.medium();
    if (medium === this.seen) return;
    this.seen = medium;
    this.position = 0;
    this.loaded = medium !== undefined;
    if (medium) this.unitAttentions.raiseAll(Sense.MEDIUM_MAY_HAVE_CHANGED);
  }

  private medium(): TapeMedium {
    if (!this.seen || !this.loaded) throw check(Sense.MEDIUM_NOT_PRESENT);
    return this.seen;
  }

  private writable(): TapeMedium {
    const m = this.medium();
    if (m.writeProtected) throw check(Sense.WRITE_PROTECTED);
    return m;
  }

  private async dispatch(cdb: Buffer, request: ScsiRequest): Promise<Ended> {
    const opcode = cdb[0]!;
    if (MEDIA_COMMANDS.has(opcode)) this.medium();
    switch (opcode) {
      case Opcode.TEST_UNIT_READY:
        return {};
      case Opcode.REQUEST_SENSE:
        if (cdb[1]! & 0x01) throw invalidCdbField(1, 0);
        return { data: truncated(fixedSense(this.unitAttentions.take(request.nexus) ?? Sense.NO_SENSE), cdb) };
      case Opcode.INQUIRY:
        return { data: inquiryData(cdb, this.standard, this.vpdPages) };
      case Opcode.REPORT_LUNS:
        return { data: reportLunsData(cdb, this.luns) };
      case Opcode.MODE_SENSE_6:
      case Opcode.MODE_SENSE_10:
        return { data: this.modeSense(cdb) };
      case Opcode.MODE_SELECT_6:
      case Opcode.MODE_SELECT_10:
        this.modeSelect(cdb, request.dataOut ?? Buffer.alloc(0));
        return {};
      case Opcode.PREVENT_ALLOW_MEDIUM_REMOVAL:
        this.prevented = (cdb[4]! & 0x01) !== 0;
        this.backend.setRemovalPrevented(this.prevented);
        return {};
      case TapeOpcode.READ_BLOCK_LIMITS:
        return { data: Buffer.from([0, (MAX_BLOCK >> 16) & 0xff, (MAX_BLOCK >> 8) & 0xff, MAX_BLOCK & 0xff, 0, 1]) };
      case TapeOpcode.REWIND:
        this.position = 0;
        return {};
      case TapeOpcode.READ_6:
        return this.read(cdb);
      case TapeOpcode.WRITE_6:
        return this.write(cdb, request.dataOut ?? Buffer.alloc(0));
      case TapeOpcode.WRITE_FILEMARKS_6:
        return this.writeFilemarks(cdb);
      case TapeOpcode.SPACE_6:
        return this.space(cdb);
      case TapeOpcode.ERASE_6:
        await this.writable().truncate(this.position);
        return {};
      case TapeOpcode.LOAD_UNLOAD:
        return this.loadUnload(cdb);
      case TapeOpcode.LOCATE_10:
        return this.locate(cdb);
      case TapeOpcode.READ_POSITION:
        return { data: this.readPosition(cdb) };
      default:
        throw check(Sense.INVALID_OPCODE);
    }
  }

  private earlyWarning(m: TapeMedium): number {
    return Math.min(Math.floor(m.capacityBytes / 100), 512 * 1024 * 1024);
  }

  private async read(cdb: Buffer): Promise<Ended> {
    const m = this.medium();
    const fixed = (cdb[1]! & 0x01) !== 0;
    const sili = (cdb[1]! & 0x02) !== 0;
    const length = cdb.readUIntBE(2, 3);
    if (fixed && sili) throw invalidCdbField(1, 1);
    if (fixed && this.blockSize === 0) throw invalidCdbField(1, 0);
    if (length === 0) return {};
    if (!fixed) {
      if (this.position >= m.objectCount()) throw check(Sense.END_OF_DATA_DETECTED, { information: length });
      const object = await m.read(this.position);
      this.position++;
      if (object === 'filemark') return { condition: check(Sense.FILEMARK_DETECTED, { filemark: true, information: length }) };
      if (object.length === length || (sili && object.length < length)) return { data: object };
      return { data: object.subarray(0, length), condition: check(Sense.NO_SENSE, { incorrectLength: true, information: length - object.length }) };
    }
    const blocks: Buffer[] = [];
    for (let done = 0; done < length; done++) {
      if (this.position >= m.objectCount()) return { data: Buffer.concat(blocks), condition: check(Sense.END_OF_DATA_DETECTED, { information: length - done }) };
      const object = await m.read(this.position);
      this.position++;
      if (object === 'filemark') return { data: Buffer.concat(blocks), condition: check(Sense.FILEMARK_DETECTED, { filemark: true, information: length - done }) };
      if (object.length !== this.blockSize) {
        blocks.push(object.subarray(0, this.blockSize));
        return { data: Buffer.concat(blocks), condition: check(Sense.NO_SENSE, { incorrectLength: true, information: length - done }) };
      }
      blocks.push(object);
    }
    return { data: Buffer.concat(blocks) };
  }

  private async write(cdb: Buffer, dataOut: Buffer): Promise<Ended> {
    const m = this.writable();
    const fixed = (cdb[1]! & 0x01) !== 0;
    const length = cdb.readUIntBE(2, 3);
    if (fixed && this.blockSize === 0) throw invalidCdbField(1, 0);
    if (length === 0) return {};
    const bytes = fixed ? length * this.blockSize : length;
    if (!fixed && length > MAX_BLOCK) throw invalidCdbField(2);
    const data = dataOut.subarray(0, bytes);
    const records = fixed ? Array.from({ length }, (_, i) => data.subarray(i * this.blockSize, (i + 1) * this.blockSize)) : [data];
    if (m.bytesBefore(this.position) + data.length > m.capacityBytes) {
      throw check(Sense.VOLUME_OVERFLOW, { endOfMedium: true, information: length });
    }
    await m.write(this.position, records);
    this.position += records.length;
    return this.afterWrite(m);
  }

  private async writeFilemarks(cdb: Buffer): Promise<Ended> {
    if (cdb[1]! & 0x02) throw invalidCdbField(1, 1);
    const count = cdb.readUIntBE(2, 3);
    if (count === 0) return {};
    const m = this.writable();
    await m.writeFilemarks(this.position, count);
    this.position += count;
    return this.afterWrite(m);
  }

  /** Past the early-warning point a write succeeds and says so: EOM, NO SENSE 00/02. */
  private afterWrite(m: TapeMedium): Ended {
    if (m.bytesBefore(this.position) > m.capacityBytes - this.earlyWarning(m)) {
      return { condition: check(Sense.END_OF_PARTITION_DETECTED, { endOfMedium: true, information: 0 }) };
    }
    return {};
  }

  private space(cdb: Buffer): Ended {
    const m = this.medium();
    const code = cdb[1]! & 0x0f;
    const count = cdb.readIntBE(2, 3);
    const eod = m.objectCount();
    const marks = m.filemarks();
    const from = this.position;
    if (code === 3) {
      this.position = eod;
      return {};
    }
    if (code !== 0 && code !== 1) throw invalidCdbField(1, 3);
    if (count === 0) return {};
    if (code === 0 && count > 0) {
      const mark = filemarkFrom(marks, from);
      if (mark !== undefined && mark < from + count) {
        this.position = mark + 1;
        return { condition: check(Sense.FILEMARK_DETECTED, { filemark: true, information: count - (mark - from) }) };
      }
      if (from + count > eod) {
        this.position = eod;
        return { condition: check(Sense.END_OF_DATA_DETECTED, { information: count - (eod - from) }) };
      }
      this.position = from + count;
      return {};
    }
    if (code === 0) {
      const n = -count;
      const before = filemarksBefore(marks, from);
      const mark = before > 0 ? marks[before - 1]! : undefined;
      if (mark !== undefined && mark >= from - n) {
        this.position = mark;
        return { condition: check(Sense.FILEMARK_DETECTED, { filemark: true, information: n - (from - mark - 1) }) };
      }
      if (from - n < 0) {
        this.position = 0;
        return { condition: check(Sense.BEGINNING_OF_PARTITION_DETECTED, { endOfMedium: true, information: n - from }) };
      }
      this.position = from - n;
      return {};
    }
    const first = filemarksBefore(marks, from);
    if (count > 0) {
      const target = first + count - 1;
      if (target >= marks.length) {
        this.position = eod;
        return { condition: check(Sense.END_OF_DATA_DETECTED, { information: count - (marks.length - first) }) };
      }
      this.position = marks[target]! + 1;
      return {};
    }
    const n = -count;
    if (first - n < 0) {
      this.position = 0;
      return { condition: check(Sense.BEGINNING_OF_PARTITION_DETECTED, { endOfMedium: true, information: n - first }) };
    }
    this.position = marks[first - n]!;
    return {};
  }

  private loadUnload(cdb: Buffer): Ended {
    const load = (cdb[4]! & 0x01) !== 0;
    if (!this.seen) throw check(Sense.MEDIUM_NOT_PRESENT);
    if (!load && this.prevented) throw check(Sense.MEDIUM_REMOVAL_PREVENTED);
    this.position = 0;
    this.loaded = load;
    return {};
  }

  private locate(cdb: Buffer): Ended {
    const m = this.medium();
    if (cdb[1]! & 0x02 && cdb[8] !== 0) throw invalidCdbField(8);
    const target = cdb.readUInt32BE(3);
    if (target > m.objectCount()) {
      this.position = m.objectCount();
      return { condition: check(Sense.END_OF_DATA_DETECTED) };
    }
    this.position = target;
    return {};
  }

  private readPosition(cdb: Buffer): Buffer {
    const m = this.medium();
    const serviceAction = cdb[1]! & 0x1f;
    const flags = (this.position === 0 ? 0x80 : 0) | (m.bytesBefore(this.position) > m.capacityBytes - this.earlyWarning(m) ? 0x40 : 0);
    if (serviceAction === 0 || serviceAction === 1) {
      // Nothing is ever buffered: the first and last object positions are the same, and LOLU stays 0.
      const b = Buffer.alloc(20);
      b[0] = flags | 0x10;
      b.writeUInt32BE(this.position, 4);
      b.writeUInt32BE(this.position, 8);
      return b;
    }
    if (serviceAction === 6) {
      const b = Buffer.alloc(32);
      b[0] = flags;
      b.writeBigUInt64BE(BigInt(this.position), 8);
      b.writeBigUInt64BE(BigInt(filemarksBefore(m.filemarks(), this.position)), 16);
      return b;
    }
    throw invalidCdbField(1, 4);
  }

  private modeSense(cdb: Buffer): Buffer {
    const ten = cdb[0] === Opcode.MODE_SENSE_10;
    const dbd = (cdb[1]! & 0x08) !== 0;
    const pageControl = cdb[2]! >> 6;
    const pageCode = cdb[2]! & 0x3f;
    if (pageControl === 3) throw check(Sense.SAVING_PARAMETERS_NOT_SUPPORTED);
    const changeable = pageControl === 1;
    const compression = Buffer.alloc(16);
    compression[0] = PAGE_COMPRESSION;
    compression[1] = 0x0e;
    compression[2] = changeable ? 0x80 : (this.compression ? 0x80 : 0) | 0x40;
    compression[3] = changeable ? 0 : 0x80;
    if (!changeable) {
      compression.writeUInt32BE(1, 4);
      compression.writeUInt32BE(1, 8);
    }
    const configuration = Buffer.alloc(16);
    configuration[0] = PAGE_DEVICE_CONFIGURATION;
    configuration[1] = 0x0e;
    const pages = pageCode === 0 ? [] : pageCode === PAGE_COMPRESSION ? [compression] : pageCode === PAGE_DEVICE_CONFIGURATION ? [configuration]
      : pageCode === ALL_PAGES ? [compression, configuration] : undefined;
    if (!pages) throw invalidCdbField(2, 5);
    const descriptor = Buffer.alloc(dbd ? 0 : 8);
    if (!dbd) {
      descriptor[0] = LTO5_DENSITY;
      descriptor.writeUIntBE(changeable ? 0xffffff : this.blockSize, 5, 3);
    }
    // Buffered mode 1 (0x10); WP for a read-only tape.
    const deviceSpecific = (this.seen?.writeProtected ? 0x80 : 0) | 0x10;
    const header = Buffer.alloc(ten ? 8 : 4);
    const total = header.length + descriptor.length + pages.reduce((n, p) => n + p.length, 0);
    if (ten) {
      header.writeUInt16BE(total - 2, 0);
      header[3] = deviceSpecific;
      header.writeUInt16BE(descriptor.length, 6);
    } else {
      header[0] = total - 1;
      header[2] = deviceSpecific;
      header[3] = descriptor.length;
    }
    return truncated(Buffer.concat([header, descriptor, ...pages]), cdb);
  }

  private modeSelect(cdb: Buffer, data: Buffer): void {
    const ten = cdb[0] === Opcode.MODE_SELECT_10;
    const list = data.subarray(0, parameterListLength(cdb));
    if (list.length === 0) return;
    const headerLength = ten ? 8 : 4;
    if (list.length < headerLength) throw check(Sense.PARAMETER_LIST_LENGTH_ERROR);
    const descriptorLength = ten ? list.readUInt16BE(6) : list[3]!;
    if (descriptorLength !== 0 && descriptorLength !== 8) throw check(Sense.INVALID_FIELD_IN_PARAMETER_LIST, { field: { inCdb: false, byte: ten ? 6 : 3 } });
    if (descriptorLength === 8) {
      if (list.length < headerLength + 8) throw check(Sense.PARAMETER_LIST_LENGTH_ERROR);
      const blockSize = list.readUIntBE(headerLength + 5, 3);
      if (blockSize > MAX_BLOCK) throw check(Sense.INVALID_FIELD_IN_PARAMETER_LIST, { field: { inCdb: false, byte: headerLength + 5 } });
      this.blockSize = blockSize;
    }
    for (let at = headerLength + descriptorLength; at + 2 <= list.length;) {
      const code = list[at]! & 0x3f;
      const length = list[at + 1]! + 2;
      if (code === PAGE_COMPRESSION && at + 3 <= list.length) this.compression = (list[at + 2]! & 0x80) !== 0;
      else if (code !== PAGE_DEVICE_CONFIGURATION) throw check(Sense.INVALID_FIELD_IN_PARAMETER_LIST, { field: { inCdb: false, byte: at } });
      at += length;
    }
  }
}
