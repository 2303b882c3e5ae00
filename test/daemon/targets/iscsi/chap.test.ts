import { createHash } from 'node:crypto';
import t from 'tap';
import { ChapAuthenticator, chapResponse, decodeChapBinary } from '../../../../src/daemon/targets/iscsi/chap.js';

const md5 = (...parts: Buffer[]) => createHash('md5').update(Buffer.concat(parts)).digest();

t.test('the response is MD5 over identifier, secret and challenge (RFC 1994)', async (t) => {
  const challenge = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
  t.same(chapResponse(7, 'secret', challenge), md5(Buffer.from([7]), Buffer.from('secret'), challenge));
});

t.test('binary values in hex or base64', async (t) => {
  t.same(decodeChapBinary('0x0aFF'), Buffer.from([0x0a, 0xff]));
  t.same(decodeChapBinary('0XAB'), Buffer.from([0xab]));
  t.same(decodeChapBinary('0bAAEC'), Buffer.from([0, 1, 2]));
  for (const bad of ['0x', '0xabc', '0xzz', 'abcd', '0b!!!!', '0bAAE']) t.equal(decodeChapBinary(bad), null, bad);
});

function exchange(secret: string, extra: { CHAP_I?: string; CHAP_C?: string } = {}, encoding: 'hex' | 'base64' = 'hex') {
  const chap = new ChapAuthenticator([{ name: 'iqn.2026-01.test:target', secrets: { initiatorSecret: 'initiator-secret', targetSecret: 'target-secret' } }]);
  const keys = new Map(chap.challenge('7,5')!);
  const id = Number(keys.get('CHAP_I'));
  const challenge = decodeChapBinary(keys.get('CHAP_C')!)!;
  const response = chapResponse(id, secret, challenge);
  const CHAP_R = encoding === 'hex' ? `0x${response.toString('hex')}` : `0b${response.toString('base64')}`;
  return { keys, challenge, result: chap.verify({ CHAP_N: 'user', CHAP_R, ...extra }) };
}

t.test('we offer MD5 with a fresh challenge of at least 16 bytes', async (t) => {
  const { keys, challenge } = exchange('initiator-secret');
  t.equal(keys.get('CHAP_A'), '5');
  t.ok(challenge.length >= 16);
  t.equal(new ChapAuthenticator([]).challenge('6,7'), null, 'no MD5 offered');
  t.equal(new ChapAuthenticator([]).challenge(''), null, 'empty CHAP_A');
});

t.test('one-way CHAP: the right secret passes in hex or base64, a wrong one fails', async (t) => {
  t.same(exchange('initiator-secret').result, []);
  t.same(exchange('initiator-secret', {}, 'base64').result, []);
  t.equal(exchange('wrong').result, null);
  const chap = new ChapAuthenticator([{ name: 'x', secrets: { initiatorSecret: 's' } }]);
  t.equal(chap.verify({ CHAP_N: 'u', CHAP_R: '0x00' }), null, 'a response before any challenge');
});

t.test('mutual CHAP: we answer with the target name and the target secret', async (t) => {
  const theirs = Buffer.alloc(32, 0x5a);
  const { result } = exchange('initiator-secret', { CHAP_I: '9', CHAP_C: `0x${theirs.toString('hex')}` });
  t.same(result, [['CHAP_N', 'iqn.2026-01.test:target'], ['CHAP_R', `0x${md5(Buffer.from([9]), Buffer.from('target-secret'), theirs).toString('hex')}`]]);
});

t.test('mutual CHAP refuses a reflected challenge, a bad identifier and a target without a secret', async (t) => {
  const chap = new ChapAuthenticator([{ name: 't', secrets: { initiatorSecret: 'i-secret', targetSecret: 't-secret' } }]);
  const keys = new Map(chap.challenge('5')!);
  const ours = keys.get('CHAP_C')!;
  const CHAP_R = `0x${chapResponse(Number(keys.get('CHAP_I')), 'i-secret', decodeChapBinary(ours)!).toString('hex')}`;
  t.equal(chap.verify({ CHAP_N: 'u', CHAP_R, CHAP_I: '1', CHAP_C: ours }), null, 'our own challenge sent back');
  t.equal(chap.verify({ CHAP_N: 'u', CHAP_R, CHAP_I: '256', CHAP_C: '0x0102' }), null, 'identifier out of range');
  t.equal(chap.verify({ CHAP_N: 'u', CHAP_R, CHAP_C: '0x0102' }), null, 'challenge without identifier');
  const oneWay = new ChapAuthenticator([{ name: 't', secrets: { initiatorSecret: 'i-secret' } }]);
  const k = new Map(oneWay.challenge('5')!);
  const r = `0x${chapResponse(Number(k.get('CHAP_I')), 'i-secret', decodeChapBinary(k.get('CHAP_C')!)!).toString('hex')}`;
  t.equal(oneWay.verify({ CHAP_N: 'u', CHAP_R: r, CHAP_I: '1', CHAP_C: '0x0102' }), null);
});

t.test('with several candidates (discovery), any of their secrets proves the initiator', async (t) => {
  const chap = new ChapAuthenticator([
    { name: 'a', secrets: { initiatorSecret: 'secret-a' } },
    { name: 'b', secrets: { initiatorSecret: 'secret-b', targetSecret: 'target-b' } },
  ]);
  const keys = new Map(chap.challenge('5')!);
  const CHAP_R = `0x${chapResponse(Number(keys.get('CHAP_I')), 'secret-b', decodeChapBinary(keys.get('CHAP_C')!)!).toString('hex')}`;
  t.same(chap.verify({ CHAP_N: 'u', CHAP_R, CHAP_I: '3', CHAP_C: '0x0102030405060708' })?.[0], ['CHAP_N', 'b']);
});
