import type { GaugeMetrics, MetricsSnapshot, ResourceMetrics, UploadQueue } from '../../rpc/api.js';
import { ratesAt } from '../../storage/bandwidth-schedule.js';
import { addIoCounters, emptyIoCounters } from '../../storage/io-counters.js';
import { DRIVES } from '../../storage/tapes/library-layout.js';
import { savedBandwidth } from '../bandwidth-settings.js';
import type { DaemonContext } from '../context.js';

const percent = (part: number, whole: number): number | null => (whole > 0 ? Math.round((1000 * part) / whole) / 10 : null);
const NO_GAUGES: GaugeMetrics = {
  cachePercentUsed: null, cachePercentDirty: null, cacheHitPercent: null, uploadBufferPercentUsed: null, queuedWrites: null, timeSinceLastRecoveryPointSeconds: null,
};

/**
 * AWS Storage Gateway's metrics, read from the engines as they are now: the gateway's line and one per volume,
 * share and tape drive. What a part of the gateway that is not open cannot say is null, never 0.
 */
export async function metricsSnapshot(ctx: DaemonContext, now = new Date()): Promise<MetricsSnapshot> {
  const shares = await shareMetrics(ctx);
  const resources = [...volumeMetrics(ctx, now), ...shares.rows, ...driveMetrics(ctx)];
  const io = resources.reduce((sum, r) => addIoCounters(sum, r.io), emptyIoCounters());
  const uploadQueue: UploadQueue = {
    volumeBytes: sum(resources.filter((r) => r.kind === 'volume').map((r) => r.queuedWrites ?? 0)),
    shareFiles: shares.files,
    shareBytes: sum(resources.filter((r) => r.kind === 'share').map((r) => r.queuedWrites ?? 0)),
    tapesArchiving: ctx.catalog.tapes().filter((t) => t.status === 'IN TRANSIT TO VTS' || t.status === 'ARCHIVING').length,
  };
  const engine = ctx.engines.openedVolumes;
  const use = engine?.diskUse();
  const recoveryAges = resources.map((r) => r.timeSinceLastRecoveryPointSeconds).filter((s): s is number => s !== null);
  return {
    at: now.toISOString(),
    gateway: {
      io,
      cloud: { ...ctx.traffic.counters },
      cachePercentUsed: use ? percent(use.cache.usedBytes, use.cache.capacityBytes) : null,
      cachePercentDirty: use ? percent(use.cache.dirtyBytes, use.cache.capacityBytes) : null,
      cacheHitPercent: use ? percent(use.cache.hits, use.cache.hits + use.cache.misses) : null,
      uploadBufferPercentUsed: use ? percent(use.uploadBuffer.usedBytes, use.uploadBuffer.capacityBytes) : null,
      queuedWrites: uploadQueue.volumeBytes + uploadQueue.shareBytes,
      // The gateway is as far behind as its furthest volume.
      timeSinceLastRecoveryPointSeconds: recoveryAges.length > 0 ? Math.max(...recoveryAges) : null,
    },
    resources,
    uploadQueue,
    bandwidth: ratesAt(savedBandwidth(ctx.catalog), now),
  };
}

function volumeMetrics(ctx: DaemonContext, now: Date): ResourceMetrics[] {
  const engine = ctx.engines.openedVolumes;
  if (!engine) return [];
  const capacity = engine.diskUse().cache.capacityBytes;
  return engine.list().map((record): ResourceMetrics => {
    const d = engine.describe(record.volumeId);
    const recoveryPoint = d.recoveryPointAt ? Date.parse(d.recoveryPointAt) : undefined;
    return {
      ...NO_GAUGES,
      kind: 'volume', id: d.volumeId, name: d.name, status: d.status, io: { ...engine.ioCounters(d.volumeId) }, cloud: null,
      cachePercentDirty: d.type === 'cached' ? percent(d.dirtyBytes, capacity) : null,
      cacheHitPercent: d.cacheHitPercent,
      queuedWrites: d.uploadBacklogBytes,
      timeSinceLastRecoveryPointSeconds: recoveryPoint === undefined ? null : Math.max(0, Math.round((now.getTime() - recoveryPoint) / 1000)),
    };
  });
}

async function shareMetrics(ctx: DaemonContext): Promise<{ rows: ResourceMetrics[]; files: number }> {
  let files = 0;
  const rows = await Promise.all(ctx.shares.list().map(async (share): Promise<ResourceMetrics> => {
    const backlog = await ctx.shares.backlog(share.shareId);
    files += backlog.files;
    return {
      ...NO_GAUGES,
      kind: 'share', id: share.shareId, name: share.name, status: share.status,
      io: { ...ctx.shares.ioCounters(share.shareId) }, cloud: { ...ctx.shares.cloudCounters(share.shareId) },
      queuedWrites: backlog.bytes,
    };
  }));
  return { rows, files };
}

function driveMetrics(ctx: DaemonContext): ResourceMetrics[] {
  const library = ctx.tapes.openedLibrary;
  if (!library) return [];
  return Array.from({ length: DRIVES }, (_, i): ResourceMetrics => {
    const drive = library.drive(i);
    const barcode = drive.medium()?.barcode;
    return { ...NO_GAUGES, kind: 'tape-drive', id: String(i + 1), name: `drive ${i + 1}`, status: barcode ? `loaded ${barcode}` : 'empty', io: { ...drive.io }, cloud: null };
  });
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
