import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { CloudCounters, GaugeMetrics, IoCounters, MetricsSnapshot } from '../../rpc/api.js';

type Labels = { resource_type: string; resource_id: string; resource_name: string };
const LABELS = ['resource_type', 'resource_id', 'resource_name'] as const;

/** AWS's gauge names beside the Prometheus ones, so a dashboard built for one reads the other. */
const GAUGES: [keyof GaugeMetrics, string, string][] = [
  ['cachePercentUsed', 'sgw_cache_percent_used', 'CachePercentUsed: percent of the cache in use'],
  ['cachePercentDirty', 'sgw_cache_percent_dirty', 'CachePercentDirty: percent of the cache holding data not yet uploaded'],
  ['cacheHitPercent', 'sgw_cache_hit_percent', 'CacheHitPercent: percent of reads served from the cache'],
  ['uploadBufferPercentUsed', 'sgw_upload_buffer_percent_used', 'UploadBufferPercentUsed: percent of the upload buffer in use'],
  ['queuedWrites', 'sgw_queued_writes_bytes', 'QueuedWrites: bytes written and not yet uploaded'],
  ['timeSinceLastRecoveryPointSeconds', 'sgw_time_since_last_recovery_point_seconds', 'TimeSinceLastRecoveryPoint: seconds since the store last held every write'],
];

const IO_COUNTERS: [keyof IoCounters, string, string][] = [
  ['readBytes', 'sgw_read_bytes_total', 'ReadBytes: bytes read by clients'],
  ['writeBytes', 'sgw_write_bytes_total', 'WriteBytes: bytes written by clients'],
  ['reads', 'sgw_reads_total', 'read operations of clients'],
  ['writes', 'sgw_writes_total', 'write operations of clients'],
  ['readTimeMs', 'sgw_read_time_milliseconds_total', 'ReadTime: summed time of reads (average: rate of this / rate of sgw_reads_total)'],
  ['writeTimeMs', 'sgw_write_time_milliseconds_total', 'WriteTime: summed time of writes (average: rate of this / rate of sgw_writes_total)'],
];

const CLOUD_COUNTERS: [keyof CloudCounters, string, string][] = [
  ['bytesUploaded', 'sgw_cloud_bytes_uploaded_total', 'CloudBytesUploaded: bytes sent to the object store'],
  ['bytesDownloaded', 'sgw_cloud_bytes_downloaded_total', 'CloudBytesDownloaded: bytes fetched from the object store'],
  ['downloads', 'sgw_cloud_downloads_total', 'requests that fetched data from the object store'],
  ['downloadTimeMs', 'sgw_cloud_download_time_milliseconds_total', 'CloudDownloadLatency: summed time of downloads (average: rate of this / rate of sgw_cloud_downloads_total)'],
];

/**
 * The metrics in Prometheus' text format, refreshed from a snapshot at each scrape: the engines keep plain
 * counters and nothing runs between scrapes.
 */
export class PrometheusMetrics {
  private readonly registry = new Registry();
  private readonly gauges = GAUGES.map(([key, name, help]) => ({ key, gauge: new Gauge({ name, help, labelNames: LABELS, registers: [this.registry] }) }));
  private readonly io = IO_COUNTERS.map(([key, name, help]) => ({ key, counter: new Counter({ name, help, labelNames: LABELS, registers: [this.registry] }) }));
  private readonly cloud = CLOUD_COUNTERS.map(([key, name, help]) => ({ key, counter: new Counter({ name, help, labelNames: LABELS, registers: [this.registry] }) }));
  private readonly bandwidth = new Gauge({ name: 'sgw_bandwidth_limit_bits_per_second', help: 'the bandwidth limit in force (absent: unlimited)', labelNames: ['direction'], registers: [this.registry] });
  private serial: Promise<unknown> = Promise.resolve();

  constructor(private readonly snapshot: () => Promise<MetricsSnapshot>) {
    collectDefaultMetrics({ register: this.registry, prefix: 'sgwd_' });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** One scrape at a time: each resets and refills the same metrics. */
  text(): Promise<string> {
    const next = this.serial.then(() => this.render(), () => this.render());
    this.serial = next.catch(() => undefined);
    return next;
  }

  private async render(): Promise<string> {
    const s = await this.snapshot();
    for (const { gauge } of this.gauges) gauge.reset();
    for (const { counter } of [...this.io, ...this.cloud]) counter.reset();
    this.bandwidth.reset();
    const rows: { labels: Labels; gauges: GaugeMetrics; io: IoCounters; cloud: CloudCounters | null }[] = [
      { labels: { resource_type: 'gateway', resource_id: '', resource_name: '' }, gauges: s.gateway, io: s.gateway.io, cloud: s.gateway.cloud },
      ...s.resources.map((r) => ({ labels: { resource_type: r.kind, resource_id: r.id, resource_name: r.name }, gauges: r, io: r.io, cloud: r.cloud })),
    ];
    for (const row of rows) {
      for (const { key, gauge } of this.gauges) {
        const value = row.gauges[key];
        if (value !== null) gauge.set(row.labels, value);
      }
      for (const { key, counter } of this.io) counter.inc(row.labels, row.io[key]);
      if (row.cloud) for (const { key, counter } of this.cloud) counter.inc(row.labels, row.cloud[key]);
    }
    if (s.bandwidth.uploadBitsPerSecond !== undefined) this.bandwidth.set({ direction: 'upload' }, s.bandwidth.uploadBitsPerSecond);
    if (s.bandwidth.downloadBitsPerSecond !== undefined) this.bandwidth.set({ direction: 'download' }, s.bandwidth.downloadBitsPerSecond);
    return this.registry.metrics();
  }
}
