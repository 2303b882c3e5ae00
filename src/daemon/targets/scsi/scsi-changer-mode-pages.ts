/**
 * MODE SENSE for a medium changer (SMC-3): element address assignment (0x1D), transport geometry (0x1E) and
 * device capabilities (0x1F), with no block descriptors whatever DBD says. Linux ch and mtx learn the element
 * ranges from page 0x1D, so it is computed from the elements each time. Nothing can be changed or saved.
 */
import type { ChangerElement } from './scsi-changer-backend.js';
import { ELEMENT_TYPES } from './scsi-changer-element-status.js';
import { Opcode } from './scsi-cdb.js';
import { invalidCdbField, ScsiCheckCondition, Sense } from './scsi-sense.js';

const ModePage = {
  ELEMENT_ADDRESS_ASSIGNMENT: 0x1d,
  TRANSPORT_GEOMETRY: 0x1e,
  DEVICE_CAPABILITIES: 0x1f,
  ALL: 0x3f,
} as const;

const ALL_SUBPAGES = 0xff;
const PageControl = { CURRENT: 0, CHANGEABLE: 1, DEFAULT: 2, SAVED: 3 } as const;

/**
 * Device capabilities name element types by bit: 0x01 MT, 0x02 ST, 0x04 IE, 0x08 DT. Slots, mailslots and drives
 * hold tapes; the transport only carries one during a move.
 */
const HOLDERS = 0x02 | 0x04 | 0x08;

function page(code: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([code, body.length]), body]);
}

/** First address and number of elements of each type; a type the library lacks reads 0/0. */
function elementAddressAssignment(elements: readonly ChangerElement[]): Buffer {
  const body = Buffer.alloc(18);
  ELEMENT_TYPES.forEach((type, i) => {
    const addresses = elements.filter((e) => e.type === type).map((e) => e.address);
    if (addresses.length > 0) body.writeUInt16BE(Math.min(...addresses), 4 * i);
    body.writeUInt16BE(addresses.length, 4 * i + 2);
  });
  return page(ModePage.ELEMENT_ADDRESS_ASSIGNMENT, body);
}

/** One descriptor per transport: it cannot rotate the medium (no two-sided media), and its member number. */
function transportGeometry(elements: readonly ChangerElement[]): Buffer {
  const transports = elements.filter((e) => e.type === 'transport');
  return page(ModePage.TRANSPORT_GEOMETRY, Buffer.from(transports.flatMap((_, member) => [0, member])));
}

/**
 * Any holder can be the source or destination of MOVE MEDIUM (the library refuses particular moves itself);
 * EXCHANGE MEDIUM is not supported, so every exchange capability is clear.
 */
function deviceCapabilities(): Buffer {
  const body = Buffer.alloc(18);
  body[0] = HOLDERS;
  ELEMENT_TYPES.forEach((type, i) => {
    body[2 + i] = type === 'transport' ? 0 : HOLDERS;
  });
  return page(ModePage.DEVICE_CAPABILITIES, body);
}

function pages(pageCode: number, elements: readonly ChangerElement[]): Buffer[] {
  const all = new Map<number, () => Buffer>([
    [ModePage.ELEMENT_ADDRESS_ASSIGNMENT, () => elementAddressAssignment(elements)],
    [ModePage.TRANSPORT_GEOMETRY, () => transportGeometry(elements)],
    [ModePage.DEVICE_CAPABILITIES, deviceCapabilities],
  ]);
  if (pageCode === ModePage.ALL) return [...all.values()].map((build) => build());
  const build = all.get(pageCode);
  if (!build) throw invalidCdbField(2, 5);
  return [build()];
}

/** MODE SENSE(6) or (10): the whole mode parameter list; the caller cuts it to the allocation length. */
export function changerModeSense(cdb: Buffer, elements: readonly ChangerElement[]): Buffer {
  const ten = cdb[0] === Opcode.MODE_SENSE_10;
  const pc = cdb[2]! >> 6;
  const subpage = cdb[3]!;
  if (pc === PageControl.SAVED) throw new ScsiCheckCondition(Sense.SAVING_PARAMETERS_NOT_SUPPORTED, { field: { inCdb: true, byte: 2, bit: 7 } });
  // None of these pages has subpages.
  if (subpage !== 0 && subpage !== ALL_SUBPAGES) throw invalidCdbField(3);
  const found = pages(cdb[2]! & 0x3f, elements);
  // Default values are the current ones; no field is changeable, so the mask is all zeros past the page header.
  const list = pc === PageControl.CHANGEABLE ? found.map((p) => Buffer.concat([p.subarray(0, 2), Buffer.alloc(p.length - 2)])) : found;
  const header = Buffer.alloc(ten ? 8 : 4);
  const length = header.length + list.reduce((n, p) => n + p.length, 0);
  // Medium type, device-specific parameter and block descriptor length all stay 0.
  if (ten) header.writeUInt16BE(length - 2, 0);
  else header[0] = length - 1;
  return Buffer.concat([header, ...list]);
}
