import { spawn } from 'node:child_process';
import { truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import type { VolumeDetails } from '../../src/rpc/api.js';
import { portalUrl, runClient, startVolumeGateway, volumeUrl } from '../harness/volume-gateway.js';

const GiB = 2 ** 30;
const INITIATOR = 'iqn.2026-11.test.sgw:client';

t.test('every volume is an iSCSI target that libiscsi and qemu find, size and use', async (t) => {
  const { d, dir } = await startVolumeGateway(t);
  await d.sgwJson('volume', 'create', 'cached1', '--cached', '1GiB');
  const diskPath = path.join(dir, 'stored-disk');
  await writeFile(diskPath, '');
  await truncate(diskPath, 2 * GiB);
  await d.sgwJson('volume', 'create', 'stored1', '--stored', '--disk', diskPath);

  const listed = await runClient('iscsi-ls', ['-s', await portalUrl(d)]);
  t.equal(listed.code, 0, listed.stderr);
  t.match(listed.stdout, /Target:iqn\.2026-11\.io\.sgw:lab:cached1 Portal:127\.0\.0\.1:\d+,1/);
  t.match(listed.stdout, /Target:iqn\.2026-11\.io\.sgw:lab:stored1 Portal:127\.0\.0\.1:\d+,1/);
  t.equal(listed.stdout.match(/Lun:0\s+Type:DIRECT_ACCESS \(Size:/g)?.length, 2, 'each target has its disk at LUN 0');

  for (const [name, size] of [['cached1', GiB], ['stored1', 2 * GiB]] as const) {
    const url = await volumeUrl(d, name);
    const capacity = await runClient('iscsi-readcapacity16', [url]);
    t.equal(capacity.code, 0, capacity.stderr);
    t.match(capacity.stdout, new RegExp(`Total size:${size}\\b`), `${name} is ${size} bytes`);
    const inquiry = await runClient('iscsi-inq', [url]);
    t.equal(inquiry.code, 0, inquiry.stderr);
    t.match(inquiry.stdout, /Vendor:SGW/);
    const serial = await runClient('iscsi-inq', ['-e', '1', '-c', '128', url]);
    t.match(serial.stdout, /Unit Serial Number:\[vol-[0-9a-f]{8}\]/, 'the serial number is the volume ID');

    // Through immediate data, unsolicited data and R2Ts alike: qemu writes 4 MiB in one command.
    const io = await runClient('qemu-io', ['-f', 'raw', '-c', 'write -P 0x5a 1M 4M', '-c', 'write -P 0xa5 1536 512', '-c', 'read -P 0x5a 1M 4M', '-c', 'read -P 0xa5 1536 512', '-c', 'read -P 0 0 1536', url]);
    t.equal(io.code, 0, io.stderr);
    t.notMatch(io.stdout + io.stderr, /Pattern verification failed|error/i, `${name} reads back what qemu wrote`);
  }

  // A client holding a session shows in describe, and keeps the volume from being deleted by accident.
  const nbd = spawn('qemu-nbd', ['-t', '-f', 'raw', '--socket', path.join(dir, 'nbd.sock'), await volumeUrl(d, 'cached1')], { stdio: 'ignore' });
  t.teardown(() => nbd.kill('SIGKILL'));
  let described: VolumeDetails | undefined;
  for (let i = 0; i < 100 && !described?.initiators.length; i++) {
    await new Promise((r) => setTimeout(r, 100));
    described = await d.sgwJson<VolumeDetails>('volume', 'describe', 'cached1');
  }
  t.equal(described?.targetName, 'iqn.2026-11.io.sgw:lab:cached1');
  t.equal(described?.initiators.length, 1, 'qemu-nbd is logged in');
  t.match(described?.initiators[0]?.address, /^127\.0\.0\.1:\d+$/);
  const refused = await d.sgw('volume', 'delete', 'cached1');
  t.equal(refused.code, 1);
  t.match(refused.stderr, /volume cached1 is in use by iqn\.[^ ]+; log them out or add --force/);
  await d.sgwJson('volume', 'delete', 'cached1', '--force');
  const after = await runClient('iscsi-ls', [await portalUrl(d)]);
  t.notMatch(after.stdout, /cached1/, 'the deleted volume is no longer a target');
  t.match(after.stdout, /stored1/);
});

t.test('--iscsi-advertise: discovery names the address initiators reach the gateway at', async (t) => {
  const { d } = await startVolumeGateway(t, { env: { SGW_ISCSI_ADVERTISE: '10.0.2.100:3260' } });
  await d.sgwJson('volume', 'create', 'behind-nat', '--cached', '1GiB');
  const listed = await runClient('iscsi-ls', [await portalUrl(d)]);
  t.equal(listed.code, 0, listed.stderr);
  t.match(listed.stdout, /^Target:iqn\.2026-11\.io\.sgw:lab:behind-nat Portal:10\.0\.2\.100:3260,1$/m);
});

t.test('CHAP: one-way and mutual secrets per initiator; wrong or missing secrets fail the login', async (t) => {
  const { d } = await startVolumeGateway(t);
  await d.sgwJson('volume', 'create', 'secure', '--cached', '1GiB');
  const login = async (chap?: { user: string; secret: string }, initiator = INITIATOR, query = '') =>
    runClient('iscsi-inq', ['-i', initiator, (await volumeUrl(d, 'secure', chap)) + query]);

  t.equal((await login()).code, 0, 'no CHAP entry: any initiator logs in');
  const badSecret = await d.sgw('volume', 'chap', 'set', 'secure', '--initiator', INITIATOR, '--secret', 'short');
  t.equal(badSecret.code, 2);
  t.match(badSecret.stderr, /12 to 16 printable characters/);
  await d.sgwJson('volume', 'chap', 'set', 'secure', '--initiator', INITIATOR, '--secret', 'abcdefgh1234');

  t.equal((await login({ user: INITIATOR, secret: 'abcdefgh1234' })).code, 0, 'the right secret logs in');
  t.not((await login({ user: INITIATOR, secret: 'abcdefgh9999' })).code, 0, 'a wrong secret fails');
  t.not((await login()).code, 0, 'no CHAP at all fails');
  t.not((await login({ user: 'iqn.2026-11.test.sgw:other', secret: 'abcdefgh1234' }, 'iqn.2026-11.test.sgw:other')).code, 0, 'an initiator without an entry fails');

  await d.sgwJson('volume', 'chap', 'set', 'secure', '--initiator', INITIATOR, '--secret', 'abcdefgh1234', '--target-secret', 'targetsecret1');
  const mutual = (secret: string) => `?target_user=iqn.2026-11.io.sgw:lab:secure&target_password=${secret}`;
  t.equal((await login({ user: INITIATOR, secret: 'abcdefgh1234' }, INITIATOR, mutual('targetsecret1'))).code, 0, 'mutual CHAP with both secrets right');
  t.not((await login({ user: INITIATOR, secret: 'abcdefgh1234' }, INITIATOR, mutual('targetsecret2'))).code, 0, 'the initiator refuses a target with the wrong secret');

  t.same(await d.sgwJson('volume', 'chap', 'list'), [{ volume: 'secure', initiatorName: INITIATOR, mutual: true }]);
  await d.sgwJson('volume', 'chap', 'delete', 'secure', '--initiator', INITIATOR);
  t.equal((await login()).code, 0, 'without entries the target is open again');
  const missing = await d.sgw('volume', 'chap', 'delete', 'secure', '--initiator', INITIATOR);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /has no CHAP secret for/);
});
