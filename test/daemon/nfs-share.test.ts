import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import t from 'tap';
import { TestDaemon } from '../harness/daemon.js';
import { nfsUrl } from '../harness/file-gateway.js';
import { ANY_CREDENTIALS, startMoto } from '../harness/moto.js';
import { runClient } from '../harness/volume-gateway.js';

const moto = await startMoto();
t.teardown(() => moto.stop());

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

t.test('a bucket filled by a plain S3 client, read through a share with libnfs', async (t) => {
  const client = new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: ANY_CREDENTIALS });
  await client.send(new CreateBucketCommand({ Bucket: 'gateway-data' }));
  await client.send(new CreateBucketCommand({ Bucket: 'team-files' }));
  const put = (Key: string, Body: Buffer | string, Metadata?: Record<string, string>) => client.send(new PutObjectCommand({ Bucket: 'team-files', Key, Body, Metadata }));
  const big = randomBytes(5 * 2 ** 20 + 12345);
  await put('projects/report.txt', 'quarterly numbers\n', { 'file-permissions': '0100644', 'file-owner': '1000', 'file-group': '100', 'file-mtime': '1700000000000000000ns' });
  await put('projects/raw/data.bin', big);
  await put('projects/s3fs.sh', '#!/bin/sh\n', { mode: String(0o100755), uid: '7', gid: '8', mtime: '1600000000' });
  await put('projects/archive/', '', { 'file-permissions': '040755' });
  await put('projects/secret.txt', 'for uid 1000 only', { 'file-permissions': '0100600', 'file-owner': '1000' });
  await put('outside.txt', 'not under the prefix');

  const d = await TestDaemon.start(t, { AWS_ACCESS_KEY_ID: ANY_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: ANY_CREDENTIALS.secretAccessKey });
  await d.sgwJson('activate', '--endpoint', moto.endpoint, '--bucket', 'gateway-data', '--region', 'us-east-1');
  await d.sgwJson('share', 'create', 'team', '--bucket', 'team-files', '--prefix', 'projects', '--owner', '2000', '--group', '2000');

  const listed = await runClient('nfs-ls', ['-R', await nfsUrl(d, 'team')]);
  t.equal(listed.code, 0, listed.stderr);
  const lines = listed.stdout.trim().split('\n').map((line) => line.trim().split(/\s+/)).map(([mode, , uid, gid, size, name]) => ({ mode, uid, gid, size, name }));
  t.same(lines.sort((a, b) => (a.name! < b.name! ? -1 : 1)), [
    { mode: 'drwxr-xr-x', uid: '2000', gid: '2000', size: '4096', name: 'archive' },
    { mode: 'drwxrwxrwx', uid: '2000', gid: '2000', size: '4096', name: 'raw' },
    { mode: '-rw-rw-rw-', uid: '2000', gid: '2000', size: String(big.length), name: 'raw/data.bin' },
    { mode: '-rw-r--r--', uid: '1000', gid: '100', size: '18', name: 'report.txt' },
    { mode: '-rwxr-xr-x', uid: '7', gid: '8', size: '10', name: 's3fs.sh' },
    { mode: '-rw-------', uid: '1000', gid: '2000', size: '17', name: 'secret.txt' },
  ], 'kinds, modes, owners and sizes from each tool\'s metadata, or the share\'s defaults');

  const cat = await runClient('nfs-cat', [await nfsUrl(d, 'team', '/report.txt')]);
  t.equal(cat.stdout, 'quarterly numbers\n', cat.stderr);
  // libnfs runs as root here, which the share squashes to nobody: a 0600 file of another owner is closed to it.
  const closed = await runClient('nfs-cat', [await nfsUrl(d, 'team', '/secret.txt')]);
  t.not(closed.stdout, 'for uid 1000 only', 'root squashed to nobody may not read a 0600 file of another owner');
  t.match(closed.stderr, /ACCES|denied|permission/i, closed.stderr);
  const copy = path.join(path.dirname(d.stateDir), 'data.bin');
  const cp = await runClient('nfs-cp', [await nfsUrl(d, 'team', '/raw/data.bin'), copy]);
  t.equal(cp.code, 0, cp.stderr);
  t.equal(sha256(await readFile(copy)), sha256(big), 'a 5 MiB file copied out keeps its sha256');

  const missing = await runClient('nfs-cat', [await nfsUrl(d, 'team', '/nope.txt')]);
  t.not(missing.code, 0, 'a missing file is an error');
  const noShare = await runClient('nfs-ls', [await nfsUrl(d, 'nope')]);
  t.not(noShare.code, 0, 'an unknown export cannot be mounted');
  t.match(noShare.stderr, /MNT3ERR_NOENT|NOENT|mount/i);

  // Listings are trusted (stale timeout 0) until the share is refreshed.
  await put('projects/later.txt', 'put after the first listing');
  const names = async () => (await runClient('nfs-ls', [await nfsUrl(d, 'team')])).stdout;
  t.notMatch(await names(), /later\.txt/, 'not listed before a refresh');
  t.match(await d.sgwJson('share', 'refresh', 'team'), { refreshed: /^share-/ });
  t.match(await names(), /later\.txt/, 'listed after it');

  // An object in an archive class is listed; reading it says "later" until sgw share restore brings it back.
  await client.send(new PutObjectCommand({ Bucket: 'team-files', Key: 'projects/cold/ledger.txt', Body: 'archived ledger', StorageClass: 'GLACIER' }));
  t.match(await d.sgwJson('share', 'refresh', 'team', '--folder', '/', '--recursive', '--wait'), { refreshed: /^share-/, refresh: { running: false, error: null } });
  t.match((await runClient('nfs-ls', [await nfsUrl(d, 'team', '/cold')])).stdout, /ledger\.txt/, 'listed (refreshed recursively)');
  const cold = await runClient('nfs-cat', [await nfsUrl(d, 'team', '/cold/ledger.txt')], 10_000);
  t.not(cold.stdout, 'archived ledger', `not readable before its restore (${cold.stderr.trim().split('\n')[0]})`);
  t.match(await d.sgwJson('share', 'restore', 'team', '/cold/ledger.txt'), { key: 'projects/cold/ledger.txt', status: 'RESTORING' });
  t.equal((await runClient('nfs-cat', [await nfsUrl(d, 'team', '/cold/ledger.txt')])).stdout, 'archived ledger', 'readable once restored');
  const restoreDir = await d.sgw('share', 'restore', 'team', '/cold');
  t.equal(restoreDir.code, 1);
  t.match(restoreDir.stderr, /is a folder/);

  // File handles carry the share and the inode: after a restart they still resolve, by the same numbers.
  await d.stop();
  await d.restart();
  const again = await runClient('nfs-cat', [await nfsUrl(d, 'team', '/raw/data.bin')]);
  t.equal(again.code, 0, again.stderr);
  t.equal(again.stdout.length > 0, true);
});

t.test('a client outside the client list can neither mount nor read', async (t) => {
  const d = await TestDaemon.start(t);
  await d.sgwJson('activate');
  await d.sgwJson('share', 'create', 'closed', '--bucket', 'closed-files', '--client-list', '10.9.9.9/32');
  await d.sgwJson('share', 'create', 'open', '--bucket', 'open-files');
  const denied = await runClient('nfs-ls', [await nfsUrl(d, 'closed')]);
  t.not(denied.code, 0, denied.stdout);
  t.match(denied.stderr, /ACCES|denied|permission/i);
  t.equal((await runClient('nfs-ls', [await nfsUrl(d, 'open')])).code, 0, 'another share on the same server mounts');
  await d.sgwJson('share', 'update', 'open', '--client-list', '10.9.9.9/32');
  const revoked = await runClient('nfs-ls', [await nfsUrl(d, 'open')]);
  t.not(revoked.code, 0, 'a change of the client list holds at once');
});
