import fc from 'fast-check';
import t from 'tap';
import { XdrDecodeError, XdrReader, XdrWriter } from '../../../../src/daemon/targets/rpc/xdr.js';

const U32 = 0xffffffff;
const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));
const ENUM_VALUES = [-1, 0, 2, 7, 10006] as const;

/** One value of every XDR type, with how to write it and how to read it back. */
type Item =
  | { type: 'uint32' | 'int32'; value: number }
  | { type: 'uint64' | 'int64'; value: bigint }
  | { type: 'bool'; value: boolean }
  | { type: 'enum'; value: number }
  | { type: 'fixedOpaque' | 'opaque'; value: Buffer }
  | { type: 'string'; value: string }
  | { type: 'array'; value: number[] }
  | { type: 'optional'; value: string | undefined }
  | { type: 'list'; value: bigint[] };

const item: fc.Arbitrary<Item> = fc.oneof(
  fc.nat({ max: U32 }).map((value) => ({ type: 'uint32' as const, value })),
  fc.integer({ min: -0x80000000, max: 0x7fffffff }).map((value) => ({ type: 'int32' as const, value })),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((value) => ({ type: 'uint64' as const, value })),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((value) => ({ type: 'int64' as const, value })),
  fc.boolean().map((value) => ({ type: 'bool' as const, value })),
  fc.constantFrom(...ENUM_VALUES).map((value) => ({ type: 'enum' as const, value })),
  bytes(40).map((value) => ({ type: 'fixedOpaque' as const, value })),
  bytes(600).map((value) => ({ type: 'opaque' as const, value })),
  fc.string({ unit: 'grapheme', maxLength: 30 }).map((value) => ({ type: 'string' as const, value })),
  fc.array(fc.nat({ max: U32 }), { maxLength: 20 }).map((value) => ({ type: 'array' as const, value })),
  fc.option(fc.string({ maxLength: 10 }), { nil: undefined }).map((value) => ({ type: 'optional' as const, value })),
  fc.array(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { maxLength: 5 }).map((value) => ({ type: 'list' as const, value })),
);

function write(writer: XdrWriter, entry: Item): void {
  switch (entry.type) {
    case 'uint32': writer.uint32(entry.value); break;
    case 'int32': writer.int32(entry.value); break;
    case 'uint64': writer.uint64(entry.value); break;
    case 'int64': writer.int64(entry.value); break;
    case 'bool': writer.bool(entry.value); break;
    case 'enum': writer.int32(entry.value); break;
    case 'fixedOpaque': writer.fixedOpaque(entry.value); break;
    case 'opaque': writer.opaque(entry.value); break;
    case 'string': writer.string(entry.value); break;
    case 'array': writer.array(entry.value, (w, n) => w.uint32(n)); break;
    case 'optional': writer.optional(entry.value, (w, s) => w.string(s)); break;
    case 'list': writer.list(entry.value, (w, n) => w.uint64(n)); break;
  }
}

/** Reads what `shape` says is next; `shape` only lends its type and fixed length. */
function read(reader: XdrReader, shape: Item): unknown {
  switch (shape.type) {
    case 'uint32': return reader.uint32();
    case 'int32': return reader.int32();
    case 'uint64': return reader.uint64();
    case 'int64': return reader.int64();
    case 'bool': return reader.bool();
    case 'enum': return reader.enum(ENUM_VALUES);
    case 'fixedOpaque': return reader.fixedOpaque(shape.value.length);
    case 'opaque': return reader.opaque(600);
    case 'string': return reader.string(1000);
    case 'array': return reader.array(20, (r) => r.uint32());
    case 'optional': return reader.optional((r) => r.string(100));
    case 'list': {
      const items: bigint[] = [];
      for (let next = reader.optional((r) => r.uint64()); next !== undefined; next = reader.optional((r) => r.uint64())) items.push(next);
      return items;
    }
  }
}

const encode = (items: Item[]): Buffer => {
  const writer = new XdrWriter(4);
  for (const entry of items) write(writer, entry);
  return writer.toBuffer();
};

t.test('every type reads back what was written, in 4-byte units', async () => {
  fc.assert(fc.property(fc.array(item, { maxLength: 25 }), (items) => {
    const wire = encode(items);
    const reader = new XdrReader(wire);
    const got = items.map((shape) => read(reader, shape));
    return wire.length % 4 === 0 && reader.remaining === 0 && fc.stringify(got) === fc.stringify(items.map((entry) => entry.value));
  }), { numRuns: 500 });
});

t.test('padding is zeros, even in a reused, grown buffer', async (t) => {
  fc.assert(fc.property(fc.array(bytes(9).filter((b) => b.length % 4 !== 0), { minLength: 1, maxLength: 30 }), (chunks) => {
    const writer = new XdrWriter(4);
    const ends: number[] = [];
    for (const chunk of chunks) {
      writer.opaque(Buffer.alloc(chunk.length, 0xff));
      ends.push(writer.length);
    }
    const wire = writer.toBuffer();
    return chunks.every((chunk, i) => wire.subarray(ends[i]! - (4 - (chunk.length % 4)), ends[i]).every((b) => b === 0));
  }));
  t.same([...new XdrWriter().string('abcde').toBuffer()], [0, 0, 0, 5, 97, 98, 99, 100, 101, 0, 0, 0]);
  t.same([...new XdrWriter().fixedOpaque(Buffer.from([1])).toBuffer()], [1, 0, 0, 0]);
});

t.test('any truncation of a message is an XdrDecodeError, never a read past the end', async () => {
  fc.assert(fc.property(fc.array(item, { minLength: 1, maxLength: 10 }), fc.nat(), (items, cut) => {
    const wire = encode(items);
    fc.pre(wire.length > 0);
    const reader = new XdrReader(Buffer.from(wire.subarray(0, cut % wire.length)));
    try {
      for (const shape of items) read(reader, shape);
      return false;
    } catch (err) {
      return err instanceof XdrDecodeError;
    }
  }), { numRuns: 500 });
});

t.test('random bytes read as any types give values or XdrDecodeError, nothing else', async () => {
  fc.assert(fc.property(fc.array(item, { minLength: 1, maxLength: 10 }), bytes(200), (shapes, wire) => {
    const reader = new XdrReader(wire);
    try {
      for (const shape of shapes) read(reader, shape);
    } catch (err) {
      if (!(err instanceof XdrDecodeError)) throw err;
    }
  }), { numRuns: 1000 });
});

t.test('lengths and counts are checked before anything is sliced or looped over', async (t) => {
  const words = (...values: number[]) => new XdrReader(Buffer.concat(values.map((v) => new XdrWriter().uint32(v).toBuffer())));
  t.throws(() => words(5, 0, 0).opaque(4), XdrDecodeError, 'over the declared maximum');
  t.throws(() => words(5, 0).opaque(8), XdrDecodeError, 'more than is left');
  t.throws(() => words(U32).opaque(U32), XdrDecodeError, 'the largest length: no overflow into a small padded size');
  t.throws(() => words(U32 - 2).opaque(U32), XdrDecodeError);
  t.throws(() => words(0x80000000).string(U32), XdrDecodeError);
  t.throws(() => words(17).array(16, (r) => r.uint32()), XdrDecodeError, 'over the maximum count');
  let items = 0;
  t.throws(() => words(U32, 1).array(U32, (r) => (items++, r.uint32())), XdrDecodeError, 'a count the bytes cannot hold');
  t.equal(items, 0, 'no item read for a count that cannot fit');
  t.throws(() => words(2).bool(), XdrDecodeError, 'a bool is 0 or 1');
  t.throws(() => words(3).enum([0, 1, 2]), XdrDecodeError, 'an enum outside its values');
  t.equal(words(5, 0, 0).opaque(5).length, 5, 'exactly the maximum is fine');
  t.throws(() => new XdrReader(Buffer.alloc(7)).uint64(), XdrDecodeError);
});

t.test('the writer refuses values its type cannot hold', async (t) => {
  t.throws(() => new XdrWriter().uint32(-1), RangeError);
  t.throws(() => new XdrWriter().uint32(2 ** 32), RangeError);
  t.throws(() => new XdrWriter().int32(2 ** 31), RangeError);
  t.throws(() => new XdrWriter().uint64(2 ** 64), RangeError, 'an unsafe number would be rounded');
  t.throws(() => new XdrWriter().uint64(-1n), RangeError);
  t.throws(() => new XdrWriter().int64(2n ** 63n), RangeError);
  t.equal(new XdrReader(new XdrWriter().uint64(Number.MAX_SAFE_INTEGER).toBuffer()).uint64(), BigInt(Number.MAX_SAFE_INTEGER));
});

t.test('fixed opaque and opaque are views of the message, not copies', async (t) => {
  const wire = new XdrWriter().opaque(Buffer.from('data')).toBuffer();
  const value = new XdrReader(wire).opaque(10);
  wire[4] = 0x44;
  t.equal(value.toString(), 'Data');
});
