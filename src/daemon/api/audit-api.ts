import { SgwError } from '../../errors.js';
import type { DaemonContext } from '../context.js';

export function auditHandlers(_ctx: DaemonContext) {
  return {
    'gateway.audit': (): never => {
      throw new SgwError('SGW_INTERNAL', 'the audit log is not built yet');
    },
  };
}
