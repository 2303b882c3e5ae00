import t from 'tap';
import { RateHistory, ratesBetween } from '../../../src/cli/top/top-rates.js';
import type { IoCounters, MetricsSnapshot, ResourceMetrics } from '../../../src/rpc/api.js';

const io = (readBytes: number, writeBytes: number): IoCounters => ({ readBytes, writeBytes, reads: 0, writes: 0, readTimeMs: 0, writeTimeMs: 0 });
const gauges = { cachePercentUsed: null, cachePercentDirty: null, cacheHitPercent: null, uploadBufferPercentUsed: null, queuedWrites: null, timeSinceLastRecoveryPointSeconds: null };
const volume = (id: string, counters: IoCounters): ResourceMetrics => ({ ...gauges, kind: 'volume', id, name: id, status: 'AVAILABLE', io: counters, cloud: null });

function snapshot(at: string, client: IoCounters, up: number, resources: ResourceMetrics[]): MetricsSnapshot {
  return {
    at,
    gateway: { ...gauges, io: client, cloud: { bytesUploaded: up, bytesDownloaded: 0, downloads: 0, downloadTimeMs: 0 } },
    resources,
    uploadQueue: { volumeBytes: 0, shareFiles: 0, shareBytes: 0, tapesArchiving: 0 },
    bandwidth: {},
  };
}

t.test('rates are the counters\' growth over the time between two snapshots', async (t) => {
  const before = snapshot('2026-11-22T10:00:00.000Z', io(1000, 0), 0, [volume('a', io(1000, 0))]);
  const after = snapshot('2026-11-22T10:00:02.000Z', io(5000, 4000), 8000, [volume('a', io(5000, 0)), volume('b', io(0, 4000))]);
  const rates = ratesBetween(before, after);
  t.same(rates.client, { read: 2000, write: 2000 });
  t.same(rates.cloud, { up: 4000, down: 0 });
  t.same(rates.resources.get('volume:a'), { read: 2000, write: 0 });
  t.same(rates.resources.get('volume:b'), { read: 0, write: 2000 }, 'a new resource counts from zero');
});

t.test('a counter that went down (the daemon restarted) counts from zero, never negative', async (t) => {
  const before = snapshot('2026-11-22T10:00:00.000Z', io(9000, 9000), 9000, [volume('a', io(9000, 9000))]);
  const after = snapshot('2026-11-22T10:00:01.000Z', io(100, 0), 50, [volume('a', io(100, 0))]);
  const rates = ratesBetween(before, after);
  t.same(rates.client, { read: 100, write: 0 });
  t.same(rates.cloud.up, 50);
  t.same(rates.resources.get('volume:a'), { read: 100, write: 0 });
});

t.test('the same snapshot twice gives zero rates, not a division by zero', async (t) => {
  const s = snapshot('2026-11-22T10:00:00.000Z', io(10, 10), 10, []);
  t.same(ratesBetween(s, s).client, { read: 0, write: 0 });
});

t.test('the history keeps the last values, oldest first, and starts full of zeros', async (t) => {
  const h = new RateHistory(3);
  t.same(h.values('read'), [0, 0, 0]);
  h.push('read', 1);
  t.same(h.values('read'), [0, 0, 1]);
  for (const v of [2, 3, 4]) h.push('read', v);
  t.same(h.values('read'), [2, 3, 4]);
  t.same(h.values('write'), [0, 0, 0], 'each series on its own');
});
