import type { DaemonContext } from '../context.js';
import { withoutParams } from './params.js';

/** Read-only listings of what the catalog holds; the engines that create these objects add their own methods. */
export function inventoryHandlers(ctx: DaemonContext) {
  return {
    'tape.list': withoutParams(() => ctx.catalog.tapes()),
  };
}
