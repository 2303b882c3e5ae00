/**
 * What answers for a LUN the target does not have (SPC-4 §3.1.74, "incorrect logical unit"): INQUIRY says no device
 * is connected (peripheral qualifier 3), REPORT LUNS lists the LUNs that do exist (so LUN 0 works even when a
 * target has no LUN 0), REQUEST SENSE reports nothing, and every other command fails with LOGICAL UNIT NOT SUPPORTED.
 */
import { ScsiStatus, type ScsiLogicalUnit, type ScsiRequest, type ScsiResponse } from '../scsi/scsi-types.js';
import { encodeLun } from './pdu.js';
import { Sense, fixedSense } from '../scsi/scsi-sense.js';

const INQUIRY = 0x12;
const REQUEST_SENSE = 0x03;
const REPORT_LUNS = 0xa0;
const NO_DEVICE = 0x7f;
const STANDARD_INQUIRY_LENGTH = 36;

export class AbsentLogicalUnit implements ScsiLogicalUnit {
  constructor(private readonly existingLuns: () => Iterable<number>) {}

  async execute({ cdb }: ScsiRequest): Promise<ScsiResponse> {
    switch (cdb[0]) {
      case INQUIRY:
        return good(this.inquiry(), cdb.readUInt16BE(3));
      case REPORT_LUNS:
        return good(this.reportLuns(), cdb.readUInt32BE(6));
      case REQUEST_SENSE:
        return good(fixedSense(Sense.NO_SENSE), cdb[4]!);
      default:
        return { status: ScsiStatus.CHECK_CONDITION, sense: fixedSense(Sense.LUN_NOT_SUPPORTED) };
    }
  }

  reset(): void {}

  nexusLost(): void {}

  private inquiry(): Buffer {
    const data = Buffer.alloc(STANDARD_INQUIRY_LENGTH, 0x20);
    data[0] = NO_DEVICE;
    data.fill(0, 1, 8);
    data[2] = 0x05;
    data[3] = 0x02;
    data[4] = STANDARD_INQUIRY_LENGTH - 5;
    return data;
  }

  private reportLuns(): Buffer {
    const luns = [...this.existingLuns()].sort((a, b) => a - b);
    const data = Buffer.alloc(8 + 8 * luns.length);
    data.writeUInt32BE(8 * luns.length, 0);
    luns.forEach((lun, i) => encodeLun(lun).copy(data, 8 + 8 * i));
    return data;
  }
}

/** The data cut to the CDB's allocation length. */
function good(data: Buffer, allocationLength: number): ScsiResponse {
  return { status: ScsiStatus.GOOD, dataIn: data.subarray(0, allocationLength) };
}
