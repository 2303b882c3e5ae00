/**
 * Operational key negotiation (RFC 7143 §6.2, §13): the initiator offers, we answer with the result of each key's
 * rule (minimum, maximum, boolean AND/OR, first acceptable list item) applied to our own limits. The initiator's
 * MaxRecvDataSegmentLength is a declaration: recorded, not answered.
 */

/** What a session runs with once login is over. */
export interface SessionParameters {
  headerDigest: boolean;
  dataDigest: boolean;
  /** The initiator's declared MaxRecvDataSegmentLength: the most we may put in one Data-In, Text or NOP-In. */
  initiatorMaxRecvDataSegmentLength: number;
  firstBurstLength: number;
  maxBurstLength: number;
  immediateData: boolean;
  initialR2T: boolean;
  maxOutstandingR2T: number;
}

/** The MaxRecvDataSegmentLength we declare: no Data-Out, Text or NOP-Out data segment may be longer. */
export const TARGET_MAX_RECV_DATA_SEGMENT_LENGTH = 262144;
/** RFC 7143 §13.12: the limit for every login PDU, before anything is negotiated. */
export const LOGIN_MAX_RECV_DATA_SEGMENT_LENGTH = 8192;

const OUR_FIRST_BURST_LENGTH = 262144;
const OUR_MAX_BURST_LENGTH = 1048576;
const OUR_MAX_OUTSTANDING_R2T = 16;
const SEGMENT_LENGTH_RANGE: [number, number] = [512, 2 ** 24 - 1];

/** RFC 7143 defaults: what applies to any key the initiator does not offer. */
export function defaultParameters(): SessionParameters {
  return {
    headerDigest: false,
    dataDigest: false,
    initiatorMaxRecvDataSegmentLength: 8192,
    firstBurstLength: 65536,
    maxBurstLength: 262144,
    immediateData: true,
    initialR2T: true,
    maxOutstandingR2T: 1,
  };
}

type Rule =
  | { kind: 'digest'; set?: (p: SessionParameters, crc: boolean) => void }
  | { kind: 'number'; range: [number, number]; combine: 'min' | 'max'; ours: number; set?: (p: SessionParameters, v: number) => void }
  | { kind: 'boolean'; combine: 'and' | 'or'; ours: boolean; set?: (p: SessionParameters, v: boolean) => void }
  | { kind: 'declared-number'; range: [number, number]; set: (p: SessionParameters, v: number) => void }
  /** Keys we never accept: obsolete markers (RFC 7143 §13.25 says answer Reject), and target-only declarations. */
  | { kind: 'reject' };

const RULES: Record<string, Rule> = {
  HeaderDigest: { kind: 'digest', set: (p, crc) => (p.headerDigest = crc) },
  DataDigest: { kind: 'digest', set: (p, crc) => (p.dataDigest = crc) },
  MaxRecvDataSegmentLength: { kind: 'declared-number', range: SEGMENT_LENGTH_RANGE, set: (p, v) => (p.initiatorMaxRecvDataSegmentLength = v) },
  FirstBurstLength: { kind: 'number', range: SEGMENT_LENGTH_RANGE, combine: 'min', ours: OUR_FIRST_BURST_LENGTH, set: (p, v) => (p.firstBurstLength = v) },
  MaxBurstLength: { kind: 'number', range: SEGMENT_LENGTH_RANGE, combine: 'min', ours: OUR_MAX_BURST_LENGTH, set: (p, v) => (p.maxBurstLength = v) },
  MaxOutstandingR2T: { kind: 'number', range: [1, 65535], combine: 'min', ours: OUR_MAX_OUTSTANDING_R2T, set: (p, v) => (p.maxOutstandingR2T = v) },
  ErrorRecoveryLevel: { kind: 'number', range: [0, 2], combine: 'min', ours: 0 },
  MaxConnections: { kind: 'number', range: [1, 65535], combine: 'min', ours: 1 },
  DefaultTime2Wait: { kind: 'number', range: [0, 3600], combine: 'max', ours: 2 },
  DefaultTime2Retain: { kind: 'number', range: [0, 3600], combine: 'min', ours: 0 },
  iSCSIProtocolLevel: { kind: 'number', range: [0, 31], combine: 'min', ours: 1 },
  ImmediateData: { kind: 'boolean', combine: 'and', ours: true, set: (p, v) => (p.immediateData = v) },
  InitialR2T: { kind: 'boolean', combine: 'or', ours: false, set: (p, v) => (p.initialR2T = v) },
  DataPDUInOrder: { kind: 'boolean', combine: 'or', ours: true },
  DataSequenceInOrder: { kind: 'boolean', combine: 'or', ours: true },
  IFMarker: { kind: 'reject' },
  OFMarker: { kind: 'reject' },
  IFMarkInt: { kind: 'reject' },
  OFMarkInt: { kind: 'reject' },
  TargetAlias: { kind: 'reject' },
  TargetAddress: { kind: 'reject' },
  TargetPortalGroupTag: { kind: 'reject' },
};

/** Decimal or 0x-hexadecimal (RFC 7143 §6.1 numerical values); null when neither or out of range. */
function parseNumber(value: string, [min, max]: [number, number]): number | null {
  let n: number;
  if (/^[0-9]{1,10}$/.test(value)) n = Number(value);
  else if (/^0[xX][0-9a-fA-F]{1,8}$/.test(value)) n = Number.parseInt(value.slice(2), 16);
  else return null;
  return n >= min && n <= max ? n : null;
}

function parseBoolean(value: string): boolean | null {
  return value === 'Yes' ? true : value === 'No' ? false : null;
}

export class OperationalNegotiation {
  private readonly params = defaultParameters();

  /** Our answer to one offered key: a value, `Reject`, `NotUnderstood`, or null for a declaration. */
  answer(key: string, value: string): string | null {
    const rule = RULES[key];
    if (rule === undefined) return 'NotUnderstood';
    switch (rule.kind) {
      case 'digest': {
        const chosen = value.split(',').find((v) => v === 'CRC32C' || v === 'None');
        if (chosen === undefined) return 'Reject';
        rule.set?.(this.params, chosen === 'CRC32C');
        return chosen;
      }
      case 'number': {
        const offered = parseNumber(value, rule.range);
        if (offered === null) return 'Reject';
        const result = rule.combine === 'min' ? Math.min(offered, rule.ours) : Math.max(offered, rule.ours);
        rule.set?.(this.params, result);
        return String(result);
      }
      case 'boolean': {
        const offered = parseBoolean(value);
        if (offered === null) return 'Reject';
        const result = rule.combine === 'and' ? offered && rule.ours : offered || rule.ours;
        rule.set?.(this.params, result);
        return result ? 'Yes' : 'No';
      }
      case 'declared-number': {
        const declared = parseNumber(value, rule.range);
        if (declared === null) return 'Reject';
        rule.set(this.params, declared);
        return null;
      }
      case 'reject':
        return 'Reject';
    }
  }

  /** The parameters in force; FirstBurstLength never exceeds MaxBurstLength (RFC 7143 §13.14). */
  result(): SessionParameters {
    return { ...this.params, firstBurstLength: Math.min(this.params.firstBurstLength, this.params.maxBurstLength) };
  }
}
