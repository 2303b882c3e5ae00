import { SgwError } from '../errors.js';
import type { Disk } from '../rpc/api.js';
import type { CloudTraffic } from '../storage/backends/metered-store.js';
import type { Catalog } from '../storage/catalog/catalog.js';
import { openGatewayStore } from '../storage/gateway-backend.js';
import type { VolumeEngine } from '../storage/volumes/volume-engine.js';
import type { Logger } from './logger.js';
import { OpenedOnce } from './opened-once.js';

/**
 * Opens the storage engines once the gateway has what they need (an activated backend, cache and upload-buffer
 * disks), and closes them in order. The volume engine starts with the daemon whenever volumes exist, because
 * replaying the upload buffer must not wait for the first request.
 */
export class StorageEngines {
  private readonly volumeEngine = new OpenedOnce(() => this.openVolumes());

  constructor(private readonly catalog: Catalog, private readonly stateDir: string, private readonly traffic: CloudTraffic, private readonly log: Logger) {}

  get volumesOpen(): boolean {
    return this.volumeEngine.started;
  }

  /** The volume engine once it is open; protocol targets serve volumes only from then on. */
  get openedVolumes(): VolumeEngine | undefined {
    return this.volumeEngine.opened;
  }

  async start(): Promise<void> {
    if (this.catalog.volumeRecords().length > 0) await this.volumes();
  }

  volumes(): Promise<VolumeEngine> {
    return this.volumeEngine.open();
  }

  close(): Promise<void> {
    return this.volumeEngine.close();
  }

  private async openVolumes(): Promise<VolumeEngine> {
    const gateway = this.catalog.gateway();
    if (!gateway) throw new SgwError('SGW_NOT_ACTIVATED', 'the gateway is not activated yet; run sgw activate first');
    const disks = this.catalog.disks();
    const of = (role: Disk['role']) => disks.filter((d) => d.role === role).map(({ path, sizeBytes }) => ({ path, sizeBytes }));
    const bufferDisks = of('upload-buffer');
    const cacheDisks = of('cache');
    if (bufferDisks.length === 0) {
      throw new SgwError('SGW_UPLOAD_BUFFER_NOT_CONFIGURED', 'volumes need an upload buffer; add one with sgw disk add-upload-buffer PATH');
    }
    if (cacheDisks.length === 0) {
      throw new SgwError('SGW_CACHE_NOT_CONFIGURED', 'cached volumes need cache storage; add it with sgw disk add-cache PATH');
    }
    const [{ UploadBuffer }, { ChunkCache }, { VolumeEngine }] = await Promise.all([
      import('../storage/upload-buffer.js'),
      import('../storage/chunk-cache.js'),
      import('../storage/volumes/volume-engine.js'),
    ]);
    const store = this.traffic.meter(await openGatewayStore(gateway.backend, this.stateDir));
    const journal = await UploadBuffer.open(bufferDisks);
    const cache = await ChunkCache.open(cacheDisks);
    return VolumeEngine.open({ catalog: this.catalog, store, journal, cache, log: this.log.child({ engine: 'volumes' }) });
  }
}
