/**
 * INQUIRY data (SPC-4): the standard page and the vital product data pages. Builders take plain values so
 * that every device type assembles its own set; `inquiryData` answers the CDB from that set.
 */
import { truncated } from './scsi-cdb.js';
import { invalidCdbField } from './scsi-sense.js';

export const VersionDescriptor = {
  SPC_4: 0x0460,
  SBC_3: 0x04c0,
  ISCSI: 0x0960,
} as const;

export interface StandardInquiry {
  /** Peripheral device type: 0x00 disk, 0x01 tape, 0x08 medium changer. */
  deviceType: number;
  removable: boolean;
  vendor: string;
  product: string;
  revision: string;
  versionDescriptors: readonly number[];
}

const STANDARD_INQUIRY_LENGTH = 96;
const SPC_4 = 0x06;

function ascii(text: string, length: number): Buffer {
  // Only 0x20-0x7E are allowed in these fields (SPC-4); anything else would be a protocol error.
  return Buffer.from(text.replace(/[^\x20-\x7e]/g, '?').padEnd(length, ' ').slice(0, length), 'ascii');
}

export function standardInquiry(s: StandardInquiry): Buffer {
  const b = Buffer.alloc(STANDARD_INQUIRY_LENGTH);
  b[0] = s.deviceType & 0x1f;
  b[1] = s.removable ? 0x80 : 0;
  b[2] = SPC_4;
  b[3] = 0x10 | 0x02; // HISUP, response data format 2
  b[4] = STANDARD_INQUIRY_LENGTH - 5;
  // CMDQUE: without it Linux keeps one command outstanding per device.
  b[7] = 0x02;
  ascii(s.vendor, 8).copy(b, 8);
  ascii(s.product, 16).copy(b, 16);
  ascii(s.revision, 4).copy(b, 32);
  s.versionDescriptors.slice(0, 8).forEach((d, i) => b.writeUInt16BE(d, 58 + 2 * i));
  return b;
}

/** A VPD page: peripheral device type, page code, page length, then the page's own bytes. */
export function vpdPage(deviceType: number, pageCode: number, body: Buffer): Buffer {
  const header = Buffer.from([deviceType & 0x1f, pageCode, 0, 0]);
  header.writeUInt16BE(body.length, 2);
  return Buffer.concat([header, body]);
}

export const VpdPage = {
  SUPPORTED_PAGES: 0x00,
  UNIT_SERIAL_NUMBER: 0x80,
  DEVICE_IDENTIFICATION: 0x83,
  BLOCK_LIMITS: 0xb0,
  BLOCK_DEVICE_CHARACTERISTICS: 0xb1,
  LOGICAL_BLOCK_PROVISIONING: 0xb2,
} as const;

/** Page 0x80 body. Initiators compare it across reconnects, so it must stay stable. */
export function unitSerialNumber(serial: string): Buffer {
  return ascii(serial, Math.min(serial.length, 252));
}

export interface DeviceIdentity {
  /** 16-byte NAA IEEE Registered Extended designator of the logical unit. */
  naa: Buffer;
  /** T10 vendor identification: vendor (8 bytes) followed by a vendor-specific unique part. */
  vendor: string;
  vendorSpecific: string;
  /** The iSCSI target port, "iqn...,t,0x0001". */
  targetPortName: string;
  relativeTargetPort: number;
}

const CodeSet = { BINARY: 1, ASCII: 2, UTF8: 3 } as const;
const Association = { LOGICAL_UNIT: 0, TARGET_PORT: 1 } as const;
const DesignatorType = { T10_VENDOR_ID: 1, NAA: 3, RELATIVE_TARGET_PORT: 4, SCSI_NAME_STRING: 8 } as const;
const ISCSI_PROTOCOL = 5;

function designator(codeSet: number, association: number, type: number, value: Buffer): Buffer {
  // Designators of a target port carry the protocol (PIV): the iSCSI name only means something for iSCSI.
  const piv = association !== Association.LOGICAL_UNIT;
  const header = Buffer.from([
    (piv ? ISCSI_PROTOCOL << 4 : 0) | codeSet,
    (piv ? 0x80 : 0) | (association << 4) | type,
    0,
    value.length,
  ]);
  return Buffer.concat([header, value]);
}

/** A SCSI name string is NUL-terminated and padded to a multiple of four bytes (SPC-4). */
function scsiNameString(name: string): Buffer {
  const bytes = Buffer.from(name, 'utf8');
  const padded = Buffer.alloc(Math.ceil((bytes.length + 1) / 4) * 4);
  bytes.copy(padded);
  return padded;
}

/** Page 0x83 body. */
export function deviceIdentification(id: DeviceIdentity): Buffer {
  const port = Buffer.alloc(4);
  port.writeUInt16BE(id.relativeTargetPort, 2);
  return Buffer.concat([
    designator(CodeSet.BINARY, Association.LOGICAL_UNIT, DesignatorType.NAA, id.naa),
    designator(CodeSet.ASCII, Association.LOGICAL_UNIT, DesignatorType.T10_VENDOR_ID, Buffer.concat([ascii(id.vendor, 8), ascii(id.vendorSpecific, Math.min(id.vendorSpecific.length, 200))])),
    designator(CodeSet.BINARY, Association.TARGET_PORT, DesignatorType.RELATIVE_TARGET_PORT, port),
    designator(CodeSet.UTF8, Association.TARGET_PORT, DesignatorType.SCSI_NAME_STRING, scsiNameString(id.targetPortName)),
  ]);
}

/** Block limits, in logical blocks (SBC-3). Zero means "no limit reported". */
export interface BlockLimits {
  maxCompareAndWrite: number;
  optimalTransferGranularity: number;
  maxTransfer: number;
  optimalTransfer: number;
  maxUnmapBlocks: number;
  maxUnmapDescriptors: number;
  optimalUnmapGranularity: number;
  maxWriteSame: number;
}

const BLOCK_LIMITS_PAGE_LENGTH = 0x3c;

/** Page 0xB0 body, at the SBC-3 length that iscsi-test-cu expects from an SBC-3 device. */
export function blockLimits(l: BlockLimits): Buffer {
  const b = Buffer.alloc(BLOCK_LIMITS_PAGE_LENGTH);
  // WSNZ (byte 0) stays 0: WRITE SAME with a transfer length of 0 means "to the end of the medium".
  b[1] = l.maxCompareAndWrite;
  b.writeUInt16BE(l.optimalTransferGranularity, 2);
  b.writeUInt32BE(l.maxTransfer, 4);
  b.writeUInt32BE(l.optimalTransfer, 8);
  b.writeUInt32BE(l.maxUnmapBlocks, 16);
  b.writeUInt32BE(l.maxUnmapDescriptors, 20);
  b.writeUInt32BE(l.optimalUnmapGranularity, 24);
  // UGAVALID with an alignment of 0: unmapping whole granules from LBA 0 on frees whole chunks.
  b.writeUInt32BE(0x80000000, 28);
  b.writeBigUInt64BE(BigInt(l.maxWriteSame), 32);
  return b;
}

/** Page 0xB1 body: a non-rotating medium, so that initiators do not sort I/O for a disk head. */
export function blockDeviceCharacteristics(): Buffer {
  const b = Buffer.alloc(BLOCK_LIMITS_PAGE_LENGTH);
  b.writeUInt16BE(1, 0);
  return b;
}

/**
 * Page 0xB2 body: thin provisioned; UNMAP, WRITE SAME(16) and WRITE SAME(10) with UNMAP are supported and
 * unmapped blocks read as zeros (LBPRZ). No anchored state and no provisioning group descriptor.
 */
export function logicalBlockProvisioning(): Buffer {
  return Buffer.from([0, 0x80 | 0x40 | 0x20 | 0x04, 0x02, 0]);
}

/**
 * Answers INQUIRY from the standard data and the VPD pages (each a whole page with its header); page 0x00 is
 * derived from the others so that every page listed can be read.
 */
export function inquiryData(cdb: Buffer, standard: Buffer, pages: ReadonlyMap<number, Buffer>): Buffer {
  const evpd = (cdb[1]! & 0x01) !== 0;
  const pageCode = cdb[2]!;
  // Byte 1 bit 1 is the obsolete CMDDT: command support data is asked for with REPORT SUPPORTED OPERATION CODES.
  if (cdb[1]! & 0x02) throw invalidCdbField(1, 1);
  if (!evpd) {
    if (pageCode !== 0) throw invalidCdbField(2);
    return truncated(standard, cdb);
  }
  if (pageCode === VpdPage.SUPPORTED_PAGES) {
    const codes = [VpdPage.SUPPORTED_PAGES, ...[...pages.keys()].filter((c) => c !== VpdPage.SUPPORTED_PAGES)].sort((a, b) => a - b);
    return truncated(vpdPage(standard[0]!, VpdPage.SUPPORTED_PAGES, Buffer.from(codes)), cdb);
  }
  const page = pages.get(pageCode);
  if (!page) throw invalidCdbField(2);
  return truncated(page, cdb);
}
