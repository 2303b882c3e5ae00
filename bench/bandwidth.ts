// Bandwidth limits: a cached volume's writes drain to S3 (moto) with no limit, then under upload limits set with
// `sgw gateway bandwidth set`; the upload rate is read from the gateway's CloudBytesUploaded counter every 250 ms
// and compared with the limit, in one run. The first second is left out: the limiter lets one second's worth
// through at once, as a token bucket does.
// Run: npm run bench:bandwidth [-- --mib 48 --json]   (MiB written per row; Mbit/s here is 10^6 bits per second)
import { parseArgs } from 'node:util';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { MetricsSnapshot } from '../src/rpc/api.js';
import { TestDaemon } from '../test/harness/daemon.js';
import { ANY_CREDENTIALS, startMoto } from '../test/harness/moto.js';
import { runClient, volumeUrl } from '../test/harness/volume-gateway.js';

const { values: flags } = parseArgs({ options: { mib: { type: 'string', default: '48' }, json: { type: 'boolean', default: false } } });
const mib = Number(flags.mib);
if (!Number.isInteger(mib) || mib < 8 || mib > 250) {
  process.stderr.write('--mib is a whole number of MiB from 8 to 250\n');
  process.exit(2);
}
const LIMITS_MBIT = [undefined, 16, 64];
const cleanups: Array<() => Promise<unknown>> = [];
const teardown = { teardown: (fn: () => unknown) => void cleanups.push(async () => fn()) };

interface Row {
  limitMbit: number | null;
  measuredMbit: number;
  ratio: number | null;
  seconds: number;
}

/**
 * Samples the upload counter until the volume's queue is empty: the rate from the first byte past `baseline` on,
 * under a limit leaving out the first second's burst.
 */
async function measureDrain(d: TestDaemon, baseline: number, limited: boolean): Promise<{ mbit: number; seconds: number }> {
  const samples: { at: number; bytes: number }[] = [];
  let started: number | undefined;
  for (;;) {
    const m = await d.client('gateway.metrics', {}) as MetricsSnapshot;
    const at = performance.now();
    started ??= m.gateway.cloud.bytesUploaded > baseline ? at : undefined;
    if (started !== undefined) samples.push({ at, bytes: m.gateway.cloud.bytesUploaded });
    if (started !== undefined && m.uploadQueue.volumeBytes === 0) break;
    await new Promise((r) => setTimeout(r, limited ? 250 : 50));
  }
  const steady = limited ? samples.filter((s) => s.at - started! >= 1000) : [{ at: started!, bytes: baseline }, ...samples];
  const [first, last] = [steady[0], steady.at(-1)];
  if (!first || !last || last.at - first.at < (limited ? 2000 : 100)) throw new Error('the drain was too short to measure: write more with --mib');
  return { mbit: ((last.bytes - first.bytes) * 8) / ((last.at - first.at) / 1000) / 1e6, seconds: (samples.at(-1)!.at - started!) / 1000 };
}

async function main(): Promise<void> {
  const moto = await startMoto();
  cleanups.push(() => moto.stop());
  const s3 = new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: ANY_CREDENTIALS });
  await s3.send(new CreateBucketCommand({ Bucket: 'bench-bandwidth' }));
  const d = await TestDaemon.start(teardown, { AWS_ACCESS_KEY_ID: ANY_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: ANY_CREDENTIALS.secretAccessKey, SGW_LOG_LEVEL: 'info' });
  const dir = d.stateDir;
  await d.sgwJson('activate', '--name', 'lab', '--endpoint', moto.endpoint, '--bucket', 'bench-bandwidth', '--region', 'us-east-1');
  await d.sgwJson('disk', 'add-upload-buffer', `${dir}-buffer`, '--size', '1GiB');
  await d.sgwJson('disk', 'add-cache', `${dir}-cache`, '--size', '1GiB');
  const rows: Row[] = [];
  for (const [n, limit] of LIMITS_MBIT.entries()) {
    const name = `bw${n}`;
    await d.sgwJson('volume', 'create', name, '--cached', '1GiB');
    if (limit === undefined) await d.sgwJson('gateway', 'bandwidth', 'clear');
    else await d.sgwJson('gateway', 'bandwidth', 'set', '--upload', `${limit}Mbit`);
    const baseline = (await d.client('gateway.metrics', {}) as MetricsSnapshot).gateway.cloud.bytesUploaded;
    // A pattern of its own per MiB and row, so that no chunk is one the store holds already.
    const writes = Array.from({ length: mib }, (_, i) => ['-c', `write -P ${(n * mib + i) % 255 + 1} ${i}M 1M`]).flat();
    const io = await runClient('qemu-io', ['-f', 'raw', ...writes, await volumeUrl(d, name)]);
    if (io.code !== 0) throw new Error(`qemu-io: ${io.stderr}`);
    const { mbit, seconds } = await measureDrain(d, baseline, limit !== undefined);
    rows.push({ limitMbit: limit ?? null, measuredMbit: mbit, ratio: limit === undefined ? null : mbit / limit, seconds });
  }
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ mib, rows }, null, 2)}\n`);
    return;
  }
  process.stdout.write(`upload of ${mib} MiB of volume writes to moto per row\n\n| upload limit | measured | measured / limit | drain |\n|---|---|---|---|\n`);
  for (const r of rows) {
    process.stdout.write(`| ${r.limitMbit === null ? 'none' : `${r.limitMbit} Mbit/s`} | ${r.measuredMbit.toFixed(1)} Mbit/s | ${r.ratio === null ? '-' : r.ratio.toFixed(3)} | ${r.seconds.toFixed(1)} s |\n`);
  }
}

try {
  await main();
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
}
