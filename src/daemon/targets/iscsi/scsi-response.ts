/**
 * Turns a logical unit's answer into PDUs (RFC 7143 §4.2.5.1, §11.4, §11.7): Data-In segments no longer than the
 * initiator's MaxRecvDataSegmentLength, F at every MaxBurstLength boundary, and the status either folded into the
 * last Data-In (S bit, for GOOD without sense) or sent as a SCSI Response. The residual is EDTL minus what the
 * command itself transfers: underflow when positive, overflow when negative.
 */
import { ScsiStatus, type ScsiResponse } from '../scsi/scsi-types.js';
import { dataIn, scsiResponse, type TargetPdu } from './pdu.js';

export interface CompletedCommand {
  itt: number;
  expectedLength: number;
  read: boolean;
}

export interface DataInLimits {
  initiatorMaxRecvDataSegmentLength: number;
  maxBurstLength: number;
}

export function responsePdus(command: CompletedCommand, answer: ScsiResponse, limits: DataInLimits): TargetPdu[] {
  const residual = command.expectedLength - (answer.transferLength ?? answer.dataIn?.length ?? 0);
  const payload = command.read && answer.dataIn ? answer.dataIn.subarray(0, Math.min(command.expectedLength, answer.dataIn.length)) : null;
  const folded = answer.status === ScsiStatus.GOOD && !answer.sense && payload !== null && payload.length > 0;
  const pdus: TargetPdu[] = [];
  let dataSN = 0;
  for (let offset = 0; payload !== null && offset < payload.length; dataSN++) {
    const burstEnd = (Math.floor(offset / limits.maxBurstLength) + 1) * limits.maxBurstLength;
    const length = Math.min(limits.initiatorMaxRecvDataSegmentLength, payload.length - offset, burstEnd - offset);
    const last = offset + length === payload.length;
    pdus.push(dataIn({
      itt: command.itt,
      final: last || offset + length === burstEnd,
      dataSN,
      bufferOffset: offset,
      data: payload.subarray(offset, offset + length),
      completion: last && folded ? { status: answer.status, residual } : undefined,
    }));
    offset += length;
  }
  if (!folded) {
    pdus.push(scsiResponse({ itt: command.itt, status: answer.status, residual, expDataSN: dataSN, sense: answer.sense }));
  }
  return pdus;
}
