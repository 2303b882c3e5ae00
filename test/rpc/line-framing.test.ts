import fc from 'fast-check';
import t from 'tap';
import { LineDecoder, encodeLine } from '../../src/rpc/line-framing.js';

t.test('lines come out whole however the stream is cut', async () => {
  fc.assert(fc.property(
    fc.array(fc.jsonValue(), { maxLength: 20 }),
    fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }),
    (messages, cuts) => {
      const stream = Buffer.from(messages.map(encodeLine).join(''));
      const decoder = new LineDecoder();
      const lines: string[] = [];
      let offset = 0;
      for (let i = 0; offset < stream.length; i++) {
        const size = cuts[i % cuts.length] ?? 1;
        lines.push(...decoder.push(stream.subarray(offset, offset + size)));
        offset += size;
      }
      return JSON.stringify(lines.map((l) => JSON.parse(l))) === JSON.stringify(messages.map((m) => JSON.parse(JSON.stringify(m))));
    },
  ));
});

t.test('a line over the limit is refused, whether it arrives at once or in pieces', async (t) => {
  t.throws(() => new LineDecoder(16).push(Buffer.alloc(17, 'a')), /longer than 16 bytes/);
  const decoder = new LineDecoder(16);
  decoder.push(Buffer.alloc(10, 'a'));
  t.throws(() => decoder.push(Buffer.alloc(10, 'a')), /longer than 16 bytes/);
  t.same(new LineDecoder(16).push(Buffer.from(`${'a'.repeat(16)}\n`)), ['a'.repeat(16)], 'exactly the limit is fine');
});
