/**
 * A medium changer (SMC-3, peripheral device type 8) over a ChangerBackend, presented as an STK L700 so that
 * Linux ch, mtx and Bacula's mtx-changer drive it like the library they know. Like the disk it decodes CDBs,
 * keeps unit attentions per I_T nexus and always answers with a response, never an exception.
 */
import { Opcode, paddedCdb, truncated } from './scsi-cdb.js';
import { ChangerMoveRefused, type ChangerBackend, type ChangerElement, type MoveRefusal } from './scsi-changer-backend.js';
import { elementStatusData } from './scsi-changer-element-status.js';
import { changerModeSense } from './scsi-changer-mode-pages.js';
import { deviceIdentification, inquiryData, standardInquiry, unitSerialNumber, VersionDescriptor, vpdPage, VpdPage } from './scsi-inquiry.js';
import { fixedSense, invalidCdbField, ScsiCheckCondition, Sense, SenseKey, UnitAttentions, type SenseCode } from './scsi-sense.js';
import { reportLunsData } from './scsi-report-luns.js';
import { ScsiStatus, type ScsiLogicalUnit, type ScsiRequest, type ScsiResponse } from './scsi-types.js';

export { ChangerMoveRefused, type ChangerBackend, type ChangerElement, type ElementType, type MoveRefusal } from './scsi-changer-backend.js';

export interface ScsiChangerOptions {
  backend: ChangerBackend;
  /** VPD page 0x80; it must not change across restarts. */
  serial: string;
  /** 16-byte NAA 6 designator of the logical unit (see naaFromId). */
  naa: Buffer;
  /** The target's IQN, named in VPD page 0x83. */
  targetName: string;
  /** The serial number of the drive at a data transfer element, which READ ELEMENT STATUS gives with DVCID. */
  driveSerial?: (address: number) => string | undefined;
  /** The LUNs REPORT LUNS lists. */
  luns?: () => number[];
}

/** The changer commands of SMC-3 this unit knows, beside the SPC ones in Opcode. */
const ChangerOpcode = {
  INITIALIZE_ELEMENT_STATUS: 0x07,
  POSITION_TO_ELEMENT: 0x2b,
  INITIALIZE_ELEMENT_STATUS_WITH_RANGE: 0x37,
  MOVE_MEDIUM: 0xa5,
  READ_ELEMENT_STATUS: 0xb8,
} as const;

/** The identity of the library the initiators' tools are used to. */
const VENDOR = 'STK';
const PRODUCT = 'L700';
const REVISION = '0105';
const SMC_3 = 0x0480;
const DEVICE_TYPE_CHANGER = 0x08;
const RELATIVE_TARGET_PORT = 1;
const MAX_ELEMENT_TYPE_CODE = 4;

const REFUSAL_SENSE: Readonly<Record<MoveRefusal, SenseCode>> = {
  'source-empty': Sense.MEDIUM_SOURCE_EMPTY,
  'destination-full': Sense.MEDIUM_DESTINATION_FULL,
  'bad-address': Sense.INVALID_ELEMENT_ADDRESS,
  'removal-prevented': Sense.MEDIUM_REMOVAL_PREVENTED,
};

interface Command {
  /** INQUIRY, REPORT LUNS and REQUEST SENSE answer even with a unit attention pending (SAM-5). */
  readonly unrestricted?: boolean;
  readonly run: (cdb: Buffer, nexus: string) => Buffer | void | Promise<Buffer | void>;
}

function invalidElementAddress(byte: number): ScsiCheckCondition {
  return new ScsiCheckCondition(Sense.INVALID_ELEMENT_ADDRESS, { field: { inCdb: true, byte } });
}

export class ScsiChanger implements ScsiLogicalUnit {
  private readonly backend: ChangerBackend;
  private readonly driveSerial: (address: number) => string | undefined;
  private readonly luns: () => number[];
  private readonly unitAttentions = new UnitAttentions();
  private readonly standard: Buffer;
  private readonly vpdPages: ReadonlyMap<number, Buffer>;
  private readonly commands: ReadonlyMap<number, Command>;

  constructor(o: ScsiChangerOptions) {
    if (o.naa.length !== 16) throw new RangeError('the NAA designator must be 16 bytes');
    this.backend = o.backend;
    this.driveSerial = o.driveSerial ?? (() => undefined);
    this.luns = o.luns ?? (() => [0]);
    this.standard = standardInquiry({
      deviceType: DEVICE_TYPE_CHANGER,
      removable: true,
      vendor: VENDOR,
      product: PRODUCT,
      revision: REVISION,
      versionDescriptors: [VersionDescriptor.ISCSI, VersionDescriptor.SPC_4, SMC_3],
    });
    const page = (code: number, body: Buffer): [number, Buffer] => [code, vpdPage(DEVICE_TYPE_CHANGER, code, body)];
    this.vpdPages = new Map([
      page(VpdPage.UNIT_SERIAL_NUMBER, unitSerialNumber(o.serial)),
      page(VpdPage.DEVICE_IDENTIFICATION, deviceIdentification({
        naa: o.naa,
        vendor: VENDOR,
        vendorSpecific: o.serial,
        targetPortName: `${o.targetName},t,0x${RELATIVE_TARGET_PORT.toString(16).padStart(4, '0')}`,
        relativeTargetPort: RELATIVE_TARGET_PORT,
      })),
    ]);
    this.commands = this.commandTable();
  }

  async execute(request: ScsiRequest): Promise<ScsiResponse> {
    const cdb = paddedCdb(request.cdb);
    try {
      return await this.dispatch(cdb, request.nexus);
    } catch (err) {
      if (err instanceof ScsiCheckCondition) return { status: ScsiStatus.CHECK_CONDITION, sense: err.toSense() };
      return { status: ScsiStatus.CHECK_CONDITION, sense: fixedSense(Sense.INTERNAL_TARGET_FAILURE) };
    }
  }

  reset(): void {
    this.unitAttentions.raiseAll(Sense.LU_RESET);
  }

  nexusLost(nexus: string): void {
    this.unitAttentions.forget(nexus);
  }

  /** Tells every I_T nexus about a change, e.g. MEDIUM MAY HAVE CHANGED (28/00) when tapes come or go. */
  raiseUnitAttention(asc: number, ascq: number): void {
    this.unitAttentions.raiseAll({ key: SenseKey.UNIT_ATTENTION, asc, ascq });
  }

  private async dispatch(cdb: Buffer, nexus: string): Promise<ScsiResponse> {
    this.unitAttentions.see(nexus);
    const command = this.commands.get(cdb[0]!);
    if (!command?.unrestricted) {
      const attention = this.unitAttentions.take(nexus);
      if (attention) return { status: ScsiStatus.CHECK_CONDITION, sense: fixedSense(attention) };
    }
    if (!command) throw new ScsiCheckCondition(Sense.INVALID_OPCODE);
    const data = await command.run(cdb, nexus);
    return data ? { status: ScsiStatus.GOOD, dataIn: data } : { status: ScsiStatus.GOOD };
  }

  private commandTable(): Map<number, Command> {
    const nothing = () => undefined;
    const modeSense = (cdb: Buffer) => truncated(changerModeSense(cdb, this.backend.elements()), cdb);
    return new Map<number, Command>([
      [Opcode.TEST_UNIT_READY, { run: nothing }],
      [Opcode.REQUEST_SENSE, { unrestricted: true, run: (cdb, nexus) => this.requestSense(cdb, nexus) }],
      [ChangerOpcode.INITIALIZE_ELEMENT_STATUS, { run: nothing }],
      [Opcode.INQUIRY, { unrestricted: true, run: (cdb) => inquiryData(cdb, this.standard, this.vpdPages) }],
      [Opcode.MODE_SENSE_6, { run: modeSense }],
      // There is no door to lock: the mailslots are virtual.
      [Opcode.PREVENT_ALLOW_MEDIUM_REMOVAL, { run: nothing }],
      [ChangerOpcode.POSITION_TO_ELEMENT, { run: (cdb) => this.positionToElement(cdb) }],
      [ChangerOpcode.INITIALIZE_ELEMENT_STATUS_WITH_RANGE, { run: nothing }],
      [Opcode.MODE_SENSE_10, { run: modeSense }],
      [Opcode.REPORT_LUNS, { unrestricted: true, run: (cdb) => reportLunsData(cdb, this.luns) }],
      [ChangerOpcode.MOVE_MEDIUM, { run: (cdb) => this.moveMedium(cdb) }],
      [ChangerOpcode.READ_ELEMENT_STATUS, { run: (cdb) => this.readElementStatus(cdb) }],
    ]);
  }

  private requestSense(cdb: Buffer, nexus: string): Buffer {
    // DESC asks for descriptor-format sense, which this unit does not produce.
    if (cdb[1]! & 0x01) throw invalidCdbField(1, 0);
    return truncated(fixedSense(this.unitAttentions.take(nexus) ?? Sense.NO_SENSE), cdb);
  }

  /** Bits 7-5 of byte 1 are the old LUN field, which Linux ch still fills in: only the low bits count. */
  private readElementStatus(cdb: Buffer): Buffer {
    const typeCode = cdb[1]! & 0x0f;
    if (typeCode > MAX_ELEMENT_TYPE_CODE) throw invalidCdbField(1, 3);
    const data = elementStatusData(
      this.backend.elements(),
      { typeCode, volumeTags: (cdb[1]! & 0x10) !== 0, start: cdb.readUInt16BE(2), count: cdb.readUInt16BE(4), deviceIds: (cdb[6]! & 0x01) !== 0 },
      this.driveSerial,
    );
    // Only the transfer is cut: the counts in the data stay those of the whole report, so mtx can ask again.
    return data.subarray(0, cdb.readUIntBE(7, 3));
  }

  /** The transport address may be 0, "the default transport", or that of a transport element. */
  private checkTransport(elements: readonly ChangerElement[], cdb: Buffer): void {
    const transport = cdb.readUInt16BE(2);
    if (transport !== 0 && !elements.some((e) => e.type === 'transport' && e.address === transport)) throw invalidElementAddress(2);
  }

  private checkElement(elements: readonly ChangerElement[], cdb: Buffer, byte: number): number {
    const address = cdb.readUInt16BE(byte);
    if (!elements.some((e) => e.address === address)) throw invalidElementAddress(byte);
    return address;
  }

  /** Nothing to position: the robot is virtual. The addresses are checked all the same. */
  private positionToElement(cdb: Buffer): void {
    if (cdb[8]! & 0x01) throw invalidCdbField(8, 0);
    const elements = this.backend.elements();
    this.checkTransport(elements, cdb);
    this.checkElement(elements, cdb, 4);
  }

  private async moveMedium(cdb: Buffer): Promise<void> {
    // No medium has two sides to turn.
    if (cdb[10]! & 0x01) throw invalidCdbField(10, 0);
    const elements = this.backend.elements();
    this.checkTransport(elements, cdb);
    const source = this.checkElement(elements, cdb, 4);
    const destination = this.checkElement(elements, cdb, 6);
    try {
      await this.backend.move(source, destination);
    } catch (err) {
      // A reason outside MoveRefusal can only come from untyped code: it is a hardware error like any other.
      const refusal = err instanceof ChangerMoveRefused ? REFUSAL_SENSE[err.reason] : undefined;
      throw refusal ? new ScsiCheckCondition(refusal) : err;
    }
  }
}
