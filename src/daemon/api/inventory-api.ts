import type { DaemonContext } from '../context.js';
import { noParams, parseParams } from './params.js';

/** Read-only listings of what the catalog holds; the engines that create these objects add their own methods. */
export function inventoryHandlers(ctx: DaemonContext) {
  const listing = <T>(read: () => T) => (params: unknown): T => {
    parseParams(noParams, params);
    return read();
  };
  return {
    'volume.list': listing(() => ctx.catalog.volumes()),
    'share.list': listing(() => ctx.catalog.shares()),
    'snapshot.list': listing(() => ctx.catalog.snapshots()),
    'tape.list': listing(() => ctx.catalog.tapes()),
  };
}
