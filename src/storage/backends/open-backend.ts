import type { Archive } from './archive.js';
import type { GlacierVaultConfig } from './glacier-vault-archive.js';
import { LocalArchive, type LocalArchiveConfig } from './local-archive.js';
import { LocalObjectStore, type LocalStoreConfig } from './local-store.js';
import type { ObjectStore } from './object-store.js';
import { S3GlacierArchive, type S3GlacierArchiveConfig } from './s3-glacier-archive.js';
import type { S3StoreConfig } from './s3-store.js';

/**
 * Backends by configuration. The AWS modules are imported only when configured, so a gateway on the local backend
 * never loads the AWS SDK (a large share of startup time).
 */

export type ObjectStoreConfig =
  | ({ kind: 'local' } & LocalStoreConfig)
  | ({ kind: 's3' } & S3StoreConfig);

export type ArchiveConfig =
  | ({ kind: 'local' } & LocalArchiveConfig)
  | ({ kind: 's3-glacier' } & S3GlacierArchiveConfig)
  | ({ kind: 'glacier-vault' } & GlacierVaultConfig);

export async function openObjectStore(config: ObjectStoreConfig): Promise<ObjectStore> {
  switch (config.kind) {
    case 'local':
      return new LocalObjectStore(config);
    case 's3': {
      const { S3ObjectStore } = await import('./s3-store.js');
      return new S3ObjectStore(config);
    }
  }
}

export async function openArchive(config: ArchiveConfig): Promise<Archive> {
  switch (config.kind) {
    case 'local':
      return new LocalArchive(new LocalObjectStore({ dir: config.dir }), config.retrievalDelayMs);
    case 's3-glacier': {
      const { S3ObjectStore } = await import('./s3-store.js');
      return new S3GlacierArchive(new S3ObjectStore(config), config);
    }
    case 'glacier-vault': {
      const { GlacierVaultArchive } = await import('./glacier-vault-archive.js');
      return new GlacierVaultArchive(config);
    }
  }
}
