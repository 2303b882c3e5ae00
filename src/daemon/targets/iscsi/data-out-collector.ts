/**
 * Gathers the data-out of one write command (RFC 7143 §4.2.5.2, §11.7): immediate data, then the unsolicited burst
 * when InitialR2T=No, then R2T-solicited sequences of at most MaxBurstLength, MaxOutstandingR2T at a time. Every
 * Data-Out must carry the next DataSN of its sequence and the next buffer offset (DataPDUInOrder=Yes); anything else
 * is a protocol error, which error recovery level 0 answers by dropping the connection.
 */
import { RESERVED_TAG, type DataOutRequest } from './pdu.js';
import { ProtocolError } from './protocol-error.js';

export interface WriteLimits {
  firstBurstLength: number;
  maxBurstLength: number;
  maxOutstandingR2T: number;
  immediateData: boolean;
  initialR2T: boolean;
}

export interface R2tRequest {
  ttt: number;
  r2tSN: number;
  bufferOffset: number;
  desiredLength: number;
}

interface Sequence {
  ttt: number;
  end: number;
  nextOffset: number;
  nextDataSN: number;
}

export class DataOutCollector {
  private readonly pieces: Array<{ offset: number; data: Buffer }> = [];
  private unsolicited: Sequence | null = null;
  private readonly solicited = new Map<number, Sequence>();
  /** Where R2Ts start: known once the unsolicited burst is over. */
  private solicitedUpTo: number;
  private r2tSN = 0;

  constructor(
    private readonly expectedLength: number,
    command: { immediate: Buffer; unsolicitedFollows: boolean },
    private readonly limits: WriteLimits,
  ) {
    const { immediate, unsolicitedFollows } = command;
    if (immediate.length > 0 && !limits.immediateData) throw new ProtocolError('immediate data without ImmediateData=Yes');
    if (immediate.length > Math.min(expectedLength, limits.firstBurstLength)) {
      throw new ProtocolError(`${immediate.length} bytes of immediate data beyond the first burst or the EDTL`);
    }
    if (immediate.length > 0) this.pieces.push({ offset: 0, data: immediate });
    this.solicitedUpTo = immediate.length;
    if (unsolicitedFollows) {
      const end = Math.min(expectedLength, limits.firstBurstLength);
      if (limits.initialR2T || immediate.length >= end) throw new ProtocolError('unsolicited Data-Out announced but not allowed');
      this.unsolicited = { ttt: RESERVED_TAG, end, nextOffset: immediate.length, nextDataSN: 0 };
    }
  }

  get complete(): boolean {
    return this.unsolicited === null && this.solicited.size === 0 && this.solicitedUpTo === this.expectedLength;
  }

  /** Whether the unsolicited burst is over, so that what is left to solicit is known. */
  get unsolicitedDone(): boolean {
    return this.unsolicited === null;
  }

  /** Bytes not yet asked for with an R2T. */
  get bytesToSolicit(): number {
    return this.expectedLength - this.solicitedUpTo;
  }

  /** The R2Ts to send now, within MaxOutstandingR2T; none while the unsolicited burst is still coming. */
  solicit(allocateTag: () => number): R2tRequest[] {
    const r2ts: R2tRequest[] = [];
    while (this.unsolicited === null && this.solicited.size < this.limits.maxOutstandingR2T && this.solicitedUpTo < this.expectedLength) {
      const desiredLength = Math.min(this.limits.maxBurstLength, this.expectedLength - this.solicitedUpTo);
      const r2t = { ttt: allocateTag(), r2tSN: this.r2tSN++, bufferOffset: this.solicitedUpTo, desiredLength };
      this.solicited.set(r2t.ttt, { ttt: r2t.ttt, end: r2t.bufferOffset + desiredLength, nextOffset: r2t.bufferOffset, nextDataSN: 0 });
      this.solicitedUpTo += desiredLength;
      r2ts.push(r2t);
    }
    return r2ts;
  }

  accept(pdu: DataOutRequest): void {
    const sequence = pdu.ttt === RESERVED_TAG ? this.unsolicited : this.solicited.get(pdu.ttt);
    if (!sequence) throw new ProtocolError(`Data-Out with TTT 0x${pdu.ttt.toString(16)} for no open sequence`);
    if (pdu.dataSN !== sequence.nextDataSN) throw new ProtocolError(`Data-Out DataSN ${pdu.dataSN}, expected ${sequence.nextDataSN}`);
    if (pdu.bufferOffset !== sequence.nextOffset) throw new ProtocolError(`Data-Out offset ${pdu.bufferOffset}, expected ${sequence.nextOffset}`);
    const end = sequence.nextOffset + pdu.data.length;
    if (end > sequence.end) throw new ProtocolError(`Data-Out runs to ${end}, past the end of its sequence at ${sequence.end}`);
    if (pdu.data.length > 0) this.pieces.push({ offset: pdu.bufferOffset, data: pdu.data });
    sequence.nextOffset = end;
    sequence.nextDataSN++;
    if (!pdu.final) return;
    if (sequence === this.unsolicited) {
      // The unsolicited burst may stop short of FirstBurstLength; R2Ts take over from where it stopped.
      this.unsolicited = null;
      this.solicitedUpTo = end;
    } else {
      if (end !== sequence.end) throw new ProtocolError(`R2T sequence ended at ${end} instead of ${sequence.end}`);
      this.solicited.delete(sequence.ttt);
    }
  }

  /** The whole data-out, once complete. */
  assemble(): Buffer {
    const out = Buffer.allocUnsafe(this.expectedLength);
    for (const { offset, data } of this.pieces) data.copy(out, offset);
    return out;
  }
}
