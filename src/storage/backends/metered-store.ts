import type { CloudCounters } from '../../rpc/api.js';
import { BandwidthLimiter } from '../bandwidth-limiter.js';
import type { BandwidthSettings } from '../bandwidth-schedule.js';
import type {
  BackendDescription, ByteRange, CompletedPart, CopyOptions, GetResult, ListOptions, ListPage, ObjectInfo, ObjectStore, PutOptions, RestoreOptions,
} from './object-store.js';

export function emptyCloudCounters(): CloudCounters {
  return { bytesUploaded: 0, bytesDownloaded: 0, downloads: 0, downloadTimeMs: 0 };
}

/**
 * Everything the gateway sends to and fetches from its object stores passes one pair of limiters and is counted
 * once, whichever engine (volumes, shares, tapes) sends it: AWS's bandwidth limits are per gateway.
 */
export class CloudTraffic {
  readonly counters = emptyCloudCounters();
  private readonly upload: BandwidthLimiter;
  private readonly download: BandwidthLimiter;

  constructor(settings: BandwidthSettings | null) {
    this.upload = new BandwidthLimiter(settings, 'upload');
    this.download = new BandwidthLimiter(settings, 'download');
  }

  /** Takes effect at once, also for transfers already waiting. */
  update(settings: BandwidthSettings | null): void {
    this.upload.update(settings);
    this.download.update(settings);
  }

  /** `store`, limited and counted; `own` also counts what goes through this store alone (a share's bucket). */
  meter(store: ObjectStore, own?: CloudCounters): ObjectStore {
    return new MeteredStore(store, this, own ? [this.counters, own] : [this.counters]);
  }

  async beforeUpload(bytes: number): Promise<void> {
    await this.upload.take(bytes);
  }

  /** A download is paid for once it has arrived, since its size is known only then; the next one waits. */
  async afterDownload(bytes: number): Promise<void> {
    await this.download.take(bytes);
  }
}

class MeteredStore implements ObjectStore {
  constructor(private readonly store: ObjectStore, private readonly traffic: CloudTraffic, private readonly counters: CloudCounters[]) {}

  check(): Promise<void> {
    return this.store.check();
  }

  async put(key: string, body: Buffer, opts?: PutOptions): Promise<{ etag: string }> {
    await this.traffic.beforeUpload(body.length);
    const result = await this.store.put(key, body, opts);
    this.uploaded(body.length);
    return result;
  }

  async get(key: string, range?: ByteRange): Promise<GetResult> {
    const started = performance.now();
    const result = await this.store.get(key, range);
    const ms = performance.now() - started;
    for (const c of this.counters) {
      c.bytesDownloaded += result.body.length;
      c.downloads += 1;
      c.downloadTimeMs += ms;
    }
    await this.traffic.afterDownload(result.body.length);
    return result;
  }

  head(key: string): Promise<ObjectInfo | null> {
    return this.store.head(key);
  }

  delete(key: string): Promise<void> {
    return this.store.delete(key);
  }

  list(opts?: ListOptions): Promise<ListPage> {
    return this.store.list(opts);
  }

  copy(srcKey: string, dstKey: string, opts?: CopyOptions): Promise<{ etag: string }> {
    return this.store.copy(srcKey, dstKey, opts);
  }

  createMultipartUpload(key: string, opts?: PutOptions): Promise<string> {
    return this.store.createMultipartUpload(key, opts);
  }

  async uploadPart(key: string, uploadId: string, partNumber: number, body: Buffer): Promise<{ etag: string }> {
    await this.traffic.beforeUpload(body.length);
    const result = await this.store.uploadPart(key, uploadId, partNumber, body);
    this.uploaded(body.length);
    return result;
  }

  uploadPartCopy(key: string, uploadId: string, partNumber: number, srcKey: string, range?: ByteRange): Promise<{ etag: string }> {
    return this.store.uploadPartCopy(key, uploadId, partNumber, srcKey, range);
  }

  completeMultipartUpload(key: string, uploadId: string, parts: CompletedPart[]): Promise<{ etag: string }> {
    return this.store.completeMultipartUpload(key, uploadId, parts);
  }

  abortMultipartUpload(key: string, uploadId: string): Promise<void> {
    return this.store.abortMultipartUpload(key, uploadId);
  }

  restore(key: string, opts: RestoreOptions): Promise<void> {
    return this.store.restore(key, opts);
  }

  describe(): BackendDescription {
    return this.store.describe();
  }

  close(): Promise<void> {
    return this.store.close();
  }

  private uploaded(bytes: number): void {
    for (const c of this.counters) c.bytesUploaded += bytes;
  }
}
