import fc from 'fast-check';
import t from 'tap';
import { OperationalNegotiation, defaultParameters } from '../../../../src/daemon/targets/iscsi/negotiation.js';

const answer = (key: string, value: string) => new OperationalNegotiation().answer(key, value);

t.test('numeric keys take the minimum or maximum with our limit', async (t) => {
  const limits: Array<[string, 'min' | 'max', number, [number, number]]> = [
    ['FirstBurstLength', 'min', 262144, [512, 2 ** 24 - 1]],
    ['MaxBurstLength', 'min', 1048576, [512, 2 ** 24 - 1]],
    ['MaxOutstandingR2T', 'min', 16, [1, 65535]],
    ['ErrorRecoveryLevel', 'min', 0, [0, 2]],
    ['MaxConnections', 'min', 1, [1, 65535]],
    ['DefaultTime2Wait', 'max', 2, [0, 3600]],
    ['DefaultTime2Retain', 'min', 0, [0, 3600]],
  ];
  for (const [key, combine, ours, [min, max]] of limits) {
    fc.assert(fc.property(fc.integer({ min, max }), fc.boolean(), (offered, hex) => {
      const expected = combine === 'min' ? Math.min(offered, ours) : Math.max(offered, ours);
      return answer(key, hex ? `0x${offered.toString(16)}` : String(offered)) === String(expected);
    }), { numRuns: 50 });
    t.equal(answer(key, String(max + 1)), 'Reject', `${key} above its range`);
    if (min > 0) t.equal(answer(key, String(min - 1)), 'Reject', `${key} below its range`);
    t.equal(answer(key, 'lots'), 'Reject', `${key} not a number`);
  }
});

t.test('boolean keys: ImmediateData is AND with Yes, InitialR2T is OR with No, the in-order keys OR with Yes', async (t) => {
  for (const v of ['Yes', 'No']) {
    t.equal(answer('ImmediateData', v), v);
    t.equal(answer('InitialR2T', v), v);
    t.equal(answer('DataPDUInOrder', v), 'Yes');
    t.equal(answer('DataSequenceInOrder', v), 'Yes');
  }
  t.equal(answer('ImmediateData', 'yes'), 'Reject', 'values are case-sensitive');
});

t.test('digests: the first of the initiator list we support', async (t) => {
  t.equal(answer('HeaderDigest', 'None,CRC32C'), 'None');
  t.equal(answer('HeaderDigest', 'CRC32C,None'), 'CRC32C');
  t.equal(answer('DataDigest', 'SHA1,CRC32C'), 'CRC32C');
  t.equal(answer('DataDigest', 'SHA1'), 'Reject');
  const n = new OperationalNegotiation();
  n.answer('HeaderDigest', 'CRC32C');
  n.answer('DataDigest', 'None');
  t.match(n.result(), { headerDigest: true, dataDigest: false });
});

t.test('declarations, markers, unknown keys', async (t) => {
  const n = new OperationalNegotiation();
  t.equal(n.answer('MaxRecvDataSegmentLength', '65536'), null, 'the initiator declares its own limit; no answer');
  t.equal(n.result().initiatorMaxRecvDataSegmentLength, 65536);
  t.equal(n.answer('MaxRecvDataSegmentLength', '100'), 'Reject', 'below 512');
  for (const key of ['IFMarker', 'OFMarker', 'IFMarkInt', 'OFMarkInt']) t.equal(n.answer(key, 'No'), 'Reject', key);
  t.equal(n.answer('X-com.example.Thing', '1'), 'NotUnderstood');
  t.equal(n.answer('maxburstlength', '512'), 'NotUnderstood', 'key names are case-sensitive');
});

t.test('the result starts from the RFC defaults and keeps FirstBurstLength within MaxBurstLength', async (t) => {
  t.same(new OperationalNegotiation().result(), defaultParameters());
  const n = new OperationalNegotiation();
  n.answer('FirstBurstLength', '262144');
  n.answer('MaxBurstLength', '16384');
  t.match(n.result(), { firstBurstLength: 16384, maxBurstLength: 16384 });
  const libiscsi = new OperationalNegotiation();
  for (const [k, v] of [['InitialR2T', 'No'], ['ImmediateData', 'Yes'], ['MaxBurstLength', '262144'], ['FirstBurstLength', '262144'], ['MaxOutstandingR2T', '8']]) libiscsi.answer(k!, v!);
  t.match(libiscsi.result(), { initialR2T: false, immediateData: true, maxBurstLength: 262144, firstBurstLength: 262144, maxOutstandingR2T: 8 });
});
