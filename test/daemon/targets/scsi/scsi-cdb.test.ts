import t from 'tap';
import {
  allocationLength,
  blockRange,
  cdbLength,
  paddedCdb,
  parameterListLength,
  transferLengthField,
  truncated,
} from '../../../../src/daemon/targets/scsi/scsi-cdb.js';
import { blockCdb, compareAndWriteCdb } from './disk-fixture.js';

t.test('CDB length follows the group code', async (t) => {
  t.same([0x00, 0x28, 0x5e, 0x88, 0xa0, 0xa8, 0x7f, 0xc0].map(cdbLength), [6, 10, 10, 16, 12, 12, 0, 0]);
});

t.test('6-byte READ/WRITE: 21-bit LBA, transfer length 0 means 256', async (t) => {
  const cdb = paddedCdb(Buffer.from([0x08, 0xff, 0x12, 0x34, 0, 0]));
  t.same(blockRange(cdb), { lba: 0x1f1234n, blocks: 256 });
  t.same(blockRange(paddedCdb(blockCdb(0x0a, 5, 3))), { lba: 5n, blocks: 3 });
  t.equal(transferLengthField(cdb), 4);
});

t.test('10, 12 and 16-byte block commands', async (t) => {
  t.same(blockRange(paddedCdb(blockCdb(0x28, 0xfffffffe, 0xffff))), { lba: 0xfffffffen, blocks: 0xffff });
  t.same(blockRange(paddedCdb(blockCdb(0xaf, 7, 0x12345678))), { lba: 7n, blocks: 0x12345678 });
  t.same(blockRange(blockCdb(0x88, 0xfedcba9876543210n, 0xffffffff)), { lba: 0xfedcba9876543210n, blocks: 0xffffffff });
  t.same(blockRange(blockCdb(0x93, 1, 2)), { lba: 1n, blocks: 2 });
  t.same([0x2a, 0xaa, 0x8a].map((op) => transferLengthField(paddedCdb(blockCdb(op, 0, 1)))), [7, 6, 10]);
});

t.test('COMPARE AND WRITE has its block count in byte 13', async (t) => {
  const cdb = compareAndWriteCdb(0x1122334455n, 9);
  cdb.writeUIntBE(0xffffff, 10, 3); // where other 16-byte commands keep the high bytes of the transfer length
  t.same(blockRange(cdb), { lba: 0x1122334455n, blocks: 9 });
  t.equal(transferLengthField(cdb), 13);
});

t.test('allocation and parameter list lengths', async (t) => {
  t.equal(allocationLength(paddedCdb(Buffer.from([0x12, 1, 0x80, 0x01, 0x02, 0]))), 0x102);
  t.equal(allocationLength(paddedCdb(Buffer.from([0x1a, 0, 0x3f, 0, 0xfe, 0]))), 0xfe);
  t.equal(allocationLength(paddedCdb(Buffer.from([0x5a, 0, 0x3f, 0, 0, 0, 0, 0x12, 0x34, 0]))), 0x1234);
  t.equal(allocationLength(paddedCdb(Buffer.from([0xa0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]))), 0x10000);
  const rc16 = Buffer.alloc(16);
  rc16[0] = 0x9e;
  rc16.writeUInt32BE(32, 10);
  t.equal(allocationLength(rc16), 32);
  t.equal(allocationLength(paddedCdb(Buffer.from([0x00]))), 0, 'TEST UNIT READY has none');
  t.equal(parameterListLength(paddedCdb(Buffer.from([0x15, 0x10, 0, 0, 28, 0]))), 28);
  t.equal(parameterListLength(paddedCdb(Buffer.from([0x5f, 0, 0, 0, 0, 0, 0, 0, 24, 0]))), 24);
  t.equal(parameterListLength(paddedCdb(Buffer.from([0x42, 0, 0, 0, 0, 0, 0, 0, 40, 0]))), 40);
  t.equal(parameterListLength(paddedCdb(Buffer.from([0x1d, 0x04, 0, 0, 8, 0]))), 8);
});

t.test('short CDBs are padded, long ones kept; data-in is cut to the allocation length', async (t) => {
  const short = Buffer.from([0x12, 0, 0, 0, 5]);
  t.same(paddedCdb(short), Buffer.concat([short, Buffer.alloc(11)]));
  const long = Buffer.alloc(32, 1);
  t.equal(paddedCdb(long), long);
  const cdb = paddedCdb(Buffer.from([0x12, 0, 0, 0, 5, 0]));
  t.same(truncated(Buffer.from('0123456789'), cdb), Buffer.from('01234'));
  t.same(truncated(Buffer.from('012'), cdb), Buffer.from('012'));
});
