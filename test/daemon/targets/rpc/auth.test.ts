import fc from 'fast-check';
import t from 'tap';
import { AuthError, AuthStat, authenticate, type OpaqueAuth } from '../../../../src/daemon/targets/rpc/auth.js';
import { XdrWriter } from '../../../../src/daemon/targets/rpc/xdr.js';
import { authSys } from './test-rpc-client.js';

const NONE: OpaqueAuth = { flavor: 0, body: Buffer.alloc(0) };
const RPCSEC_GSS = 6;
const AUTH_DH = 3;
const u32 = fc.nat({ max: 0xffffffff });

const authSysFields = fc.record({
  stamp: u32,
  machineName: fc.string({ maxLength: 60 }),
  uid: u32,
  gid: u32,
  gids: fc.array(u32, { maxLength: 16 }),
});

function statOf(work: () => unknown): number | undefined {
  try {
    work();
    return undefined;
  } catch (err) {
    if (err instanceof AuthError) return err.stat;
    throw err;
  }
}

t.test('AUTH_SYS credentials come out as sent', async () => {
  fc.assert(fc.property(authSysFields, (fields) => {
    const { body } = authSys(fields);
    return fc.stringify(authenticate({ flavor: 1, body: body! }, NONE)) === fc.stringify({ flavor: 'sys', ...fields });
  }));
});

t.test('AUTH_NONE is accepted with an empty body only', async (t) => {
  t.same(authenticate(NONE, NONE), { flavor: 'none' });
  t.equal(statOf(() => authenticate({ flavor: 0, body: Buffer.alloc(4) }, NONE)), AuthStat.BADCRED);
});

t.test('an AUTH_SYS body that does not decode is BADCRED, whatever its bytes', async (t) => {
  const full = authSys({ stamp: 1, machineName: 'client', uid: 1000, gid: 1000, gids: [1000, 27] }).body!;
  for (let cut = 0; cut < full.length; cut++) t.equal(statOf(() => authenticate({ flavor: 1, body: full.subarray(0, cut) }, NONE)), AuthStat.BADCRED, `cut at ${cut}`);
  const seventeenGids = authSys({ stamp: 1, machineName: 'c', uid: 0, gid: 0, gids: Array.from({ length: 17 }, (_, i) => i) }).body!;
  t.equal(statOf(() => authenticate({ flavor: 1, body: seventeenGids }, NONE)), AuthStat.BADCRED, 'more than 16 gids');
  const longName = new XdrWriter().uint32(1).string('x'.repeat(256)).uint32(0).uint32(0).uint32(0).toBuffer();
  t.equal(statOf(() => authenticate({ flavor: 1, body: longName }, NONE)), AuthStat.BADCRED, 'a machine name over 255 bytes');
  fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
    const stat = statOf(() => authenticate({ flavor: 1, body: Buffer.from(bytes) }, NONE));
    return stat === undefined || stat === AuthStat.BADCRED;
  }));
});

t.test('flavours we do not implement are TOOWEAK; a verifier other than AUTH_NONE is BADVERF', async (t) => {
  t.equal(statOf(() => authenticate({ flavor: RPCSEC_GSS, body: Buffer.alloc(20) }, NONE)), AuthStat.TOOWEAK, 'RPCSEC_GSS');
  t.equal(statOf(() => authenticate({ flavor: AUTH_DH, body: Buffer.alloc(0) }, NONE)), AuthStat.TOOWEAK, 'AUTH_DH');
  t.equal(statOf(() => authenticate(NONE, { flavor: 1, body: Buffer.alloc(0) })), AuthStat.BADVERF);
  t.equal(statOf(() => authenticate(NONE, { flavor: 0, body: Buffer.alloc(8) })), AuthStat.BADVERF);
  const sys = authSys({ stamp: 0, machineName: '', uid: 0, gid: 0, gids: [] });
  t.equal(statOf(() => authenticate({ flavor: 1, body: sys.body! }, { flavor: RPCSEC_GSS, body: Buffer.alloc(0) })), AuthStat.BADVERF);
});
