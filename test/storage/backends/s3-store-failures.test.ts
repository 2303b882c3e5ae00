import t from 'tap';
import { createServer } from 'node:net';
import { CreateBucketCommand, ListBucketsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '../../../src/storage/backends/s3-store.js';
import { sdkClientOptions } from '../../../src/storage/backends/sdk-client-config.js';
import { ANY_CREDENTIALS, startMoto, type TestCredentials } from '../../harness/moto.js';

/** check() turns each way a configuration can be wrong into one error that says what to fix, and writes nothing. */

const moto = await startMoto();
t.teardown(() => moto.stop());

function client(credentials: TestCredentials): S3Client {
  const c = new S3Client({ ...sdkClientOptions({ endpoint: moto.endpoint, credentials }), forcePathStyle: true });
  t.teardown(() => c.destroy());
  return c;
}

function store(bucket: string, credentials: TestCredentials, endpoint = moto.endpoint): S3ObjectStore {
  const s = new S3ObjectStore({ endpoint, bucket, credentials, tuning: { maxAttempts: 2, connectTimeoutMs: 1_000 } });
  t.teardown(() => s.close());
  return s;
}

async function keysIn(bucket: string, credentials: TestCredentials): Promise<string[]> {
  const out = await client(credentials).send(new ListObjectsV2Command({ Bucket: bucket }));
  return (out.Contents ?? []).map((o) => o.Key ?? '');
}

/** A port nothing listens on: bound once to learn a free number, then released. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

t.test('a closed port is SGW_BACKEND_UNREACHABLE naming the endpoint, within seconds', async (t) => {
  const endpoint = `http://127.0.0.1:${await closedPort()}`;
  const started = Date.now();
  await t.rejects(store('bucket', ANY_CREDENTIALS, endpoint).check(), { code: 'SGW_BACKEND_UNREACHABLE', message: new RegExp(`${endpoint}.*check --endpoint`) });
  t.ok(Date.now() - started < 5_000, `gave up after ${Date.now() - started} ms`);
});

t.test('a missing bucket is SGW_BUCKET_NOT_FOUND, and check() does not create it', async (t) => {
  await moto.reset();
  await t.rejects(store('no-such-bucket', ANY_CREDENTIALS).check(), { code: 'SGW_BUCKET_NOT_FOUND', message: /"no-such-bucket".*create it first/ });
  const { Buckets = [] } = await client(ANY_CREDENTIALS).send(new ListBucketsCommand({}));
  t.same(Buckets, []);
});

t.test('with moto checking signatures', async (t) => {
  await moto.reset();
  t.teardown(() => moto.reset());
  await client(ANY_CREDENTIALS).send(new CreateBucketCommand({ Bucket: 'guarded' }));
  const good = await moto.createIamUser('gateway', { allowAll: true });
  const powerless = await moto.createIamUser('powerless', { allowAll: false });
  await moto.enforceAuth();

  t.test('good credentials pass and leave nothing behind', async (t) => {
    await store('guarded', good).check();
    t.same(await keysIn('guarded', good), []);
  });

  t.test('a wrong secret is SGW_BACKEND_CREDENTIALS, the secret not quoted, and nothing written', async (t) => {
    const wrongSecret = { ...good, secretAccessKey: 'not-the-secret-at-all' };
    const err = await store('guarded', wrongSecret).check().catch((e: unknown) => e);
    t.match(err, { code: 'SGW_BACKEND_CREDENTIALS', message: /SignatureDoesNotMatch/ });
    t.notMatch((err as Error).message, /not-the-secret-at-all/);
    t.notMatch((err as Error).message, good.secretAccessKey);
    t.same(await keysIn('guarded', good), []);
  });

  t.test('an unknown access key is SGW_BACKEND_CREDENTIALS', async (t) => {
    await t.rejects(store('guarded', { accessKeyId: 'AKIAUNKNOWNUNKNOWN00', secretAccessKey: 'x' }).check(), { code: 'SGW_BACKEND_CREDENTIALS', message: /InvalidAccessKeyId/ });
    t.same(await keysIn('guarded', good), []);
  });

  t.test('credentials without permission are SGW_BACKEND_ACCESS_DENIED', async (t) => {
    await t.rejects(store('guarded', powerless).check(), { code: 'SGW_BACKEND_ACCESS_DENIED', message: /bucket "guarded"/ });
    t.same(await keysIn('guarded', good), []);
  });
});
