import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { SgwError, asSgwError } from '../../errors.js';
import { emptyCloudCounters, type CloudTraffic } from '../backends/metered-store.js';
import { openObjectStore } from '../backends/open-backend.js';
import type { ObjectStore, RestoreOptions } from '../backends/object-store.js';
import type { CloudCounters, IoCounters, ShareRefreshStatus } from '../../rpc/api.js';
import { emptyIoCounters } from '../io-counters.js';
import type { Catalog, ShareRecord } from '../catalog/catalog.js';
import { shareStoreConfig } from '../gateway-backend.js';
import { ShareNamespace } from './share-namespace.js';

export interface OpenShare {
  share: ShareRecord;
  namespace: ShareNamespace;
}

interface RefreshRun {
  status: ShareRefreshStatus;
  /** The folders and depth: a refresh of the same scope is joined. */
  scope: string;
  ended: Promise<void>;
  failure?: unknown;
}

interface Opened extends OpenShare {
  /** The settings last seen: when they change, what was listed with the old defaults is listed again. */
  settings: string;
  store: ObjectStore;
}

const MAX_REFRESHES = 2;
/** Finished refreshes whose status each share keeps for callers polling it. */
const KEPT_REFRESHES = 10;
/** Bytes of clean files each share's cache keeps by default (SGW_FILE_CACHE_BYTES overrides). */
const DEFAULT_CACHE_BYTES = 8 * 1024 ** 3;

/**
 * The shares the catalog holds, each opened on first use over its bucket (and at start for those with files to
 * upload). Shares are looked up in the catalog on every use, so one created, changed or deleted through the API
 * takes effect at the next call, with no signal between the API and the protocol targets.
 */
export class ShareRegistry {
  private readonly opened = new Map<string, Promise<Opened>>();
  private readonly refreshes = new Map<string, RefreshRun[]>();
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
   * Starts making a share list its bucket again (sgw share refresh): everything lazily, or the folders given at
   * once. The same refresh still running is joined rather than run twice; as AWS's RefreshCache, at most two
   * others run on a share at a time. Returns at once: the run goes on in the background and ends in its status.
   */
  async startRefresh(idOrName: string, folders: string[] = [], recursive = false): Promise<ShareRefreshStatus> {
    const opened = await this.open(idOrName);
    if (!opened) throw new SgwError('SGW_NOT_FOUND', `there is no share ${idOrName}`);
    const { shareId, name } = opened.share;
    const wanted = [...new Set(folders)];
    const deep = wanted.length > 0 && recursive;
    const scope = JSON.stringify([[...wanted].sort(), deep]);
    const runs = this.refreshes.get(shareId) ?? [];
    const running = runs.filter((run) => run.status.running);
    const same = running.find((run) => run.scope === scope);
    if (same) return { ...same.status };
    if (running.length >= MAX_REFRESHES) throw new SgwError('SGW_LIMIT_EXCEEDED', `${MAX_REFRESHES} refreshes of ${name} are running; try again once one is done`);
    const status: ShareRefreshStatus = {
      refreshId: `refresh-${randomBytes(4).toString('hex')}`, shareId, folders: wanted, recursive: deep,
      running: true, startedAt: new Date().toISOString(), finishedAt: null, foldersDone: 0, error: null,
    };
    const run = { status, scope } as RefreshRun;
    runs.push(run);
    this.refreshes.set(shareId, runs);
    // Started before returning, so that a whole-share refresh has dropped its listings when the caller hears of it.
    run.ended = this.runRefresh(opened.namespace, run);
    return { ...status };
  }

  /** A refresh of the share by its ID, or the latest one; undefined when sgwd has not kept it. */
  refreshStatus(shareId: string, refreshId?: string): ShareRefreshStatus | undefined {
    const runs = this.refreshes.get(shareId) ?? [];
    const run = refreshId === undefined ? runs.at(-1) : runs.find((r) => r.status.refreshId === refreshId);
    return run && { ...run.status };
  }

  /** Waits for a refresh to end: its final status, or the error it failed with. */
  async refreshEnded(shareId: string, refreshId: string): Promise<ShareRefreshStatus> {
    const run = this.refreshes.get(shareId)?.find((r) => r.status.refreshId === refreshId);
    if (!run) throw new SgwError('SGW_NOT_FOUND', `there is no refresh ${refreshId} of share ${shareId}`);
    await run.ended;
    if (run.failure !== undefined) throw run.failure;
    return { ...run.status };
  }

  /** Refreshes a share and waits until it is done; false when there is no such share. */
  async refresh(idOrName: string, folders?: string[], recursive = false): Promise<boolean> {
    if (!this.o.catalog.share(idOrName)) return false;
    const started = await this.startRefresh(idOrName, folders, recursive);
    await this.refreshEnded(started.shareId, started.refreshId);
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
    this.refreshes.delete(shareId);
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

  /** Never rejects: nobody may be waiting, so a failure ends up in the run's status (and the log). */
  private async runRefresh(namespace: ShareNamespace, run: RefreshRun): Promise<void> {
    const { status } = run;
    try {
      if (status.folders.length === 0) await namespace.refresh();
      // Folder by folder, so that the status tells how far it has come.
      for (const folder of status.folders) {
        await namespace.refreshFolders([folder], status.recursive);
        status.foldersDone++;
      }
    } catch (err) {
      run.failure = err;
      status.error = asSgwError(err).toWire();
      this.o.log.warn({ err, shareId: status.shareId, refreshId: status.refreshId }, 'share refresh failed');
    } finally {
      status.running = false;
      status.finishedAt = new Date().toISOString();
      const runs = this.refreshes.get(status.shareId) ?? [];
      const finished = runs.filter((r) => !r.status.running);
      for (const old of finished.slice(0, Math.max(0, finished.length - KEPT_REFRESHES))) runs.splice(runs.indexOf(old), 1);
    }
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
