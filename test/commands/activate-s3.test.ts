import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CreateBucketCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import t from 'tap';
import { TestDaemon } from '../harness/daemon.js';
import { startMoto, type TestCredentials } from '../harness/moto.js';

const moto = await startMoto();
t.teardown(() => moto.stop());

function s3(credentials: TestCredentials): S3Client {
  return new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials });
}

/** Credentials the daemon finds through the standard AWS chain: its environment. */
const chainEnv = (c: TestCredentials) => ({ AWS_ACCESS_KEY_ID: c.accessKeyId, AWS_SECRET_ACCESS_KEY: c.secretAccessKey });

async function bucketKeys(client: S3Client, bucket: string): Promise<string[]> {
  const page = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (page.Contents ?? []).map((o) => o.Key ?? '');
}

t.beforeEach(() => moto.reset());

t.test('activation on an S3 endpoint with credentials from the chain; the bucket stays readable by plain S3 clients', async (t) => {
  const admin = await moto.createIamUser('admin', { allowAll: true });
  const client = s3(admin);
  await client.send(new CreateBucketCommand({ Bucket: 'gateway-data' }));
  await client.send(new PutObjectCommand({ Bucket: 'gateway-data', Key: 'existing.txt', Body: 'kept' }));
  // Auth stays off here: moto's signature check mis-handles the encoded '/' of a listing prefix. The tests
  // below enforce it.

  const d = await TestDaemon.start(t, chainEnv(admin));
  const result = await d.sgwJson<{ changed: boolean; gateway: { backend: unknown } }>(
    'activate', '--endpoint', moto.endpoint, '--bucket', 'gateway-data', '--prefix', 'gw1', '--region', 'us-east-1');
  t.equal(result.changed, true);
  t.same(result.gateway.backend, { kind: 's3', bucket: 'gateway-data', region: 'us-east-1', endpoint: moto.endpoint, prefix: 'gw1/' });
  const info = await d.sgwJson<{ gateway: { backend: unknown } }>('gateway', 'info');
  t.same(info.gateway.backend, result.gateway.backend);
  t.same(await bucketKeys(client, 'gateway-data'), ['existing.txt'], 'the probe object was cleaned up, nothing else touched');
  t.notMatch(d.output + JSON.stringify(info), admin.secretAccessKey, 'the secret is neither logged nor shown');
  const same = await d.sgwJson<{ changed: boolean }>('activate', '--endpoint', moto.endpoint, '--bucket', 'gateway-data', '--prefix', 'gw1');
  t.equal(same.changed, false, 'activation is idempotent');
});

t.test('credentials from a named profile of the shared AWS files', async (t) => {
  const admin = await moto.createIamUser('profiled', { allowAll: true });
  await s3(admin).send(new CreateBucketCommand({ Bucket: 'profile-bucket' }));
  await moto.enforceAuth();
  const dir = t.testdir();
  const credentialsFile = path.join(dir, 'credentials');
  await writeFile(credentialsFile, `[gateway]\naws_access_key_id = ${admin.accessKeyId}\naws_secret_access_key = ${admin.secretAccessKey}\n`);
  const d = await TestDaemon.start(t, { AWS_SHARED_CREDENTIALS_FILE: credentialsFile, AWS_CONFIG_FILE: path.join(dir, 'none') });
  const result = await d.sgwJson<{ gateway: { backend: { profile?: string } } }>(
    'activate', '--endpoint', moto.endpoint, '--bucket', 'profile-bucket', '--profile', 'gateway');
  t.equal(result.gateway.backend.profile, 'gateway');
});

t.test('wrong credentials, a missing bucket or no permission: one clear line, nothing stored anywhere', async (t) => {
  const admin = await moto.createIamUser('admin', { allowAll: true });
  const powerless = await moto.createIamUser('powerless', { allowAll: false });
  const client = s3(admin);
  await client.send(new CreateBucketCommand({ Bucket: 'gateway-data' }));
  await moto.enforceAuth();
  const cases: Array<[string, TestCredentials, string, RegExp]> = [
    ['wrong secret', { ...admin, secretAccessKey: 'not-the-secret' }, 'gateway-data', /credentials/i],
    ['unknown key', { accessKeyId: 'AKIANOSUCHKEY0000000', secretAccessKey: 'x' }, 'gateway-data', /credentials/i],
    ['missing bucket', admin, 'no-such-bucket', /no-such-bucket/],
    ['no permission', powerless, 'gateway-data', /denied/i],
  ];
  for (const [what, credentials, bucket, message] of cases) {
    const d = await TestDaemon.start(t, chainEnv(credentials));
    const result = await d.sgw('activate', '--endpoint', moto.endpoint, '--bucket', bucket);
    t.equal(result.code, 1, `${what}: exit 1`);
    t.equal(result.stderr.trim().split('\n').length, 1, `${what}: one line: ${result.stderr}`);
    t.match(result.stderr, message, what);
    t.notMatch(result.stderr, credentials.secretAccessKey, `${what}: no secret in the message`);
    t.equal((await d.sgwJson<{ activated: boolean }>('gateway', 'info')).activated, false, `${what}: nothing stored in the catalog`);
    t.same(await bucketKeys(client, 'gateway-data'), [], `${what}: nothing written to the bucket`);
  }
});

t.test('objects the gateway writes are encrypted with SSE-S3', async (t) => {
  const admin = await moto.createIamUser('admin', { allowAll: true });
  const client = s3(admin);
  await client.send(new CreateBucketCommand({ Bucket: 'sse-bucket' }));
  const { openGatewayStore } = await import('../../src/storage/gateway-backend.js');
  process.env.AWS_ACCESS_KEY_ID = admin.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = admin.secretAccessKey;
  const store = await openGatewayStore({ kind: 's3', bucket: 'sse-bucket', region: 'us-east-1', endpoint: moto.endpoint, prefix: 'p/' }, t.testdir());
  await store.put('chunk', Buffer.from('data'));
  const head = await client.send(new HeadObjectCommand({ Bucket: 'sse-bucket', Key: 'p/chunk' }));
  t.equal(head.ServerSideEncryption, 'AES256');
});
