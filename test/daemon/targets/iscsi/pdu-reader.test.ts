import fc from 'fast-check';
import t from 'tap';
import { PduReader } from '../../../../src/daemon/targets/iscsi/pdu-reader.js';
import type { RawPdu } from '../../../../src/daemon/targets/iscsi/pdu.js';
import { ProtocolError } from '../../../../src/daemon/targets/iscsi/protocol-error.js';
import { encodePdu, type OutgoingPdu } from './test-initiator.js';

const MAX = 8192;

const anyPdu: fc.Arbitrary<OutgoingPdu> = fc.record({
  opcode: fc.nat(0x3f),
  immediate: fc.boolean(),
  itt: fc.nat({ max: 0xffffffff }),
  ahs: fc.nat(3).map((words) => Buffer.alloc(words * 4, 0xa5)),
  data: fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)),
});

function readAll(reader: PduReader, wire: Buffer, cuts: number[]): RawPdu[] {
  const out: RawPdu[] = [];
  let offset = 0;
  for (let i = 0; offset < wire.length; i++) {
    const size = cuts[i % cuts.length] ?? 1;
    reader.push(wire.subarray(offset, offset + size));
    offset += size;
    for (let pdu = reader.next(); pdu !== null; pdu = reader.next()) out.push(pdu);
  }
  return out;
}

t.test('the same PDUs come out however the stream is cut, with or without digests', async () => {
  fc.assert(fc.property(fc.array(anyPdu, { minLength: 1, maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 10 }), fc.boolean(), fc.boolean(), (pdus, cuts, header, data) => {
    const digests = { header, data };
    const wire = Buffer.concat(pdus.map((p) => encodePdu(p, digests)));
    const got = readAll(new PduReader({ headerDigest: header, dataDigest: data, maxDataSegmentLength: MAX }), wire, cuts);
    return got.length === pdus.length && got.every((raw, i) => {
      const sent = pdus[i]!;
      return raw.dataDigestOk && (raw.bhs[0]! & 0x3f) === sent.opcode && raw.bhs.readUInt32BE(16) === sent.itt
        && raw.ahs.equals(sent.ahs!) && raw.data.equals(sent.data!);
    });
  }));
});

t.test('a DataSegmentLength over the limit is refused from the header alone', async (t) => {
  const reader = new PduReader({ headerDigest: false, dataDigest: false, maxDataSegmentLength: MAX });
  const wire = encodePdu({ opcode: 5, dataSegmentLength: 0xffffff });
  reader.push(wire.subarray(0, 48));
  t.throws(() => reader.next(), ProtocolError);
  const exact = new PduReader({ headerDigest: false, dataDigest: false, maxDataSegmentLength: MAX });
  exact.push(encodePdu({ opcode: 5, data: Buffer.alloc(MAX) }));
  t.equal(exact.next()?.data.length, MAX, 'exactly the limit is fine');
});

t.test('a header digest error is a protocol error; a data digest error is flagged on the PDU', async (t) => {
  const digests = { header: true, data: true };
  const wire = encodePdu({ opcode: 0, itt: 5, data: Buffer.from('hello') }, digests);
  const badHeader = Buffer.from(wire);
  badHeader[20]! ^= 1;
  const reader = new PduReader({ headerDigest: true, dataDigest: true, maxDataSegmentLength: MAX });
  reader.push(badHeader);
  t.throws(() => reader.next(), /header digest/);

  const badData = Buffer.from(wire);
  badData[48 + 4 + 1]! ^= 1;
  const second = new PduReader({ headerDigest: true, dataDigest: true, maxDataSegmentLength: MAX });
  second.push(badData);
  t.equal(second.next()?.dataDigestOk, false);
});

t.test('digests start when configured, for the next PDU', async (t) => {
  const reader = new PduReader({ headerDigest: false, dataDigest: false, maxDataSegmentLength: MAX });
  reader.push(Buffer.concat([encodePdu({ opcode: 3, itt: 1 }), encodePdu({ opcode: 0, itt: 2, data: Buffer.from('x') }, { header: true, data: true })]));
  t.equal(reader.next()?.bhs.readUInt32BE(16), 1);
  reader.configure({ headerDigest: true, dataDigest: true, maxDataSegmentLength: MAX });
  const second = reader.next();
  t.equal(second?.bhs.readUInt32BE(16), 2);
  t.equal(second?.dataDigestOk, true);
  t.equal(reader.next(), null);
});
