import { randomUUID } from 'node:crypto';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CopyObjectCommand, CreateMultipartUploadCommand,
  DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, RestoreObjectCommand,
  S3Client, UploadPartCommand, UploadPartCopyCommand, type ObjectCannedACL, type StorageClass,
} from '@aws-sdk/client-s3';
import { BackendError } from '../../errors.js';
import type {
  BackendDescription, ByteRange, CompletedPart, CopyOptions, GetResult, ListOptions, ListPage, ObjectInfo, ObjectStore,
  PutOptions, RestoreOptions, RestoreStatus,
} from './object-store.js';
import { DEFAULT_REGION, endpointLabel, sdkClientOptions, type AwsConnectionConfig } from './sdk-client-config.js';
import { backendErrorFromSdk, type SdkCallContext } from './sdk-errors.js';
import { KeyPrefix, checkCompletedParts, checkPartNumber, checkRange, listPageSize } from './store-arguments.js';

export interface S3StoreConfig extends AwsConnectionConfig {
  bucket: string;
  prefix?: string;
  /** Defaults to true with a custom endpoint: most S3-compatible stores want path-style URLs. */
  forcePathStyle?: boolean;
}

/** Every object the gateway writes is encrypted at rest by the server, whatever the bucket's default. */
const SSE = 'AES256';

function unquote(etag: string | undefined): string {
  return (etag ?? '').replace(/^"(.*)"$/, '$1');
}

function httpRange({ start, end }: ByteRange): string {
  return `bytes=${start}-${end}`;
}

/** The Restore header: `ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"`. */
function parseRestoreHeader(header: string | undefined): RestoreStatus | undefined {
  if (!header) return undefined;
  const ongoing = /ongoing-request="([^"]*)"/.exec(header)?.[1] === 'true';
  const expiry = /expiry-date="([^"]*)"/.exec(header)?.[1];
  return expiry === undefined ? { ongoing } : { ongoing, expiry: new Date(expiry) };
}

/** ListObjectsV2 with EncodingType=url escapes keys as a form would (space as "+"), so any key survives XML. */
function decodeListedKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

/** The `s3` backend: a bucket (and optional prefix in it) of AWS S3 or an S3-compatible store. */
export class S3ObjectStore implements ObjectStore {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly region: string;
  private readonly endpoint: string;
  private readonly prefix: KeyPrefix;

  constructor(config: S3StoreConfig) {
    this.bucket = config.bucket;
    this.region = config.region ?? DEFAULT_REGION;
    this.endpoint = endpointLabel(config, 'S3');
    this.prefix = new KeyPrefix(config.prefix);
    this.client = new S3Client({
      ...sdkClientOptions(config),
      forcePathStyle: config.forcePathStyle ?? config.endpoint !== undefined,
    });
  }

  /**
   * Lists rather than HeadBucket: a HEAD's error has no body, so its 403 cannot tell bad credentials from a missing
   * permission, while a listing's error names the cause (and listing is a permission the gateway needs anyway).
   */
  async check(): Promise<void> {
    await this.call('listing the bucket', undefined, 'container', () => this.client.send(new ListObjectsV2Command({
      Bucket: this.bucket, Prefix: this.prefix.value || undefined, MaxKeys: 1,
    })));
    const probe = `.sgw-check/${randomUUID()}`;
    await this.put(probe, Buffer.from('sgw'));
    await this.delete(probe);
  }

  async put(key: string, body: Buffer, opts: PutOptions = {}): Promise<{ etag: string }> {
    const Key = this.prefix.key(key);
    const out = await this.call('writing', Key, 'subject', () => this.client.send(new PutObjectCommand({
      Bucket: this.bucket, Key, Body: body, Metadata: opts.metadata, ContentType: opts.contentType,
      StorageClass: opts.storageClass as StorageClass | undefined, ServerSideEncryption: SSE, ACL: opts.acl as ObjectCannedACL | undefined,
    })));
    return { etag: unquote(out.ETag) };
  }

  async get(key: string, range?: ByteRange): Promise<GetResult> {
    const Key = this.prefix.key(key);
    if (range !== undefined) checkRange(range);
    return this.call('reading', Key, 'subject', async () => {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key, Range: range && httpRange(range) }));
      const body = Buffer.from((await out.Body?.transformToByteArray()) ?? []);
      const total = /\/(\d+)$/.exec(out.ContentRange ?? '')?.[1];
      return { body, size: total === undefined ? body.length : Number(total), etag: unquote(out.ETag), metadata: out.Metadata ?? {} };
    });
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const Key = this.prefix.key(key);
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      return {
        key,
        size: out.ContentLength ?? 0,
        etag: unquote(out.ETag),
        lastModified: out.LastModified ?? new Date(0),
        metadata: out.Metadata ?? {},
        contentType: out.ContentType,
        storageClass: out.StorageClass,
        serverSideEncryption: out.ServerSideEncryption,
        restore: parseRestoreHeader(out.Restore),
      };
    } catch (err) {
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return null;
      throw this.translate(err, 'reading', Key, 'subject');
    }
  }

  async delete(key: string): Promise<void> {
    const Key = this.prefix.key(key);
    await this.call('deleting', Key, 'subject', () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key })));
  }

  async list(opts: ListOptions = {}): Promise<ListPage> {
    const MaxKeys = listPageSize(opts.maxKeys);
    const out = await this.call('listing the bucket', undefined, 'container', () => this.client.send(new ListObjectsV2Command({
      Bucket: this.bucket,
      Prefix: this.prefix.listPrefix(opts.prefix) || undefined,
      Delimiter: opts.delimiter || undefined,
      ContinuationToken: opts.continuationToken,
      MaxKeys,
      EncodingType: 'url',
    })));
    const page: ListPage = {
      objects: (out.Contents ?? []).map((o) => ({
        key: this.prefix.strip(decodeListedKey(o.Key ?? '')),
        size: o.Size ?? 0,
        etag: unquote(o.ETag),
        lastModified: o.LastModified ?? new Date(0),
        storageClass: o.StorageClass,
      })),
      commonPrefixes: (out.CommonPrefixes ?? []).map((p) => this.prefix.strip(decodeListedKey(p.Prefix ?? ''))),
    };
    if (out.IsTruncated && out.NextContinuationToken) page.nextContinuationToken = out.NextContinuationToken;
    return page;
  }

  async copy(srcKey: string, dstKey: string, opts: CopyOptions = {}): Promise<{ etag: string }> {
    const source = this.prefix.key(srcKey);
    const Key = this.prefix.key(dstKey);
    const replace = opts.metadata !== undefined;
    const out = await this.call(`copying "${source}" to`, Key, 'subject', () => this.client.send(new CopyObjectCommand({
      Bucket: this.bucket, Key, CopySource: this.copySource(source),
      MetadataDirective: replace ? 'REPLACE' : 'COPY',
      Metadata: opts.metadata,
      ContentType: replace ? opts.contentType : undefined,
      StorageClass: opts.storageClass as StorageClass | undefined,
      ServerSideEncryption: SSE,
    })));
    return { etag: unquote(out.CopyObjectResult?.ETag) };
  }

  async createMultipartUpload(key: string, opts: PutOptions = {}): Promise<string> {
    const Key = this.prefix.key(key);
    const out = await this.call('starting a multipart upload of', Key, 'subject', () => this.client.send(new CreateMultipartUploadCommand({
      Bucket: this.bucket, Key, Metadata: opts.metadata, ContentType: opts.contentType,
      StorageClass: opts.storageClass as StorageClass | undefined, ServerSideEncryption: SSE, ACL: opts.acl as ObjectCannedACL | undefined,
    })));
    if (!out.UploadId) throw new BackendError('SGW_BACKEND_FAILED', `${this.endpoint} started a multipart upload of "${Key}" without an upload id`);
    return out.UploadId;
  }

  async uploadPart(key: string, uploadId: string, partNumber: number, body: Buffer): Promise<{ etag: string }> {
    const Key = this.prefix.key(key);
    checkPartNumber(partNumber);
    const out = await this.call(`uploading part ${partNumber} of`, Key, 'subject', () => this.client.send(new UploadPartCommand({
      Bucket: this.bucket, Key, UploadId: uploadId, PartNumber: partNumber, Body: body,
    })));
    return { etag: unquote(out.ETag) };
  }

  async uploadPartCopy(key: string, uploadId: string, partNumber: number, srcKey: string, range?: ByteRange): Promise<{ etag: string }> {
    const Key = this.prefix.key(key);
    const source = this.prefix.key(srcKey);
    checkPartNumber(partNumber);
    if (range !== undefined) checkRange(range);
    const out = await this.call(`copying "${source}" into part ${partNumber} of`, Key, 'subject', () => this.client.send(new UploadPartCopyCommand({
      Bucket: this.bucket, Key, UploadId: uploadId, PartNumber: partNumber,
      CopySource: this.copySource(source), CopySourceRange: range && httpRange(range),
    })));
    return { etag: unquote(out.CopyPartResult?.ETag) };
  }

  async completeMultipartUpload(key: string, uploadId: string, parts: CompletedPart[]): Promise<{ etag: string }> {
    const Key = this.prefix.key(key);
    checkCompletedParts(parts);
    const out = await this.call('completing the multipart upload of', Key, 'subject', () => this.client.send(new CompleteMultipartUploadCommand({
      Bucket: this.bucket, Key, UploadId: uploadId,
      MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: `"${p.etag}"` })) },
    })));
    return { etag: unquote(out.ETag) };
  }

  async abortMultipartUpload(key: string, uploadId: string): Promise<void> {
    const Key = this.prefix.key(key);
    await this.call('aborting the multipart upload of', Key, 'subject', () => this.client.send(new AbortMultipartUploadCommand({
      Bucket: this.bucket, Key, UploadId: uploadId,
    })));
  }

  async restore(key: string, opts: RestoreOptions): Promise<void> {
    const Key = this.prefix.key(key);
    try {
      await this.client.send(new RestoreObjectCommand({
        Bucket: this.bucket, Key, RestoreRequest: { Days: opts.days, GlacierJobParameters: { Tier: opts.tier } },
      }));
    } catch (err) {
      if ((err as Error).name === 'RestoreAlreadyInProgress') return;
      throw this.translate(err, 'restoring', Key, 'subject');
    }
  }

  describe(): BackendDescription {
    return { kind: 's3', endpoint: this.endpoint, bucket: this.bucket, region: this.region, prefix: this.prefix.value || undefined };
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  /** CopySource is "bucket/key", URL-encoded; "/" inside the key may stay as it is. */
  private copySource(fullKey: string): string {
    return `${this.bucket}/${fullKey.split('/').map(encodeURIComponent).join('/')}`;
  }

  private async call<T>(doing: string, fullKey: string | undefined, notFound: SdkCallContext['notFound'], action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (err) {
      throw this.translate(err, doing, fullKey, notFound);
    }
  }

  private translate(err: unknown, doing: string, fullKey: string | undefined, notFound: SdkCallContext['notFound']): Error {
    const subject = fullKey === undefined ? undefined : `object "${fullKey}"`;
    return backendErrorFromSdk(err, {
      endpoint: this.endpoint,
      container: `bucket "${this.bucket}"`,
      doing,
      subject,
      notFound,
    });
  }
}
