/**
 * Fixed-format sense data (SPC-4), the error a command handler throws to end its command with CHECK
 * CONDITION, and the unit attentions a logical unit keeps for each I_T nexus until it can report them.
 */

export interface SenseCode {
  readonly key: number;
  readonly asc: number;
  readonly ascq: number;
}

function code(key: number, asc: number, ascq: number): SenseCode {
  return { key, asc, ascq };
}

export const SenseKey = {
  NO_SENSE: 0x0,
  RECOVERED_ERROR: 0x1,
  NOT_READY: 0x2,
  MEDIUM_ERROR: 0x3,
  HARDWARE_ERROR: 0x4,
  ILLEGAL_REQUEST: 0x5,
  UNIT_ATTENTION: 0x6,
  DATA_PROTECT: 0x7,
  BLANK_CHECK: 0x8,
  ABORTED_COMMAND: 0xb,
  VOLUME_OVERFLOW: 0xd,
  MISCOMPARE: 0xe,
} as const;

const K = SenseKey;

export const Sense = {
  NO_SENSE: code(K.NO_SENSE, 0x00, 0x00),
  INVALID_FIELD_IN_COMMAND_IU: code(K.ILLEGAL_REQUEST, 0x0e, 0x03),
  PARAMETER_LIST_LENGTH_ERROR: code(K.ILLEGAL_REQUEST, 0x1a, 0x00),
  INVALID_OPCODE: code(K.ILLEGAL_REQUEST, 0x20, 0x00),
  LBA_OUT_OF_RANGE: code(K.ILLEGAL_REQUEST, 0x21, 0x00),
  INVALID_FIELD_IN_CDB: code(K.ILLEGAL_REQUEST, 0x24, 0x00),
  LUN_NOT_SUPPORTED: code(K.ILLEGAL_REQUEST, 0x25, 0x00),
  INVALID_FIELD_IN_PARAMETER_LIST: code(K.ILLEGAL_REQUEST, 0x26, 0x00),
  INVALID_RELEASE_OF_PERSISTENT_RESERVATION: code(K.ILLEGAL_REQUEST, 0x26, 0x04),
  SAVING_PARAMETERS_NOT_SUPPORTED: code(K.ILLEGAL_REQUEST, 0x39, 0x00),
  WRITE_PROTECTED: code(K.DATA_PROTECT, 0x27, 0x00),
  SOFTWARE_WRITE_PROTECTED: code(K.DATA_PROTECT, 0x27, 0x02),
  INTERNAL_TARGET_FAILURE: code(K.HARDWARE_ERROR, 0x44, 0x00),
  MISCOMPARE: code(K.MISCOMPARE, 0x1d, 0x00),
  POWER_ON_RESET: code(K.UNIT_ATTENTION, 0x29, 0x00),
  LU_RESET: code(K.UNIT_ATTENTION, 0x29, 0x03),
  MODE_PARAMETERS_CHANGED: code(K.UNIT_ATTENTION, 0x2a, 0x01),
  RESERVATIONS_PREEMPTED: code(K.UNIT_ATTENTION, 0x2a, 0x03),
  RESERVATIONS_RELEASED: code(K.UNIT_ATTENTION, 0x2a, 0x04),
  CAPACITY_DATA_CHANGED: code(K.UNIT_ATTENTION, 0x2a, 0x09),
  REPORTED_LUNS_DATA_CHANGED: code(K.UNIT_ATTENTION, 0x3f, 0x0e),
  // Sequential-access (tape) and medium changer conditions (SSC-3, SMC-3).
  FILEMARK_DETECTED: code(K.NO_SENSE, 0x00, 0x01),
  END_OF_PARTITION_DETECTED: code(K.NO_SENSE, 0x00, 0x02),
  BEGINNING_OF_PARTITION_DETECTED: code(K.NO_SENSE, 0x00, 0x04),
  END_OF_DATA_DETECTED: code(K.BLANK_CHECK, 0x00, 0x05),
  VOLUME_OVERFLOW: code(K.VOLUME_OVERFLOW, 0x00, 0x02),
  MEDIUM_NOT_PRESENT: code(K.NOT_READY, 0x3a, 0x00),
  MEDIUM_MAY_HAVE_CHANGED: code(K.UNIT_ATTENTION, 0x28, 0x00),
  MEDIUM_REMOVAL_PREVENTED: code(K.ILLEGAL_REQUEST, 0x53, 0x02),
  INVALID_ELEMENT_ADDRESS: code(K.ILLEGAL_REQUEST, 0x21, 0x01),
  MEDIUM_DESTINATION_FULL: code(K.ILLEGAL_REQUEST, 0x3b, 0x0d),
  MEDIUM_SOURCE_EMPTY: code(K.ILLEGAL_REQUEST, 0x3b, 0x0e),
  WRITE_ERROR: code(K.MEDIUM_ERROR, 0x0c, 0x00),
  UNRECOVERED_READ_ERROR: code(K.MEDIUM_ERROR, 0x11, 0x00),
} as const satisfies Record<string, SenseCode>;

/** Where the offending field is: the SKSV field pointer of ILLEGAL REQUEST sense. */
export interface FieldPointer {
  /** True when the field is in the CDB, false when it is in the parameter list (data-out). */
  inCdb: boolean;
  byte: number;
  /** The field's most significant bit, when it does not start a byte. */
  bit?: number;
}

export interface SenseDetails {
  /** INFORMATION: disk LBA or miscompare offset, tape residue (negative when more was done than asked). */
  information?: number;
  field?: FieldPointer;
  filemark?: boolean;
  endOfMedium?: boolean;
  incorrectLength?: boolean;
}

export const FIXED_SENSE_LENGTH = 18;

export function fixedSense(sense: SenseCode, details: SenseDetails = {}): Buffer {
  const b = Buffer.alloc(FIXED_SENSE_LENGTH);
  b[0] = 0x70;
  b[2] = (details.filemark ? 0x80 : 0) | (details.endOfMedium ? 0x40 : 0) | (details.incorrectLength ? 0x20 : 0) | (sense.key & 0x0f);
  const info = details.information;
  // INFORMATION is four bytes: a value that does not fit is left out rather than reported wrong.
  if (info !== undefined && Number.isInteger(info) && info >= -(2 ** 31) && info < 2 ** 32) {
    b[0] |= 0x80;
    if (info < 0) b.writeInt32BE(info, 3);
    else b.writeUInt32BE(info, 3);
  }
  b[7] = FIXED_SENSE_LENGTH - 8;
  b[12] = sense.asc;
  b[13] = sense.ascq;
  const field = details.field;
  if (field) {
    b[15] = 0x80 | (field.inCdb ? 0x40 : 0) | (field.bit === undefined ? 0 : 0x08 | (field.bit & 0x07));
    b.writeUInt16BE(field.byte & 0xffff, 16);
  }
  return b;
}

/** Thrown by a command handler; the logical unit answers CHECK CONDITION with this sense. */
export class ScsiCheckCondition extends Error {
  constructor(
    readonly sense: SenseCode,
    readonly details: SenseDetails = {},
  ) {
    super(`CHECK CONDITION ${sense.key.toString(16)}/${sense.asc.toString(16).padStart(2, '0')}/${sense.ascq.toString(16).padStart(2, '0')}`);
    this.name = new.target.name;
  }

  toSense(): Buffer {
    return fixedSense(this.sense, this.details);
  }
}

export function invalidCdbField(byte: number, bit?: number): ScsiCheckCondition {
  return new ScsiCheckCondition(Sense.INVALID_FIELD_IN_CDB, { field: { inCdb: true, byte, ...(bit === undefined ? {} : { bit }) } });
}

export function invalidParameterField(byte: number, bit?: number): ScsiCheckCondition {
  return new ScsiCheckCondition(Sense.INVALID_FIELD_IN_PARAMETER_LIST, { field: { inCdb: false, byte, ...(bit === undefined ? {} : { bit }) } });
}

/**
 * Unit attention conditions, queued per I_T nexus and reported oldest first. A nexus the logical unit has not
 * seen yet starts with none: it learns the unit's state from scratch anyway.
 */
export class UnitAttentions {
  private readonly pending = new Map<string, SenseCode[]>();

  /** Records the nexus so later conditions reach it. */
  see(nexus: string): void {
    if (!this.pending.has(nexus)) this.pending.set(nexus, []);
  }

  raise(nexus: string, condition: SenseCode): void {
    const queue = this.pending.get(nexus) ?? [];
    // Reporting the same condition twice tells the initiator nothing more.
    if (!queue.some((c) => c.asc === condition.asc && c.ascq === condition.ascq)) queue.push(condition);
    this.pending.set(nexus, queue);
  }

  raiseAll(condition: SenseCode, except?: string): void {
    for (const nexus of this.pending.keys()) if (nexus !== except) this.raise(nexus, condition);
  }

  /** Removes and returns the oldest pending condition of the nexus. */
  take(nexus: string): SenseCode | undefined {
    return this.pending.get(nexus)?.shift();
  }

  forget(nexus: string): void {
    this.pending.delete(nexus);
  }
}
