/**
 * iSCSI PDU layouts (RFC 7143 §11): the Basic Header Segment of every PDU an initiator sends, decoded into typed
 * requests, and the header of every PDU this target sends. Bytes 24-35 of a target PDU (StatSN, ExpCmdSN, MaxCmdSN)
 * and its DataSegmentLength are left for the sender to stamp when the PDU goes on the wire, so they are always current.
 */
import { ProtocolError } from './protocol-error.js';

export const BHS_LENGTH = 48;
/** The Initiator/Target Task Tag value that means "none". */
export const RESERVED_TAG = 0xffffffff;

export const Opcode = {
  NOP_OUT: 0x00,
  SCSI_COMMAND: 0x01,
  TASK_MANAGEMENT: 0x02,
  LOGIN: 0x03,
  TEXT: 0x04,
  DATA_OUT: 0x05,
  LOGOUT: 0x06,
  SNACK: 0x10,
  NOP_IN: 0x20,
  SCSI_RESPONSE: 0x21,
  TASK_MANAGEMENT_RESPONSE: 0x22,
  LOGIN_RESPONSE: 0x23,
  TEXT_RESPONSE: 0x24,
  DATA_IN: 0x25,
  LOGOUT_RESPONSE: 0x26,
  R2T: 0x31,
  ASYNC_MESSAGE: 0x32,
  REJECT: 0x3f,
} as const;

export const RejectReason = {
  DATA_DIGEST_ERROR: 0x02,
  PROTOCOL_ERROR: 0x04,
  COMMAND_NOT_SUPPORTED: 0x05,
  INVALID_PDU_FIELD: 0x09,
} as const;

const IMMEDIATE = 0x40;
const FINAL = 0x80;
const CONTINUE = 0x40;
const READ = 0x40;
const WRITE = 0x20;
const STATUS_PRESENT = 0x01;
const UNDERFLOW = 0x02;
const OVERFLOW = 0x04;

/** A PDU as framed off the wire; `data` excludes the padding. */
export interface RawPdu {
  bhs: Buffer;
  ahs: Buffer;
  data: Buffer;
  /** False when a negotiated data digest did not match (header digest errors never get this far). */
  dataDigestOk: boolean;
}

interface RequestBase {
  raw: RawPdu;
  immediate: boolean;
  itt: number;
}

export interface ScsiCommandRequest extends RequestBase {
  kind: 'scsi-command';
  /** No unsolicited Data-Out follows this command. */
  final: boolean;
  read: boolean;
  write: boolean;
  lun: Buffer;
  expectedLength: number;
  cmdSN: number;
  /** Bytes 32-47 plus any extended CDB from the AHS. */
  cdb: Buffer;
  /** A bidirectional-read-length AHS was present. */
  bidirectional: boolean;
  data: Buffer;
}

export interface DataOutRequest extends RequestBase {
  kind: 'data-out';
  final: boolean;
  ttt: number;
  dataSN: number;
  bufferOffset: number;
  data: Buffer;
}

export interface NopOutRequest extends RequestBase {
  kind: 'nop-out';
  lun: Buffer;
  ttt: number;
  cmdSN: number;
  data: Buffer;
}

export interface LoginRequest extends RequestBase {
  kind: 'login';
  transit: boolean;
  continue: boolean;
  csg: number;
  nsg: number;
  versionMax: number;
  versionMin: number;
  isid: Buffer;
  tsih: number;
  cid: number;
  cmdSN: number;
  expStatSN: number;
  data: Buffer;
}

export interface TextRequest extends RequestBase {
  kind: 'text';
  final: boolean;
  continue: boolean;
  ttt: number;
  cmdSN: number;
  data: Buffer;
}

export interface TaskManagementRequest extends RequestBase {
  kind: 'task-management';
  fn: number;
  lun: Buffer;
  referencedTaskTag: number;
  cmdSN: number;
  refCmdSN: number;
}

export interface LogoutRequest extends RequestBase {
  kind: 'logout';
  reason: number;
  cid: number;
  cmdSN: number;
}

/** SNACK (error recovery level 1+) or an opcode an initiator may not send. */
export interface UnsupportedRequest extends RequestBase {
  kind: 'snack' | 'unsupported';
  opcode: number;
}

export type InitiatorPdu =
  | ScsiCommandRequest | DataOutRequest | NopOutRequest | LoginRequest | TextRequest | TaskManagementRequest
  | LogoutRequest | UnsupportedRequest;

/** PDUs that carry a CmdSN and, unless immediate, run in CmdSN order. */
export type SequencedRequest = ScsiCommandRequest | NopOutRequest | TextRequest | TaskManagementRequest | LogoutRequest;

// Object literals rather than spreads: this runs for every PDU, and V8 builds literals far faster.
export function decodeRequest(raw: RawPdu): InitiatorPdu {
  const { bhs, data } = raw;
  const immediate = (bhs[0]! & IMMEDIATE) !== 0;
  const itt = bhs.readUInt32BE(16);
  const flags = bhs[1]!;
  const final = (flags & FINAL) !== 0;
  const opcode = bhs[0]! & 0x3f;
  switch (opcode) {
    case Opcode.SCSI_COMMAND: {
      const { cdb, bidirectional } = commandDescriptor(bhs, raw.ahs);
      return {
        kind: 'scsi-command', raw, immediate, itt, final, read: (flags & READ) !== 0, write: (flags & WRITE) !== 0,
        lun: bhs.subarray(8, 16), expectedLength: bhs.readUInt32BE(20), cmdSN: bhs.readUInt32BE(24), cdb, bidirectional, data,
      };
    }
    case Opcode.DATA_OUT:
      return { kind: 'data-out', raw, immediate, itt, final, ttt: bhs.readUInt32BE(20), dataSN: bhs.readUInt32BE(36), bufferOffset: bhs.readUInt32BE(40), data };
    case Opcode.NOP_OUT:
      return { kind: 'nop-out', raw, immediate, itt, lun: bhs.subarray(8, 16), ttt: bhs.readUInt32BE(20), cmdSN: bhs.readUInt32BE(24), data };
    case Opcode.LOGIN:
      return {
        kind: 'login', raw, immediate, itt, transit: final, continue: (flags & CONTINUE) !== 0, csg: (flags >> 2) & 3, nsg: flags & 3,
        versionMax: bhs[2]!, versionMin: bhs[3]!, isid: bhs.subarray(8, 14), tsih: bhs.readUInt16BE(14), cid: bhs.readUInt16BE(20),
        cmdSN: bhs.readUInt32BE(24), expStatSN: bhs.readUInt32BE(28), data,
      };
    case Opcode.TEXT:
      return { kind: 'text', raw, immediate, itt, final, continue: (flags & CONTINUE) !== 0, ttt: bhs.readUInt32BE(20), cmdSN: bhs.readUInt32BE(24), data };
    case Opcode.TASK_MANAGEMENT:
      return {
        kind: 'task-management', raw, immediate, itt, fn: flags & 0x7f, lun: bhs.subarray(8, 16), referencedTaskTag: bhs.readUInt32BE(20),
        cmdSN: bhs.readUInt32BE(24), refCmdSN: bhs.readUInt32BE(32),
      };
    case Opcode.LOGOUT:
      return { kind: 'logout', raw, immediate, itt, reason: flags & 0x7f, cid: bhs.readUInt16BE(20), cmdSN: bhs.readUInt32BE(24) };
    case Opcode.SNACK:
      return { kind: 'snack', raw, immediate, itt, opcode };
    default:
      return { kind: 'unsupported', raw, immediate, itt, opcode };
  }
}

const AHS_EXTENDED_CDB = 1;
const AHS_BIDIRECTIONAL_READ_LENGTH = 2;

/** The CDB with its extension from the AHS (RFC 7143 §11.3.4), and whether the command is bidirectional. */
function commandDescriptor(bhs: Buffer, ahs: Buffer): { cdb: Buffer; bidirectional: boolean } {
  let cdb = bhs.subarray(32, 48);
  let bidirectional = false;
  for (let at = 0; at < ahs.length;) {
    if (at + 3 > ahs.length) throw new ProtocolError('truncated AHS');
    const length = ahs.readUInt16BE(at);
    const type = ahs[at + 2]!;
    const end = at + 3 + length;
    if (end > ahs.length) throw new ProtocolError('AHS longer than TotalAHSLength');
    if (type === AHS_EXTENDED_CDB && length > 1) cdb = Buffer.concat([cdb, ahs.subarray(at + 4, end)]);
    else if (type === AHS_BIDIRECTIONAL_READ_LENGTH) bidirectional = true;
    else throw new ProtocolError(`unknown AHS type ${type}`);
    at += (3 + length + 3) & ~3;
  }
  return { cdb, bidirectional };
}

/** A target PDU ready for the sender: it stamps the sequence numbers and lengths. */
export interface TargetPdu {
  bhs: Buffer;
  data: Buffer;
  /** Whether this PDU consumes a StatSN (a status) or only reports the next one. */
  advancesStatSN: boolean;
}

const EMPTY = Buffer.alloc(0);

function header(opcode: number, flags: number, itt: number): Buffer {
  const bhs = Buffer.alloc(BHS_LENGTH);
  bhs[0] = opcode;
  bhs[1] = flags;
  bhs.writeUInt32BE(itt, 16);
  return bhs;
}

/** Residual count and U/O flags (byte 1) from EDTL minus what the command needed: positive = underflow. */
function writeResidual(bhs: Buffer, residual: number): void {
  if (residual > 0) bhs[1]! |= UNDERFLOW;
  if (residual < 0) bhs[1]! |= OVERFLOW;
  bhs.writeUInt32BE(Math.abs(residual), 44);
}

export function scsiResponse(f: { itt: number; status: number; residual: number; expDataSN: number; sense?: Buffer }): TargetPdu {
  const bhs = header(Opcode.SCSI_RESPONSE, FINAL, f.itt);
  bhs[3] = f.status;
  bhs.writeUInt32BE(f.expDataSN, 36);
  writeResidual(bhs, f.residual);
  let data = EMPTY;
  if (f.sense && f.sense.length > 0) {
    data = Buffer.alloc(2 + f.sense.length);
    data.writeUInt16BE(f.sense.length, 0);
    f.sense.copy(data, 2);
  }
  return { bhs, data, advancesStatSN: true };
}

export function dataIn(f: {
  itt: number;
  final: boolean;
  dataSN: number;
  bufferOffset: number;
  data: Buffer;
  /** Present on the last Data-In of a command that completes with it (S bit). */
  completion?: { status: number; residual: number };
}): TargetPdu {
  const bhs = header(Opcode.DATA_IN, f.final ? FINAL : 0, f.itt);
  bhs.writeUInt32BE(RESERVED_TAG, 20);
  bhs.writeUInt32BE(f.dataSN, 36);
  bhs.writeUInt32BE(f.bufferOffset, 40);
  if (f.completion) {
    bhs[1]! |= STATUS_PRESENT;
    bhs[3] = f.completion.status;
    writeResidual(bhs, f.completion.residual);
  }
  return { bhs, data: f.data, advancesStatSN: f.completion !== undefined };
}

export function readyToTransfer(f: { lun: Buffer; itt: number; ttt: number; r2tSN: number; bufferOffset: number; desiredLength: number }): TargetPdu {
  const bhs = header(Opcode.R2T, FINAL, f.itt);
  f.lun.copy(bhs, 8);
  bhs.writeUInt32BE(f.ttt, 20);
  bhs.writeUInt32BE(f.r2tSN, 36);
  bhs.writeUInt32BE(f.bufferOffset, 40);
  bhs.writeUInt32BE(f.desiredLength, 44);
  return { bhs, data: EMPTY, advancesStatSN: false };
}

export function loginResponse(f: {
  transit: boolean;
  csg: number;
  nsg: number;
  isid: Buffer;
  tsih: number;
  itt: number;
  /** Status-Class << 8 | Status-Detail. */
  status: number;
  data: Buffer;
}): TargetPdu {
  const bhs = header(Opcode.LOGIN_RESPONSE, (f.transit ? FINAL : 0) | (f.csg << 2) | (f.transit ? f.nsg : 0), f.itt);
  f.isid.copy(bhs, 8);
  bhs.writeUInt16BE(f.tsih, 14);
  bhs.writeUInt16BE(f.status, 36);
  return { bhs, data: f.data, advancesStatSN: true };
}

export function textResponse(f: { final: boolean; itt: number; ttt: number; data: Buffer }): TargetPdu {
  const bhs = header(Opcode.TEXT_RESPONSE, f.final ? FINAL : CONTINUE, f.itt);
  bhs.writeUInt32BE(f.ttt, 20);
  return { bhs, data: f.data, advancesStatSN: true };
}

export function logoutResponse(f: { itt: number; response: number; time2Wait: number; time2Retain: number }): TargetPdu {
  const bhs = header(Opcode.LOGOUT_RESPONSE, FINAL, f.itt);
  bhs[2] = f.response;
  bhs.writeUInt16BE(f.time2Wait, 40);
  bhs.writeUInt16BE(f.time2Retain, 42);
  return { bhs, data: EMPTY, advancesStatSN: true };
}

export function taskManagementResponse(f: { itt: number; response: number }): TargetPdu {
  const bhs = header(Opcode.TASK_MANAGEMENT_RESPONSE, FINAL, f.itt);
  bhs[2] = f.response;
  return { bhs, data: EMPTY, advancesStatSN: true };
}

/** A NOP-In answering a NOP-Out consumes a StatSN; an unsolicited one (ITT reserved) does not. */
export function nopIn(f: { lun: Buffer; itt: number; ttt: number; data: Buffer }): TargetPdu {
  const bhs = header(Opcode.NOP_IN, FINAL, f.itt);
  f.lun.copy(bhs, 8);
  bhs.writeUInt32BE(f.ttt, 20);
  return { bhs, data: f.data, advancesStatSN: f.itt !== RESERVED_TAG };
}

export function reject(f: { reason: number; rejectedHeader: Buffer }): TargetPdu {
  const bhs = header(Opcode.REJECT, FINAL, RESERVED_TAG);
  bhs[2] = f.reason;
  return { bhs, data: Buffer.from(f.rejectedHeader.subarray(0, BHS_LENGTH)), advancesStatSN: true };
}

export const AsyncEvent = {
  /** The target will drop all connections of this session (Parameter2 = Time2Wait, Parameter3 = Time2Retain). */
  DROPPING_ALL_CONNECTIONS: 3,
} as const;

export function asyncMessage(f: { event: number; parameters: [number, number, number] }): TargetPdu {
  const bhs = header(Opcode.ASYNC_MESSAGE, FINAL, RESERVED_TAG);
  bhs[36] = f.event;
  bhs.writeUInt16BE(f.parameters[0], 38);
  bhs.writeUInt16BE(f.parameters[1], 40);
  bhs.writeUInt16BE(f.parameters[2], 42);
  return { bhs, data: EMPTY, advancesStatSN: true };
}

/**
 * The LUN in an 8-byte LUN field: peripheral addressing (byte 0 = 0) for 0-255 and flat addressing (01b) up to
 * 16383. Other addressing methods name no LUN this target has: -1.
 */
export function decodeLun(field: Buffer): number {
  const method = field[0]! >> 6;
  if (method === 0 && field[0] === 0) return field[1]!;
  if (method === 1) return ((field[0]! & 0x3f) << 8) | field[1]!;
  return -1;
}

export function encodeLun(lun: number): Buffer {
  const field = Buffer.alloc(8);
  if (lun < 256) field[1] = lun;
  else {
    field[0] = 0x40 | (lun >> 8);
    field[1] = lun & 0xff;
  }
  return field;
}

/** a − b as RFC 1982 serial numbers: negative when a comes before b (mod 2^32). */
export function serialDiff(a: number, b: number): number {
  return (a - b) | 0;
}

export function serialAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}
