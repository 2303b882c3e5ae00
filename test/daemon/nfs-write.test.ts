import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CreateBucketCommand, GetObjectAclCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import t from 'tap';
import { TestDaemon, type Teardown } from '../harness/daemon.js';
import { nfsUrl } from '../harness/file-gateway.js';
import { ANY_CREDENTIALS, startMoto } from '../harness/moto.js';
import { runClient } from '../harness/volume-gateway.js';

const moto = await startMoto();
t.teardown(() => moto.stop());

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const s3 = new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: ANY_CREDENTIALS });
const credentials = { AWS_ACCESS_KEY_ID: ANY_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: ANY_CREDENTIALS.secretAccessKey };

async function getObject(Bucket: string, Key: string): Promise<{ body: Buffer; metadata: Record<string, string> }> {
  const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
  return { body: Buffer.from(await got.Body!.transformToByteArray()), metadata: got.Metadata ?? {} };
}

async function keys(Bucket: string, Prefix = ''): Promise<string[]> {
  return ((await s3.send(new ListObjectsV2Command({ Bucket, Prefix }))).Contents ?? []).map((o) => o.Key!).sort();
}

async function gateway(t: Teardown, bucket: string): Promise<TestDaemon> {
  await s3.send(new CreateBucketCommand({ Bucket: 'gateway-data' })).catch(() => undefined);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const d = await TestDaemon.start(t, credentials);
  await d.sgwJson('activate', '--endpoint', moto.endpoint, '--bucket', 'gateway-data', '--region', 'us-east-1');
  return d;
}

t.test('a 1 GiB file and a small one copied in with libnfs land in the bucket under their path, with their data and metadata', async (t) => {
  const d = await gateway(t, 'written-files');
  await d.sgwJson('share', 'create', 'docs', '--bucket', 'written-files', '--prefix', 'team', '--upload-settle', '60');
  const dir = path.dirname(d.stateDir);
  const big = randomBytes(2 ** 30 + 4321);
  await writeFile(path.join(dir, 'big.bin'), big);
  await writeFile(path.join(dir, 'small.txt'), 'hello over nfs\n');

  for (const [file, name] of [['big.bin', '/big.bin'], ['small.txt', '/small.txt']]) {
    const cp = await runClient('nfs-cp', [path.join(dir, file!), await nfsUrl(d, 'docs', name)]);
    t.equal(cp.code, 0, `nfs-cp in ${file}: ${cp.stderr}`);
  }
  t.same(await keys('written-files'), [], 'nothing is uploaded before the settle time');
  const listed = await runClient('nfs-ls', [await nfsUrl(d, 'docs')]);
  t.match(listed.stdout, /big\.bin/, 'a file written and not uploaded is listed');
  const back = path.join(dir, 'back.bin');
  t.equal((await runClient('nfs-cp', [await nfsUrl(d, 'docs', '/big.bin'), back])).code, 0);
  t.equal(sha256(await readFile(back)), sha256(big), 'the 1 GiB file read back from the cache before its upload: the same sha256');

  t.match(await d.sgwJson('share', 'sync', 'docs', '--wait'), { pendingFiles: 0, pendingBytes: 0 });
  t.same(await keys('written-files'), ['team/big.bin', 'team/small.txt'], 'one object per file, the key its path under the prefix');
  const object = await getObject('written-files', 'team/big.bin');
  t.equal(sha256(object.body), sha256(big), 'a plain S3 client reads the same sha256 (a multipart upload)');
  t.match(object.metadata, { 'file-permissions': /^01006[0-7]{2}$/, 'file-owner': '65534', 'file-group': '65534', 'file-mtime': /^\d+ns$/ }, 'file-* metadata');
  t.equal((await getObject('written-files', 'team/small.txt')).body.toString(), 'hello over nfs\n');
});

t.test('COMMITted data and file handles survive a SIGKILL; the upload happens after the restart', async (t) => {
  const d = await gateway(t, 'killed');
  await d.sgwJson('share', 'create', 'k', '--bucket', 'killed', '--upload-settle', '3600');
  const dir = path.dirname(d.stateDir);
  const data = randomBytes(9 * 2 ** 20 + 17);
  await writeFile(path.join(dir, 'data.bin'), data);
  // nfs-cp closes the file when done, and libnfs's close sends COMMIT.
  t.equal((await runClient('nfs-cp', [path.join(dir, 'data.bin'), await nfsUrl(d, 'k', '/data.bin')])).code, 0);
  t.same(await keys('killed'), [], 'held locally: the settle time is an hour');
  t.equal(await d.stop('SIGKILL'), null, 'sgwd killed');
  await d.restart();
  const back = path.join(dir, 'after.bin');
  t.equal((await runClient('nfs-cp', [await nfsUrl(d, 'k', '/data.bin'), back])).code, 0);
  t.equal(sha256(await readFile(back)), sha256(data), 'the committed file reads back whole after the restart');
  await d.sgwJson('share', 'sync', 'k', '--wait');
  t.equal(sha256((await getObject('killed', 'data.bin')).body), sha256(data), 'and uploads from the cache');
});

t.test('uploads carry the share\'s storage class and object ACL, and SSE-S3', async (t) => {
  const d = await gateway(t, 'acl-files');
  await d.sgwJson('share', 'create', 'pub', '--bucket', 'acl-files', '--object-acl', 'public-read', '--storage-class', 'STANDARD_IA', '--upload-settle', '0');
  const dir = path.dirname(d.stateDir);
  await writeFile(path.join(dir, 'note.txt'), 'for everyone');
  t.equal((await runClient('nfs-cp', [path.join(dir, 'note.txt'), await nfsUrl(d, 'pub', '/note.txt')])).code, 0);
  await d.sgwJson('share', 'sync', 'pub', '--wait');
  const head = await s3.send(new HeadObjectCommand({ Bucket: 'acl-files', Key: 'note.txt' }));
  t.match(head, { StorageClass: 'STANDARD_IA', ServerSideEncryption: 'AES256' });
  const acl = await s3.send(new GetObjectAclCommand({ Bucket: 'acl-files', Key: 'note.txt' }));
  t.ok(acl.Grants?.some((g) => g.Grantee?.URI?.endsWith('/AllUsers') && g.Permission === 'READ'), 'public-read: everyone may read it');
});

t.test('share delete uploads what is left first; --force drops it', async (t) => {
  const d = await gateway(t, 'leaving');
  const dir = path.dirname(d.stateDir);
  await writeFile(path.join(dir, 'last.txt'), 'the last words');
  for (const name of ['patient', 'hasty']) {
    await d.sgwJson('share', 'create', name, '--bucket', 'leaving', '--prefix', name, '--upload-settle', '3600');
    t.equal((await runClient('nfs-cp', [path.join(dir, 'last.txt'), await nfsUrl(d, name, '/last.txt')])).code, 0);
  }
  t.match(await d.sgwJson('share', 'sync', 'patient'), { pendingFiles: 1 }, 'held for the settle time');
  await d.sgwJson('share', 'delete', 'patient');
  await d.sgwJson('share', 'delete', 'hasty', '--force');
  t.same(await keys('leaving'), ['patient/last.txt'], 'the patient share uploaded its file before going; the hasty one dropped it');
});
