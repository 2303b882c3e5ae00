import t from 'tap';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { openArchive } from '../../../src/storage/backends/open-backend.js';
import type { ColdStorageClass } from '../../../src/storage/backends/s3-glacier-archive.js';
import { sdkClientOptions } from '../../../src/storage/backends/sdk-client-config.js';
import { ANY_CREDENTIALS, startMoto } from '../../harness/moto.js';
import { archiveContract, type ArchiveFactory } from './archive-contract.js';

const moto = await startMoto();
t.teardown(() => moto.stop());
const admin = new S3Client({ ...sdkClientOptions({ endpoint: moto.endpoint, credentials: ANY_CREDENTIALS }), forcePathStyle: true });
t.teardown(() => admin.destroy());

let buckets = 0;
function glacierFactory(storageClass: ColdStorageClass): ArchiveFactory {
  return {
    retrievalTakesTime: false, // moto restores at once
    retrievalTimeoutMs: 5_000,
    bodySizes: [1000, 3 * 1024 * 1024 + 7],
    backing: async () => {
      const bucket = `archive-${++buckets}`;
      await admin.send(new CreateBucketCommand({ Bucket: bucket }));
      return {
        open: () => openArchive({ kind: 's3-glacier', endpoint: moto.endpoint, bucket, prefix: 'tapes', storageClass, credentials: ANY_CREDENTIALS }),
        holds: async (archiveId) => {
          const { Contents = [] } = await admin.send(new ListObjectsV2Command({ Bucket: bucket }));
          return Contents.some((o) => o.Key === `tapes/${archiveId}` && o.StorageClass === storageClass);
        },
      };
    },
  };
}

t.test('GLACIER', async (t) => archiveContract(t, glacierFactory('GLACIER')));
t.test('DEEP_ARCHIVE', async (t) => archiveContract(t, glacierFactory('DEEP_ARCHIVE')));
