import { z } from 'zod';
import { SgwError } from '../../errors.js';
import type { SnapshotRecord } from '../catalog/catalog.js';

/**
 * A completed snapshot's manifest in the bucket: everything another gateway needs to restore it from the bucket
 * alone (disaster recovery) — the volume's size and chunk size, and the map chunk index -> content hash.
 */
const FORMAT = 'sgw-snapshot/1';
export const SNAPSHOT_MANIFEST_PREFIX = 'snapshots/';

export function snapshotManifestKey(snapshotId: string): string {
  return `${SNAPSHOT_MANIFEST_PREFIX}${snapshotId}.json`;
}

const manifestSchema = z.object({
  format: z.literal(FORMAT),
  snapshotId: z.string().regex(/^snap-[0-9a-f]{8}$/),
  volumeId: z.string().min(1),
  volumeName: z.string(),
  description: z.string(),
  createdAt: z.string(),
  completedAt: z.string(),
  sizeBytes: z.number().int().positive(),
  chunkSize: z.number().int().positive(),
  chunks: z.array(z.tuple([z.number().int().nonnegative(), z.string().regex(/^[0-9a-f]{64}$/)])),
});

export function encodeManifest(s: SnapshotRecord, completedAt: string, chunks: ReadonlyMap<number, string>): Buffer {
  const manifest: z.infer<typeof manifestSchema> = {
    format: FORMAT, snapshotId: s.snapshotId, volumeId: s.volumeId, volumeName: s.volumeName, description: s.description,
    createdAt: s.createdAt, completedAt, sizeBytes: s.sizeBytes, chunkSize: s.chunkSize,
    chunks: [...chunks].sort((a, b) => a[0] - b[0]),
  };
  return Buffer.from(JSON.stringify(manifest));
}

export function decodeManifest(body: Buffer, key: string): { record: SnapshotRecord; chunks: Map<number, string> } {
  let parsed: z.infer<typeof manifestSchema>;
  try {
    parsed = manifestSchema.parse(JSON.parse(body.toString('utf8')));
  } catch (err) {
    throw new SgwError('SGW_BACKEND_FAILED', `the snapshot manifest ${key} in the bucket is not one sgw can read`, { cause: err });
  }
  const { format: _format, chunks, ...fields } = parsed;
  return { record: { ...fields, status: 'COMPLETED', error: null }, chunks: new Map(chunks) };
}
