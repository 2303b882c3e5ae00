import t from 'tap';
import type { ShareDetails, ShareSummary } from '../../src/rpc/api.js';
import { TestDaemon } from '../harness/daemon.js';

t.test('create, list, describe, update and delete shares; they survive a restart', async (t) => {
  const d = await TestDaemon.start(t);
  await d.sgwJson('activate');
  const plain = await d.sgwJson<ShareDetails>('share', 'create', 'photos', '--bucket', 'gw-photos');
  t.match(plain, {
    name: 'photos', exportPath: '/photos', bucket: 'gw-photos', prefix: '', location: 'gw-photos/', status: 'AVAILABLE',
    clientList: ['0.0.0.0/0'], squash: 'root', readOnly: false, fileMode: '0666', dirMode: '0777', ownerId: 65534, groupId: 65534,
    storageClass: 'STANDARD', objectAcl: 'private', cacheStaleTimeoutSeconds: 0, uploadSettleSeconds: 5,
  }, 'AWS defaults');
  t.match(plain.shareId, /^share-[0-9a-f]{8}$/);

  const tuned = await d.sgwJson<ShareDetails>('share', 'create', 'builds', '--bucket', 'gw-data', '--prefix', '/builds',
    '--client-list', '10.0.0.0/8, 192.168.1.7,fd00::/8', '--squash', 'all', '--read-only', '--file-mode', '644', '--dir-mode', '0755',
    '--owner', '1000', '--group', '100', '--storage-class', 'STANDARD_IA', '--object-acl', 'bucket-owner-full-control',
    '--cache-stale-timeout', '300', '--upload-settle', '30');
  t.match(tuned, {
    prefix: 'builds/', location: 'gw-data/builds/', clientList: ['10.0.0.0/8', '192.168.1.7', 'fd00::/8'], squash: 'all', readOnly: true,
    fileMode: '0644', dirMode: '0755', ownerId: 1000, groupId: 100, storageClass: 'STANDARD_IA', objectAcl: 'bucket-owner-full-control',
    cacheStaleTimeoutSeconds: 300, uploadSettleSeconds: 30,
  });
  t.same((await d.sgwJson<ShareSummary[]>('share', 'list')).map((s) => s.name), ['photos', 'builds']);

  const updated = await d.sgwJson<ShareDetails>('share', 'update', 'builds', '--no-read-only', '--squash', 'none');
  t.match(updated, { readOnly: false, squash: 'none', ownerId: 1000, prefix: 'builds/' }, 'only what was given changes');

  await d.stop();
  await d.restart();
  t.match(await d.sgwJson<ShareDetails>('share', 'describe', tuned.shareId), { name: 'builds', readOnly: false, squash: 'none', clientList: ['10.0.0.0/8', '192.168.1.7', 'fd00::/8'] });
  t.same(await d.sgwJson('share', 'sync', 'photos', '--wait'), { shareId: plain.shareId, pendingFiles: 0, pendingBytes: 0 }, 'nothing written, nothing to wait for');
  t.same(await d.sgwJson('share', 'delete', 'photos'), { deleted: plain.shareId });
  t.same((await d.sgwJson<ShareSummary[]>('share', 'list')).map((s) => s.name), ['builds']);
});

t.test('bad share input is one clear line and the right exit status', async (t) => {
  const d = await TestDaemon.start(t);
  await d.sgwJson('activate');
  await d.sgwJson('share', 'create', 'taken', '--bucket', 'gw-data');
  for (const [args, code, message] of [
    [['share', 'create', 'x', '--bucket', 'Bad_Bucket'], 2, /not a bucket name/],
    [['share', 'create', 'x', '--bucket', 'gw-data', '--client-list', '10.0.0.0/33'], 2, /not an IP address or CIDR block/],
    [['share', 'create', 'x', '--bucket', 'gw-data', '--client-list', 'example.com'], 2, /not an IP address or CIDR block/],
    [['share', 'create', 'x', '--bucket', 'gw-data', '--file-mode', '0999'], 2, /octal/],
    [['share', 'create', 'x', '--bucket', 'gw-data', '--cache-stale-timeout', '100'], 2, /0 \(off\) or 300 to 2592000/],
    [['share', 'create', 'x', '--bucket', 'gw-data', '--squash', 'some'], 2, /Expected --squash=some to be one of/],
    [['share', 'create', '../up', '--bucket', 'gw-data'], 2, /share name/],
    [['share', 'create', 'share-0000abcd', '--bucket', 'gw-data'], 2, /cannot look like a share ID/],
    [['share', 'create', 'x'], 2, /Missing required flag bucket/],
    [['share', 'create', 'taken', '--bucket', 'gw-data'], 1, /already exists/],
    [['share', 'describe', 'nope'], 1, /no share nope/],
    [['share', 'update', 'taken'], 2, /nothing to change/],
    [['share', 'delete', 'nope'], 1, /no share nope/],
    [['share', 'sync', 'nope', '--wait'], 1, /no share nope/],
    [['share', 'refresh', 'taken', '--recursive'], 2, /--folder/],
    [['share', 'refresh', 'taken', '--folder', '/missing'], 1, /not in the share/],
    [['share', 'restore', 'taken'], 2, /Missing 1 required arg/],
    [['share', 'restore', 'taken', '/x', '--days', '31'], 2, /31/],
    [['share', 'restore', 'taken', '/no-such-file'], 1, /not in the share/],
  ] as const) {
    const r = await d.sgw(...args);
    t.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    t.match(r.stderr, message, args.join(' '));
    t.equal(r.stderr.trim().split('\n').length, 1, `${args.join(' ')}: one line`);
  }
});
