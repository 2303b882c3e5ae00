import fc from 'fast-check';
import t from 'tap';
import { isSecretKey, maskSecrets, REDACTED, redact } from '../../../src/daemon/audit/redact.js';

t.test('the secret fields sgw and AWS use are redacted; ordinary fields are not', async (t) => {
  for (const key of ['secret', 'targetSecret', 'initiatorSecret', 'chapSecret', 'secretAccessKey', 'sessionToken', 'password', 'passwd',
    'passphrase', 'credentials', 'credential', 'token', 'apiKey', 'privateKey', 'key', 'api_key', 'API_KEY', 'x-api-key', 'Authorization']) {
    t.ok(isSecretKey(key), `${key} is secret`);
  }
  for (const key of ['volumeId', 'volume', 'bucket', 'shareId', 'share', 'name', 'initiatorName', 'prefix', 'keyPrefix', 'maxKeys', 'barcode',
    'barcodePrefix', 'profile', 'region', 'endpoint', 'monkey', 'accessKeyId', 'path', 'force', 'sizeBytes']) {
    t.notOk(isSecretKey(key), `${key} is not`);
  }
});

t.test('a deep copy with secrets replaced, the rest untouched', async (t) => {
  const params = {
    volume: 'db01', initiatorName: 'iqn.1993-08.org.debian:01:db01', secret: 'initiator-sec1', targetSecret: 'target-secret1',
    nested: [{ bucket: 'b', credentials: { accessKeyId: 'AKIA', secretAccessKey: 'wJalr', sessionToken: 'FQoG' } }, 'plain'],
    count: 3, on: true, none: null,
  };
  const before = structuredClone(params);
  t.same(redact(params), {
    volume: 'db01', initiatorName: 'iqn.1993-08.org.debian:01:db01', secret: REDACTED, targetSecret: REDACTED,
    nested: [{ bucket: 'b', credentials: REDACTED }, 'plain'],
    count: 3, on: true, none: null,
  });
  t.same(params, before, 'the original is left alone');
  t.same(redact({ password: { a: 1 }, token: [1, 2], key: null }), { password: REDACTED, token: REDACTED, key: REDACTED }, 'whatever the value');
  t.same(redact(['x', 1]), ['x', 1]);
  t.equal(redact('text'), 'text');
  t.equal(redact(undefined), undefined);
});

t.test('a parsed "__proto__" key is copied as data, not as a prototype', async (t) => {
  const copy = redact(JSON.parse('{"__proto__": {"secret": "s3cr3t-value"}, "a": 1}')) as Record<string, unknown>;
  t.same(Object.getOwnPropertyNames(copy).sort(), ['__proto__', 'a']);
  t.equal(Object.getPrototypeOf(copy), Object.prototype);
  t.notMatch(JSON.stringify(copy), /s3cr3t-value/);
});

t.test('parameters nested past any use are cut off instead of overflowing the stack', async (t) => {
  const deep = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`);
  t.match(JSON.stringify(redact(deep)), /nested too deep/);
  t.equal(maskSecrets('message', deep), 'message');
});

t.test('secrets quoted in an error message are masked', async (t) => {
  const params = { volume: 'db01', secret: 'abcdefghijkl', targetSecret: 'abcdefghijklmn', nested: { password: 1234567 } };
  t.equal(maskSecrets('"abcdefghijklmn" and "abcdefghijkl" for db01, pin 1234567', params), '"***" and "***" for db01, pin ***');
  t.equal(maskSecrets('secret is too short: ab', { secret: 'ab' }), 'secret is too short: ab', 'a value this short would mask words by chance');
});

// Values made distinct and long enough to be told apart from the rest of the document.
const secretValue = fc.string({ minLength: 4, maxLength: 20 }).map((s) => `SECRET<${s}>`);
const secretKey = fc.constantFrom('secret', 'targetSecret', 'initiatorSecret', 'chapSecret', 'secretAccessKey', 'sessionToken', 'password', 'credentials', 'apiKey');
const plainKey = fc.constantFrom('volume', 'volumeId', 'bucket', 'shareId', 'name', 'prefix', 'initiatorName', 'list', 'a', 'b');
const plainValue = fc.oneof(fc.string({ maxLength: 8 }).filter((s) => !s.includes('SECRET')), fc.integer(), fc.boolean(), fc.constant(null));

// A secret's value can be anything: a string, a number, an object or array holding more secrets.
const { params } = fc.letrec((tie) => ({
  params: fc.oneof({ depthSize: 'small' }, plainValue, tie('object'), tie('array')),
  object: fc.array(fc.oneof(fc.tuple(plainKey, tie('params')), fc.tuple(secretKey, tie('secretThing'))), { maxLength: 5 }).map((entries) => Object.fromEntries(entries)),
  array: fc.array(tie('params'), { maxLength: 4 }),
  // Everything in here is told apart from plain values: marked strings, and numbers past any plain integer.
  secretThing: fc.oneof(
    secretValue,
    fc.integer({ min: 1e12, max: Number.MAX_SAFE_INTEGER }),
    fc.record({ volume: secretValue, inner: fc.array(tie('secretThing'), { maxLength: 2 }) }),
    fc.array(secretValue, { maxLength: 3 }),
  ),
}));

function secretsUnderSecretKeys(value: unknown, under: boolean, into: string[]): string[] {
  if (typeof value === 'string' || typeof value === 'number') {
    if (under) into.push(String(value));
  } else if (Array.isArray(value)) {
    for (const item of value) secretsUnderSecretKeys(item, under, into);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) secretsUnderSecretKeys(v, under || isSecretKey(k), into);
  }
  return into;
}

t.test('property: no value under a secret key survives anywhere in the redacted JSON', async (t) => {
  fc.assert(fc.property(params, (p) => {
    const json = JSON.stringify(redact(p)) ?? '';
    for (const secret of secretsUnderSecretKeys(p, false, [])) {
      if (json.includes(JSON.stringify(secret).slice(1, -1))) return false;
    }
    return !json.includes('SECRET<');
  }), { numRuns: 2000 });
  t.pass('held for 2000 generated parameter trees');
});

t.test('property: redaction changes nothing that is not under a secret key', async (t) => {
  const plainTree = fc.letrec((tie) => ({
    tree: fc.oneof({ depthSize: 'small' }, plainValue, fc.dictionary(plainKey, tie('tree'), { maxKeys: 4 }), fc.array(tie('tree'), { maxLength: 3 })),
  })).tree;
  fc.assert(fc.property(plainTree, (p) => JSON.stringify(redact(p)) === JSON.stringify(p)), { numRuns: 1000 });
  t.pass('held for 1000 generated parameter trees');
});
