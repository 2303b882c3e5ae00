import fc from 'fast-check';
import t from 'tap';
import { DataOutCollector, type R2tRequest, type WriteLimits } from '../../../../src/daemon/targets/iscsi/data-out-collector.js';
import { RESERVED_TAG, type DataOutRequest } from '../../../../src/daemon/targets/iscsi/pdu.js';
import { ProtocolError } from '../../../../src/daemon/targets/iscsi/protocol-error.js';

const limitsArb = fc.record({
  firstBurstLength: fc.integer({ min: 512, max: 8192 }),
  maxBurstLength: fc.integer({ min: 512, max: 16384 }),
  maxOutstandingR2T: fc.integer({ min: 1, max: 4 }),
  immediateData: fc.boolean(),
  initialR2T: fc.boolean(),
}).map((l): WriteLimits => ({ ...l, firstBurstLength: Math.min(l.firstBurstLength, l.maxBurstLength) }));

function dataOut(f: { ttt: number; dataSN: number; offset: number; data: Buffer; final: boolean }): DataOutRequest {
  return { kind: 'data-out', raw: { bhs: Buffer.alloc(48), ahs: Buffer.alloc(0), data: f.data, dataDigestOk: true }, immediate: false, itt: 1, final: f.final, ttt: f.ttt, dataSN: f.dataSN, bufferOffset: f.offset, data: f.data };
}

/** The Data-Out PDUs of one sequence, cut at `segment` bytes. */
function sequence(payload: Buffer, ttt: number, start: number, end: number, segment: number): DataOutRequest[] {
  const pdus: DataOutRequest[] = [];
  for (let offset = start, dataSN = 0; offset < end; offset += segment, dataSN++) {
    const stop = Math.min(end, offset + segment);
    pdus.push(dataOut({ ttt, dataSN, offset, data: payload.subarray(offset, stop), final: stop === end }));
  }
  return pdus;
}

t.test('a conforming initiator gets its write assembled, whatever the limits, cuts and R2T answer order', async () => {
  fc.assert(fc.property(limitsArb, fc.integer({ min: 0, max: 40000 }), fc.nat(9000), fc.integer({ min: 1, max: 3000 }), fc.boolean(), fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), (limits, edtl, immediateWanted, segment, stopEarly, picks) => {
    const payload = Buffer.from(Array.from({ length: edtl }, (_, i) => (i * 7 + 3) & 0xff));
    const firstBurst = Math.min(limits.firstBurstLength, edtl);
    const immediate = limits.immediateData ? Math.min(immediateWanted, firstBurst, segment) : 0;
    const unsolicitedFollows = !limits.initialR2T && immediate < firstBurst;
    const collector = new DataOutCollector(edtl, { immediate: payload.subarray(0, immediate), unsolicitedFollows }, limits);
    if (unsolicitedFollows) {
      const end = stopEarly ? immediate + Math.ceil((firstBurst - immediate) / 2) : firstBurst;
      for (const pdu of sequence(payload, RESERVED_TAG, immediate, end, segment)) collector.accept(pdu);
    }
    let tag = 0;
    const outstanding: R2tRequest[] = [];
    for (let round = 0; !collector.complete; round++) {
      outstanding.push(...collector.solicit(() => ++tag));
      if (outstanding.length > limits.maxOutstandingR2T || outstanding.length === 0) return false;
      if (outstanding.some((r) => r.desiredLength > limits.maxBurstLength)) return false;
      const [r2t] = outstanding.splice(picks[round % picks.length]! % outstanding.length, 1);
      for (const pdu of sequence(payload, r2t!.ttt, r2t!.bufferOffset, r2t!.bufferOffset + r2t!.desiredLength, segment)) collector.accept(pdu);
    }
    return collector.assemble().equals(payload);
  }));
});

t.test('DataSN, offset, length and TTT mistakes are protocol errors', async (t) => {
  const limits: WriteLimits = { firstBurstLength: 1024, maxBurstLength: 4096, maxOutstandingR2T: 2, immediateData: true, initialR2T: false };
  const payload = Buffer.alloc(8192, 1);
  const fresh = () => new DataOutCollector(8192, { immediate: Buffer.alloc(0), unsolicitedFollows: true }, limits);
  const cases: Array<[string, DataOutRequest[]]> = [
    ['DataSN 0 twice', [dataOut({ ttt: RESERVED_TAG, dataSN: 0, offset: 0, data: payload.subarray(0, 512), final: false }), dataOut({ ttt: RESERVED_TAG, dataSN: 0, offset: 512, data: payload.subarray(0, 512), final: true })]],
    ['DataSN 27', [dataOut({ ttt: RESERVED_TAG, dataSN: 27, offset: 0, data: payload.subarray(0, 512), final: false })]],
    ['offset gap', [dataOut({ ttt: RESERVED_TAG, dataSN: 0, offset: 512, data: payload.subarray(0, 512), final: false })]],
    ['past the first burst', [dataOut({ ttt: RESERVED_TAG, dataSN: 0, offset: 0, data: payload.subarray(0, 2048), final: true })]],
    ['unknown TTT', [dataOut({ ttt: 77, dataSN: 0, offset: 0, data: payload.subarray(0, 512), final: true })]],
  ];
  for (const [name, pdus] of cases) {
    const collector = fresh();
    t.throws(() => pdus.forEach((p) => collector.accept(p)), ProtocolError, name);
  }
  const collector = fresh();
  collector.accept(dataOut({ ttt: RESERVED_TAG, dataSN: 0, offset: 0, data: payload.subarray(0, 1024), final: true }));
  let tag = 0;
  const [r2t] = collector.solicit(() => ++tag);
  t.throws(() => collector.accept(dataOut({ ttt: r2t!.ttt, dataSN: 0, offset: r2t!.bufferOffset, data: payload.subarray(0, 512), final: true })), /ended at/, 'an R2T sequence ended short');
});

t.test('immediate and unsolicited data must fit what was negotiated', async (t) => {
  const base: WriteLimits = { firstBurstLength: 1024, maxBurstLength: 4096, maxOutstandingR2T: 1, immediateData: true, initialR2T: true };
  t.throws(() => new DataOutCollector(4096, { immediate: Buffer.alloc(2048), unsolicitedFollows: false }, base), ProtocolError, 'beyond FirstBurstLength');
  t.throws(() => new DataOutCollector(100, { immediate: Buffer.alloc(200), unsolicitedFollows: false }, base), ProtocolError, 'beyond the EDTL');
  t.throws(() => new DataOutCollector(4096, { immediate: Buffer.alloc(10), unsolicitedFollows: false }, { ...base, immediateData: false }), ProtocolError, 'without ImmediateData');
  t.throws(() => new DataOutCollector(4096, { immediate: Buffer.alloc(0), unsolicitedFollows: true }, base), ProtocolError, 'unsolicited with InitialR2T=Yes');
  const empty = new DataOutCollector(0, { immediate: Buffer.alloc(0), unsolicitedFollows: false }, base);
  t.ok(empty.complete, 'EDTL 0 needs nothing');
});
