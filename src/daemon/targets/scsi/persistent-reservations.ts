/**
 * Reservations of one logical unit: SPC-4 persistent reservations (PERSISTENT RESERVE IN/OUT) and the SCSI-2
 * RESERVE/RELEASE they exclude, keyed by I_T nexus. Everything is in memory: registrations and reservations do
 * not survive a restart of the daemon, so APTPL is refused and REPORT CAPABILITIES says PTPL_C=0.
 */
import { invalidCdbField, invalidParameterField, Sense, ScsiCheckCondition, type SenseCode } from './scsi-sense.js';
import { ScsiStatus } from './scsi-types.js';

export const ReservationType = {
  WRITE_EXCLUSIVE: 1,
  EXCLUSIVE_ACCESS: 3,
  WRITE_EXCLUSIVE_REGISTRANTS_ONLY: 5,
  EXCLUSIVE_ACCESS_REGISTRANTS_ONLY: 6,
  WRITE_EXCLUSIVE_ALL_REGISTRANTS: 7,
  EXCLUSIVE_ACCESS_ALL_REGISTRANTS: 8,
} as const;

const T = ReservationType;
const VALID_TYPES: readonly number[] = Object.values(T);

/**
 * How a command is affected by reservations held through another I_T nexus (SPC-4):
 * - unrestricted: never (INQUIRY, REPORT LUNS, REQUEST SENSE);
 * - metadata: only by a SCSI-2 reservation (TEST UNIT READY, READ CAPACITY, PERSISTENT RESERVE IN/OUT, ...);
 * - read / write: by the reservation types that exclude reading / writing;
 * - scsi2: RESERVE and RELEASE, which conflict with any persistent registration.
 */
export type Access = 'unrestricted' | 'metadata' | 'read' | 'write' | 'scsi2';

const PrIn = { READ_KEYS: 0, READ_RESERVATION: 1, REPORT_CAPABILITIES: 2, READ_FULL_STATUS: 3 } as const;
const PrOut = { REGISTER: 0, RESERVE: 1, RELEASE: 2, CLEAR: 3, PREEMPT: 4, PREEMPT_AND_ABORT: 5, REGISTER_AND_IGNORE_EXISTING_KEY: 6 } as const;

const PR_OUT_PARAMETER_LIST_LENGTH = 24;
const SPEC_I_PT = 0x08;
const APTPL = 0x01;
const LU_SCOPE = 0;

type Status = (typeof ScsiStatus)[keyof typeof ScsiStatus];

function allRegistrants(type: number): boolean {
  return type === T.WRITE_EXCLUSIVE_ALL_REGISTRANTS || type === T.EXCLUSIVE_ACCESS_ALL_REGISTRANTS;
}

function registrantsOnlyOrAll(type: number): boolean {
  return type >= T.WRITE_EXCLUSIVE_REGISTRANTS_ONLY;
}

/**
 * The iSCSI TransportID of a nexus's initiator port. The iSCSI transport's nexus strings start with the port name,
 * "<iSCSI name>,i,0x<ISID>" (TransportID format 01b), up to a '|' before the target port; anything else is
 * reported whole as an iSCSI name (format 00b).
 */
function transportId(nexus: string): Buffer {
  const port = nexus.split('|')[0]!;
  const name = Buffer.from(port, 'utf8');
  // NUL-terminated, padded to a multiple of 4, at least 20 bytes (SPC-4).
  const nameLength = Math.max(20, Math.ceil((name.length + 1) / 4) * 4);
  const id = Buffer.alloc(4 + nameLength);
  id[0] = (port.includes(',i,0x') ? 0x40 : 0x00) | 0x05;
  id.writeUInt16BE(nameLength, 2);
  name.copy(id, 4);
  return id;
}

export class Reservations {
  private scsi2Holder: string | undefined;
  /** Registered reservation keys, in registration order. */
  private readonly keys = new Map<string, bigint>();
  /** For all-registrants types the holder is whoever reserved, but every registrant holds the reservation. */
  private reservation: { holder: string; type: number } | undefined;
  private generation = 0;

  constructor(
    private readonly o: {
      relativeTargetPort: number;
      unitAttention: (nexus: string, condition: SenseCode) => void;
    },
  ) {}

  /** Whether a command of this kind, sent through this nexus, must end with RESERVATION CONFLICT. */
  conflicts(nexus: string, access: Access): boolean {
    if (access === 'unrestricted') return false;
    if (access === 'scsi2') return this.keys.size > 0;
    if (this.scsi2Holder !== undefined && this.scsi2Holder !== nexus) return true;
    if (access === 'metadata' || !this.reservation || this.holds(nexus)) return false;
    const registered = this.keys.has(nexus);
    switch (this.reservation.type) {
      case T.WRITE_EXCLUSIVE:
        return access === 'write';
      case T.EXCLUSIVE_ACCESS:
        return true;
      case T.WRITE_EXCLUSIVE_REGISTRANTS_ONLY:
      case T.WRITE_EXCLUSIVE_ALL_REGISTRANTS:
        return access === 'write' && !registered;
      default:
        return !registered;
    }
  }

  /** RESERVE(6)/(10): the whole logical unit, for this nexus alone. */
  reserve(nexus: string): Status {
    if (this.scsi2Holder !== undefined && this.scsi2Holder !== nexus) return ScsiStatus.RESERVATION_CONFLICT;
    this.scsi2Holder = nexus;
    return ScsiStatus.GOOD;
  }

  /** RELEASE(6)/(10): a nexus that holds nothing releases nothing, successfully. */
  release(nexus: string): void {
    if (this.scsi2Holder === nexus) this.scsi2Holder = undefined;
  }

  /** Drops the SCSI-2 reservation (LU reset), or only the one held through `nexus` (nexus loss). */
  dropScsi2Reservation(nexus?: string): void {
    if (nexus === undefined || this.scsi2Holder === nexus) this.scsi2Holder = undefined;
  }

  /** PERSISTENT RESERVE IN: the whole parameter data; the caller cuts it to the allocation length. */
  persistentReserveIn(cdb: Buffer): Buffer {
    switch (cdb[1]! & 0x1f) {
      case PrIn.READ_KEYS:
        return this.readKeys();
      case PrIn.READ_RESERVATION:
        return this.readReservation();
      case PrIn.REPORT_CAPABILITIES:
        return this.reportCapabilities();
      case PrIn.READ_FULL_STATUS:
        return this.readFullStatus();
      default:
        throw invalidCdbField(1, 4);
    }
  }

  /** PERSISTENT RESERVE OUT with its parameter list (exactly PARAMETER LIST LENGTH bytes). */
  persistentReserveOut(cdb: Buffer, nexus: string, parameters: Buffer): Status {
    const action = cdb[1]! & 0x1f;
    const scope = cdb[2]! >> 4;
    const type = cdb[2]! & 0x0f;
    // REGISTER AND MOVE (7) needs TransportIDs of other initiators: not supported.
    if (action > PrOut.REGISTER_AND_IGNORE_EXISTING_KEY) throw invalidCdbField(1, 4);
    if (parameters.length !== PR_OUT_PARAMETER_LIST_LENGTH) throw new ScsiCheckCondition(Sense.PARAMETER_LIST_LENGTH_ERROR);
    const key = parameters.readBigUInt64BE(0);
    const serviceActionKey = parameters.readBigUInt64BE(8);
    // ALL_TG_PT is accepted as is: a gateway target has a single target port, so "all" is this one.
    if (parameters[20]! & SPEC_I_PT) throw invalidParameterField(20, 3);
    if (parameters[20]! & APTPL) throw invalidParameterField(20, 0);
    const registered = this.keys.get(nexus);

    if (action === PrOut.REGISTER || action === PrOut.REGISTER_AND_IGNORE_EXISTING_KEY) {
      if (action === PrOut.REGISTER && key !== (registered ?? 0n)) return ScsiStatus.RESERVATION_CONFLICT;
      if (registered === undefined && serviceActionKey === 0n) return ScsiStatus.GOOD;
      if (serviceActionKey === 0n) this.unregister(nexus);
      else this.keys.set(nexus, serviceActionKey);
      this.generation++;
      return ScsiStatus.GOOD;
    }
    if (registered === undefined || key !== registered) return ScsiStatus.RESERVATION_CONFLICT;

    switch (action) {
      case PrOut.RESERVE:
        checkScopeAndType(scope, type);
        if (!this.reservation) this.reservation = { holder: nexus, type };
        else if (!this.holds(nexus) || this.reservation.type !== type) return ScsiStatus.RESERVATION_CONFLICT;
        return ScsiStatus.GOOD;
      case PrOut.RELEASE:
        if (!this.reservation || !this.holds(nexus)) return ScsiStatus.GOOD;
        if (scope !== LU_SCOPE || type !== this.reservation.type) throw new ScsiCheckCondition(Sense.INVALID_RELEASE_OF_PERSISTENT_RESERVATION);
        this.releasePersistent(nexus, this.reservation.type);
        return ScsiStatus.GOOD;
      case PrOut.CLEAR:
        for (const other of this.keys.keys()) if (other !== nexus) this.o.unitAttention(other, Sense.RESERVATIONS_PREEMPTED);
        this.keys.clear();
        this.reservation = undefined;
        this.generation++;
        return ScsiStatus.GOOD;
      default:
        // PREEMPT AND ABORT preempts like PREEMPT; the transport owns the tasks it would abort.
        checkScopeAndType(scope, type);
        return this.preempt(nexus, serviceActionKey, type);
    }
  }

  private holds(nexus: string): boolean {
    if (!this.reservation) return false;
    return allRegistrants(this.reservation.type) ? this.keys.has(nexus) : this.reservation.holder === nexus;
  }

  private unregister(nexus: string): void {
    const held = this.reservation !== undefined && this.reservation.holder === nexus;
    this.keys.delete(nexus);
    if (!this.reservation) return;
    if (allRegistrants(this.reservation.type)) {
      if (this.keys.size === 0) this.reservation = undefined;
    } else if (held) {
      this.releasePersistent(nexus, this.reservation.type);
    }
  }

  private releasePersistent(nexus: string, type: number): void {
    this.reservation = undefined;
    // Registrants shared in a registrants-only or all-registrants reservation: tell them it is gone.
    if (registrantsOnlyOrAll(type)) {
      for (const other of this.keys.keys()) if (other !== nexus) this.o.unitAttention(other, Sense.RESERVATIONS_RELEASED);
    }
  }

  /** PREEMPT: removes the registrations holding `victimKey` and, if that key held the reservation, takes it over. */
  private preempt(nexus: string, victimKey: bigint, type: number): Status {
    const current = this.reservation;
    const takesReservation = current !== undefined
      && (allRegistrants(current.type) ? victimKey === 0n : victimKey === this.keys.get(current.holder));
    // A zero key only means "every other registrant" against an all-registrants reservation.
    if (victimKey === 0n && !takesReservation) throw invalidParameterField(8);
    const victims = [...this.keys].filter(([other, k]) => other !== nexus && (victimKey === 0n || k === victimKey)).map(([other]) => other);
    if (victims.length === 0 && !takesReservation) return ScsiStatus.RESERVATION_CONFLICT;
    for (const victim of victims) {
      this.keys.delete(victim);
      this.o.unitAttention(victim, Sense.RESERVATIONS_PREEMPTED);
    }
    if (takesReservation) this.reservation = { holder: nexus, type };
    this.generation++;
    return ScsiStatus.GOOD;
  }

  private header(additionalLength: number): Buffer {
    const b = Buffer.alloc(8);
    b.writeUInt32BE(this.generation >>> 0, 0);
    b.writeUInt32BE(additionalLength, 4);
    return b;
  }

  private readKeys(): Buffer {
    const list = Buffer.alloc(8 * this.keys.size);
    [...this.keys.values()].forEach((k, i) => list.writeBigUInt64BE(k, 8 * i));
    return Buffer.concat([this.header(list.length), list]);
  }

  private readReservation(): Buffer {
    const r = this.reservation;
    if (!r) return this.header(0);
    const d = Buffer.alloc(16);
    // An all-registrants reservation has no single holder: its key reads as zero (SPC-4).
    d.writeBigUInt64BE(allRegistrants(r.type) ? 0n : this.keys.get(r.holder) ?? 0n, 0);
    d[13] = (LU_SCOPE << 4) | r.type;
    return Buffer.concat([this.header(d.length), d]);
  }

  private reportCapabilities(): Buffer {
    const b = Buffer.alloc(8);
    b.writeUInt16BE(8, 0);
    b[2] = 0x04; // ATP_C; no CRH, no SIP_C, no PTPL_C
    // TMV, ALLOW COMMANDS 011b: TEST UNIT READY passes every reservation; MODE SENSE, READ DEFECT DATA and
    // REPORT SUPPORTED OPERATION CODES pass Write Exclusive ones.
    b[3] = 0x80 | (3 << 4);
    b[4] = 0x80 | 0x40 | 0x20 | 0x08 | 0x02; // WR_EX_AR, EX_AC_RO, WR_EX_RO, EX_AC, WR_EX
    b[5] = 0x01; // EX_AC_AR
    return b;
  }

  private readFullStatus(): Buffer {
    const r = this.reservation;
    const descriptors = [...this.keys].map(([nexus, k]) => {
      const id = transportId(nexus);
      const d = Buffer.alloc(24 + id.length);
      d.writeBigUInt64BE(k, 0);
      if (r && this.holds(nexus)) {
        d[12] = 0x01;
        d[13] = (LU_SCOPE << 4) | r.type;
      }
      d.writeUInt16BE(this.o.relativeTargetPort, 18);
      d.writeUInt32BE(id.length, 20);
      id.copy(d, 24);
      return d;
    });
    const list = Buffer.concat(descriptors);
    return Buffer.concat([this.header(list.length), list]);
  }
}

function checkScopeAndType(scope: number, type: number): void {
  if (scope !== LU_SCOPE) throw invalidCdbField(2, 7);
  if (!VALID_TYPES.includes(type)) throw invalidCdbField(2, 3);
}
