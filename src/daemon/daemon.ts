import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { SgwError } from '../errors.js';
import { CloudTraffic } from '../storage/backends/metered-store.js';
import { Catalog } from '../storage/catalog/catalog.js';
import { VERSION } from '../version.js';
import { createHandlers } from './api/handlers.js';
import { AuditLog } from './audit/audit-log.js';
import { auditedCalls } from './audit/audited-calls.js';
import { savedBandwidth } from './bandwidth-settings.js';
import { ControlServer } from './control-server.js';
import type { DaemonContext } from './context.js';
import type { Logger } from './logger.js';
import { MetricsEndpoint } from './metrics/metrics-endpoint.js';
import { metricsSnapshot } from './metrics/metrics-snapshot.js';
import { ScheduledSnapshots } from './scheduled-snapshots.js';
import { StorageEngines } from './storage-engines.js';
import { acquireStateLock, type StateLock } from './state-lock.js';
import { ShareRegistry } from '../storage/files/share-registry.js';
import { TapeGateway } from './tape-gateway.js';
import { IscsiPortal } from './targets/iscsi/iscsi-portal.js';
import { NfsServer } from './targets/nfs/nfs-server.js';
import { VolumeTargets } from './volume-targets.js';
import { combinedDirectory, TapeTargets } from './tape-targets.js';

/** Starts a listener; a port another program holds is one clear line that names the flag to change it. */
async function listenOn<T>(what: string, at: { host: string; port: number }, flag: string, listen: () => Promise<T>, likely = ''): Promise<T> {
  try {
    return await listen();
  } catch (err) {
    if ((err as { code?: string }).code === 'EADDRINUSE') {
      throw new SgwError('SGW_DAEMON_START_FAILED', `the ${what} port ${at.host}:${at.port} is in use by another program${likely}; stop it or start sgwd with ${flag} HOST:PORT`);
    }
    throw err;
  }
}

export interface DaemonOptions {
  stateDir: string;
  socketPath: string;
  iscsiListen: { host: string; port: number };
  nfsListen: { host: string; port: number };
  /** Where the built-in portmapper listens; undefined: none. */
  portmapListen?: { host: string; port: number };
  /** HOST:PORT that SendTargets names instead of the address a connection arrived on. */
  iscsiAdvertise?: string;
  /** Where GET /metrics answers in Prometheus' text format; undefined: nowhere (the socket still serves them). */
  metricsListen?: { host: string; port: number };
  /** NFSv4's ID-mapping domain; undefined: owners are numeric ids. */
  nfs4Domain?: string;
  log: Logger;
}

/** sgwd's lifecycle: lock the state dir, open the catalog and engines, serve the control socket; stop in reverse. */
export class Daemon {
  private constructor(
    private readonly lock: StateLock,
    private readonly catalog: Catalog,
    private readonly engines: StorageEngines,
    private readonly schedules: ScheduledSnapshots,
    private readonly portal: IscsiPortal,
    private readonly nfs: NfsServer,
    private readonly shares: ShareRegistry,
    private readonly tapes: TapeGateway,
    private readonly control: ControlServer,
    private readonly audit: AuditLog,
    private readonly metrics: MetricsEndpoint | undefined,
    private readonly log: Logger,
  ) {}

  static async start({ stateDir, socketPath, iscsiListen, iscsiAdvertise, nfsListen, portmapListen, metricsListen, nfs4Domain, log }: DaemonOptions): Promise<Daemon> {
    await mkdir(stateDir, { recursive: true, mode: 0o750 });
    const lock = await acquireStateLock(stateDir);
    let catalog: Catalog | undefined;
    let engines: StorageEngines | undefined;
    let portal: IscsiPortal | undefined;
    let nfs: NfsServer | undefined;
    let shares: ShareRegistry | undefined;
    let tapes: TapeGateway | undefined;
    let metrics: MetricsEndpoint | undefined;
    let audit: AuditLog | undefined;
    try {
      catalog = Catalog.open(path.join(stateDir, 'catalog.db'));
      const traffic = new CloudTraffic(savedBandwidth(catalog));
      engines = new StorageEngines(catalog, stateDir, traffic, log);
      await engines.start();
      tapes = new TapeGateway(catalog, stateDir, traffic, log.child({ component: 'tapes' }));
      await tapes.start();
      const targets = new VolumeTargets(catalog, engines);
      const gatewayOf = catalog;
      const tapeTargets = new TapeTargets(tapes, () => gatewayOf.gateway()?.name);
      portal = await listenOn('iSCSI', iscsiListen, '--iscsi-listen', () => IscsiPortal.listen({
        ...iscsiListen, directory: combinedDirectory(targets, tapeTargets), log: log.child({ target: 'iscsi' }), ...(iscsiAdvertise ? { advertiseAddress: iscsiAdvertise } : {}),
      }));
      const shareRegistry = new ShareRegistry({ catalog, stateDir, traffic, log: log.child({ component: 'shares' }) });
      shares = shareRegistry;
      await shareRegistry.start();
      nfs = await listenOn('NFS', nfsListen, '--nfs-listen', () => NfsServer.listen({
        nfs: nfsListen, ...(portmapListen ? { portmap: portmapListen } : {}), shares: shareRegistry, stateDir, ...(nfs4Domain ? { idmapDomain: nfs4Domain } : {}), log: log.child({ target: 'nfs' }),
      }), ' (a kernel NFS server?)');
      const schedules = new ScheduledSnapshots(catalog, engines, log.child({ scheduler: 'snapshots' }));
      audit = await AuditLog.open(stateDir);
      const ctx: DaemonContext = {
        catalog, stateDir, socketPath, startedAt: new Date(), log, engines, schedules, iscsi: { portal, host: iscsiListen.host, targets },
        nfs: { server: nfs, host: nfsListen.host }, shares, tapes, traffic, audit,
      };
      if (metricsListen) metrics = await listenOn('metrics', metricsListen, '--metrics-listen', () => MetricsEndpoint.listen(metricsListen, () => metricsSnapshot(ctx), log));
      const control = new ControlServer(createHandlers(ctx), log, auditedCalls(audit));
      await control.listen(socketPath);
      log.info({ version: VERSION, stateDir, socket: socketPath, iscsiPort: portal.port, nfsPort: nfs.port, pid: process.pid }, 'sgwd ready');
      schedules.start();
      return new Daemon(lock, catalog, engines, schedules, portal, nfs, shares, tapes, control, audit, metrics, log);
    } catch (err) {
      await audit?.close();
      await metrics?.close();
      await nfs?.close();
      await shares?.close();
      await portal?.close();
      await tapes?.close();
      await engines?.close();
      catalog?.close();
      await lock.release();
      throw err;
    }
  }

  /** Drains: requests already running finish, new ones are refused, then the catalog closes cleanly. */
  async stop(): Promise<void> {
    this.log.info('sgwd stopping');
    await this.control.close();
    // After the control server: the calls it let finish are recorded first.
    await this.audit.close();
    await this.metrics?.close();
    await this.portal.close();
    await this.nfs.close();
    await this.shares.close();
    await this.tapes.close();
    await this.schedules.stop();
    await this.engines.close();
    this.catalog.close();
    await this.lock.release();
    this.log.info('sgwd stopped');
  }
}
