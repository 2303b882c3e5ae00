import t from 'tap';
import { SgwError, UsageError, errorFromWire, asSgwError } from '../src/errors.js';

t.test('codes survive the wire with their kind and exit status', async (t) => {
  const e = errorFromWire(new SgwError('SGW_NOT_ACTIVATED', 'run sgw activate').toWire());
  t.equal(e.code, 'SGW_NOT_ACTIVATED');
  t.equal(e.kind, 'user');
  t.equal(e.exitCode, 1);
  t.equal(e.message, 'run sgw activate');
});

t.test('usage errors exit 2', async (t) => {
  t.equal(new UsageError('bad flag').exitCode, 2);
});

t.test('an unknown wire code becomes an internal error, not a crash', async (t) => {
  const e = errorFromWire({ code: 'NOPE', message: 'x' });
  t.equal(e.code, 'SGW_INTERNAL');
  t.equal(errorFromWire(null).code, 'SGW_INTERNAL');
});

t.test('foreign errors become defects that keep their message', async (t) => {
  const e = asSgwError(new TypeError('boom'));
  t.equal(e.code, 'SGW_INTERNAL');
  t.match(e.message, /boom/);
});
