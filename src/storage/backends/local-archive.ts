import { BackendError } from '../../errors.js';
import { archiveKeyFor, type Archive, type RetrievalStatus } from './archive.js';
import type { BackendDescription, ByteRange, ObjectStore } from './object-store.js';

export interface LocalArchiveConfig {
  dir: string;
  /** How long a retrieval takes, to exercise the gateway's waiting without a cloud; 0 makes it instant. */
  retrievalDelayMs: number;
}

const ARCHIVES = 'archives/';
/** One object per requested retrieval; its metadata holds when, so the delay also counts across restarts. */
const RETRIEVALS = 'retrievals/';
const REQUESTED_AT = 'requested-at';

/** The `local` archive: blobs kept in a local object store, readable a fixed delay after a retrieval is requested. */
export class LocalArchive implements Archive {
  constructor(private readonly store: ObjectStore, private readonly retrievalDelayMs: number) {}

  check(): Promise<void> {
    return this.store.check();
  }

  async put(name: string, body: Buffer): Promise<{ archiveId: string }> {
    const archiveId = archiveKeyFor(name);
    await this.store.put(ARCHIVES + archiveId, body);
    return { archiveId };
  }

  async requestRetrieval(archiveId: string): Promise<void> {
    await this.existing(archiveId);
    if ((await this.store.head(RETRIEVALS + archiveId)) !== null) return;
    await this.store.put(RETRIEVALS + archiveId, Buffer.alloc(0), { metadata: { [REQUESTED_AT]: String(Date.now()) } });
  }

  async retrievalStatus(archiveId: string): Promise<RetrievalStatus> {
    await this.existing(archiveId);
    const request = await this.store.head(RETRIEVALS + archiveId);
    if (request === null) return 'archived';
    const requestedAt = Number(request.metadata[REQUESTED_AT]);
    return Date.now() - requestedAt >= this.retrievalDelayMs ? 'available' : 'retrieving';
  }

  async get(archiveId: string, range?: ByteRange): Promise<Buffer> {
    const status = await this.retrievalStatus(archiveId);
    if (status !== 'available') {
      throw new BackendError('SGW_OBJECT_ARCHIVED', `archive "${archiveId}" is ${status === 'archived' ? 'not retrieved: request a retrieval first' : 'still being retrieved: wait'}`);
    }
    return (await this.store.get(ARCHIVES + archiveId, range)).body;
  }

  async delete(archiveId: string): Promise<void> {
    await this.store.delete(RETRIEVALS + archiveId);
    await this.store.delete(ARCHIVES + archiveId);
  }

  describe(): BackendDescription {
    return { ...this.store.describe(), kind: 'local', retrievalDelayMs: this.retrievalDelayMs };
  }

  close(): Promise<void> {
    return this.store.close();
  }

  private async existing(archiveId: string): Promise<void> {
    if ((await this.store.head(ARCHIVES + archiveId)) === null) {
      throw new BackendError('SGW_OBJECT_NOT_FOUND', `archive "${archiveId}" does not exist`);
    }
  }
}
