/**
 * Who a caller is after squash, which client addresses a share takes, and the ACCESS bits the mode bits give.
 */
import fc from 'fast-check';
import t from 'tap';
import { Access, callerOf, clientAllowed, grantedAccess, type Caller } from '../../../../src/daemon/targets/nfs/share-access.js';
import type { AuthSysCredentials, Credentials } from '../../../../src/daemon/targets/rpc/auth.js';
import type { ShareRecord } from '../../../../src/storage/catalog/catalog.js';
import type { FileAttributes, FileKind } from '../../../../src/storage/files/file-attributes.js';
import { checkedSettings, DEFAULT_SETTINGS, type ChangeableSettings } from '../../../../src/storage/files/share-settings.js';

const { READ, LOOKUP, MODIFY, EXTEND, DELETE, EXECUTE } = Access;
const CHANGES = MODIFY | EXTEND | DELETE;
const ALL = 0x3f;

const share = (settings: Partial<ChangeableSettings>): ShareRecord => ({
  shareId: 'share-0000abcd', name: 'team', location: 'b/', status: 'AVAILABLE', createdAt: '2026-01-01T00:00:00Z',
  settings: checkedSettings({ ...DEFAULT_SETTINGS, ...settings, bucket: 'bucket', prefix: '' }),
});
const sysAuth = (uid: number, gid: number, gids: number[] = []): AuthSysCredentials => ({ flavor: 'sys', stamp: 0, machineName: 'client', uid, gid, gids });
const attrs = (kind: FileKind, mode: number, uid = 1000, gid = 100): FileAttributes => ({ kind, mode, uid, gid, size: 0, mtimeNs: 0n, atimeNs: 0n });

t.test('squash maps root (user and group), or everyone, to nobody; AUTH_NONE is always nobody', async (t) => {
  const nobody: Caller = { uid: 65534, gids: [65534] };
  const cases: Array<[ChangeableSettings['squash'], Credentials, Caller]> = [
    ['root', sysAuth(0, 0, [0, 10]), nobody],
    ['root', sysAuth(1000, 100, [10]), { uid: 1000, gids: [100, 10] }],
    ['root', sysAuth(1000, 0, [10, 0]), { uid: 1000, gids: [65534, 10, 65534] }],
    ['none', sysAuth(1000, 0, [10]), { uid: 1000, gids: [0, 10] }],
    ['none', sysAuth(0, 0, [10]), { uid: 0, gids: [0, 10] }],
    ['all', sysAuth(1000, 100, [10]), nobody],
    ['all', sysAuth(0, 0), nobody],
    ['none', { flavor: 'none' }, nobody],
  ];
  for (const [squash, auth, caller] of cases) t.same(callerOf(share({ squash }), auth), caller, `${squash}: ${JSON.stringify(auth)}`);
});

t.test('the client list takes addresses and blocks, also IPv4-mapped IPv6 forms', async (t) => {
  const fenced = share({ clientList: ['10.0.0.0/8', '192.168.1.7'] });
  const allowed = ['10.0.0.1', '10.255.255.255', '192.168.1.7', '::ffff:10.1.2.3', '127.0.0.1', '192.168.1.8', '11.0.0.0', '::1', ''].map((a) => clientAllowed(fenced, a));
  t.same(allowed, [true, true, true, true, false, false, false, false, false]);
  t.equal(clientAllowed(share({ clientList: ['10.0.0.0/8'] }), '127.0.0.1'), false);
  t.equal(clientAllowed(share({ clientList: ['127.0.0.1'] }), '127.0.0.1'), true, 'each record has its own list');
});

t.test('one class of bits applies: the owner\'s, else the group\'s, else everyone else\'s', async (t) => {
  const cases: Array<[string, FileAttributes, Caller, number]> = [
    ['the owner with ---, though group and other may read', attrs('file', 0o077), { uid: 1000, gids: [100] }, 0],
    ['a group member with ---, though other may read', attrs('file', 0o707), { uid: 5, gids: [5, 100] }, 0],
    ['the owner: r-x', attrs('file', 0o500), { uid: 1000, gids: [1] }, READ | EXECUTE],
    ['a group member by a secondary gid: r--', attrs('file', 0o040), { uid: 5, gids: [5, 100] }, READ],
    ['anyone else: --x on a directory', attrs('dir', 0o001), { uid: 5, gids: [5] }, LOOKUP],
    ['root: any file, but runs none without an x bit', attrs('file', 0o000), { uid: 0, gids: [0] }, READ],
    ['root: a file someone may run', attrs('file', 0o010), { uid: 0, gids: [0] }, READ | EXECUTE],
    ['root: any directory', attrs('dir', 0o000), { uid: 0, gids: [0] }, READ | LOOKUP],
  ];
  for (const [what, a, caller, granted] of cases) t.equal(grantedAccess(a, caller, ALL, false), granted, what);
});

t.test('w grants changes only where the share is writable: MODIFY and EXTEND on files, DELETE too on directories', async (t) => {
  const owner = { uid: 1000, gids: [100] };
  t.equal(grantedAccess(attrs('file', 0o600), owner, ALL, true), READ | MODIFY | EXTEND);
  t.equal(grantedAccess(attrs('dir', 0o300), owner, ALL, true), CHANGES | LOOKUP);
  t.equal(grantedAccess(attrs('dir', 0o777), owner, ALL, false), READ | LOOKUP);
  t.equal(grantedAccess(attrs('file', 0o777), { uid: 0, gids: [0] }, ALL, false), READ | EXECUTE);
});

t.test('granted bits are a subset of those asked, fit the kind, and hold no change on a read-only share', async (t) => {
  const id = fc.constantFrom(0, 100, 1000, 65534);
  t.doesNotThrow(() => fc.assert(fc.property(
    fc.constantFrom<FileKind>('file', 'dir'), fc.integer({ min: 0, max: 0o7777 }), id, id, id, fc.array(id, { maxLength: 3 }), fc.integer({ min: 0, max: ALL }), fc.boolean(),
    (kind, mode, owner, group, uid, gids, wanted, writable) => {
      const granted = grantedAccess(attrs(kind, mode, owner, group), { uid, gids }, wanted, writable);
      const foreign = kind === 'dir' ? EXECUTE : LOOKUP | DELETE;
      return (granted & ~wanted) === 0 && (granted & foreign) === 0 && (writable || (granted & CHANGES) === 0);
    },
  ), { numRuns: 2000 }));
});
