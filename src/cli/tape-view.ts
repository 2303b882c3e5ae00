import type { TapeDetails, TapePolicySettings, TapeSummary } from '../rpc/api.js';
import { formatSize } from '../sizes.js';
import { fields, table, type View } from './view.js';

export function tapeView(t: TapeDetails): View {
  return [fields(`Tape ${t.barcode}`, [
    ['Status', t.status],
    ['Location', t.location ?? (t.status === 'ARCHIVED' ? 'archive (not in the library)' : '-')],
    ['Size', `${formatSize(t.sizeBytes)} (${t.sizeBytes} bytes)`],
    ['Used', formatSize(t.usedBytes)],
    ['Pool', t.pool],
    ['Created', t.createdAt],
    ['Archived', t.archivedAt],
    ['Retrieval ETA', t.retrievalEta],
    ['Progress', t.progress === undefined ? undefined : `${t.progress}%`],
  ])];
}

export function tapeTable(list: TapeSummary[]): View {
  return [table(['BARCODE', 'SIZE', 'USED', 'STATUS', 'POOL', 'CREATED'], list.map((t) => [t.barcode, formatSize(t.sizeBytes), formatSize(t.usedBytes), t.status, t.pool, t.createdAt]), 'No virtual tapes yet.')];
}

export function tapePolicyView(p: TapePolicySettings | null): View {
  if (!p) return [fields(undefined, [['Policy', 'none: tapes are created only by sgw tape create']])];
  return [fields('Automatic tape creation', [
    ['Keep available', String(p.minimumAvailable)], ['Tape size', formatSize(p.sizeBytes)], ['Barcode prefix', p.barcodePrefix], ['Pool', p.pool],
  ])];
}
