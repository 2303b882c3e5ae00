import fc from 'fast-check';
import t from 'tap';
import { ProtocolError } from '../../../../src/daemon/targets/iscsi/protocol-error.js';
import { MAX_PAIRS, MAX_VALUE_LENGTH, decodeTextParams, encodeTextParams, type TextPair } from '../../../../src/daemon/targets/iscsi/text-params.js';

const key = fc.stringMatching(/^[A-Za-z0-9.\-+@_]{1,63}$/);
const value = fc.string({ maxLength: 100 }).filter((v) => !v.includes('\0'));

t.test('key=value lists survive a round trip', async () => {
  fc.assert(fc.property(fc.array(fc.tuple(key, value), { maxLength: 30 }), (pairs) => {
    const decoded = decodeTextParams(encodeTextParams(pairs as TextPair[]));
    return JSON.stringify(decoded) === JSON.stringify(pairs);
  }));
});

t.test('padding NULs and a missing final NUL are tolerated', async (t) => {
  t.same(decodeTextParams(Buffer.from('A=1\0\0\0B=2')), [['A', '1'], ['B', '2']]);
  t.same(decodeTextParams(Buffer.from('Empty=\0')), [['Empty', '']]);
});

t.test('malformed or oversized text is a protocol error', async (t) => {
  t.throws(() => decodeTextParams(Buffer.from('NoEquals\0')), ProtocolError);
  t.throws(() => decodeTextParams(Buffer.from('=value\0')), ProtocolError);
  t.throws(() => decodeTextParams(Buffer.from(`${'K'.repeat(64)}=v\0`)), ProtocolError, 'key over 63 bytes');
  t.throws(() => decodeTextParams(Buffer.from(`K=${'v'.repeat(MAX_VALUE_LENGTH + 1)}\0`)), ProtocolError, 'value over the limit');
  t.throws(() => decodeTextParams(Buffer.from('Bad Key=v\0')), ProtocolError, 'space in a key');
  t.throws(() => decodeTextParams(Buffer.from('K=v\0'.repeat(MAX_PAIRS + 1))), ProtocolError, 'too many pairs');
});

t.test('arbitrary bytes either decode or raise ProtocolError, nothing else', async () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
    try {
      decodeTextParams(Buffer.from(bytes));
      return true;
    } catch (err) {
      return err instanceof ProtocolError;
    }
  }));
});
