import { randomUUID } from 'node:crypto';
import type { BackendDescription, ByteRange } from './object-store.js';

/**
 * Cold storage of named blobs (virtual tapes, segment by segment). Reading needs a retrieval first, which takes from
 * milliseconds to days depending on the backend. Stateless: the archive id and the backend are all it needs, so a
 * retrieval requested before a restart is found again after it.
 */

export type RetrievalStatus = 'archived' | 'retrieving' | 'available';

export interface Archive {
  /** A real round trip proving the archive is reachable and usable; fails with one BackendError saying what to fix. */
  check(): Promise<void>;
  put(name: string, body: Buffer): Promise<{ archiveId: string }>;
  /** Idempotent: asking again while a retrieval runs or its result is readable starts nothing new. */
  requestRetrieval(archiveId: string): Promise<void>;
  retrievalStatus(archiveId: string): Promise<RetrievalStatus>;
  /** Fails with SGW_OBJECT_ARCHIVED unless the retrieval status is 'available'. */
  get(archiveId: string, range?: ByteRange): Promise<Buffer>;
  delete(archiveId: string): Promise<void>;
  describe(): BackendDescription;
  /** Releases connections; the archive is unusable afterwards. */
  close(): Promise<void>;
}

/** For archives kept as objects: the name stays readable in listings, the suffix keeps every put distinct. */
export function archiveKeyFor(name: string): string {
  return `${name}.${randomUUID()}`;
}
