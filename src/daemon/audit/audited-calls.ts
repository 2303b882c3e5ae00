import type { AuditRecord } from '../../rpc/api.js';
import type { CallObserver, FinishedCall } from '../control-server.js';
import type { AuditLog } from './audit-log.js';
import { maskSecrets, redact } from './redact.js';

// Methods named for what they return. gateway.drain is not among them: it makes every volume and share upload at
// once, skipping settle times; `sgw gateway stop` calls it once and then polls gateway.drain.status.
const READ_ONLY_VERBS = new Set(['list', 'describe', 'show', 'info', 'metrics', 'audit', 'status']);
const READ_ONLY_METHODS = new Set(['ping', 'version']);

// A call may carry up to 4 MiB of parameters; past this the record keeps the call, not its parameters.
const MAX_PARAMS_BYTES = 64 * 1024;

/** Whether a call can change the gateway, and so belongs in the audit log. */
export function changesState(method: string, params: unknown): boolean {
  if (READ_ONLY_METHODS.has(method)) return false;
  if (READ_ONLY_VERBS.has(method.slice(method.lastIndexOf('.') + 1))) return false;
  // snapshot.schedule with a volume alone shows the schedule; with anything more it sets it.
  if (method === 'snapshot.schedule') return !onlyKeys(params, ['volume']);
  return true;
}

/** The audit log as the control server's observer: every state-changing call, secrets replaced. */
export function auditedCalls(log: AuditLog): CallObserver {
  return {
    observes: changesState,
    finished: (call) => log.append(auditRecord(call)),
  };
}

export function auditRecord({ method, params, peer, outcome, finishedAt }: FinishedCall): AuditRecord {
  return {
    time: finishedAt.toISOString(),
    uid: peer.uid,
    pid: peer.pid,
    action: method,
    params: boundedParams(redact(params ?? {})),
    result: outcome === 'ok' ? 'ok' : { error: outcome.error, message: maskSecrets(outcome.message, params) },
  };
}

function boundedParams(params: unknown): unknown {
  const bytes = Buffer.byteLength(JSON.stringify(params) ?? '');
  return bytes <= MAX_PARAMS_BYTES ? params : { omitted: `${bytes} bytes of parameters` };
}

function onlyKeys(params: unknown, allowed: string[]): boolean {
  if (params === undefined || params === null) return true;
  if (typeof params !== 'object' || Array.isArray(params)) return false;
  return Object.keys(params).every((key) => allowed.includes(key));
}
