import { UsageError } from '../errors.js';
import type { AuditRecord } from '../rpc/api.js';
import { table, type View } from './view.js';

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * `--since`: a duration back from `now` (90s, 15m, 1h, 7d) or an ISO 8601 time (2026-11-20, 2026-11-20T10:00Z;
 * without a zone, local time).
 */
export function parseSince(text: string, now = new Date()): Date {
  const trimmed = text.trim();
  const duration = /^(\d+)\s*([smhd])$/i.exec(trimmed);
  if (duration) return new Date(now.getTime() - Number(duration[1]) * UNIT_MS[duration[2]!.toLowerCase()]!);
  // Date.parse alone would take "1" or "May 5" as dates; only what starts as an ISO date is one here.
  const ms = /^\d{4}-\d{2}-\d{2}(?:$|T)/.test(trimmed) ? Date.parse(trimmed) : NaN;
  if (!Number.isFinite(ms)) {
    throw new UsageError(`"${text}" is not a time: give a duration back from now (30m, 1h, 7d) or an ISO time (2026-11-20T10:00Z)`, 'SGW_INVALID_ARGUMENT');
  }
  return new Date(ms);
}

/** `userNames` maps uids to login names where the caller could look them up. */
export function auditView(records: AuditRecord[], userNames: ReadonlyMap<number, string> = new Map()): View {
  const user = (uid: number | null): string => (uid === null ? '?' : userNames.has(uid) ? `${uid} (${userNames.get(uid)})` : String(uid));
  return [table(
    ['TIME', 'UID', 'PID', 'ACTION', 'RESULT'],
    records.map((r) => [r.time, user(r.uid), r.pid === null ? '?' : String(r.pid), r.action, r.result === 'ok' ? 'ok' : r.result.error]),
    'No changes recorded in that time.',
  )];
}

/** Login names by uid from an /etc/passwd text. */
export function userNamesFrom(passwd: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of passwd.split('\n')) {
    const [name, , uid] = line.split(':');
    if (name && uid && /^\d+$/.test(uid) && !names.has(Number(uid))) names.set(Number(uid), name);
  }
  return names;
}
