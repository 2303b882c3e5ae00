import type { Catalog } from '../storage/catalog/catalog.js';
import type { Logger } from './logger.js';
import type { StorageEngines } from './storage-engines.js';

/** What request handlers share: the catalog, the storage engines and where this daemon lives. */
export interface DaemonContext {
  catalog: Catalog;
  stateDir: string;
  socketPath: string;
  startedAt: Date;
  log: Logger;
  engines: StorageEngines;
}
