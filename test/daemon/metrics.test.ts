import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import type { MetricsSnapshot } from '../../src/rpc/api.js';
import { nfsUrl } from '../harness/file-gateway.js';
import { freePort } from '../harness/free-port.js';
import { runClient, startVolumeGateway, volumeUrl } from '../harness/volume-gateway.js';

const MiB = 2 ** 20;
const NAMES = [
  'sgw_cache_percent_used', 'sgw_cache_percent_dirty', 'sgw_cache_hit_percent', 'sgw_upload_buffer_percent_used', 'sgw_queued_writes_bytes',
  'sgw_time_since_last_recovery_point_seconds', 'sgw_read_bytes_total', 'sgw_write_bytes_total', 'sgw_reads_total', 'sgw_writes_total',
  'sgw_read_time_milliseconds_total', 'sgw_write_time_milliseconds_total', 'sgw_cloud_bytes_uploaded_total', 'sgw_cloud_bytes_downloaded_total',
  'sgw_cloud_downloads_total', 'sgw_cloud_download_time_milliseconds_total',
];

/** Samples by metric name and label text, e.g. `sgw_write_bytes_total` → `resource_type="volume",...` → value. */
function parse(text: string): Map<string, Map<string, number>> {
  const samples = new Map<string, Map<string, number>>();
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const byLabels = samples.get(match[1]!) ?? new Map<string, number>();
    byLabels.set(match[2] ?? '', Number(match[3]));
    samples.set(match[1]!, byLabels);
  }
  return samples;
}

const sample = (s: Map<string, Map<string, number>>, name: string, type: string, id = ''): number | undefined =>
  [...(s.get(name) ?? new Map<string, number>()).entries()].find(([labels]) => labels.includes(`resource_type="${type}"`) && labels.includes(`resource_id="${id}"`))?.[1];

t.test('the Prometheus endpoint names AWS\'s gateway metrics and its counters grow under load', async (t) => {
  const port = await freePort();
  const { d, dir } = await startVolumeGateway(t, { env: { SGW_METRICS_LISTEN: `127.0.0.1:${port}` } });
  const volume = await d.sgwJson<{ volumeId: string }>('volume', 'create', 'metered', '--cached', '1GiB');
  const share = await d.sgwJson<{ shareId: string }>('share', 'create', 'files', '--bucket', 'metered-files', '--upload-settle', '0');
  const scrape = async () => {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    t.equal(res.status, 200);
    t.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
    return await res.text();
  };

  const first = await scrape();
  const declared = new Set([...first.matchAll(/^# TYPE (\S+) (?:counter|gauge)$/gm)].map((m) => m[1]));
  for (const name of NAMES) t.ok(declared.has(name), `${name} is served`);
  const before = parse(first);
  t.equal(sample(before, 'sgw_write_bytes_total', 'volume', volume.volumeId), 0, 'nothing written yet');
  t.equal(sample(before, 'sgw_cache_percent_used', 'gateway'), 0);
  t.ok(before.has('sgwd_process_cpu_seconds_total'), 'and the process metrics');

  const io = await runClient('qemu-io', ['-f', 'raw', '-c', 'write -P 0x5a 0 8M', '-c', 'read -P 0x5a 0 8M', await volumeUrl(d, 'metered')]);
  t.equal(io.code, 0, io.stderr);
  const file = path.join(dir, 'payload.bin');
  await writeFile(file, randomBytes(3 * MiB));
  const cp = await runClient('nfs-cp', [file, await nfsUrl(d, 'files', '/payload.bin')]);
  t.equal(cp.code, 0, cp.stderr);
  await d.sgwJson('share', 'sync', 'files', '--wait');

  const after = parse(await scrape());
  t.ok(sample(after, 'sgw_write_bytes_total', 'volume', volume.volumeId)! >= 8 * MiB, 'the volume\'s writes are counted');
  t.ok(sample(after, 'sgw_read_bytes_total', 'volume', volume.volumeId)! >= 8 * MiB, 'and its reads');
  t.ok(sample(after, 'sgw_writes_total', 'volume', volume.volumeId)! > 0);
  t.ok(sample(after, 'sgw_write_time_milliseconds_total', 'volume', volume.volumeId)! > 0, 'with their time');
  t.equal(sample(after, 'sgw_write_bytes_total', 'share', share.shareId), 3 * MiB, 'the share\'s writes are counted exactly');
  t.ok(sample(after, 'sgw_cloud_bytes_uploaded_total', 'share', share.shareId)! >= 3 * MiB, 'the share\'s upload is counted');
  t.ok(sample(after, 'sgw_write_bytes_total', 'gateway')! >= 11 * MiB, 'the gateway line sums its resources');
  t.ok(sample(after, 'sgw_cache_percent_used', 'gateway')! > 0, 'the cache holds the volume\'s chunks');
  t.ok(sample(after, 'sgw_cloud_bytes_uploaded_total', 'gateway')! > sample(before, 'sgw_cloud_bytes_uploaded_total', 'gateway')!, 'cloud uploads grow');
  t.not(sample(after, 'sgw_cache_hit_percent', 'volume', volume.volumeId), undefined, 'a volume that was read has a hit rate');
  t.equal(sample(after, 'sgw_cache_hit_percent', 'share', share.shareId), undefined, 'what does not apply is absent, not 0');

  const snapshot = await d.client('gateway.metrics', {}) as MetricsSnapshot;
  t.same(snapshot.resources.map((r) => r.kind).sort(), ['share', 'volume'], 'the socket serves the same resources');
  t.ok(snapshot.gateway.io.writeBytes >= 11 * MiB);
  t.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404, 'only /metrics is served');
});
