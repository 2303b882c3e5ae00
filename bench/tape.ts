// Tape gateway throughput: ten drives writing 1 MiB records at once over iSCSI (the raw-PDU initiator of the
// tests), against the same machine's disk doing what a durable tape write must (a 1 MiB append and fdatasync per
// record, ten writers at once); then the drain of those tapes to S3 (moto) against a direct upload of the same
// bytes to the same server (@aws-sdk/lib-storage, 8 MiB parts, 8 in flight), in one run.
// Run: npm run bench:tape [-- --mib 128 --json]   (MiB per drive; MB/s here is 10^6 bytes per second)
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { changerTargetName, driveTargetName } from '../src/daemon/tape-targets.js';
import type { GatewayInfo } from '../src/rpc/api.js';
import { TestDaemon } from '../test/harness/daemon.js';
import { ANY_CREDENTIALS, startMoto } from '../test/harness/moto.js';
import { Changer, elementStatus, ScsiSession, Tape } from '../test/harness/tape-initiator.js';
import { pool, timed } from './measure.js';

const MiB = 2 ** 20;
const DRIVES = 10;
const { values: flags } = parseArgs({ options: { mib: { type: 'string', default: '64' }, json: { type: 'boolean', default: false } } });
const perDrive = Number(flags.mib);
if (!Number.isInteger(perDrive) || perDrive < 1) {
  process.stderr.write('--mib is a whole number of MiB per drive\n');
  process.exit(2);
}
const total = DRIVES * perDrive * MiB;
const record = randomBytes(MiB);
const cleanups: Array<() => Promise<unknown>> = [];
const teardown = { teardown: (fn: () => unknown) => void cleanups.push(async () => fn()) };
const mbps = (bytes: number, seconds: number) => bytes / seconds / 1e6;

async function rawDisk(dir: string): Promise<number> {
  return timed(() => pool(DRIVES, DRIVES, async (i) => {
    const file = await open(path.join(dir, `raw-${i}`), 'w');
    for (let n = 0; n < perDrive; n++) {
      await file.write(record, 0, MiB, n * MiB);
      await file.datasync();
    }
    await file.close();
  }));
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sgw-bench-tape-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const moto = await startMoto();
  cleanups.push(() => moto.stop());
  const s3 = new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: ANY_CREDENTIALS });
  for (const Bucket of ['bench-tapes', 'bench-direct']) await s3.send(new CreateBucketCommand({ Bucket }));
  const d = await TestDaemon.start(teardown, { AWS_ACCESS_KEY_ID: ANY_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: ANY_CREDENTIALS.secretAccessKey, SGW_LOG_LEVEL: 'info' });
  await d.sgwJson('activate', '--endpoint', moto.endpoint, '--bucket', 'bench-tapes', '--region', 'us-east-1');
  await d.sgwJson('tape', 'create', '--count', '10', '--size', '100GiB', '--barcode-prefix', 'BNCH');
  const info = await d.sgwJson<GatewayInfo>('gateway', 'info');
  const port = Number(info.daemon.iscsiPortal.split(':').pop());
  const changer = await ScsiSession.open(port, changerTargetName(info.gateway!.name));
  cleanups.push(() => changer.close());
  await changer.ready();
  const status = async (type: number) => elementStatus((await changer.run(Changer.readElementStatus(type, 0, 2000), { read: 0x40000 })).data);
  const slots = (await status(2)).filter((s) => s.full);
  const drives = await status(4);
  for (let i = 0; i < DRIVES; i++) await changer.run(Changer.moveMedium(slots[i]!.address, drives[i]!.address));
  const sessions = await Promise.all(drives.map(async (_, i) => {
    const s = await ScsiSession.open(port, driveTargetName(info.gateway!.name, i));
    cleanups.push(() => s.close());
    await s.ready();
    return s;
  }));

  const rawSeconds = await rawDisk(dir);
  const start = Date.now();
  const writeSeconds = await timed(() => pool(DRIVES, DRIVES, async (i) => {
    for (let n = 0; n < perDrive; n++) {
      const r = await sessions[i]!.run(Tape.write(MiB), { write: record });
      if (r.status !== 0) throw new Error(`drive ${i + 1}: WRITE answered ${r.status}`);
    }
  }));
  for (let i = 0; i < DRIVES; i++) await changer.run(Changer.moveMedium(drives[i]!.address, slots[i]!.address));
  // Drained once every record (with its 16-byte header) is in a segment object.
  const stored = async () => {
    let bytes = 0;
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: 'bench-tapes', Prefix: 'tapes/', ContinuationToken: token }));
      bytes += (page.Contents ?? []).reduce((n, o) => n + (o.Size ?? 0), 0);
      token = page.NextContinuationToken;
    } while (token);
    return bytes;
  };
  while ((await stored()) < total + DRIVES * perDrive * 16) await new Promise((r) => setTimeout(r, 250));
  const drainSeconds = (Date.now() - start) / 1000;
  const directSeconds = await timed(() => new Upload({
    client: s3, params: { Bucket: 'bench-direct', Key: 'direct.bin', Body: Buffer.alloc(total, 1) }, partSize: 8 * MiB, queueSize: 8,
  }).done().then(() => undefined));

  const rows = [
    { row: `10 drives × ${perDrive} MiB of 1 MiB records, into the gateway`, baseline: 'raw disk (append + fdatasync)', base: mbps(total, rawSeconds), sgw: mbps(total, writeSeconds) },
    { row: 'drain to S3 (first write to last segment stored)', baseline: 'direct multipart upload', base: mbps(total, directSeconds), sgw: mbps(total, drainSeconds) },
  ];
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(rows.map((r) => ({ ...r, ratio: r.sgw / r.base })), null, 2)}\n`);
    return;
  }
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd([56, 32, 12, 12, 6][i]!)).join(' ').trimEnd();
  process.stdout.write(`${line(['row', 'baseline', 'baseline', 'sgw', 'ratio'])}\n`);
  for (const r of rows) process.stdout.write(`${line([r.row, r.baseline, `${r.base.toFixed(1)} MB/s`, `${r.sgw.toFixed(1)} MB/s`, (r.sgw / r.base).toFixed(2)])}\n`);
  process.stdout.write(`machine: ${os.cpus().length} cores, load average ${os.loadavg()[0]!.toFixed(1)} at the end; moto is a single Python process\n`);
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench:tape: ${(err as Error).message.split('\n')[0]}\n`);
  process.exitCode = 1;
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
}
