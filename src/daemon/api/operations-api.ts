import { SgwError } from '../../errors.js';
import type { DaemonContext } from '../context.js';

const notYet = (): never => {
  throw new SgwError('SGW_INTERNAL', 'not built yet');
};

export function operationsHandlers(_ctx: DaemonContext) {
  return {
    'gateway.metrics': notYet,
    'gateway.drain': notYet,
    'gateway.stop': notYet,
    'gateway.bandwidth.show': notYet,
    'gateway.bandwidth.set': notYet,
    'gateway.bandwidth.clear': notYet,
  };
}
