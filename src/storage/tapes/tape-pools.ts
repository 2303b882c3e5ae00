import path from 'node:path';
import { UsageError } from '../../errors.js';
import type { BackendSettings } from '../../rpc/api.js';
import type { ArchiveConfig } from '../backends/open-backend.js';

/**
 * Where archived tapes go, as AWS's pools: GLACIER (the S3 Glacier Flexible Retrieval class, the default),
 * DEEP_ARCHIVE, or vault:NAME (an S3 Glacier vault of that name, which must exist). On the embedded backend every
 * pool is a local archive directory whose retrievals take SGW_LOCAL_RETRIEVAL_MS (default 2 s).
 */
export const DEFAULT_POOL = 'GLACIER';
const VAULT = /^vault:([A-Za-z0-9._-]{1,255})$/;

export function checkPool(pool: string): string {
  if (pool === 'GLACIER' || pool === 'DEEP_ARCHIVE' || VAULT.test(pool)) return pool;
  throw new UsageError(`"${pool}" is not a pool: GLACIER, DEEP_ARCHIVE or vault:NAME`, 'SGW_INVALID_ARGUMENT');
}

export function archiveConfig(pool: string, backend: BackendSettings, stateDir: string): ArchiveConfig {
  if (backend.kind === 'local') {
    return { kind: 'local', dir: path.join(stateDir, 'archive', pool.replace(':', '-')), retrievalDelayMs: Number(process.env.SGW_LOCAL_RETRIEVAL_MS ?? 2000) };
  }
  const { endpoint, region, profile } = backend;
  const connection = { ...(endpoint ? { endpoint } : {}), region, ...(profile ? { profile } : {}) };
  const vault = VAULT.exec(pool)?.[1];
  if (vault) return { kind: 'glacier-vault', ...connection, vault };
  return { kind: 's3-glacier', ...connection, bucket: backend.bucket, prefix: `${backend.prefix ?? ''}tape-archive/`, storageClass: pool as 'GLACIER' | 'DEEP_ARCHIVE', restoreDays: 7 };
}

/** How long a retrieval is expected to take: S3 Glacier's standard tier, or the local archive's delay. */
export function expectedRetrievalMs(pool: string, backend: BackendSettings): number {
  if (backend.kind === 'local') return Number(process.env.SGW_LOCAL_RETRIEVAL_MS ?? 2000);
  return pool === 'DEEP_ARCHIVE' ? 12 * 3600_000 : 5 * 3600_000;
}
