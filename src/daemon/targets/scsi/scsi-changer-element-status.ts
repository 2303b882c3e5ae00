/**
 * READ ELEMENT STATUS data (SMC-3): an 8-byte header, then one page per element type in the order MT, ST, IE, DT,
 * each an 8-byte page header followed by fixed-length element descriptors. mtx walks the pages by the header's
 * descriptor count and each page's byte count, so both count exactly what follows, even when the transfer is cut.
 */
import type { ChangerElement, ElementType } from './scsi-changer-backend.js';
import { ScsiCheckCondition, Sense } from './scsi-sense.js';

/** In element type code order (1 to 4), which is also the order of the pages and of the address ranges. */
export const ELEMENT_TYPES: readonly ElementType[] = ['transport', 'storage', 'importExport', 'drive'];

export interface ElementStatusRequest {
  /** 0 for every type, else an element type code (1 MT, 2 ST, 3 IE, 4 DT). */
  typeCode: number;
  /** Only elements at this address or above are reported. */
  start: number;
  /** At most this many descriptors. */
  count: number;
  /** VolTag: each descriptor carries the primary volume tag (the barcode). */
  volumeTags: boolean;
  /** DVCID: data transfer element descriptors carry the drive's identifier. */
  deviceIds: boolean;
}

const HEADER_LENGTH = 8;
const PAGE_HEADER_LENGTH = 8;
const DESCRIPTOR_BASE_LENGTH = 12;
const VOLUME_TAG_LENGTH = 36;
const VOLUME_IDENTIFIER_LENGTH = 32;
const IDENTIFICATION_HEADER_LENGTH = 4;
/** The identifier length is one byte. */
const MAX_IDENTIFIER_LENGTH = 255;

const PVOLTAG = 0x80;
const Flag = { FULL: 0x01, IMPEXP: 0x02, ACCESS: 0x08, EXENAB: 0x10, INENAB: 0x20 } as const;
const NOT_BUS = 0x80;
const SVALID = 0x80;
const MEDIUM_TYPE_DATA = 0x01;
const CODE_SET_ASCII = 0x02;
const IDENTIFIER_TYPE_VENDOR_SPECIFIC = 0x00;

function ascii(text: string): Buffer {
  // Volume tags and identifiers are printable ASCII; anything else would garble the initiator's listing.
  return Buffer.from(text.replace(/[^\x20-\x7e]/g, '?'), 'ascii');
}

function flags(e: ChangerElement): number {
  const full = e.full ? Flag.FULL : 0;
  // The transport never holds a tape between commands and has no Access bit (SMC-3).
  if (e.type === 'transport') return full;
  const access = e.accessible ? Flag.ACCESS : 0;
  if (e.type !== 'importExport') return full | access;
  // Tapes go both ways through the mailslots. One whose origin is unknown was not put there by the robot.
  const placedByOperator = e.full && e.sourceAddress === undefined ? Flag.IMPEXP : 0;
  return full | access | placedByOperator | Flag.EXENAB | Flag.INENAB;
}

interface Layout {
  volumeTags: boolean;
  /** Bytes of drive identifier after the identification header; 0 without DVCID. */
  identifierLength: number;
}

function descriptorLength(type: ElementType, layout: Layout): number {
  const identifier = type === 'drive' ? layout.identifierLength : 0;
  return DESCRIPTOR_BASE_LENGTH + (layout.volumeTags ? VOLUME_TAG_LENGTH : 0) + IDENTIFICATION_HEADER_LENGTH + identifier;
}

function descriptor(e: ChangerElement, layout: Layout, serial: string | undefined): Buffer {
  const d = Buffer.alloc(descriptorLength(e.type, layout));
  d.writeUInt16BE(e.address, 0);
  d[2] = flags(e);
  // The drives are targets of their own, not on this changer's "bus": IDValid and LUValid stay clear.
  if (e.type === 'drive') d[6] = NOT_BUS;
  if (e.full) {
    d[9] = (e.sourceAddress === undefined ? 0 : SVALID) | MEDIUM_TYPE_DATA;
    if (e.sourceAddress !== undefined) d.writeUInt16BE(e.sourceAddress, 10);
  }
  let at = DESCRIPTOR_BASE_LENGTH;
  if (layout.volumeTags) {
    // Volume identifier left-justified and space-padded, then 2 reserved bytes and a volume sequence number of 0.
    // An empty element, or a tape without a barcode, has no volume tag: all zeros.
    if (e.full && e.barcode !== undefined) ascii(e.barcode.padEnd(VOLUME_IDENTIFIER_LENGTH, ' ').slice(0, VOLUME_IDENTIFIER_LENGTH)).copy(d, at);
    at += VOLUME_TAG_LENGTH;
  }
  // Only drives have serials here, and only with DVCID.
  if (serial) {
    const identifier = ascii(serial.padEnd(layout.identifierLength, ' ').slice(0, layout.identifierLength));
    d[at] = CODE_SET_ASCII;
    d[at + 1] = IDENTIFIER_TYPE_VENDOR_SPECIFIC;
    d[at + 3] = identifier.length;
    identifier.copy(d, at + IDENTIFICATION_HEADER_LENGTH);
  }
  return d;
}

function page(type: ElementType, descriptors: Buffer[], layout: Layout): Buffer {
  const header = Buffer.alloc(PAGE_HEADER_LENGTH);
  header[0] = ELEMENT_TYPES.indexOf(type) + 1;
  header[1] = layout.volumeTags ? PVOLTAG : 0;
  header.writeUInt16BE(descriptorLength(type, layout), 2);
  header.writeUIntBE(descriptors.length * descriptorLength(type, layout), 5, 3);
  return Buffer.concat([header, ...descriptors]);
}

/**
 * The whole report, not cut to any allocation length. Starting past every element of the requested type(s) is
 * INVALID ELEMENT ADDRESS: mtx's `altres` scan ends on exactly that.
 */
export function elementStatusData(elements: readonly ChangerElement[], r: ElementStatusRequest, driveSerial: (address: number) => string | undefined): Buffer {
  const types = r.typeCode === 0 ? ELEMENT_TYPES : ELEMENT_TYPES.slice(r.typeCode - 1, r.typeCode);
  const eligible = types.flatMap((type) => elements.filter((e) => e.type === type && e.address >= r.start).sort((a, b) => a.address - b.address));
  if (eligible.length === 0) throw new ScsiCheckCondition(Sense.INVALID_ELEMENT_ADDRESS, { field: { inCdb: true, byte: 2 } });
  const reported = eligible.slice(0, r.count);
  // One identifier length for every drive, whichever are reported: a page has a single descriptor length.
  const serials = new Map(r.deviceIds ? elements.filter((e) => e.type === 'drive').map((e) => [e.address, driveSerial(e.address)]) : []);
  const longest = Math.max(0, ...[...serials.values()].map((s) => s?.length ?? 0));
  const layout: Layout = { volumeTags: r.volumeTags, identifierLength: Math.min(longest, MAX_IDENTIFIER_LENGTH) };
  const pages = ELEMENT_TYPES.map((type) => reported.filter((e) => e.type === type))
    .filter((group) => group.length > 0)
    .map((group) => page(group[0]!.type, group.map((e) => descriptor(e, layout, serials.get(e.address))), layout));
  const header = Buffer.alloc(HEADER_LENGTH);
  // With a count of 0 nothing is reported; the first address is then the one that would have come first.
  header.writeUInt16BE(Math.min(...(reported.length > 0 ? reported : eligible).map((e) => e.address)), 0);
  header.writeUInt16BE(reported.length, 2);
  header.writeUIntBE(pages.reduce((n, p) => n + p.length, 0), 5, 3);
  return Buffer.concat([header, ...pages]);
}
