import path from 'node:path';
import type { BackendSettings } from '../rpc/api.js';
import { openObjectStore, type ObjectStoreConfig } from './backends/open-backend.js';
import type { ObjectStore } from './backends/object-store.js';

/** The embedded store lives in the state directory, so its settings need no path of their own. */
export function objectStoreConfig(settings: BackendSettings, stateDir: string): ObjectStoreConfig {
  if (settings.kind === 'local') return { kind: 'local', dir: path.join(stateDir, 'objects') };
  return { ...settings };
}

/**
 * The store of a file share: its bucket, through the gateway's backend, with keys relative to its prefix. The
 * embedded backend keeps each bucket in a directory of its own.
 */
export function shareStoreConfig(settings: BackendSettings, stateDir: string, share: { bucket: string; prefix: string }): ObjectStoreConfig {
  if (settings.kind === 'local') return { kind: 'local', dir: path.join(stateDir, 'buckets', share.bucket), prefix: share.prefix };
  return { ...settings, bucket: share.bucket, prefix: share.prefix };
}

export function openGatewayStore(settings: BackendSettings, stateDir: string): Promise<ObjectStore> {
  return openObjectStore(objectStoreConfig(settings, stateDir));
}

/** One real round trip to the backend: reachable, bucket present, credentials accepted, writes allowed. */
export async function checkBackend(settings: BackendSettings, stateDir: string): Promise<void> {
  const store = await openGatewayStore(settings, stateDir);
  await store.check();
}
