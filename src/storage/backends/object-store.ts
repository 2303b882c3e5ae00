/**
 * The object store the gateway keeps its data in: S3 semantics whatever the backend. Keys are relative to the
 * store's configured prefix; ETags are returned without quotes; user metadata keys are lower-case (as S3 returns
 * them) and values ASCII.
 */

/** Inclusive byte range, as in an HTTP Range header. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface PutOptions {
  metadata?: Record<string, string>;
  storageClass?: string;
  contentType?: string;
  /** A canned ACL; none leaves the bucket's default (buckets that enforce ownership refuse any other). */
  acl?: string;
}

export interface CopyOptions {
  /** Replaces the source's metadata (and content type) when given; otherwise both are kept. */
  metadata?: Record<string, string>;
  contentType?: string;
  /** As with S3, the copy is in the default (hot) class unless one is given. */
  storageClass?: string;
}

export interface GetResult {
  body: Buffer;
  /** Size of the whole object, also for a ranged read. */
  size: number;
  etag: string;
  metadata: Record<string, string>;
}

export interface RestoreStatus {
  /** true while the restore runs; false once the restored copy is readable. */
  ongoing: boolean;
  expiry?: Date;
}

export interface ListedObject {
  key: string;
  size: number;
  etag: string;
  lastModified: Date;
  storageClass?: string;
}

export interface ObjectInfo extends ListedObject {
  metadata: Record<string, string>;
  contentType?: string;
  serverSideEncryption?: string;
  /** Present only for a cold object that has been asked to restore. */
  restore?: RestoreStatus;
}

export interface ListOptions {
  prefix?: string;
  delimiter?: string;
  continuationToken?: string;
  /** At most 1000, as in S3. */
  maxKeys?: number;
}

export interface ListPage {
  /** In UTF-8 binary order of their keys. */
  objects: ListedObject[];
  commonPrefixes: string[];
  /** Present when there is more to list. */
  nextContinuationToken?: string;
}

export interface CompletedPart {
  partNumber: number;
  etag: string;
}

export interface RestoreOptions {
  days: number;
  tier: RetrievalTier;
}

export type RetrievalTier = 'Expedited' | 'Standard' | 'Bulk';

/** What a backend can print about itself: never credentials. */
export interface BackendDescription {
  kind: string;
  [detail: string]: string | number | undefined;
}

export interface ObjectStore {
  /**
   * A real round trip: the store is reachable, the bucket exists and we may list and write in it. Fails with one
   * BackendError that says what to fix.
   */
  check(): Promise<void>;
  put(key: string, body: Buffer, opts?: PutOptions): Promise<{ etag: string }>;
  /** Fails with SGW_OBJECT_NOT_FOUND for a missing key, SGW_OBJECT_ARCHIVED for a cold object not restored. */
  get(key: string, range?: ByteRange): Promise<GetResult>;
  head(key: string): Promise<ObjectInfo | null>;
  /** Deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  list(opts?: ListOptions): Promise<ListPage>;
  /** Server-side copy. */
  copy(srcKey: string, dstKey: string, opts?: CopyOptions): Promise<{ etag: string }>;
  createMultipartUpload(key: string, opts?: PutOptions): Promise<string>;
  /** Every part but the last must be at least MIN_PART_SIZE bytes. */
  uploadPart(key: string, uploadId: string, partNumber: number, body: Buffer): Promise<{ etag: string }>;
  uploadPartCopy(key: string, uploadId: string, partNumber: number, srcKey: string, range?: ByteRange): Promise<{ etag: string }>;
  /** Parts in ascending part number order. */
  completeMultipartUpload(key: string, uploadId: string, parts: CompletedPart[]): Promise<{ etag: string }>;
  abortMultipartUpload(key: string, uploadId: string): Promise<void>;
  /** Starts making a cold object readable; a no-op where nothing is cold. */
  restore(key: string, opts: RestoreOptions): Promise<void>;
  describe(): BackendDescription;
  /** Releases connections; the store is unusable afterwards. */
  close(): Promise<void>;
}

/** S3's limits, kept by every backend so the gateway cannot come to depend on a laxer one. */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const MAX_PART_NUMBER = 10_000;
export const MAX_KEY_BYTES = 1024;
export const MAX_LIST_KEYS = 1000;
