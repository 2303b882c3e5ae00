import type { SnapshotDetails, SnapshotSummary } from '../rpc/api.js';
import { formatSize } from '../sizes.js';
import { fields, table, type View } from './view.js';

export function snapshotView(s: SnapshotDetails): View {
  return [fields(`Snapshot ${s.snapshotId}`, [
    ['Volume', `${s.volumeName} (${s.volumeId})`],
    ['Status', s.status],
    ['Progress', `${s.progressPercent}%`],
    ['Size', `${formatSize(s.sizeBytes)} (${s.sizeBytes} bytes)`],
    ['Description', s.description],
    ['Created', s.createdAt],
    ['Recovery point', s.recoveryPointAt],
    ['Completed', s.completedAt ?? '-'],
    ['Error', s.error],
  ])];
}

export function snapshotTable(list: SnapshotSummary[]): View {
  return [table(
    ['ID', 'VOLUME', 'STATUS', 'SIZE', 'CREATED', 'DESCRIPTION'],
    list.map((s) => [s.snapshotId, s.volumeName, s.status, formatSize(s.sizeBytes), s.createdAt, s.description]),
    'No snapshots.',
  )];
}
