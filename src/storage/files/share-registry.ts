import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { SgwError } from '../../errors.js';
import { emptyCloudCounters, type CloudTraffic } from '../backends/metered-store.js';
import { openObjectStore } from '../backends/open-backend.js';
import type { ObjectStore, RestoreOptions } from '../backends/object-store.js';
import type { CloudCounters, IoCounters } from '../../rpc/api.js';
import { emptyIoCounters } from '../io-counters.js';
import type { Catalog, ShareRecord } from '../catalog/catalog.js';
import { shareStoreConfig } from '../gateway-backend.js';
import { ShareNamespace } from './share-namespace.js';

export interface OpenShare {
  share: ShareRecord;
  namespace: ShareNamespace;
}

interface Opened extends OpenShare {
  /** The settings last seen: when they change, what was listed with the old defaults is listed again. */
  settings: string;
  store: ObjectStore;
}

const MAX_REFRESHES = 2;
/** Bytes of clean files each share's cache keeps by default (SGW_FILE_CACHE_BYTES overrides). */
const DEFAULT_CACHE_BYTES = 8 * 1024 ** 3;

/**
 * The shares the catalog holds, each opened on first use over its bucket (and at start for those with files to
 * upload). Shares are looked up in the catalog on every use, so one created, changed or deleted through the API
 * takes effect at the next call, with no signal between the API and the protocol targets.
 */
export class ShareRegistry {
  private readonly opened = new Map<string, Promise<Opened>>();
  private readonly refreshing = new Map<string, number>();
  private readonly cacheBytes: number;
  private readonly cloud = new Map<string, CloudCounters>();
  private readonly io = new Map<string, IoCounters>();

  constructor(private readonly o: { catalog: Catalog; stateDir: string; traffic: CloudTraffic; log: Logger }) {
    this.cacheBytes = Number(process.env.SGW_FILE_CACHE_BYTES ?? DEFAULT_CACHE_BYTES);
  }

  /** Opens every share that has local changes, so that their uploads (and interrupted renames) go on. */
  async start(): Promise<void> {
    for (const share of this.o.catalog.shares()) {
      if (this.o.catalog.shareFiles(share.shareId).length > 0 || this.o.catalog.shareRenames(share.shareId).length > 0) {
        await this.open(share.shareId).catch((err: unknown) => this.o.log.warn({ err, shareId: share.shareId }, 'share could not be opened; its uploads wait'));
      }
    }
  }

  /** The share by ID or name, opened; undefined when there is none. */
  async open(idOrName: string): Promise<OpenShare | undefined> {
    const share = this.o.catalog.share(idOrName);
    if (!share) return undefined;
    let pending = this.opened.get(share.shareId);
    if (!pending) {
      pending = this.openShare(share);
      this.opened.set(share.shareId, pending);
      pending.catch(() => this.opened.delete(share.shareId));
    }
    const opened = await pending;
    opened.share = share;
    const settings = JSON.stringify(share.settings);
    if (opened.settings !== settings) {
      opened.settings = settings;
      await opened.namespace.refresh();
    }
    return opened;
  }

  /**
   * Makes a share list its bucket again (sgw share refresh): everything lazily, or the folders given at once. As
   * AWS's RefreshCache, at most two run on a share at a time; false when there is no such share.
   */
  async refresh(idOrName: string, folders?: string[], recursive = false): Promise<boolean> {
    const opened = await this.open(idOrName);
    if (!opened) return false;
    const running = this.refreshing.get(opened.share.shareId) ?? 0;
    if (running >= MAX_REFRESHES) throw new SgwError('SGW_LIMIT_EXCEEDED', `${MAX_REFRESHES} refreshes of ${opened.share.name} are running; try again once one is done`);
    this.refreshing.set(opened.share.shareId, running + 1);
    try {
      if (folders && folders.length > 0) await opened.namespace.refreshFolders(folders, recursive);
      else await opened.namespace.refresh();
    } finally {
      this.refreshing.set(opened.share.shareId, (this.refreshing.get(opened.share.shareId) ?? 1) - 1);
    }
    return true;
  }

  /** Starts restoring an archived file of a share; its key. */
  async restore(idOrName: string, path: string, opts: RestoreOptions): Promise<string> {
    const opened = await this.open(idOrName);
    if (!opened) throw new SgwError('SGW_NOT_FOUND', `there is no share ${idOrName}`);
    return opened.namespace.restore(path, opts);
  }

  /** Waits until everything written to the share before the call is in the bucket. */
  async sync(idOrName: string): Promise<void> {
    await (await this.open(idOrName))?.namespace.sync();
  }

  /** Changed files of the share not in the bucket yet; none for a share not opened since the start. */
  async backlog(shareId: string): Promise<{ files: number; bytes: number }> {
    const opened = this.opened.get(shareId);
    return opened ? (await opened).namespace.backlog() : { files: 0, bytes: 0 };
  }

  /** Stops serving a share being deleted and deletes its cache files (after its uploads, unless `force`). */
  async remove(shareId: string, force: boolean): Promise<void> {
    // Changes not uploaded yet are waited for, so a share that has some is opened if it is not (its store may be back).
    if (!force && !this.opened.has(shareId) && this.o.catalog.shareFiles(shareId).length > 0) await this.open(shareId);
    const opened = await this.opened.get(shareId)?.catch(() => undefined);
    if (!opened) return rm(this.cacheDir(shareId), { recursive: true, force: true });
    if (!force) await opened.namespace.sync();
    this.opened.delete(shareId);
    await opened.namespace.close();
    await opened.store.close();
    await opened.namespace.destroy();
  }

  list(): ShareRecord[] {
    return this.o.catalog.shares();
  }

  async close(): Promise<void> {
    const all = await Promise.allSettled(this.opened.values());
    this.opened.clear();
    for (const result of all) {
      if (result.status !== 'fulfilled') continue;
      await result.value.namespace.close();
      await result.value.store.close();
    }
  }

  /** What the share's bucket has been sent and has returned since the start; kept across re-opens. */
  cloudCounters(shareId: string): CloudCounters {
    let counters = this.cloud.get(shareId);
    if (!counters) this.cloud.set(shareId, (counters = emptyCloudCounters()));
    return counters;
  }

  /** Reads and writes of the share's clients since the start. */
  ioCounters(shareId: string): IoCounters {
    let counters = this.io.get(shareId);
    if (!counters) this.io.set(shareId, (counters = emptyIoCounters()));
    return counters;
  }

  private cacheDir(shareId: string): string {
    return path.join(this.o.stateDir, 'file-cache', shareId);
  }

  private async openShare(share: ShareRecord): Promise<Opened> {
    const gateway = this.o.catalog.gateway();
    if (!gateway) throw new SgwError('SGW_NOT_ACTIVATED', 'the gateway is not activated; run sgw activate');
    const store = this.o.traffic.meter(await openObjectStore(shareStoreConfig(gateway.backend, this.o.stateDir, share.settings)), this.cloudCounters(share.shareId));
    const opened = { share, settings: JSON.stringify(share.settings), store } as Opened;
    opened.namespace = await ShareNamespace.open({
      shareId: share.shareId, settings: () => opened.share.settings, store, catalog: this.o.catalog, createdAt: new Date(share.createdAt),
      cacheDir: this.cacheDir(share.shareId), cacheBytes: this.cacheBytes, io: this.ioCounters(share.shareId), log: this.o.log.child({ shareId: share.shareId }),
    });
    this.o.log.info({ shareId: share.shareId, name: share.name }, 'share opened');
    return opened;
  }
}
