import { BackendError } from '../../errors.js';
import { archiveKeyFor, type Archive, type RetrievalStatus } from './archive.js';
import type { BackendDescription, ByteRange, ObjectStore, RetrievalTier } from './object-store.js';
import type { S3StoreConfig } from './s3-store.js';

export type ColdStorageClass = 'GLACIER' | 'DEEP_ARCHIVE';

export interface S3GlacierArchiveConfig extends S3StoreConfig {
  storageClass: ColdStorageClass;
  /** Default Standard; DEEP_ARCHIVE offers Standard and Bulk only. */
  tier?: RetrievalTier;
  /** How long a restored copy stays readable; default 7. */
  restoreDays?: number;
}

const COLD_CLASSES = new Set<string>(['GLACIER', 'DEEP_ARCHIVE']);

/** The `s3-glacier` archive: objects in a cold S3 storage class, read after RestoreObject has made a copy readable. */
export class S3GlacierArchive implements Archive {
  private readonly tier: RetrievalTier;
  private readonly restoreDays: number;

  constructor(private readonly store: ObjectStore, private readonly config: Pick<S3GlacierArchiveConfig, 'storageClass' | 'tier' | 'restoreDays'>) {
    this.tier = config.tier ?? 'Standard';
    this.restoreDays = config.restoreDays ?? 7;
  }

  check(): Promise<void> {
    return this.store.check();
  }

  async put(name: string, body: Buffer): Promise<{ archiveId: string }> {
    const archiveId = archiveKeyFor(name);
    await this.store.put(archiveId, body, { storageClass: this.config.storageClass });
    return { archiveId };
  }

  async requestRetrieval(archiveId: string): Promise<void> {
    if ((await this.retrievalStatus(archiveId)) !== 'archived') return;
    await this.store.restore(archiveId, { days: this.restoreDays, tier: this.tier });
  }

  /** From HeadObject: no Restore header on a cold object means archived; ongoing-request tells the rest. */
  async retrievalStatus(archiveId: string): Promise<RetrievalStatus> {
    const info = await this.store.head(archiveId);
    if (info === null) throw new BackendError('SGW_OBJECT_NOT_FOUND', `archive "${archiveId}" does not exist`);
    if (info.restore === undefined) return COLD_CLASSES.has(info.storageClass ?? '') ? 'archived' : 'available';
    return info.restore.ongoing ? 'retrieving' : 'available';
  }

  /** S3 itself refuses a cold object not restored, which the store reports as SGW_OBJECT_ARCHIVED. */
  async get(archiveId: string, range?: ByteRange): Promise<Buffer> {
    return (await this.store.get(archiveId, range)).body;
  }

  delete(archiveId: string): Promise<void> {
    return this.store.delete(archiveId);
  }

  describe(): BackendDescription {
    return { ...this.store.describe(), kind: 's3-glacier', storageClass: this.config.storageClass, tier: this.tier };
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
