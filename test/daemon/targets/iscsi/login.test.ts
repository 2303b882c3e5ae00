import t from 'tap';
import { chapResponse, decodeChapBinary } from '../../../../src/daemon/targets/iscsi/chap.js';
import { LoginNegotiator, LoginStatus, type LoginOutcome } from '../../../../src/daemon/targets/iscsi/login.js';
import type { LoginRequest } from '../../../../src/daemon/targets/iscsi/pdu.js';
import { TestDirectory, testTarget } from './test-directory.js';
import { DEFAULT_ISID, decodeIncoming, parseText, textData } from './test-initiator.js';

const TARGET = 'iqn.2026-01.test:disk';
const SECURE = 'iqn.2026-01.test:secure';
const INITIATOR = 'iqn.2026-01.test:host';

function negotiator(tsihs: Array<number | undefined> = [7], existing: number[] = []) {
  const directory = new TestDirectory([
    testTarget({ name: TARGET }),
    testTarget({ name: SECURE, chap: { [INITIATOR]: { initiatorSecret: 'initiator-secret', targetSecret: 'target-secret' } } }),
  ]);
  const admitted: LoginOutcome[] = [];
  const login = new LoginNegotiator({
    directory,
    sessionExists: (tsih) => existing.includes(tsih),
    admit: (outcome) => {
      admitted.push(outcome);
      return tsihs.shift();
    },
  });
  return { login, admitted };
}

function request(f: { csg: number; nsg?: number; transit?: boolean; cont?: boolean; keys?: Record<string, string>; data?: Buffer; tsih?: number; isid?: Buffer; versionMin?: number }): LoginRequest {
  const data = f.data ?? textData(f.keys ?? {});
  return {
    kind: 'login', raw: { bhs: Buffer.alloc(48), ahs: Buffer.alloc(0), data, dataDigestOk: true }, immediate: true, itt: 1,
    transit: f.transit ?? true, continue: f.cont ?? false, csg: f.csg, nsg: f.nsg ?? 3, versionMax: 0, versionMin: f.versionMin ?? 0,
    isid: f.isid ?? DEFAULT_ISID, tsih: f.tsih ?? 0, cid: 0, cmdSN: 1, expStatSN: 0, data,
  };
}

function step(login: LoginNegotiator, req: LoginRequest) {
  const s = login.handle(req);
  const p = decodeIncoming(s.response.bhs, s.response.data);
  return { outcome: s.outcome, status: p.bhs.readUInt16BE(36), flags: p.flags, tsih: p.bhs.readUInt16BE(14), keys: new Map(parseText(p.data)) };
}

const LIBISCSI_KEYS = {
  InitiatorName: INITIATOR, TargetName: TARGET, SessionType: 'Normal', HeaderDigest: 'None,CRC32C', DataDigest: 'None',
  InitialR2T: 'No', ImmediateData: 'Yes', MaxBurstLength: '262144', FirstBurstLength: '262144', DefaultTime2Wait: '2',
  DefaultTime2Retain: '0', IFMarker: 'No', OFMarker: 'No', MaxConnections: '1', MaxRecvDataSegmentLength: '262144',
  DataPDUInOrder: 'Yes', ErrorRecoveryLevel: '0', DataSequenceInOrder: 'Yes',
};

t.test('libiscsi: every key in one PDU from the operational stage straight to full feature', async (t) => {
  const { login, admitted } = negotiator();
  const r = step(login, request({ csg: 1, nsg: 3, keys: LIBISCSI_KEYS }));
  t.equal(r.outcome, 'complete');
  t.equal(r.status, 0);
  t.equal(r.flags, 0x80 | (1 << 2) | 3, 'T=1, CSG=1, NSG=3');
  t.equal(r.tsih, 7);
  t.equal(r.keys.get('TargetPortalGroupTag'), '1');
  t.equal(r.keys.get('MaxRecvDataSegmentLength'), '262144', 'we declare our own limit');
  t.equal(r.keys.get('InitialR2T'), 'No');
  t.equal(r.keys.get('IFMarker'), 'Reject');
  t.equal(r.keys.get('HeaderDigest'), 'None');
  t.notOk(r.keys.has('InitiatorName'), 'declarations are not answered');
  t.match(admitted[0], { sessionType: 'normal', initiatorName: INITIATOR, target: { name: TARGET }, parameters: { initialR2T: false, maxBurstLength: 262144, initiatorMaxRecvDataSegmentLength: 262144 } });
});

t.test('open-iscsi: security stage with AuthMethod=None, then the operational stage', async (t) => {
  const { login } = negotiator();
  const first = step(login, request({ csg: 0, nsg: 1, keys: { InitiatorName: INITIATOR, TargetName: TARGET, SessionType: 'Normal', AuthMethod: 'None' } }));
  t.same([first.outcome, first.flags, first.keys.get('AuthMethod'), first.keys.get('TargetPortalGroupTag')], ['continue', 0x81, 'None', '1']);
  const second = step(login, request({ csg: 1, nsg: 3, keys: { HeaderDigest: 'CRC32C,None', MaxRecvDataSegmentLength: '32768' } }));
  t.same([second.outcome, second.keys.get('HeaderDigest'), second.keys.has('TargetPortalGroupTag')], ['complete', 'CRC32C', false]);
});

t.test('login failures and their status codes', async (t) => {
  const cases: Array<[string, LoginRequest, number]> = [
    ['no InitiatorName', request({ csg: 1, keys: { TargetName: TARGET } }), LoginStatus.MISSING_PARAMETER],
    ['no TargetName', request({ csg: 1, keys: { InitiatorName: INITIATOR } }), LoginStatus.MISSING_PARAMETER],
    ['unknown target', request({ csg: 1, keys: { InitiatorName: INITIATOR, TargetName: 'iqn.2026-01.test:nope' } }), LoginStatus.TARGET_NOT_FOUND],
    ['initiator not in the CHAP list', request({ csg: 0, keys: { InitiatorName: 'iqn.2026-01.test:other', TargetName: SECURE, AuthMethod: 'CHAP' } }), LoginStatus.AUTHORIZATION_FAILED],
    ['VersionMin 1', request({ csg: 1, versionMin: 1, keys: LIBISCSI_KEYS }), LoginStatus.UNSUPPORTED_VERSION],
    ['SessionType=Other', request({ csg: 1, keys: { InitiatorName: INITIATOR, SessionType: 'Other' } }), LoginStatus.SESSION_TYPE_NOT_SUPPORTED],
    ['TSIH of no session', request({ csg: 1, tsih: 99, keys: LIBISCSI_KEYS }), LoginStatus.SESSION_DOES_NOT_EXIST],
    ['CHAP target entered at the operational stage', request({ csg: 1, keys: { ...LIBISCSI_KEYS, TargetName: SECURE } }), LoginStatus.AUTHENTICATION_FAILED],
    ['CHAP target, only None offered', request({ csg: 0, nsg: 1, keys: { InitiatorName: INITIATOR, TargetName: SECURE, AuthMethod: 'None' } }), LoginStatus.AUTHENTICATION_FAILED],
    ['a key offered twice', request({ csg: 1, data: Buffer.concat([textData(LIBISCSI_KEYS), textData({ MaxBurstLength: '512' })]) }), LoginStatus.INITIATOR_ERROR],
    ['CSG 2', request({ csg: 2, keys: LIBISCSI_KEYS }), LoginStatus.INITIATOR_ERROR],
    ['transit to stage 2', request({ csg: 0, nsg: 2, keys: LIBISCSI_KEYS }), LoginStatus.INITIATOR_ERROR],
    ['malformed text', request({ csg: 1, data: Buffer.from('garbage\0') }), LoginStatus.INITIATOR_ERROR],
  ];
  for (const [name, req, status] of cases) {
    const r = step(negotiator().login, req);
    t.same([r.outcome, r.status], ['failed', status], name);
  }
  const full = step(negotiator([undefined]).login, request({ csg: 1, keys: LIBISCSI_KEYS }));
  t.same([full.outcome, full.status], ['failed', LoginStatus.OUT_OF_RESOURCES], 'no TSIH free');
  const known = step(negotiator([7], [42]).login, request({ csg: 1, tsih: 42, keys: LIBISCSI_KEYS }));
  t.same([known.outcome, known.tsih], ['complete', 7], 'a login continuing an existing session');
});

t.test('later requests may repeat declarations but not change them, nor the ISID', async (t) => {
  const { login } = negotiator();
  step(login, request({ csg: 0, nsg: 1, keys: { InitiatorName: INITIATOR, TargetName: TARGET, AuthMethod: 'CHAP,None' } }));
  t.equal(step(login, request({ csg: 1, nsg: 3, transit: false, keys: { InitiatorName: INITIATOR, InitiatorAlias: 'host', TargetName: TARGET } })).outcome, 'continue');
  t.equal(step(login, request({ csg: 1, nsg: 3, transit: false, keys: { InitiatorAlias: 'host' } })).outcome, 'continue', 'an alias may come again');
  t.equal(step(login, request({ csg: 1, nsg: 3, keys: { TargetName: SECURE } })).status, LoginStatus.INITIATOR_ERROR);
  const other = negotiator().login;
  step(other, request({ csg: 0, nsg: 1, keys: { InitiatorName: INITIATOR, TargetName: TARGET, AuthMethod: 'None' } }));
  t.equal(step(other, request({ csg: 1, isid: Buffer.alloc(6, 9), keys: {} })).status, LoginStatus.INITIATOR_ERROR, 'ISID changed');
  t.equal(step(negotiator().login, request({ csg: 0, nsg: 1, keys: { InitiatorName: INITIATOR, TargetName: TARGET, AuthMethod: 'None' } })).flags & 0x80, 0x80);
});

t.test('text split with the C bit is gathered before it is answered', async (t) => {
  const { login } = negotiator();
  const all = textData(LIBISCSI_KEYS);
  const first = step(login, request({ csg: 1, transit: false, cont: true, data: all.subarray(0, 100) }));
  t.same([first.outcome, first.flags & 0xc0, first.keys.size], ['continue', 0, 0], 'an empty answer asks for more');
  t.equal(step(login, request({ csg: 1, data: all.subarray(100) })).outcome, 'complete');
  t.equal(step(negotiator().login, request({ csg: 1, cont: true, data: all })).status, LoginStatus.INITIATOR_ERROR, 'C and T together');
});

/** libiscsi's CHAP sequence: AuthMethod, CHAP_A, then CHAP_N/CHAP_R (and CHAP_I/CHAP_C for mutual). */
function chapLogin(secret: string, mutual?: Buffer) {
  const { login } = negotiator();
  const offer = step(login, request({ csg: 0, nsg: 1, keys: { InitiatorName: INITIATOR, TargetName: SECURE, SessionType: 'Normal', AuthMethod: 'CHAP,None' } }));
  const algorithm = step(login, request({ csg: 0, nsg: 1, transit: false, keys: { CHAP_A: '5' } }));
  const challenge = decodeChapBinary(algorithm.keys.get('CHAP_C')!)!;
  const response = chapResponse(Number(algorithm.keys.get('CHAP_I')), secret, challenge);
  const answer = step(login, request({ csg: 0, nsg: 1, keys: {
    CHAP_N: 'user', CHAP_R: `0x${response.toString('hex')}`, ...(mutual ? { CHAP_I: '1', CHAP_C: `0x${mutual.toString('hex')}` } : {}),
  } }));
  return { login, offer, algorithm, answer };
}

t.test('CHAP, one-way and mutual', async (t) => {
  const { login, offer, algorithm, answer } = chapLogin('initiator-secret');
  t.same([offer.flags & 0x80, offer.keys.get('AuthMethod')], [0, 'CHAP'], 'no transition before CHAP is done');
  t.same([algorithm.flags & 0x80, algorithm.keys.get('CHAP_A')], [0, '5']);
  t.same([answer.outcome, answer.status, answer.flags], ['continue', 0, 0x81], 'authenticated: on to the operational stage');
  t.equal(step(login, request({ csg: 1, nsg: 3, keys: { MaxBurstLength: '65536' } })).outcome, 'complete');

  const theirs = Buffer.alloc(16, 3);
  const mutual = chapLogin('initiator-secret', theirs).answer;
  t.equal(mutual.keys.get('CHAP_N'), SECURE);
  t.equal(mutual.keys.get('CHAP_R'), `0x${chapResponse(1, 'target-secret', theirs).toString('hex')}`);

  t.same([chapLogin('wrong').answer.outcome, chapLogin('wrong').answer.status], ['failed', LoginStatus.AUTHENTICATION_FAILED]);

  const { login: unsupported } = negotiator();
  step(unsupported, request({ csg: 0, nsg: 1, keys: { InitiatorName: INITIATOR, TargetName: SECURE, AuthMethod: 'CHAP' } }));
  t.equal(step(unsupported, request({ csg: 0, nsg: 1, transit: false, keys: { CHAP_A: '56' } })).status, LoginStatus.AUTHENTICATION_FAILED, 'CHAP_A without MD5');
  const { login: early } = negotiator();
  step(early, request({ csg: 0, nsg: 1, keys: { InitiatorName: INITIATOR, TargetName: SECURE, AuthMethod: 'CHAP' } }));
  t.equal(step(early, request({ csg: 0, nsg: 1, keys: { CHAP_N: 'u', CHAP_R: '0x00' } })).status, LoginStatus.AUTHENTICATION_FAILED, 'CHAP_R before CHAP_A');
});

t.test('discovery sessions need no target, and use CHAP only when offered and configured', async (t) => {
  const { login, admitted } = negotiator();
  const r = step(login, request({ csg: 1, keys: { InitiatorName: INITIATOR, SessionType: 'Discovery', MaxRecvDataSegmentLength: '8192' } }));
  t.same([r.outcome, r.keys.has('TargetPortalGroupTag')], ['complete', false]);
  t.equal(admitted[0]?.sessionType, 'discovery');
  const chap = step(negotiator().login, request({ csg: 0, nsg: 1, keys: { InitiatorName: INITIATOR, SessionType: 'Discovery', AuthMethod: 'CHAP,None' } }));
  t.equal(chap.keys.get('AuthMethod'), 'CHAP', 'this initiator has a secret for some target');
  const none = step(negotiator().login, request({ csg: 0, nsg: 1, keys: { InitiatorName: 'iqn.2026-01.test:stranger', SessionType: 'Discovery', AuthMethod: 'CHAP,None' } }));
  t.equal(none.keys.get('AuthMethod'), 'None');
});
