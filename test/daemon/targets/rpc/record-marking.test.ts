import fc from 'fast-check';
import t from 'tap';
import { RpcProtocolError } from '../../../../src/daemon/targets/rpc/protocol-error.js';
import { RecordReader, recordWriter, sealRecord } from '../../../../src/daemon/targets/rpc/record-marking.js';
import { fragmentHeader } from './test-rpc-client.js';

const record = (max: number) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));

/** A record cut into fragments at the given points; empty fragments included, the last one marked. */
function fragmented(data: Buffer, cuts: number[]): Buffer {
  const points = [...cuts.map((c) => c % (data.length + 1)), data.length].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let start = 0;
  points.forEach((end, i) => {
    parts.push(fragmentHeader(end - start, i === points.length - 1), data.subarray(start, end));
    start = end;
  });
  return Buffer.concat(parts);
}

/** Feeds the stream in chunks of the given sizes (cycled) and collects every record, reading after each chunk. */
function readAll(reader: RecordReader, wire: Buffer, sizes: number[], out: Buffer[] = []): Buffer[] {
  for (let offset = 0, i = 0; offset < wire.length; i++) {
    const size = sizes[i % sizes.length]!;
    reader.push(wire.subarray(offset, offset + size));
    offset += size;
    for (let next = reader.next(); next !== null; next = reader.next()) out.push(next);
  }
  return out;
}

const fragmentedRecord = fc.tuple(record(300), fc.array(fc.nat(), { maxLength: 5 }));
const chunkSizes = fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 8 });

t.test('the same records come out however they are fragmented and however the stream is cut', async () => {
  fc.assert(fc.property(fc.array(fragmentedRecord, { minLength: 1, maxLength: 8 }), chunkSizes, (records, sizes) => {
    const wire = Buffer.concat(records.map(([data, cuts]) => fragmented(data, cuts)));
    const got = readAll(new RecordReader(1024), wire, sizes);
    return got.length === records.length && got.every((r, i) => r.equals(records[i]![0]));
  }), { numRuns: 1000 });
});

t.test('a record over the cap is refused from its fragment header, before its data arrives', async () => {
  const CAP = 200;
  fc.assert(fc.property(fc.array(fragmentedRecord, { maxLength: 4 }), record(CAP).chain((data) => fc.tuple(fc.constant(data), fc.integer({ min: CAP - data.length + 1, max: 0x7fffffff - data.length }))), fc.boolean(), chunkSizes, (before, [head, extra], last, sizes) => {
    const fits = before.filter(([data]) => data.length <= CAP);
    const valid = Buffer.concat(fits.map(([data, cuts]) => fragmented(data, cuts)));
    // A fragment that fits, then one whose length takes the record over the cap; its data is never sent.
    const wire = Buffer.concat([valid, fragmentHeader(head.length, false), head, fragmentHeader(extra, last)]);
    const reader = new RecordReader(CAP);
    const got: Buffer[] = [];
    try {
      readAll(reader, wire, sizes, got);
    } catch (err) {
      return err instanceof RpcProtocolError && got.length === fits.length && got.every((r, i) => r.equals(fits[i]![0]));
    }
    return false;
  }), { numRuns: 500 });
});

t.test('the records before an over-cap one come out, and a record of exactly the cap is fine', async (t) => {
  const reader = new RecordReader(8);
  reader.push(Buffer.concat([fragmentHeader(4, false), Buffer.alloc(4, 1), fragmentHeader(4, true), Buffer.alloc(4, 2)]));
  t.same([...reader.next()!], [1, 1, 1, 1, 2, 2, 2, 2]);
  reader.push(fragmentHeader(9, true));
  t.throws(() => reader.next(), RpcProtocolError);

  const huge = new RecordReader();
  huge.push(fragmentHeader(0x7fffffff, true).subarray(0, 3));
  t.equal(huge.next(), null, 'three header bytes are not a header yet');
  huge.push(Buffer.from([0xff]));
  t.throws(() => huge.next(), /exceeds the 4194304-byte limit/, 'the default cap is 4 MiB');
});

t.test('empty fragments and empty records come through', async (t) => {
  const reader = new RecordReader(16);
  reader.push(Buffer.concat([fragmentHeader(0, false), fragmentHeader(0, true), fragmentHeader(0, false), fragmentHeader(1, true), Buffer.from([7])]));
  t.same(reader.next(), Buffer.alloc(0));
  t.same(reader.next(), Buffer.from([7]));
  t.equal(reader.next(), null);
});

t.test('a reply is sealed as one last fragment with its length', async (t) => {
  fc.assert(fc.property(record(1000), (data) => {
    const sealed = sealRecord(recordWriter().fixedOpaque(data));
    const padded = data.length + ((4 - (data.length % 4)) % 4);
    const reader = new RecordReader();
    reader.push(sealed);
    const got = reader.next();
    return sealed.readUInt32BE(0) === 0x80000000 + padded && got !== null && got.length === padded && got.subarray(0, data.length).equals(data);
  }));
  t.pass();
});
