import type { Logger } from 'pino';
import { SgwError } from '../../errors.js';
import { openObjectStore } from '../backends/open-backend.js';
import type { ObjectStore } from '../backends/object-store.js';
import type { Catalog, ShareRecord } from '../catalog/catalog.js';
import { shareStoreConfig } from '../gateway-backend.js';
import { ShareNamespace } from './share-namespace.js';

export interface OpenShare {
  share: ShareRecord;
  namespace: ShareNamespace;
}

interface Opened extends OpenShare {
  /** The settings the namespace was made with: a changed share gets a new one. */
  settings: string;
  store: ObjectStore;
}

/**
 * The shares the catalog holds, each opened on first use over its bucket. Shares are looked up in the catalog on
 * every use, so one created, changed or deleted through the API takes effect at the next call, with no signal
 * between the API and the protocol targets.
 */
export class ShareRegistry {
  private readonly opened = new Map<string, Opened>();

  constructor(private readonly o: { catalog: Catalog; stateDir: string; log: Logger }) {}

  /** The share by ID or name, opened; undefined when there is none. */
  async open(idOrName: string): Promise<OpenShare | undefined> {
    const share = this.o.catalog.share(idOrName);
    if (!share) return undefined;
    const settings = JSON.stringify(share.settings);
    const current = this.opened.get(share.shareId);
    if (current?.settings === settings) return current;
    const gateway = this.o.catalog.gateway();
    if (!gateway) throw new SgwError('SGW_NOT_ACTIVATED', 'the gateway is not activated; run sgw activate');
    const store = await openObjectStore(shareStoreConfig(gateway.backend, this.o.stateDir, share.settings));
    const namespace = new ShareNamespace({ shareId: share.shareId, settings: share.settings, store, catalog: this.o.catalog, createdAt: new Date(share.createdAt) });
    const opened: Opened = { share, namespace, settings, store };
    this.opened.set(share.shareId, opened);
    // Calls still running on the old store finish; it is closed once nothing can reach it.
    if (current) setTimeout(() => void current.store.close(), 60_000).unref();
    this.o.log.info({ shareId: share.shareId, name: share.name }, 'share opened');
    return opened;
  }

  /** Makes an opened share list its bucket again (sgw share refresh); false when there is no such share. */
  async refresh(idOrName: string): Promise<boolean> {
    const opened = await this.open(idOrName);
    opened?.namespace.refresh();
    return opened !== undefined;
  }

  list(): ShareRecord[] {
    return this.o.catalog.shares();
  }

  async close(): Promise<void> {
    await Promise.all([...this.opened.values()].map((o) => o.store.close()));
    this.opened.clear();
  }
}
