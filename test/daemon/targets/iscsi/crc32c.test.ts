import fc from 'fast-check';
import t from 'tap';
import { crc32c, digestBytes } from '../../../../src/daemon/targets/iscsi/crc32c.js';

/** Bit at a time, straight from the polynomial: the oracle for the table-driven version. */
function bitwise(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

t.test('RFC 3720 B.4 and the check value', async (t) => {
  t.equal(crc32c(Buffer.alloc(32)), 0x8a9136aa, '32 zero bytes');
  t.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43, '32 0xff bytes');
  t.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => i))), 0x46dd794e, '32 incrementing bytes');
  t.equal(crc32c(Buffer.from('123456789')), 0xe3069283, '"123456789"');
  t.same(digestBytes(Buffer.alloc(32)), Buffer.from([0xaa, 0x36, 0x91, 0x8a]), 'digests go on the wire little-endian');
});

t.test('agrees with the bitwise definition, and continues across buffers', async () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(300), (data, cut) => {
    const at = Math.min(cut, data.length);
    const whole = crc32c(data);
    return whole === bitwise(data) && crc32c(data.subarray(at), crc32c(data.subarray(0, at))) === whole
      && digestBytes(data.subarray(0, at), data.subarray(at)).readUInt32LE(0) === whole;
  }));
});
