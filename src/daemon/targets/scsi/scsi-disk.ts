/**
 * A direct-access block device (SBC-3 disk) over a BlockBackend: decodes CDBs, checks them in SBC order, keeps
 * unit attentions and reservations per I_T nexus and always answers with a response, never an exception.
 */
import { createHash } from 'node:crypto';
import { Reservations, type Access } from './persistent-reservations.js';
import {
  blockRange,
  cdbLength,
  Opcode,
  paddedCdb,
  parameterListLength,
  ServiceAction,
  serviceAction,
  transferLengthField,
  truncated,
  type BlockRange,
} from './scsi-cdb.js';
import {
  blockDeviceCharacteristics,
  blockLimits,
  deviceIdentification,
  inquiryData,
  logicalBlockProvisioning,
  standardInquiry,
  unitSerialNumber,
  VersionDescriptor,
  vpdPage,
  VpdPage,
  type BlockLimits,
} from './scsi-inquiry.js';
import { ModePages } from './scsi-mode-pages.js';
import { fixedSense, invalidCdbField, invalidParameterField, Sense, SenseKey, ScsiCheckCondition, UnitAttentions } from './scsi-sense.js';
import { reportLunsData } from './scsi-report-luns.js';
import { ScsiStatus, type ScsiLogicalUnit, type ScsiRequest, type ScsiResponse } from './scsi-types.js';

export interface BlockBackend {
  /** A multiple of the block size. */
  readonly sizeBytes: number;
  read(offset: number, length: number): Promise<Buffer>;
  /**
   * Resolves once the data reads back; when `durable`, only once it is durable too. A write that is not durable
   * yet becomes durable at the next flush (SBC's volatile write cache).
   */
  write(offset: number, data: Buffer, durable: boolean): Promise<void>;
  /** Afterwards the range reads as zeros. */
  unmap(offset: number, length: number): Promise<void>;
  flush(): Promise<void>;
}

export interface ScsiDiskOptions {
  backend: BlockBackend;
  /** 512 (default), 1024, 2048 or 4096. */
  blockSize?: number;
  /** VPD page 0x80; it must not change across restarts (e.g. the volume id). */
  serial: string;
  /** 16-byte NAA 6 designator of the logical unit (see naaFromId). */
  naa: Buffer;
  /** The target's IQN, named in VPD page 0x83. */
  targetName: string;
  vendor?: string;
  product?: string;
  revision?: string;
  /** The LUNs REPORT LUNS lists. */
  luns?: () => number[];
  readOnly?: boolean;
}

/**
 * The project has no IEEE company id of its own: this fixed placeholder ("SGW") keeps designators stable, and the
 * 100 bits of hash after it keep them unique.
 */
const NAA_COMPANY_ID = 0x534757;

/** An NAA IEEE Registered Extended designator (NAA 6) derived from a stable id, such as the volume id. */
export function naaFromId(id: string): Buffer {
  const naa = Buffer.from(createHash('sha256').update(id).digest().subarray(0, 16));
  naa[0] = 0x60 | ((NAA_COMPANY_ID >> 20) & 0x0f);
  naa[1] = (NAA_COMPANY_ID >> 12) & 0xff;
  naa[2] = (NAA_COMPANY_ID >> 4) & 0xff;
  naa[3] = ((NAA_COMPANY_ID & 0x0f) << 4) | (naa[3]! & 0x0f);
  return naa;
}

const MiB = 2 ** 20;
const GiB = 2 ** 30;

/**
 * Block limits (VPD page 0xB0), in bytes before conversion to blocks:
 * - transfers up to 32 MiB: bounds the memory one command holds (Linux asks for far less unless told otherwise),
 *   yet lets iscsi-test-cu write its 65536 blocks of 512 bytes in one command;
 * - optimal transfer 1 MiB and unmap granularity 1 MiB: the volume engine's chunk, the unit it uploads and frees;
 * - transfer granularity 4 KiB: page-sized writes, the size file systems write anyway;
 * - UNMAP up to 512 MiB (2^20 blocks of 512 bytes, the most iscsi-test-cu deems sane) in up to 256 descriptors;
 * - WRITE SAME up to 1 GiB: zeros cost one unmap, a pattern is written 1 MiB at a time;
 * - COMPARE AND WRITE up to 255 blocks, the most its one-byte length can ask for.
 */
function limitsFor(blockSize: number): BlockLimits {
  return {
    maxCompareAndWrite: 255,
    optimalTransferGranularity: Math.max(1, 4096 / blockSize),
    maxTransfer: (32 * MiB) / blockSize,
    optimalTransfer: MiB / blockSize,
    maxUnmapBlocks: (512 * MiB) / blockSize,
    maxUnmapDescriptors: 256,
    optimalUnmapGranularity: MiB / blockSize,
    maxWriteSame: GiB / blockSize,
  };
}

/** A WRITE SAME pattern is written in pieces of this size, so no buffer grows with the range. */
const PATTERN_PIECE = MiB;
const RELATIVE_TARGET_PORT = 1;
const DEVICE_TYPE_DISK = 0x00;
const EMPTY = Buffer.alloc(0);

/** Error codes of the volume engine that mean "busy, retry": the initiator should back off, not fail the I/O. */
const BUSY_CODES: ReadonlySet<unknown> = new Set(['SGW_UPLOAD_BUFFER_FULL', 'SGW_CACHE_FULL']);

interface Command {
  readonly cdb: Buffer;
  readonly dataOut: Buffer | null;
  readonly expectedLength: number;
  readonly nexus: string;
  /** The data-out byte count the CDB asks for, once known: the transport's residual depends on it. */
  transferLength?: number;
}

/** Data-in, a status other than GOOD that carries no sense (RESERVATION CONFLICT), or nothing. */
type Outcome = Buffer | number | void;

interface CommandSpec {
  readonly opcode: number;
  readonly serviceAction?: number;
  /** REPORT SUPPORTED OPERATION CODES' CDB usage data: which CDB bits the command looks at. */
  readonly usage: readonly number[];
  /** Reservations aside, 'unrestricted' commands also answer with a unit attention pending (SAM-5). */
  readonly access: Access;
  readonly run: (c: Command) => Outcome | Promise<Outcome>;
}

/** Usage data of a block command: its flags byte, then LBA and transfer length wherever its size puts them. */
function blockUsage(opcode: number, flags: number): number[] {
  const ff = (n: number) => Array<number>(n).fill(0xff);
  switch (cdbLength(opcode)) {
    case 10:
      return [opcode, flags, ...ff(4), 0, ...ff(2), 0];
    case 12:
      return [opcode, flags, ...ff(8), 0, 0];
    default:
      return [opcode, flags, ...ff(12), 0, 0];
  }
}

function withServiceAction(usage: readonly number[], action: number): number[] {
  return usage.map((b, i) => (i === 1 ? (b & 0xe0) | action : b));
}

/** Offset of the first byte where two buffers of the same length differ, or -1. */
function firstDifference(a: Buffer, b: Buffer): number {
  // Native comparison of slices first: a byte loop over 16 MiB would hold up the event loop.
  const slice = 4096;
  for (let at = 0; at < a.length; at += slice) {
    const end = Math.min(a.length, at + slice);
    if (a.subarray(at, end).equals(b.subarray(at, end))) continue;
    let i = at;
    while (a[i] === b[i]) i++;
    return i;
  }
  return -1;
}

function isZero(data: Buffer): boolean {
  return data.every((byte) => byte === 0);
}

function hasCode(err: unknown): err is { code: unknown } {
  return typeof err === 'object' && err !== null && 'code' in err;
}

/**
 * Writes share the gate; COMPARE AND WRITE takes it alone, so nothing writes between its compare and its write.
 * Waiters are served in arrival order, so a stream of writes cannot starve a COMPARE AND WRITE.
 */
class WriteGate {
  private sharedHolders = 0;
  private exclusiveHeld = false;
  private readonly waiting: Array<{ exclusive: boolean; admit: () => void }> = [];

  async run<T>(exclusive: boolean, work: () => Promise<T>): Promise<T> {
    if (this.waiting.length === 0 && this.admits(exclusive)) this.take(exclusive);
    else await new Promise<void>((admit) => this.waiting.push({ exclusive, admit }));
    try {
      return await work();
    } finally {
      if (exclusive) this.exclusiveHeld = false;
      else this.sharedHolders--;
      this.admitWaiting();
    }
  }

  private admits(exclusive: boolean): boolean {
    return !this.exclusiveHeld && (!exclusive || this.sharedHolders === 0);
  }

  private take(exclusive: boolean): void {
    if (exclusive) this.exclusiveHeld = true;
    else this.sharedHolders++;
  }

  private admitWaiting(): void {
    for (let next = this.waiting[0]; next && this.admits(next.exclusive); next = this.waiting[0]) {
      this.waiting.shift();
      this.take(next.exclusive);
      next.admit();
    }
  }
}

export class ScsiDisk implements ScsiLogicalUnit {
  private readonly backend: BlockBackend;
  private readonly blockSize: number;
  private readonly limits: BlockLimits;
  private readonly readOnly: boolean;
  private readonly luns: () => number[];
  private readonly unitAttentions = new UnitAttentions();
  private readonly reservations: Reservations;
  private readonly modePages: ModePages;
  private readonly gate = new WriteGate();
  private readonly standard: Buffer;
  private readonly vpdPages: ReadonlyMap<number, Buffer>;
  private readonly commands: readonly CommandSpec[];
  private readonly byOpcode = new Map<number, CommandSpec[]>();

  constructor(o: ScsiDiskOptions) {
    this.backend = o.backend;
    this.blockSize = o.blockSize ?? 512;
    if (![512, 1024, 2048, 4096].includes(this.blockSize)) throw new RangeError(`unsupported block size ${this.blockSize}`);
    if (o.naa.length !== 16) throw new RangeError('the NAA designator must be 16 bytes');
    this.limits = limitsFor(this.blockSize);
    this.readOnly = o.readOnly ?? false;
    this.luns = o.luns ?? (() => [0]);
    this.reservations = new Reservations({
      relativeTargetPort: RELATIVE_TARGET_PORT,
      unitAttention: (nexus, condition) => this.unitAttentions.raise(nexus, condition),
    });
    this.modePages = new ModePages({ blockSize: this.blockSize, blocks: () => this.blocks, readOnly: this.readOnly });
    const vendor = o.vendor ?? 'SGW';
    this.standard = standardInquiry({
      deviceType: DEVICE_TYPE_DISK,
      removable: false,
      vendor,
      product: o.product ?? 'VOLUME',
      revision: o.revision ?? '0001',
      versionDescriptors: [VersionDescriptor.ISCSI, VersionDescriptor.SPC_4, VersionDescriptor.SBC_3],
    });
    const page = (code: number, body: Buffer): [number, Buffer] => [code, vpdPage(DEVICE_TYPE_DISK, code, body)];
    this.vpdPages = new Map([
      page(VpdPage.UNIT_SERIAL_NUMBER, unitSerialNumber(o.serial)),
      page(VpdPage.DEVICE_IDENTIFICATION, deviceIdentification({
        naa: o.naa,
        vendor,
        vendorSpecific: o.serial,
        targetPortName: `${o.targetName},t,0x${RELATIVE_TARGET_PORT.toString(16).padStart(4, '0')}`,
        relativeTargetPort: RELATIVE_TARGET_PORT,
      })),
      page(VpdPage.BLOCK_LIMITS, blockLimits(this.limits)),
      page(VpdPage.BLOCK_DEVICE_CHARACTERISTICS, blockDeviceCharacteristics()),
      page(VpdPage.LOGICAL_BLOCK_PROVISIONING, logicalBlockProvisioning()),
    ]);
    this.commands = this.commandTable();
    for (const spec of this.commands) this.byOpcode.set(spec.opcode, [...(this.byOpcode.get(spec.opcode) ?? []), spec]);
  }

  async execute(request: ScsiRequest): Promise<ScsiResponse> {
    const command: Command = { cdb: paddedCdb(request.cdb), dataOut: request.dataOut, expectedLength: request.expectedLength, nexus: request.nexus };
    try {
      return await this.dispatch(command);
    } catch (err) {
      return this.failure(err, command);
    }
  }

  reset(): void {
    this.reservations.dropScsi2Reservation();
    this.modePages.restoreDefaults();
    this.unitAttentions.raiseAll(Sense.LU_RESET);
  }

  nexusLost(nexus: string): void {
    this.reservations.dropScsi2Reservation(nexus);
    this.unitAttentions.forget(nexus);
  }

  /** Tells every I_T nexus about a change, e.g. CAPACITY DATA HAS CHANGED (2A/09) after a resize. */
  raiseUnitAttention(asc: number, ascq: number): void {
    this.unitAttentions.raiseAll({ key: SenseKey.UNIT_ATTENTION, asc, ascq });
  }

  private async dispatch(c: Command): Promise<ScsiResponse> {
    this.unitAttentions.see(c.nexus);
    const family = this.byOpcode.get(c.cdb[0]!);
    const hasServiceActions = family?.some((s) => s.serviceAction !== undefined) ?? false;
    const spec = family?.find((s) => !hasServiceActions || s.serviceAction === serviceAction(c.cdb));
    if (spec?.access !== 'unrestricted') {
      const attention = this.unitAttentions.take(c.nexus);
      if (attention) return { status: ScsiStatus.CHECK_CONDITION, sense: fixedSense(attention) };
    }
    // iscsi-test-cu counts an unknown service action as "not implemented" only with the pointer on byte 1.
    if (!spec) throw family ? invalidCdbField(1, 4) : new ScsiCheckCondition(Sense.INVALID_OPCODE);
    if (this.reservations.conflicts(c.nexus, spec.access)) return { status: ScsiStatus.RESERVATION_CONFLICT };
    const outcome = await spec.run(c);
    const transfer = c.transferLength === undefined ? {} : { transferLength: c.transferLength };
    if (typeof outcome === 'number') return { status: outcome, ...transfer };
    return { status: ScsiStatus.GOOD, ...(outcome ? { dataIn: outcome } : {}), ...transfer };
  }

  private failure(err: unknown, c: Command): ScsiResponse {
    const transfer = c.transferLength === undefined ? {} : { transferLength: c.transferLength };
    if (err instanceof ScsiCheckCondition) return { status: ScsiStatus.CHECK_CONDITION, sense: err.toSense(), ...transfer };
    // A full upload buffer or cache drains on its own: TASK SET FULL makes the initiator retry, where a CHECK
    // CONDITION could make Linux take the disk offline.
    if (hasCode(err) && BUSY_CODES.has(err.code)) return { status: ScsiStatus.TASK_SET_FULL, ...transfer };
    return { status: ScsiStatus.CHECK_CONDITION, sense: fixedSense(Sense.INTERNAL_TARGET_FAILURE), ...transfer };
  }

  private get blocks(): number {
    return Math.floor(this.backend.sizeBytes / this.blockSize);
  }

  private commandTable(): CommandSpec[] {
    const spec = (opcode: number, usage: number[], access: Access, run: CommandSpec['run']): CommandSpec => ({ opcode, usage, access, run });
    const action = (opcode: number, sa: number, usage: number[], access: Access, run: CommandSpec['run']): CommandSpec => ({
      opcode,
      serviceAction: sa,
      usage: withServiceAction(usage, sa),
      access,
      run,
    });
    const DPO_FUA = 0x18;
    const DPO_BYTCHK = 0x16;
    const DPO_BYTCHK_1 = 0x12; // WRITE AND VERIFY knows BYTCHK 0 and 1 only
    const IMMED = 0x02;
    const read = (c: Command) => this.read(c);
    const write = async (c: Command) => void (await this.write(c));
    const verify = (c: Command) => this.verify(c);
    const writeAndVerify = (c: Command) => this.writeAndVerify(c);
    const prefetch = (c: Command) => this.prefetch(c);
    // The whole unit is flushed, whatever range is named: fio passes bytes as the block count, and a range check
    // would fail its requests for nothing.
    const synchronizeCache = () => this.backend.flush();
    const writeSame = (c: Command) => this.writeSame(c);
    const modeSense = (c: Command) => truncated(this.modePages.sense(c.cdb), c.cdb);
    const modeSelect = (c: Command) => this.modeSelect(c);
    const reserve = (c: Command) => this.reservations.reserve(c.nexus);
    const release = (c: Command) => this.reservations.release(c.nexus);
    const readDefectData = (c: Command) => this.readDefectData(c);
    const prIn = [0, 1, 2, 3].map((sa) =>
      action(Opcode.PERSISTENT_RESERVE_IN, sa, [Opcode.PERSISTENT_RESERVE_IN, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0], 'metadata', (c) =>
        truncated(this.reservations.persistentReserveIn(c.cdb), c.cdb)),
    );
    const prOut = [0, 1, 2, 3, 4, 5, 6].map((sa) =>
      action(Opcode.PERSISTENT_RESERVE_OUT, sa, [Opcode.PERSISTENT_RESERVE_OUT, 0, 0xff, 0, 0, 0xff, 0xff, 0xff, 0xff, 0], 'metadata', (c) =>
        this.reservations.persistentReserveOut(c.cdb, c.nexus, this.dataOut(c, parameterListLength(c.cdb)))),
    );
    return [
      spec(Opcode.TEST_UNIT_READY, [Opcode.TEST_UNIT_READY, 0, 0, 0, 0, 0], 'metadata', () => undefined),
      spec(Opcode.REQUEST_SENSE, [Opcode.REQUEST_SENSE, 0x01, 0, 0, 0xff, 0], 'unrestricted', (c) => this.requestSense(c)),
      spec(Opcode.FORMAT_UNIT, [Opcode.FORMAT_UNIT, 0x10, 0, 0, 0, 0], 'write', (c) => this.formatUnit(c)),
      spec(Opcode.READ_6, [Opcode.READ_6, 0x1f, 0xff, 0xff, 0xff, 0], 'read', read),
      spec(Opcode.WRITE_6, [Opcode.WRITE_6, 0x1f, 0xff, 0xff, 0xff, 0], 'write', write),
      spec(Opcode.INQUIRY, [Opcode.INQUIRY, 0x01, 0xff, 0xff, 0xff, 0], 'unrestricted', (c) => inquiryData(c.cdb, this.standard, this.vpdPages)),
      spec(Opcode.MODE_SELECT_6, [Opcode.MODE_SELECT_6, 0x11, 0, 0, 0xff, 0], 'write', modeSelect),
      spec(Opcode.RESERVE_6, [Opcode.RESERVE_6, 0, 0, 0, 0, 0], 'scsi2', reserve),
      spec(Opcode.RELEASE_6, [Opcode.RELEASE_6, 0, 0, 0, 0, 0], 'scsi2', release),
      spec(Opcode.MODE_SENSE_6, [Opcode.MODE_SENSE_6, 0x08, 0xff, 0xff, 0xff, 0], 'read', modeSense),
      spec(Opcode.START_STOP_UNIT, [Opcode.START_STOP_UNIT, 0x01, 0, 0x0f, 0xf7, 0], 'write', () => undefined),
      spec(Opcode.SEND_DIAGNOSTIC, [Opcode.SEND_DIAGNOSTIC, 0x04, 0, 0xff, 0xff, 0], 'write', (c) => this.sendDiagnostic(c)),
      spec(Opcode.PREVENT_ALLOW_MEDIUM_REMOVAL, [Opcode.PREVENT_ALLOW_MEDIUM_REMOVAL, 0, 0, 0, 0x03, 0], 'metadata', () => undefined),
      spec(Opcode.READ_CAPACITY_10, [Opcode.READ_CAPACITY_10, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0x01, 0], 'metadata', (c) => this.readCapacity10(c)),
      spec(Opcode.READ_10, blockUsage(Opcode.READ_10, DPO_FUA), 'read', read),
      spec(Opcode.WRITE_10, blockUsage(Opcode.WRITE_10, DPO_FUA), 'write', write),
      spec(Opcode.WRITE_AND_VERIFY_10, blockUsage(Opcode.WRITE_AND_VERIFY_10, DPO_BYTCHK_1), 'write', writeAndVerify),
      spec(Opcode.VERIFY_10, blockUsage(Opcode.VERIFY_10, DPO_BYTCHK), 'read', verify),
      spec(Opcode.PRE_FETCH_10, blockUsage(Opcode.PRE_FETCH_10, IMMED), 'read', prefetch),
      // SYNCHRONIZE CACHE ignores its range, so its usage data shows only IMMED.
      spec(Opcode.SYNCHRONIZE_CACHE_10, [Opcode.SYNCHRONIZE_CACHE_10, IMMED, 0, 0, 0, 0, 0, 0, 0, 0], 'write', synchronizeCache),
      spec(Opcode.READ_DEFECT_DATA_10, [Opcode.READ_DEFECT_DATA_10, 0, 0x1f, 0, 0, 0, 0, 0xff, 0xff, 0], 'read', readDefectData),
      spec(Opcode.WRITE_SAME_10, blockUsage(Opcode.WRITE_SAME_10, 0x08), 'write', writeSame),
      spec(Opcode.UNMAP, [Opcode.UNMAP, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0], 'write', (c) => this.unmap(c)),
      spec(Opcode.MODE_SELECT_10, [Opcode.MODE_SELECT_10, 0x11, 0, 0, 0, 0, 0, 0xff, 0xff, 0], 'write', modeSelect),
      spec(Opcode.RESERVE_10, [Opcode.RESERVE_10, 0, 0, 0, 0, 0, 0, 0, 0, 0], 'scsi2', reserve),
      spec(Opcode.RELEASE_10, [Opcode.RELEASE_10, 0, 0, 0, 0, 0, 0, 0, 0, 0], 'scsi2', release),
      spec(Opcode.MODE_SENSE_10, [Opcode.MODE_SENSE_10, 0x18, 0xff, 0xff, 0, 0, 0, 0xff, 0xff, 0], 'read', modeSense),
      ...prIn,
      ...prOut,
      spec(Opcode.READ_16, blockUsage(Opcode.READ_16, DPO_FUA), 'read', read),
      spec(Opcode.COMPARE_AND_WRITE, [Opcode.COMPARE_AND_WRITE, DPO_FUA, ...Array<number>(8).fill(0xff), 0, 0, 0, 0xff, 0, 0], 'write', (c) => this.compareAndWrite(c)),
      spec(Opcode.WRITE_16, blockUsage(Opcode.WRITE_16, DPO_FUA), 'write', write),
      spec(Opcode.WRITE_AND_VERIFY_16, blockUsage(Opcode.WRITE_AND_VERIFY_16, DPO_BYTCHK_1), 'write', writeAndVerify),
      spec(Opcode.VERIFY_16, blockUsage(Opcode.VERIFY_16, DPO_BYTCHK), 'read', verify),
      spec(Opcode.PRE_FETCH_16, blockUsage(Opcode.PRE_FETCH_16, IMMED), 'read', prefetch),
      spec(Opcode.SYNCHRONIZE_CACHE_16, [Opcode.SYNCHRONIZE_CACHE_16, IMMED, ...Array<number>(14).fill(0)], 'write', synchronizeCache),
      spec(Opcode.WRITE_SAME_16, blockUsage(Opcode.WRITE_SAME_16, 0x09), 'write', writeSame),
      action(Opcode.SERVICE_ACTION_IN_16, ServiceAction.READ_CAPACITY_16, [...blockUsage(Opcode.SERVICE_ACTION_IN_16, 0).slice(0, 14), 0x01, 0], 'metadata', (c) => this.readCapacity16(c)),
      action(Opcode.SERVICE_ACTION_IN_16, ServiceAction.GET_LBA_STATUS, blockUsage(Opcode.SERVICE_ACTION_IN_16, 0), 'read', (c) => this.getLbaStatus(c)),
      spec(Opcode.REPORT_LUNS, [Opcode.REPORT_LUNS, 0, 0xff, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0], 'unrestricted', (c) => reportLunsData(c.cdb, this.luns)),
      action(Opcode.MAINTENANCE_IN, ServiceAction.REPORT_SUPPORTED_OPERATION_CODES, [Opcode.MAINTENANCE_IN, 0, 0x87, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0], 'metadata', (c) =>
        truncated(this.reportSupportedOperationCodes(c.cdb), c.cdb)),
      spec(Opcode.READ_12, blockUsage(Opcode.READ_12, DPO_FUA), 'read', read),
      spec(Opcode.WRITE_12, blockUsage(Opcode.WRITE_12, DPO_FUA), 'write', write),
      spec(Opcode.WRITE_AND_VERIFY_12, blockUsage(Opcode.WRITE_AND_VERIFY_12, DPO_BYTCHK_1), 'write', writeAndVerify),
      spec(Opcode.VERIFY_12, blockUsage(Opcode.VERIFY_12, DPO_BYTCHK), 'read', verify),
      spec(Opcode.READ_DEFECT_DATA_12, [Opcode.READ_DEFECT_DATA_12, 0x1f, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0], 'read', readDefectData),
    ];
  }

  /**
   * The data to write: all the CDB asks for, or only what the initiator sent when its expected transfer length is
   * shorter (FCP-4's choice (a); the transport reports the rest as residual). Never more than was sent, even if
   * that ends inside a block: iscsi-test-cu's WRITE AND VERIFY residual tests, and its reservation tests on
   * 4096-byte blocks (which send 512 bytes), accept nothing else.
   */
  private writeData(c: Command, length: number): Buffer {
    c.transferLength = length;
    return (c.dataOut ?? EMPTY).subarray(0, length);
  }

  /** A parameter list or data to compare: all the CDB asks for, or the command is refused. */
  private dataOut(c: Command, length: number): Buffer {
    c.transferLength = length;
    const data = c.dataOut ?? EMPTY;
    if (data.length < length) throw new ScsiCheckCondition(Sense.INVALID_FIELD_IN_COMMAND_IU);
    return data.subarray(0, length);
  }

  /** Protection information is not supported: RDPROTECT/WRPROTECT/VRPROTECT must be 0. */
  private checkNoProtection(cdb: Buffer): void {
    if (cdb[1]! & 0xe0) throw invalidCdbField(1, 7);
  }

  private checkWritable(): void {
    if (this.readOnly) throw new ScsiCheckCondition(Sense.WRITE_PROTECTED);
    if (this.modePages.softwareWriteProtected) throw new ScsiCheckCondition(Sense.SOFTWARE_WRITE_PROTECTED);
  }

  /**
   * Bytes of a block range after the range check (past the end, or starting at or past it even for 0 blocks:
   * LBA OUT OF RANGE) and the length check against `maxBlocks` (INVALID FIELD IN CDB).
   */
  private bytesOf(cdb: Buffer, range: BlockRange, maxBlocks: number): { offset: number; length: number } {
    const capacity = BigInt(this.blocks);
    if (range.lba >= capacity || range.lba + BigInt(range.blocks) > capacity) throw new ScsiCheckCondition(Sense.LBA_OUT_OF_RANGE);
    if (range.blocks > maxBlocks) throw invalidCdbField(transferLengthField(cdb));
    return { offset: Number(range.lba) * this.blockSize, length: range.blocks * this.blockSize };
  }

  private async read(c: Command): Promise<Buffer> {
    this.checkNoProtection(c.cdb);
    const { offset, length } = this.bytesOf(c.cdb, blockRange(c.cdb), this.limits.maxTransfer);
    return length === 0 ? EMPTY : this.backend.read(offset, length);
  }

  /** WRITE 6/10/12/16 and the write half of WRITE AND VERIFY, which writes to the medium whatever WCE says. */
  private async write(c: Command, durable = this.durableWrite(c.cdb)): Promise<{ offset: number; data: Buffer }> {
    this.checkNoProtection(c.cdb);
    this.checkWritable();
    const { offset, length } = this.bytesOf(c.cdb, blockRange(c.cdb), this.limits.maxTransfer);
    const data = this.writeData(c, length);
    if (data.length > 0) await this.gate.run(false, () => this.backend.write(offset, data, durable));
    return { offset, data };
  }

  /** With the write cache off, or FUA set (WRITE 10/12/16, COMPARE AND WRITE), the write is durable before GOOD. */
  private durableWrite(cdb: Buffer): boolean {
    const fua = cdb[0] !== Opcode.WRITE_6 && cdb[0] !== Opcode.WRITE_SAME_10 && cdb[0] !== Opcode.WRITE_SAME_16 && (cdb[1]! & 0x08) !== 0;
    return fua || !this.modePages.writeCacheEnabled;
  }

  private async writeAndVerify(c: Command): Promise<void> {
    const byteCheck = (c.cdb[1]! >> 1) & 0x03;
    if (byteCheck > 1) throw invalidCdbField(1, 2);
    const { offset, data } = await this.write(c, true);
    if (byteCheck === 1 && data.length > 0) this.compare(await this.backend.read(offset, data.length), data);
  }

  /** BYTCHK 0: the medium is fine by definition; 1: compare with data-out; 3: compare each block with one block. */
  private async verify(c: Command): Promise<void> {
    this.checkNoProtection(c.cdb);
    const byteCheck = (c.cdb[1]! >> 1) & 0x03;
    if (byteCheck === 2) throw invalidCdbField(1, 2);
    const { offset, length } = this.bytesOf(c.cdb, blockRange(c.cdb), this.limits.maxTransfer);
    if (byteCheck === 0) return;
    const expected = this.dataOut(c, byteCheck === 1 ? length : Math.min(length, this.blockSize));
    if (length === 0) return;
    const actual = await this.backend.read(offset, length);
    this.compare(actual, byteCheck === 1 ? expected : Buffer.alloc(length, expected));
  }

  private compare(actual: Buffer, expected: Buffer): void {
    const at = firstDifference(actual, expected);
    if (at >= 0) throw new ScsiCheckCondition(Sense.MISCOMPARE, { information: at });
  }

  private prefetch(c: Command): void {
    // There is no maximum pre-fetch length (VPD 0xB0 reports 0): the range is all there is to check.
    this.bytesOf(c.cdb, blockRange(c.cdb), Infinity);
  }

  /** Compares, then writes, with no write in between; on a miscompare nothing is written. */
  private async compareAndWrite(c: Command): Promise<void> {
    this.checkNoProtection(c.cdb);
    this.checkWritable();
    const { offset, length } = this.bytesOf(c.cdb, blockRange(c.cdb), this.limits.maxCompareAndWrite);
    c.transferLength = 2 * length;
    // Data-out of another size than the NUMBER OF LOGICAL BLOCKS says makes that field wrong (as iscsi-test-cu
    // sees it when it asks for 256 blocks, which the one-byte field holds as 0).
    if (c.expectedLength !== 2 * length) throw invalidCdbField(13);
    const data = this.dataOut(c, 2 * length);
    if (length === 0) return;
    await this.gate.run(true, async () => {
      this.compare(await this.backend.read(offset, length), data.subarray(0, length));
      await this.backend.write(offset, data.subarray(length), this.durableWrite(c.cdb));
    });
  }

  /**
   * WRITE SAME 10/16. A transfer length of 0 means "to the end of the medium". With the UNMAP bit the range is
   * unmapped and reads as zeros (LBPRZ) whatever the block holds, as iscsi-test-cu expects; zeros (including NDOB)
   * are unmapped too, since the result is the same and costs nothing. Any other pattern is written piece by piece.
   */
  private async writeSame(c: Command): Promise<void> {
    const flags = c.cdb[1]!;
    const unmapRequested = (flags & 0x08) !== 0;
    const noDataOut = c.cdb[0] === Opcode.WRITE_SAME_16 && (flags & 0x01) !== 0;
    this.checkNoProtection(c.cdb);
    // ANCHOR needs anchored blocks (ANC_SUP=0); PBDATA/LBDATA (bits 2-1) are obsolete.
    if (flags & 0x10) throw invalidCdbField(1, 4);
    if (flags & 0x06) throw invalidCdbField(1, 2);
    this.checkWritable();
    const range = blockRange(c.cdb);
    const capacity = BigInt(this.blocks);
    if (range.lba >= capacity) throw new ScsiCheckCondition(Sense.LBA_OUT_OF_RANGE);
    const blocks = range.blocks === 0 ? Number(capacity - range.lba) : range.blocks;
    const { offset, length } = this.bytesOf(c.cdb, { lba: range.lba, blocks }, this.limits.maxWriteSame);
    if (!noDataOut && c.expectedLength !== this.blockSize) {
      c.transferLength = this.blockSize;
      throw new ScsiCheckCondition(Sense.PARAMETER_LIST_LENGTH_ERROR);
    }
    const pattern: Buffer = noDataOut ? Buffer.alloc(this.blockSize) : this.dataOut(c, this.blockSize);
    await this.gate.run(false, async () => {
      if (unmapRequested || isZero(pattern)) {
        await this.backend.unmap(offset, length);
        return;
      }
      const piece = Buffer.alloc(Math.min(length, PATTERN_PIECE), pattern);
      for (let done = 0; done < length; done += piece.length) {
        await this.backend.write(offset + done, piece.subarray(0, Math.min(piece.length, length - done)), this.durableWrite(c.cdb));
      }
    });
  }

  private async unmap(c: Command): Promise<void> {
    if (c.cdb[1]! & 0x01) throw invalidCdbField(1, 0);
    this.checkWritable();
    const listLength = parameterListLength(c.cdb);
    const list = this.dataOut(c, listLength);
    if (listLength === 0) return;
    if (listLength < 8) throw new ScsiCheckCondition(Sense.PARAMETER_LIST_LENGTH_ERROR);
    // A partial last descriptor is ignored (SBC-3).
    const count = Math.floor(Math.min(list.readUInt16BE(2), listLength - 8) / 16);
    if (count > this.limits.maxUnmapDescriptors) throw invalidParameterField(2);
    const capacity = BigInt(this.blocks);
    const ranges: Array<{ offset: number; length: number }> = [];
    let total = 0;
    for (let i = 0; i < count; i++) {
      const at = 8 + 16 * i;
      const lba = list.readBigUInt64BE(at);
      const blocks = list.readUInt32BE(at + 8);
      if (lba + BigInt(blocks) > capacity) throw new ScsiCheckCondition(Sense.LBA_OUT_OF_RANGE);
      total += blocks;
      if (total > this.limits.maxUnmapBlocks) throw invalidParameterField(at + 8);
      if (blocks > 0) ranges.push({ offset: Number(lba) * this.blockSize, length: blocks * this.blockSize });
    }
    await this.gate.run(false, async () => {
      for (const r of ranges) await this.backend.unmap(r.offset, r.length);
    });
  }

  private readCapacity10(c: Command): Buffer {
    // Without PMI the LBA field must be zero (SBC-3).
    if (!(c.cdb[8]! & 0x01) && c.cdb.readUInt32BE(2) !== 0) throw invalidCdbField(2);
    const b = Buffer.alloc(8);
    b.writeUInt32BE(Math.min(this.blocks - 1, 0xffffffff), 0);
    b.writeUInt32BE(this.blockSize, 4);
    return b;
  }

  private readCapacity16(c: Command): Buffer {
    if (!(c.cdb[14]! & 0x01) && c.cdb.readBigUInt64BE(2) !== 0n) throw invalidCdbField(2);
    const b = Buffer.alloc(32);
    b.writeBigUInt64BE(BigInt(this.blocks - 1), 0);
    b.writeUInt32BE(this.blockSize, 8);
    // LBPPBE 0: one logical block per physical block. LBPME: thin provisioned; LBPRZ: unmapped reads zeros.
    b[14] = 0x80 | 0x40;
    return truncated(b, c.cdb);
  }

  /**
   * One descriptor, "mapped", from the starting LBA to the end: the backend does not say which ranges are
   * allocated, and an unmapped range reads as zeros either way.
   */
  private getLbaStatus(c: Command): Buffer {
    const lba = c.cdb.readBigUInt64BE(2);
    const capacity = BigInt(this.blocks);
    if (lba >= capacity) throw new ScsiCheckCondition(Sense.LBA_OUT_OF_RANGE);
    const b = Buffer.alloc(24);
    b.writeUInt32BE(20, 0);
    b.writeBigUInt64BE(lba, 8);
    b.writeUInt32BE(Number(capacity - lba > 0xffffffffn ? 0xffffffffn : capacity - lba), 16);
    return truncated(b, c.cdb);
  }

  private requestSense(c: Command): Buffer {
    // DESC asks for descriptor-format sense, which this unit does not produce.
    if (c.cdb[1]! & 0x01) throw invalidCdbField(1, 0);
    return truncated(fixedSense(this.unitAttentions.take(c.nexus) ?? Sense.NO_SENSE), c.cdb);
  }

  private modeSelect(c: Command): void {
    if (this.modePages.select(c.cdb, this.dataOut(c, parameterListLength(c.cdb)))) {
      this.unitAttentions.raiseAll(Sense.MODE_PARAMETERS_CHANGED, c.nexus);
    }
  }

  private formatUnit(c: Command): void {
    // There is nothing to format; a format parameter list (FMTDATA) would ask for options that do not exist.
    if (c.cdb[1]! & 0x10) throw invalidCdbField(1, 4);
    this.checkWritable();
  }

  private sendDiagnostic(c: Command): void {
    // Self-tests pass trivially; diagnostic pages are not supported.
    if (parameterListLength(c.cdb) > 0) throw invalidCdbField(3);
  }

  /** An empty defect list, in the format asked for. */
  private readDefectData(c: Command): Buffer {
    const ten = c.cdb[0] === Opcode.READ_DEFECT_DATA_10;
    const header = Buffer.alloc(ten ? 4 : 8);
    header[1] = (ten ? c.cdb[2]! : c.cdb[1]!) & 0x1f;
    return truncated(header, c.cdb);
  }

  /** REPORT SUPPORTED OPERATION CODES (SPC-4): all commands, or one command with its CDB usage data. */
  private reportSupportedOperationCodes(cdb: Buffer): Buffer {
    const timeouts = (cdb[2]! & 0x80) !== 0;
    const option = cdb[2]! & 0x07;
    // A command timeouts descriptor with both timeouts 0: none is specified.
    const timeoutsDescriptor = timeouts ? Buffer.from([0, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) : EMPTY;
    if (option === 0) {
      const list = Buffer.concat(this.commands.map((s) => {
        const d = Buffer.alloc(8);
        d[0] = s.opcode;
        d.writeUInt16BE(s.serviceAction ?? 0, 2);
        d[5] = (timeouts ? 0x02 : 0) | (s.serviceAction === undefined ? 0 : 0x01);
        d.writeUInt16BE(s.usage.length, 6);
        return Buffer.concat([d, timeoutsDescriptor]);
      }));
      const header = Buffer.alloc(4);
      header.writeUInt32BE(list.length, 0);
      return Buffer.concat([header, list]);
    }
    if (option > 3) throw invalidCdbField(2, 2);
    const family = this.byOpcode.get(cdb[3]!);
    const hasServiceActions = family?.some((s) => s.serviceAction !== undefined) ?? false;
    // Option 1 names an opcode without service actions, option 2 one with; option 3 either.
    if ((option === 1 && hasServiceActions) || (option === 2 && family && !hasServiceActions)) throw invalidCdbField(3);
    const spec = hasServiceActions ? family?.find((s) => s.serviceAction === cdb.readUInt16BE(4)) : family?.[0];
    if (!spec) return Buffer.from([0, 0x01, 0, 0]);
    const d = Buffer.alloc(4);
    d[1] = (timeouts ? 0x80 : 0) | 0x03;
    d.writeUInt16BE(spec.usage.length, 2);
    return Buffer.concat([d, Buffer.from(spec.usage), timeoutsDescriptor]);
  }
}
