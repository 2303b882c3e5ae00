import fc from 'fast-check';
import t from 'tap';
import { ScsiStatus } from '../../../../src/daemon/targets/scsi/scsi-types.js';
import { responsePdus } from '../../../../src/daemon/targets/iscsi/scsi-response.js';
import { decodeIncoming } from './test-initiator.js';

t.test('Data-In segments rebuild the data within MRDSL and MaxBurstLength; GOOD folds into the last', async () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 20000 }), fc.integer({ min: 0, max: 25000 }), fc.integer({ min: 512, max: 4096 }), fc.integer({ min: 512, max: 8192 }), (available, edtl, mrdsl, burst) => {
    const data = Buffer.from(Array.from({ length: available }, (_, i) => i & 0xff));
    const pdus = responsePdus({ itt: 5, expectedLength: edtl, read: true }, { status: ScsiStatus.GOOD, dataIn: data }, { initiatorMaxRecvDataSegmentLength: mrdsl, maxBurstLength: burst }).map((p) => decodeIncoming(p.bhs, p.data));
    const sent = Math.min(edtl, available);
    if (sent === 0) return pdus.length === 1 && pdus[0]!.opcode === 0x21 && pdus[0]!.flags === 0x84 && pdus[0]!.word44 === available;
    const last = pdus[pdus.length - 1]!;
    const residual = edtl - available;
    const rebuilt = Buffer.concat(pdus.map((p) => p.data));
    return pdus.every((p, i) => p.opcode === 0x25 && p.word36 === i && p.data.length <= mrdsl
        && Math.floor(p.word40 / burst) === Math.floor((p.word40 + p.data.length - 1) / burst)
        && ((p.flags & 0x80) !== 0) === (p === last || (p.word40 + p.data.length) % burst === 0))
      && rebuilt.equals(data.subarray(0, sent))
      && (last.flags & 0x01) === 1 && last.byte3 === 0 && last.word44 === Math.abs(residual)
      && (last.flags & 0x06) === (residual > 0 ? 0x02 : residual < 0 ? 0x04 : 0);
  }));
});

t.test('a check condition goes in a SCSI Response with sense, after any data', async (t) => {
  const sense = Buffer.alloc(18, 1);
  const [only] = responsePdus({ itt: 1, expectedLength: 4096, read: true }, { status: ScsiStatus.CHECK_CONDITION, sense }, { initiatorMaxRecvDataSegmentLength: 8192, maxBurstLength: 65536 });
  const p = decodeIncoming(only!.bhs, only!.data);
  t.same([p.opcode, p.flags, p.byte3, p.word44, p.word36], [0x21, 0x82, 2, 4096, 0], 'a failed read with no data: underflow of the whole EDTL');
  t.same(p.data, Buffer.concat([Buffer.from([0, 18]), sense]));
  const withData = responsePdus({ itt: 1, expectedLength: 100, read: true }, { status: ScsiStatus.CHECK_CONDITION, sense, dataIn: Buffer.alloc(40) }, { initiatorMaxRecvDataSegmentLength: 8192, maxBurstLength: 65536 });
  t.same(withData.map((pdu) => pdu.bhs[0]), [0x25, 0x21]);
  t.equal(withData[1]!.bhs.readUInt32BE(36), 1, 'ExpDataSN counts the Data-Ins');
});

t.test('writes report the residual against what the command transfers', async (t) => {
  const [over] = responsePdus({ itt: 1, expectedLength: 512, read: false }, { status: ScsiStatus.GOOD, transferLength: 1024 }, { initiatorMaxRecvDataSegmentLength: 8192, maxBurstLength: 65536 });
  t.same([over!.bhs[1], over!.bhs.readUInt32BE(44)], [0x84, 512], 'overflow');
  const [under] = responsePdus({ itt: 1, expectedLength: 10000, read: false }, { status: ScsiStatus.GOOD, transferLength: 512 }, { initiatorMaxRecvDataSegmentLength: 8192, maxBurstLength: 65536 });
  t.same([under!.bhs[1], under!.bhs.readUInt32BE(44)], [0x82, 9488], 'underflow');
});
