import t from 'tap';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStore, type S3StoreConfig } from '../../../src/storage/backends/s3-store.js';
import { sdkClientOptions } from '../../../src/storage/backends/sdk-client-config.js';
import { ANY_CREDENTIALS, startMoto } from '../../harness/moto.js';
import { objectStoreContract } from './object-store-contract.js';

const moto = await startMoto();
t.teardown(() => moto.stop());

const admin = new S3Client({ ...sdkClientOptions({ endpoint: moto.endpoint, credentials: ANY_CREDENTIALS }), forcePathStyle: true });
t.teardown(() => admin.destroy());

let buckets = 0;
async function freshBucket(): Promise<string> {
  const bucket = `contract-${++buckets}`;
  await admin.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

function storeConfig(bucket: string, prefix?: string): S3StoreConfig {
  return { endpoint: moto.endpoint, bucket, prefix, credentials: ANY_CREDENTIALS };
}

t.test('contract', async (t) => {
  objectStoreContract(t, {
    capabilities: {
      serverSideEncryption: true,
      coldStorage: { storageClass: 'GLACIER', tier: 'Standard', restoreTimeoutMs: 5_000 },
    },
    backing: async () => {
      const bucket = await freshBucket();
      return (prefix) => new S3ObjectStore(storeConfig(bucket, prefix));
    },
  });
});

t.test('an endpoint without a scheme means https; describe shows no credentials', async (t) => {
  const store = new S3ObjectStore({ endpoint: 's3.example.com', bucket: 'b', region: 'eu-west-1', prefix: 'gw', credentials: ANY_CREDENTIALS });
  t.teardown(() => store.close());
  t.same(store.describe(), { kind: 's3', endpoint: 'https://s3.example.com', bucket: 'b', region: 'eu-west-1', prefix: 'gw/' });
  t.notMatch(JSON.stringify(store.describe()), ANY_CREDENTIALS.secretAccessKey);
});
