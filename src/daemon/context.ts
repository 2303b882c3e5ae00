import type { CloudTraffic } from '../storage/backends/metered-store.js';
import type { Catalog } from '../storage/catalog/catalog.js';
import type { ShareRegistry } from '../storage/files/share-registry.js';
import type { AuditLog } from './audit/audit-log.js';
import type { Logger } from './logger.js';
import type { ScheduledSnapshots } from './scheduled-snapshots.js';
import type { StorageEngines } from './storage-engines.js';
import type { TapeGateway } from './tape-gateway.js';
import type { IscsiPortal } from './targets/iscsi/iscsi-portal.js';
import type { NfsServer } from './targets/nfs/nfs-server.js';
import type { VolumeTargets } from './volume-targets.js';

/** What request handlers share: the catalog, the storage engines and where this daemon lives. */
export interface DaemonContext {
  catalog: Catalog;
  stateDir: string;
  socketPath: string;
  startedAt: Date;
  log: Logger;
  engines: StorageEngines;
  schedules: ScheduledSnapshots;
  /** The iSCSI portal, the host it listens on, and the volumes' targets it serves. */
  iscsi: { portal: IscsiPortal; host: string; targets: VolumeTargets };
  /** The NFS server (NFS and MOUNT on one port) and the host it listens on. */
  nfs: { server: NfsServer; host: string };
  /** The file shares, opened over their buckets. */
  shares: ShareRegistry;
  /** The virtual tape library. */
  tapes: TapeGateway;
  /** What every engine sends to and fetches from the object stores: its limits and counters. */
  traffic: CloudTraffic;
  /** Who changed what: every state-changing call over the control socket. */
  audit: AuditLog;
}
