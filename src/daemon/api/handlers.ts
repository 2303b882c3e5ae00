import type { Method, Params, Result } from '../../rpc/api.js';
import type { DaemonContext } from '../context.js';
import { auditHandlers } from './audit-api.js';
import { chapHandlers } from './chap-api.js';
import { diskHandlers } from './disk-api.js';
import { gatewayHandlers } from './gateway-api.js';
import { operationsHandlers } from './operations-api.js';
import { shareHandlers } from './share-api.js';
import { tapeHandlers } from './tape-api.js';
import { snapshotHandlers } from './snapshot-api.js';
import { volumeHandlers } from './volume-api.js';

type Handlers = { [M in Method]: (params: Params<M> | unknown) => Result<M> | Promise<Result<M>> };

/** Every method of the control API; the type makes a method missing from here a compile error. */
export function createHandlers(ctx: DaemonContext): Handlers {
  return {
    ...gatewayHandlers(ctx), ...diskHandlers(ctx), ...volumeHandlers(ctx), ...chapHandlers(ctx),
    ...snapshotHandlers(ctx), ...shareHandlers(ctx), ...tapeHandlers(ctx), ...operationsHandlers(ctx), ...auditHandlers(ctx),
  };
}
