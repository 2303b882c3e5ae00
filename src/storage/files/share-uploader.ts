import type { Logger } from 'pino';
import type { ObjectStore, PutOptions } from '../backends/object-store.js';
import { metadataFromAttributes } from './file-attributes.js';
import type { FileCache } from './file-cache.js';
import type { LocalFiles } from './local-files.js';
import { multipartUpload } from './multipart-upload.js';
import { copyObject } from './object-copy.js';
import type { ShareSettings } from './share-settings.js';

/** Files up to this size go up in one PUT; bigger ones as a multipart upload. */
const SINGLE_PUT = 16 * 1024 * 1024;
const MIN_PART = 8 * 1024 * 1024;
/** S3 allows 10,000 parts: parts grow with the file so that 5 TiB fits. */
const MAX_PARTS = 9_000;
const PARALLEL_FILES = 4;
const TICK_MS = 500;
const MAX_BACKOFF_MS = 30_000;

export interface ShareUploaderOptions {
  files: LocalFiles;
  cache: FileCache;
  store: ObjectStore;
  /** The file's key in the share (its path); undefined once it has none. */
  pathOf: (ino: number) => string | undefined;
  settings: () => ShareSettings;
  /** Held shared by an upload, exclusive by a directory rename: a file's path stays put while it uploads. */
  shareLock: <T>(fn: () => Promise<T>) => Promise<T>;
  log: Logger;
}

/**
 * Uploads a share's changed files once they have been quiet for the share's settle time: the whole file with its
 * metadata (PUT, or multipart in parallel parts), or, when only attributes changed, a copy onto itself with the
 * new metadata. The bucket's copy is replaced only by a complete one.
 */
export class ShareUploader {
  private readonly running = new Map<number, Promise<void>>();
  /** Files `sync` waits for: they go at once, without waiting out the settle time. */
  private readonly urgent = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private retryAt = 0;
  private closed = false;

  constructor(private readonly o: ShareUploaderOptions) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  /** Resolves once every change made before the call is in the bucket (AWS's NotifyWhenUploaded). */
  async sync(): Promise<void> {
    const waiting = new Map(this.o.files.dirty().map((ino) => [ino, this.o.files.get(ino)!.generation]));
    for (const ino of waiting.keys()) this.urgent.add(ino);
    this.retryAt = 0;
    this.tick();
    while (!this.closed) {
      for (const [ino, generation] of waiting) {
        const file = this.o.files.get(ino);
        if (!file || file.uploaded >= generation) waiting.delete(ino);
      }
      if (waiting.size === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Changed files not yet in the bucket, and their bytes. */
  backlog(): { files: number; bytes: number } {
    const dirty = this.o.files.dirty();
    return { files: dirty.length, bytes: dirty.reduce((n, ino) => n + (this.o.files.get(ino)?.attrs.size ?? 0), 0) };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await Promise.allSettled(this.running.values());
  }

  private tick(): void {
    if (this.closed || Date.now() < this.retryAt) return;
    const settleMs = this.o.settings().uploadSettleSeconds * 1000;
    const now = Date.now();
    for (const ino of this.o.files.dirty()) {
      if (this.running.size >= PARALLEL_FILES) return;
      const file = this.o.files.get(ino)!;
      if (this.running.has(ino) || (!this.urgent.has(ino) && now - file.changedAt < settleMs)) continue;
      const run = this.upload(ino).then(() => {
        this.failures = 0;
      }, (err: unknown) => {
        this.failures++;
        this.retryAt = Date.now() + Math.min(MAX_BACKOFF_MS, 250 * 2 ** this.failures);
        this.o.log.warn({ err, ino }, 'upload failed; retrying');
      }).finally(() => {
        this.running.delete(ino);
        const f = this.o.files.get(ino);
        if (!f || f.uploaded >= f.generation) this.urgent.delete(ino);
      });
      this.running.set(ino, run);
    }
  }

  private upload(ino: number): Promise<void> {
    return this.o.shareLock(() => this.o.files.locks.exclusive(`op:${ino}`, async () => {
      const file = this.o.files.get(ino);
      const key = this.o.pathOf(ino);
      if (!file || file.uploaded >= file.generation) return;
      if (key === undefined) {
        await this.o.files.drop(ino);
        return;
      }
      const withData = file.dataGeneration > file.uploaded || !file.stored;
      const { generation, attrs } = await this.o.files.save(ino);
      const metadata = metadataFromAttributes(attrs);
      const { storageClass, objectAcl } = this.o.settings();
      // 'private' is what a bucket gives anyway, and the one ACL some buckets (owner enforced) refuse to be told.
      const options = { metadata, storageClass, ...(objectAcl !== 'private' ? { acl: objectAcl } : {}) };
      if (withData) await this.putFile(ino, key, attrs.size, options);
      else await copyObject(this.o.store, key, key, attrs.size, { metadata, storageClass });
      await this.o.files.uploaded(ino, generation, attrs.size);
      this.o.log.debug({ ino, key, size: attrs.size, generation }, 'file uploaded');
    }));
  }

  /**
   * The file's bytes as the new object. A part the gateway holds no byte of (never written, never read) is still
   * the bucket's: it is copied there (UploadPartCopy) instead of fetched and sent back. Everything else is filled
   * from the bucket where needed and sent from the cache file.
   */
  private async putFile(ino: number, key: string, size: number, options: PutOptions): Promise<void> {
    const { store, cache, files } = this.o;
    if (size <= SINGLE_PUT) {
      await files.fill(ino, 0, size);
      await store.put(key, await cache.read(ino, 0, size), options);
      return;
    }
    const partSize = Math.max(MIN_PART, Math.ceil(size / MAX_PARTS / MIN_PART) * MIN_PART);
    await multipartUpload(store, key, options, Math.ceil(size / partSize), async (uploadId, i) => {
      const start = i * partSize;
      const end = Math.min(size, start + partSize);
      const file = files.get(ino);
      if (file?.stored && end <= file.baseSize && !file.cached.overlaps(start, end)) {
        return (await store.uploadPartCopy(key, uploadId, i + 1, key, { start, end: end - 1 })).etag;
      }
      await files.fill(ino, start, end);
      return (await store.uploadPart(key, uploadId, i + 1, await cache.read(ino, start, end - start))).etag;
    });
  }
}
