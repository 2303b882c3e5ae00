import fc from 'fast-check';
import t from 'tap';
import { SgwError } from '../src/errors.js';
import { formatSize, parseSize } from '../src/sizes.js';

t.test('units as people write them', async (t) => {
  t.equal(parseSize('500GiB'), 500 * 2 ** 30);
  t.equal(parseSize('2TiB'), 2 * 2 ** 40);
  t.equal(parseSize('100G'), 100 * 2 ** 30, 'single letters are binary, as in rclone');
  t.equal(parseSize('1.5 TiB'), 1.5 * 2 ** 40);
  t.equal(parseSize('10GB'), 10e9);
  t.equal(parseSize('4096'), 4096);
  t.equal(parseSize('64mib'), 64 * 2 ** 20);
});

t.test('garbage is a usage error with the stable size code, never anything else', async (t) => {
  fc.assert(fc.property(fc.string(), (text) => {
    try {
      const bytes = parseSize(text);
      return Number.isSafeInteger(bytes) && bytes > 0;
    } catch (err) {
      return err instanceof SgwError && err.code === 'SGW_INVALID_SIZE' && err.exitCode === 2;
    }
  }), { numRuns: 2000 });
  for (const bad of ['-5GiB', '10XB', '', 'GiB', '0', '1e3', '9999999999PiB']) {
    t.throws(() => parseSize(bad), { code: 'SGW_INVALID_SIZE' }, bad);
  }
});

t.test('what formatSize prints parses back to the same size when it is exact', async (t) => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 1023 }), fc.integer({ min: 0, max: 5 }), (n, power) => {
    const bytes = n * 1024 ** power;
    fc.pre(Number.isSafeInteger(bytes));
    return parseSize(formatSize(bytes).replace(' ', '')) === bytes;
  }));
  t.equal(formatSize(1536 * 2 ** 30), '1.50 TiB');
});
