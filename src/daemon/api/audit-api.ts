import { z } from 'zod';
import { UsageError } from '../../errors.js';
import type { AuditRecord } from '../../rpc/api.js';
import { MAX_READ_LIMIT } from '../audit/audit-log.js';
import type { DaemonContext } from '../context.js';
import { parseParams } from './params.js';

const auditParams = z.object({
  since: z.string().optional(),
  limit: z.number().int().min(1).max(MAX_READ_LIMIT, `at most ${MAX_READ_LIMIT} records at a time; narrow them with since`).optional(),
}).strict();

export function auditHandlers(ctx: DaemonContext) {
  return {
    'gateway.audit': async (params: unknown): Promise<AuditRecord[]> => {
      const { since, limit } = parseParams(auditParams, params);
      return ctx.audit.read({ since: since === undefined ? undefined : instant(since), limit });
    },
  };
}

function instant(text: string): Date {
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) throw new UsageError(`since: "${text}" is not a time; give one in ISO 8601, e.g. 2026-11-20T10:00:00Z`, 'SGW_INVALID_ARGUMENT');
  return new Date(ms);
}
