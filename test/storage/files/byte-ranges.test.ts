import fc from 'fast-check';
import t from 'tap';
import { ByteRanges } from '../../../src/storage/files/byte-ranges.js';

const SPAN = 64;
type Op = { add: [number, number] } | { clip: number };
const op = fc.oneof(
  fc.tuple(fc.nat(SPAN), fc.nat(SPAN)).map(([a, b]): Op => ({ add: [Math.min(a, b), Math.max(a, b)] })),
  fc.nat(SPAN).map((n): Op => ({ clip: n })),
);

t.test('adds and clips agree with a bitmap of the same offsets', async (t) => {
  fc.assert(fc.property(fc.array(op, { maxLength: 30 }), fc.nat(SPAN), fc.nat(SPAN), (ops, x, y) => {
    const ranges = new ByteRanges();
    const bits = new Array<boolean>(SPAN).fill(false);
    for (const o of ops) {
      if ('add' in o) {
        ranges.add(...o.add);
        for (let i = o.add[0]; i < o.add[1]; i++) bits[i] = true;
      } else {
        ranges.clip(o.clip);
        for (let i = o.clip; i < SPAN; i++) bits[i] = false;
      }
    }
    const [start, end] = [Math.min(x, y), Math.max(x, y)];
    const missing = ranges.missing(start, end).flatMap(([s, e]) => Array.from({ length: e - s }, (_, i) => s + i));
    const expected = bits.map((b, i) => (!b && i >= start && i < end ? i : -1)).filter((i) => i >= 0);
    const json = ranges.toJSON();
    const sortedDisjoint = json.every(([s, e], i) => s < e && (i === 0 || json[i - 1]![1] < s));
    return JSON.stringify(missing) === JSON.stringify(expected) && ranges.bytes === bits.filter(Boolean).length && sortedDisjoint
      && ranges.covers(start, end) === (expected.length === 0)
      && ranges.overlaps(start, end) === (expected.length < end - start) && JSON.stringify(new ByteRanges(json).toJSON()) === JSON.stringify(json);
  }), { numRuns: 2000 });
  t.pass('2000 random sequences');
});
