import type { CopyOptions, ObjectStore } from '../backends/object-store.js';
import { multipartUpload } from './multipart-upload.js';

/** S3's largest single CopyObject; bigger objects are copied part by part. */
const MAX_SINGLE_COPY = 5 * 1024 ** 3;
const COPY_PART = 1024 ** 3;

/**
 * A server-side copy of an object of any size: CopyObject up to 5 GiB, UploadPartCopy above (where S3 refuses a
 * single copy). Without new metadata the source's is kept, as CopyObject keeps it.
 */
export async function copyObject(store: ObjectStore, src: string, dst: string, size: number, opts: CopyOptions = {}): Promise<void> {
  if (size <= MAX_SINGLE_COPY) {
    await store.copy(src, dst, opts);
    return;
  }
  const metadata = opts.metadata ?? (await store.head(src))?.metadata ?? {};
  await multipartUpload(store, dst, { metadata, ...(opts.storageClass ? { storageClass: opts.storageClass } : {}) }, Math.ceil(size / COPY_PART), async (uploadId, i) => {
    const start = i * COPY_PART;
    return (await store.uploadPartCopy(dst, uploadId, i + 1, src, { start, end: Math.min(size, start + COPY_PART) - 1 })).etag;
  });
}
