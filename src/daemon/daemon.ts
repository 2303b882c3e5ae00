import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Catalog } from '../storage/catalog/catalog.js';
import { VERSION } from '../version.js';
import { createHandlers } from './api/handlers.js';
import { ControlServer } from './control-server.js';
import type { DaemonContext } from './context.js';
import type { Logger } from './logger.js';
import { StorageEngines } from './storage-engines.js';
import { acquireStateLock, type StateLock } from './state-lock.js';

export interface DaemonOptions {
  stateDir: string;
  socketPath: string;
  log: Logger;
}

/** sgwd's lifecycle: lock the state dir, open the catalog and engines, serve the control socket; stop in reverse. */
export class Daemon {
  private constructor(
    private readonly lock: StateLock,
    private readonly catalog: Catalog,
    private readonly engines: StorageEngines,
    private readonly control: ControlServer,
    private readonly log: Logger,
  ) {}

  static async start({ stateDir, socketPath, log }: DaemonOptions): Promise<Daemon> {
    await mkdir(stateDir, { recursive: true, mode: 0o750 });
    const lock = await acquireStateLock(stateDir);
    let catalog: Catalog | undefined;
    let engines: StorageEngines | undefined;
    try {
      catalog = Catalog.open(path.join(stateDir, 'catalog.db'));
      engines = new StorageEngines(catalog, stateDir, log);
      await engines.start();
      const ctx: DaemonContext = { catalog, stateDir, socketPath, startedAt: new Date(), log, engines };
      const control = new ControlServer(createHandlers(ctx), log);
      await control.listen(socketPath);
      log.info({ version: VERSION, stateDir, socket: socketPath, pid: process.pid }, 'sgwd ready');
      return new Daemon(lock, catalog, engines, control, log);
    } catch (err) {
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
    await this.engines.close();
    this.catalog.close();
    await this.lock.release();
    this.log.info('sgwd stopped');
  }
}
