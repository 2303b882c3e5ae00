import type { ObjectStore, PutOptions } from '../backends/object-store.js';

const PARALLEL_PARTS = 4;

/**
 * One multipart upload of `count` parts, a few at once, each made by `part` (UploadPart or UploadPartCopy; it
 * returns the part's ETag). The object appears only once every part is in; on a failure the upload is aborted so
 * that no parts are left to pay for.
 */
export async function multipartUpload(
  store: ObjectStore, key: string, opts: PutOptions, count: number, part: (uploadId: string, index: number) => Promise<string>,
): Promise<void> {
  const uploadId = await store.createMultipartUpload(key, opts);
  try {
    const etags = new Array<string>(count);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < count; i = next++) etags[i] = await part(uploadId, i);
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_PARTS, count) }, worker));
    await store.completeMultipartUpload(key, uploadId, etags.map((etag, i) => ({ partNumber: i + 1, etag })));
  } catch (err) {
    await store.abortMultipartUpload(key, uploadId).catch(() => undefined);
    throw err;
  }
}
