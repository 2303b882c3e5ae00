import { SgwError } from '../errors.js';
import type { Archive } from '../storage/backends/archive.js';
import { openArchive } from '../storage/backends/open-backend.js';
import type { CloudTraffic } from '../storage/backends/metered-store.js';
import type { ObjectStore } from '../storage/backends/object-store.js';
import type { Catalog } from '../storage/catalog/catalog.js';
import { openGatewayStore } from '../storage/gateway-backend.js';
import type { TapeLibrary } from '../storage/tapes/tape-library.js';
import { archiveConfig, expectedRetrievalMs } from '../storage/tapes/tape-pools.js';
import type { Logger } from './logger.js';
import { OpenedOnce } from './opened-once.js';

/**
 * The tape library, opened with the daemon when the catalog has tapes and otherwise at the first tape command, over
 * the gateway's store (segments) and the archives of its pools (each opened when first needed).
 */
export class TapeGateway {
  private readonly library = new OpenedOnce(() => this.openLibrary());
  private store: Promise<ObjectStore> | undefined;
  private readonly archives = new Map<string, Promise<Archive>>();

  constructor(private readonly catalog: Catalog, private readonly stateDir: string, private readonly traffic: CloudTraffic, private readonly log: Logger) {}

  /** The library once open; the iSCSI targets of the library exist from then on. */
  get openedLibrary(): TapeLibrary | undefined {
    return this.library.opened;
  }

  async start(): Promise<void> {
    if (this.catalog.tapes().length > 0) await this.open();
  }

  open(): Promise<TapeLibrary> {
    return this.library.open();
  }

  async close(): Promise<void> {
    await this.library.close();
    await (await this.store?.catch(() => undefined))?.close();
    for (const archive of this.archives.values()) await (await archive.catch(() => undefined))?.close();
  }

  private async openLibrary(): Promise<TapeLibrary> {
    const gateway = this.catalog.gateway();
    if (!gateway) throw new SgwError('SGW_NOT_ACTIVATED', 'the gateway is not activated yet; run sgw activate first');
    const { TapeLibrary } = await import('../storage/tapes/tape-library.js');
    return TapeLibrary.open({
      catalog: this.catalog, stateDir: this.stateDir, log: this.log,
      stores: {
        store: () => (this.store ??= openGatewayStore(gateway.backend, this.stateDir).then((s) => this.traffic.meter(s))),
        archive: (pool) => {
          let archive = this.archives.get(pool);
          if (!archive) this.archives.set(pool, (archive = openArchive(archiveConfig(pool, gateway.backend, this.stateDir))));
          return archive;
        },
        expectedRetrievalMs: (pool) => expectedRetrievalMs(pool, gateway.backend),
      },
    });
  }
}
