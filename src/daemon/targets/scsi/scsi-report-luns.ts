import { allocationLength, truncated } from './scsi-cdb.js';
import { invalidCdbField } from './scsi-sense.js';

/** REPORT LUNS parameter data (SPC-4) for the LUNs a target has, cut to the CDB's allocation length. */
export function reportLunsData(cdb: Buffer, luns: () => number[]): Buffer {
  const select = cdb[2]!;
  // 0: all LUNs, 1: well-known LUNs only (there are none), 2: all; the administrative ones are not supported.
  if (select > 2) throw invalidCdbField(2);
  if (allocationLength(cdb) < 16) throw invalidCdbField(6);
  const listed = select === 1 ? [] : luns();
  const b = Buffer.alloc(8 + 8 * listed.length);
  b.writeUInt32BE(8 * listed.length, 0);
  listed.forEach((lun, i) => {
    // Peripheral device addressing below 256, flat space addressing above (SAM-5).
    b.writeUInt16BE(lun < 256 ? lun : 0x4000 | (lun & 0x3fff), 8 + 8 * i);
  });
  return truncated(b, cdb);
}
