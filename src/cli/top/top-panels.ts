import type { GaugeMetrics, MetricsSnapshot, ResourceMetrics } from '../../rpc/api.js';
import { formatSize } from '../../sizes.js';
import { formatRate } from '../bandwidth-text.js';
import { type GatewayRates, resourceKey } from './top-rates.js';

/**
 * What `sgw top` shows, as text: the dashboard draws these strings in its panels, and without a terminal the same
 * strings are printed once, so the two never disagree.
 */

export const rateText = (bytesPerSecond: number): string => `${formatSize(Math.round(bytesPerSecond))}/s`;

export const percentText = (percent: number | null): string => (percent === null ? 'n/a' : `${percent.toFixed(percent < 10 ? 1 : 0)}%`);

export interface GaugePanel {
  title: string;
  /** null: what it measures is not open on this gateway. */
  percent: number | null;
}

const GAUGES: Array<[title: string, percent: (g: GaugeMetrics) => number | null]> = [
  ['Cache used', (g) => g.cachePercentUsed],
  ['Cache dirty', (g) => g.cachePercentDirty],
  ['Upload buffer', (g) => g.uploadBufferPercentUsed],
];

export const GAUGE_TITLES = GAUGES.map(([title]) => title);

export function gaugePanels(s: MetricsSnapshot): GaugePanel[] {
  return GAUGES.map(([title, percent]) => ({ title, percent: percent(s.gateway) }));
}

export const clientLine = (r: GatewayRates): string => `read ${rateText(r.client.read)}  write ${rateText(r.client.write)}`;
export const cloudLine = (r: GatewayRates): string => `up ${rateText(r.cloud.up)}  down ${rateText(r.cloud.down)}`;

export function queueLine(s: MetricsSnapshot): string {
  const q = s.uploadQueue;
  return `Upload queue: volumes ${formatSize(q.volumeBytes)}, shares ${q.shareFiles} files (${formatSize(q.shareBytes)}), tapes archiving ${q.tapesArchiving}`;
}

export const bandwidthLine = (s: MetricsSnapshot): string =>
  `Bandwidth: upload ${formatRate(s.bandwidth.uploadBitsPerSecond)}, download ${formatRate(s.bandwidth.downloadBitsPerSecond)}`;

export const RESOURCE_COLUMNS = ['Kind', 'Name', 'Status', 'Read/s', 'Write/s', 'Queued'];
/** Widths that fit the columns and their spacing inside an 80-column terminal's bordered box. */
export const RESOURCE_WIDTHS = [6, 13, 16, 11, 11, 10];

const KIND: Record<ResourceMetrics['kind'], string> = { volume: 'volume', share: 'share', 'tape-drive': 'drive' };

export function resourceRows(s: MetricsSnapshot, rates: GatewayRates): string[][] {
  return s.resources.map((r) => {
    const rate = rates.resources.get(resourceKey(r)) ?? { read: 0, write: 0 };
    const cells = [KIND[r.kind], r.name, r.status, rateText(rate.read), rateText(rate.write), r.queuedWrites === null ? '-' : formatSize(r.queuedWrites)];
    return cells.map((cell, i) => clip(cell, RESOURCE_WIDTHS[i]!));
  });
}

function clip(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

/** The whole dashboard as plain lines, for a pipe or a file. */
export function topText(s: MetricsSnapshot, rates: GatewayRates): string {
  const gauges = gaugePanels(s).map((g) => `${g.title.toLowerCase()} ${percentText(g.percent)}`).join(', ');
  const rows = [RESOURCE_COLUMNS, ...resourceRows(s, rates)];
  const widths = RESOURCE_COLUMNS.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const table = rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
  return [
    `sgw top  ${s.at}`,
    `Client: ${clientLine(rates)}`,
    `Cloud: ${cloudLine(rates)}`,
    `Local disks: ${gauges}`,
    queueLine(s),
    bandwidthLine(s),
    '',
    ...(s.resources.length > 0 ? table : ['No volumes, shares or tape drives.']),
  ].join('\n');
}
