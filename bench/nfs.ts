// NFSv3 file-share throughput: an sgw share against nfs-ganesha (VFS export of a local directory), measured in one
// run on the same machine with the same client, libnfs's nfs-cp:
//   - sequential write: a random local file of --size MiB copied in (MB/s);
//   - sequential read: that file copied out to a local file (MB/s); sgw serves it from its local cache, where the
//     write just put it;
//   - small-file creates: --files 4 KiB files copied in, one nfs-cp process each, one after another (files/s);
//   - upload drain: after the sequential write to sgw, the time until the file is in the bucket (MB/s), against a
//     direct multipart upload of the same bytes to the same S3 server (moto on 127.0.0.1) with @aws-sdk/lib-storage.
// Every row runs on ganesha, then on sgw, before the next row, so drift of the machine hits both alike; the figures
// that mean something are the ratios (this is a 2-core VM; absolute numbers vary run to run). The drain is timed
// right after sgw's write and the direct upload once the drain is over, so the two never compete for moto.
// With --guest, rows from the Linux kernel's NFS client follow (bench/nfs-guest.ts): one boot of the kernel lab's
// guest (test/kernel: qemu TCG, 2 vCPUs, 1 GiB) mounts both servers twice, with vers=3 and with vers=4.1, through
// forwarded ports and runs test/kernel/scenarios/nfs-bench.sh, again row by row, ganesha then sgw, v3 then v4.1:
//   - guest fio seq write: --size MiB in 1 MiB blocks through the page cache, with a final fsync (MB/s);
//   - guest fio seq read: that file in 1 MiB blocks, the guest's page cache dropped first (MB/s);
//   - guest small-file creates: --guest-files 4 KiB files created, written and closed by bash, then a syncfs
//     (files/s): no process start per file, unlike nfs-cp's row.
// sgw uploads what the guest wrote to moto in the background, so its upload runs during the later guest rows.
// ganesha runs in a network namespace that has only lo (test/kernel/peers.ts). Every nfs-cp enters the server's
// namespace through nsenter (sgw's is the bench's own), so that wrapper costs both sides the same.
// Run: npm run bench:nfs [-- --size 256 --files 200 --guest --guest-files 500 --json]
// Needs root (network namespaces), nfs-ganesha, nfs-ganesha-vfs, rpcbind and libnfs-utils (installed with apt-get
// when missing), moto_server, and a built dist/ (npm run build). --guest also needs qemu and socat (installed when
// missing) and the lab's guest image (npx tsx test/kernel/guest-image.ts builds it, else the run does: about two
// minutes and the Debian mirror); its rows add about two minutes at the defaults (fio stops a job after 60 s, so a
// slow server cannot stretch them far). MB/s here is 10^6 bytes per second.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { ShareSyncResult } from '../src/rpc/api.js';
import { TestDaemon } from '../test/harness/daemon.js';
import { nfsUrl } from '../test/harness/file-gateway.js';
import { ANY_CREDENTIALS, startMoto } from '../test/harness/moto.js';
import { runClient } from '../test/harness/volume-gateway.js';
import { ensurePrograms, HOST_PROGRAMS } from '../test/kernel/host.js';
import { startGanesha } from '../test/kernel/peers.js';
import { timed } from './measure.js';
import { guestBench, type GuestFigure, type GuestRow, type GuestServer } from './nfs-guest.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MiB = 2 ** 20;
const SHARE = 'bench';
const SHARE_BUCKET = 'bench-share';
const GATEWAY_BUCKET = 'bench-gateway';
const DIRECT_BUCKET = 'bench-direct';
const SEQ_FILE = 'seq.bin';
const SMALL_BYTES = 4096;
/** Longest wait for any one big copy or for the upload to drain; far beyond what 2 cores need for 256 MiB. */
const LONG_MS = 600_000;

const HELP = `Usage: npx tsx bench/nfs.ts [--size MiB] [--files N] [--guest] [--guest-files N] [--json]

  --size MiB        size of the sequential file, on the host and in the guest (default 256)
  --files N         number of 4 KiB files in the host's small-file row (default 200)
  --guest           add rows from a Linux guest under qemu (fio and a creates loop on kernel NFS mounts of both
                    servers); needs the kernel lab's guest image (npx tsx test/kernel/guest-image.ts)
  --guest-files N   number of 4 KiB files in the guest's small-file row (default 500)
  --json            print the results as JSON instead of a table
`;

/** A failure the run cannot go on from; main prints its message as the one line and exits non-zero. */
class BenchError extends Error {}
/** A client or sgw command that failed: on sgw's side the row shows n/a with it, on ganesha's it ends the run. */
class ClientError extends BenchError {}

const { values: flags } = (() => {
  try {
    return parseArgs({
      options: {
        size: { type: 'string', default: '256' },
        files: { type: 'string', default: '200' },
        guest: { type: 'boolean', default: false },
        'guest-files': { type: 'string', default: '500' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    });
  } catch (err) {
    process.stderr.write(`bench:nfs: ${(err as Error).message}\n${HELP}`);
    process.exit(2);
  }
})();
if (flags.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
function wholeNumber(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`bench:nfs: --${flag} "${text}" is not a whole number above 0\n`);
    process.exit(2);
  }
  return n;
}
const SIZE = wholeNumber('size', flags.size) * MiB;
const FILES = wholeNumber('files', flags.files);
const GUEST_FILES = wholeNumber('guest-files', flags['guest-files']);

/** Progress goes to stderr so that stdout is only the table (or the JSON). */
const note = (text: string) => process.stderr.write(`${text}\n`);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const since = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;
const mbps = (bytes: number, seconds: number) => bytes / seconds / 1e6;

/** A multi-line message (a harness error with a whole log in it) as one line: its first and its last line. */
function oneLine(text: string): string {
  const lines = text.trim().split('\n').map((l) => l.trim()).filter((l) => l !== '');
  if (lines.length <= 1) return lines[0] ?? '(no output)';
  return `${lines[0]} ... ${lines.at(-1)}`;
}

/** The last thing sgwd logged; of its JSON, just the message. */
function lastLogLine(output: string): string {
  const line = output.trim().split('\n').at(-1)?.trim() || '(no output)';
  try {
    const entry = JSON.parse(line) as { msg?: string; err?: { message?: string } };
    return `last log line: ${entry.msg ?? line}${entry.err?.message ? `: ${entry.err.message}` : ''}`;
  } catch {
    return line;
  }
}

let reportDeath: (err: BenchError) => void = () => {};
/** Rejects when sgwd ends while the run still needs it, or on SIGINT/SIGTERM. */
const death = new Promise<never>((_, reject) => (reportDeath = reject));
death.catch(() => {});

/** The work, unless sgwd dies or the run is interrupted first. */
const guard = <T>(work: Promise<T>): Promise<T> => Promise.race([work, death]);

/** Harness helpers throw plain Errors with whole logs in them; this names the step and keeps it to one line. */
const step = <T>(what: string, work: Promise<T>): Promise<T> =>
  guard(work).catch((err: unknown) => {
    throw err instanceof BenchError ? err : new BenchError(`${what}: ${oneLine((err as Error).message)}`);
  });

/** What to undo at the end, newest first; each step runs even when an earlier one failed. */
const cleanups: Array<() => Promise<void>> = [];
/** The harness's teardown interface, fed into the same list. */
const teardown = { teardown: (fn: () => unknown) => void cleanups.push(async () => void (await fn())) };

// ---- the two servers --------------------------------------------------------------------------------------------

interface Side {
  /** Column heading. */
  label: string;
  /** The network namespace nfs-cp runs in, as a path nsenter takes. */
  netns: string;
  /** The nfs:// URL of a file at the top of the export (libnfs mounts the URL's directory). */
  url: (file: string) => string;
  /** Where the guest's kernel client finds the export with NFSv3. */
  server: GuestServer;
  /** The same export's path for NFSv4.1. */
  v41Path: string;
}

async function ganeshaSide(): Promise<Side> {
  const peer = await step('nfs-ganesha', startGanesha(teardown));
  const query = `version=3&nfsport=${peer.nfsPort}&mountport=${peer.mountPort}`;
  return {
    label: 'ganesha', netns: `/run/netns/${peer.netns}`, url: (file) => `nfs://127.0.0.1${peer.v3Path}/${file}?${query}`,
    server: { name: 'ganesha', version: '3', exportPath: peer.v3Path, nfsPort: peer.nfsPort, mountPort: peer.mountPort, netns: peer.netns },
    v41Path: peer.v4Path,
  };
}

interface Sgw {
  side: Side;
  d: TestDaemon;
  s3: S3Client;
}

/** sgwd on the S3 backend (moto), activated, with one share over a bucket of its own, served on 127.0.0.1. */
async function sgwSide(): Promise<Sgw> {
  if (!existsSync(path.join(ROOT, 'dist', 'daemon', 'main.js'))) throw new BenchError('dist/ is missing: run npm run build');
  const moto = await step('moto', startMoto());
  cleanups.push(() => moto.stop());
  const s3 = new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: ANY_CREDENTIALS });
  for (const Bucket of [GATEWAY_BUCKET, SHARE_BUCKET, DIRECT_BUCKET]) await step(`create bucket ${Bucket}`, s3.send(new CreateBucketCommand({ Bucket })));
  // The harness logs at debug level, which would cost sgwd CPU that ganesha does not spend.
  const d = await step('sgwd', TestDaemon.start(teardown, {
    AWS_ACCESS_KEY_ID: ANY_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: ANY_CREDENTIALS.secretAccessKey, SGW_LOG_LEVEL: 'info',
  }));
  d.proc?.once('exit', (code, signal) => reportDeath(new BenchError(`sgwd exited unexpectedly (${signal ?? `status ${code}`}): ${lastLogLine(d.output)}`)));
  await step('sgw activate', d.sgwJson('activate', '--endpoint', moto.endpoint, '--bucket', GATEWAY_BUCKET, '--region', 'us-east-1'));
  await step('sgw share create', d.sgwJson('share', 'create', SHARE, '--bucket', SHARE_BUCKET));
  const [base, query] = (await step('sgw gateway info', nfsUrl(d, SHARE))).split('?');
  // One port serves NFS and MOUNT.
  const port = Number(new URLSearchParams(query).get('nfsport'));
  return {
    side: {
      label: 'sgw', netns: `/proc/${process.pid}/ns/net`, url: (file) => `${base}/${file}?${query}`,
      server: { name: 'sgw', version: '3', exportPath: `/${SHARE}`, nfsPort: port, mountPort: port },
      v41Path: `/${SHARE}`,
    },
    d, s3,
  };
}

/** sgwd's log lines at warn level or above, counted by message: the odd things to report next to the table. */
function sgwdComplaints(output: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of output.split('\n')) {
    if (line.trim() === '') continue;
    let text = line.trim();
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
      if ((entry.level ?? 0) < 40) continue;
      text = `${entry.msg ?? '?'}${entry.err?.message ? `: ${entry.err.message}` : ''}`;
    } catch {
      // not JSON: a crash trace or a warning of node's, worth showing as it is
    }
    counts.set(text, (counts.get(text) ?? 0) + 1);
  }
  return counts;
}

// ---- measurements -----------------------------------------------------------------------------------------------

/** nfs-cp as a separate process in the side's namespace; its failure is a ClientError with what it said. */
async function nfsCp(side: Side, from: string, to: string, timeoutMs: number): Promise<void> {
  const result = await guard(runClient('nsenter', [`--net=${side.netns}`, 'nfs-cp', from, to], timeoutMs));
  // Its first line names the NFS error; the rest repeats the URL.
  const said = (result.stderr || result.stdout).trim().split('\n')[0]?.trim() || `status ${result.code} (killed after ${timeoutMs / 1000} s?)`;
  if (result.code !== 0) throw new ClientError(`nfs-cp: ${said}`);
}

async function seqWrite(side: Side, local: string): Promise<number> {
  return mbps(SIZE, await timed(() => nfsCp(side, local, side.url(SEQ_FILE), LONG_MS)));
}

/** Into a fresh local file: nfs-cp will not open /dev/null. Both sides pay the same page-cache writes for it. */
async function seqRead(side: Side, local: string): Promise<number> {
  await rm(local, { force: true });
  return mbps(SIZE, await timed(() => nfsCp(side, side.url(SEQ_FILE), local, LONG_MS)));
}

/**
 * One nfs-cp per file, one after another: each pays for a process start, a MOUNT and a CREATE. The process start
 * costs both servers the same, so the ratio is about the server; the absolute files/s are mostly nfs-cp's.
 */
async function smallFiles(side: Side, local: string): Promise<number> {
  const seconds = await timed(async () => {
    for (let i = 0; i < FILES; i++) await nfsCp(side, local, side.url(`small-${String(i).padStart(6, '0')}.bin`), 60_000);
  });
  return FILES / seconds;
}

/** The sha256 of the object, read at exactly the version `etag` names; undefined when it changed meanwhile. */
async function objectSha256(s3: S3Client, Bucket: string, Key: string, etag: string | undefined): Promise<string | undefined> {
  const object = await s3.send(new GetObjectCommand({ Bucket, Key, IfMatch: etag })).catch(() => undefined);
  if (!object?.Body) return undefined;
  const hash = createHash('sha256');
  for await (const chunk of object.Body as AsyncIterable<Uint8Array>) hash.update(chunk);
  return hash.digest('hex');
}

/** Whether the bucket holds the file as written: the size from HeadObject, then the content's sha256. */
async function inBucket(s3: S3Client, sha256: string): Promise<boolean> {
  const head = await s3.send(new HeadObjectCommand({ Bucket: SHARE_BUCKET, Key: SEQ_FILE })).catch(() => undefined);
  return head?.ContentLength === SIZE && (await objectSha256(s3, SHARE_BUCKET, SEQ_FILE, head.ETag)) === sha256;
}

/**
 * Seconds from the end of sgw's write until the file is in the bucket. With `sgw share sync --wait` (AWS's
 * NotifyWhenUploaded) sgw uploads at once and says when it is done, CLI start-up included; the bucket is checked
 * after the clock stops. Without that command the bucket is polled, and the share's upload settle time (5 s by
 * default) is part of the figure.
 */
async function drainSeconds(sgw: Sgw, writeEnded: bigint, sha256: string, haveSync: boolean): Promise<number> {
  const deadline = Date.now() + LONG_MS;
  if (haveSync) {
    for (;;) {
      const { pendingBytes } = await guard(sgw.d.sgwJson<ShareSyncResult>('share', 'sync', SHARE, '--wait')).catch((err: Error) => {
        throw err instanceof BenchError ? err : new ClientError(oneLine(err.message));
      });
      if (pendingBytes === 0) break;
      if (Date.now() > deadline) throw new ClientError(`${pendingBytes} bytes still to upload ${LONG_MS / 1000} s after the write`);
    }
    const seconds = since(writeEnded);
    if (!(await guard(inBucket(sgw.s3, sha256)))) throw new ClientError('share sync --wait returned, but the bucket does not hold the file as written');
    return seconds;
  }
  for (;;) {
    const polled = process.hrtime.bigint();
    // The clock stops when the poll that found the file began; its hash read is the bench's cost, not sgw's.
    if (await guard(inBucket(sgw.s3, sha256))) return Number(polled - writeEnded) / 1e9;
    if (Date.now() > deadline) throw new ClientError(`the file was not in the bucket ${LONG_MS / 1000} s after the write`);
    await guard(sleep(100));
  }
}

/** A multipart upload straight to the S3 server, the best the bucket's side can do (8 MiB parts, 8 in flight). */
async function upload(s3: S3Client, Bucket: string, Key: string, Body: Buffer): Promise<void> {
  await guard(new Upload({ client: s3, params: { Bucket, Key, Body }, partSize: 8 * MiB, queueSize: 8 }).done());
}

interface Result {
  value?: number;
  error?: string;
}

/** Runs an sgw measurement whose failure (a write sgw refuses) is a row's n/a rather than the end of the run. */
async function attempt(work: () => Promise<number>): Promise<Result> {
  try {
    return { value: await work() };
  } catch (err) {
    if (!(err instanceof ClientError)) throw err;
    return { error: err.message };
  }
}

interface Row {
  name: string;
  unit: 'MB/s' | 'files/s';
  baseLabel: string;
  base: number;
  sgw: Result;
}

function format(value: number, unit: string): string {
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${unit}`;
}

// ---- the run ----------------------------------------------------------------------------------------------------

async function bench(): Promise<void> {
  const begun = Date.now();
  // Other work on the machine moves ganesha's figures as much as sgw's; the load says how far to trust a ratio.
  const loadAtStart = os.loadavg()[0] ?? 0;
  if (process.getuid?.() !== 0) throw new BenchError('needs root: ganesha runs in a network namespace of its own');
  await step('installing the NFS tools', ensurePrograms({ ...HOST_PROGRAMS.nfsPeer, 'nfs-cp': 'libnfs-utils', nsenter: 'util-linux' }, note));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sgw-bench-nfs-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const data = randomBytes(SIZE);
  const sha256 = createHash('sha256').update(data).digest('hex');
  const seqLocal = path.join(dir, SEQ_FILE);
  await writeFile(seqLocal, data);
  const readLocal = path.join(dir, 'read.bin');
  const smallLocal = path.join(dir, 'small.bin');
  await writeFile(smallLocal, randomBytes(SMALL_BYTES));

  const ganesha = await ganeshaSide();
  const sgw = await sgwSide();
  const haveSync = (await guard(sgw.d.sgw('share', 'sync', '--help'))).code === 0;
  const sizeLabel = `${SIZE / MiB} MiB`;
  const notes: string[] = [];
  const show = (row: Row) => note(`${row.name.padEnd(38)} ${row.baseLabel} ${format(row.base, row.unit)}   sgw ${row.sgw.value === undefined ? `n/a (${row.sgw.error})` : format(row.sgw.value, row.unit)}`);

  const ganeshaWrite = await seqWrite(ganesha, seqLocal);
  let writeEnded = 0n;
  const sgwWrite = await attempt(async () => {
    const value = await seqWrite(sgw.side, seqLocal);
    writeEnded = process.hrtime.bigint();
    return value;
  });
  const write: Row = { name: `seq write ${sizeLabel}`, unit: 'MB/s', baseLabel: 'ganesha', base: ganeshaWrite, sgw: sgwWrite };
  show(write);

  const sgwDrain = sgwWrite.value === undefined
    ? { error: 'nothing to drain: the write failed' }
    : await attempt(async () => mbps(SIZE, await drainSeconds(sgw, writeEnded, sha256, haveSync)));
  const direct = mbps(SIZE, await timed(() => upload(sgw.s3, DIRECT_BUCKET, SEQ_FILE, data)));
  const drain: Row = { name: `upload drain ${sizeLabel}`, unit: 'MB/s', baseLabel: 'S3 direct', base: direct, sgw: sgwDrain };
  show(drain);
  notes.push(`upload drain: ${haveSync ? 'until sgw share sync --wait returned (CLI start-up included)' : 'bucket polled with HeadObject (includes the share\'s upload settle time)'}, object sha256 checked; S3 direct = @aws-sdk/lib-storage, 8 MiB parts, 8 in flight`);

  let readNote = 'sgw read the file it had just written, from its local cache';
  if (sgwWrite.value === undefined) {
    // sgw could not take the write, so the read row reads what an S3 client put, through the bucket, not the cache.
    await step('pre-loading the file into the share\'s bucket', upload(sgw.s3, SHARE_BUCKET, SEQ_FILE, data));
    await step('sgw share refresh', sgw.d.sgwJson('share', 'refresh', SHARE, '--wait'));
    readNote = 'sgw read from the bucket (its write failed, so the file was put with the S3 SDK), not from its cache';
  }
  const read: Row = { name: `seq read ${sizeLabel}`, unit: 'MB/s', baseLabel: 'ganesha', base: await seqRead(ganesha, readLocal), sgw: { value: await seqRead(sgw.side, readLocal) } };
  notes.push(readNote);
  show(read);

  const small: Row = { name: `small-file creates 4 KiB x ${FILES}`, unit: 'files/s', baseLabel: 'ganesha', base: await smallFiles(ganesha, smallLocal), sgw: await attempt(() => smallFiles(sgw.side, smallLocal)) };
  show(small);

  const rows = [write, read, small, drain];
  if (flags.guest) {
    // Each server twice, once per protocol version: v3 through MOUNT, v4.1 through the server's pseudo-root.
    const v41 = (side: Side): GuestServer => ({ ...side.server, name: `${side.server.name}-v41`, version: '4.1', exportPath: side.v41Path });
    const servers = { ganesha: { v3: ganesha.server, v41: v41(ganesha) }, sgw: { v3: sgw.side.server, v41: v41(sgw.side) } };
    const figures = await step('guest', guestBench({
      servers: [servers.ganesha.v3, servers.sgw.v3, servers.ganesha.v41, servers.sgw.v41], sizeMiB: SIZE / MiB, files: GUEST_FILES, runId: String(process.pid), log: note,
    }));
    const guestRows: Array<[GuestRow, string, Row['unit'], number]> = [
      ['seq-write', `fio seq write 1M, ${sizeLabel}`, 'MB/s', 1e6],
      ['seq-read', `fio seq read 1M, ${sizeLabel}`, 'MB/s', 1e6],
      ['creates', `small-file creates 4 KiB x ${GUEST_FILES}`, 'files/s', 1],
    ];
    for (const version of ['v3', 'v41'] as const) {
      for (const [key, what, unit, per] of guestRows) {
        const name = `guest ${version === 'v3' ? 'NFSv3' : 'NFSv4.1'} ${what}`;
        const byServer = figures.get(key);
        const figure = (server: GuestServer): GuestFigure => byServer?.get(server.name) ?? { error: 'the guest reported nothing' };
        const base = figure(servers.ganesha[version]);
        // As on the host, a failure of the baseline leaves nothing to compare with.
        if ('error' in base) throw new BenchError(`${name}: ganesha: ${base.error}`);
        const theirs = figure(servers.sgw[version]);
        const row: Row = { name, unit, baseLabel: 'ganesha', base: base.value / per, sgw: 'error' in theirs ? { error: theirs.error } : { value: theirs.value / per } };
        rows.push(row);
        show(row);
      }
    }
    notes.push('guest rows: the lab guest\'s Linux NFS client (vers=3,proto=tcp,nolock and vers=4.1,proto=tcp) under qemu TCG, 2 vCPUs, 1 GiB, each TCP connection through a socat; fio psync; the guest\'s page cache dropped before every row; sgw uploads what the guest writes to moto in the background, during the guest\'s later rows');
  }
  const seconds = (Date.now() - begun) / 1000;
  const complaints = sgwdComplaints(sgw.d.output);
  const cpus = os.cpus();
  const ratio = (r: Row) => (r.sgw.value === undefined ? undefined : r.sgw.value / r.base);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({
      machine: { cores: cpus.length, cpu: cpus[0]?.model.trim(), memoryBytes: os.totalmem(), node: process.version, kernel: os.release(), loadAverageAtStart: loadAtStart },
      sizeBytes: SIZE, files: FILES, guestFiles: flags.guest ? GUEST_FILES : null, totalSeconds: seconds,
      rows: rows.map((r) => ({ row: r.name, unit: r.unit, baseline: r.baseLabel, base: r.base, sgw: r.sgw.value ?? null, sgwError: r.sgw.error ?? null, ratio: ratio(r) ?? null })),
      notes, sgwdWarnings: Object.fromEntries(complaints),
    }, null, 2)}\n`);
    return;
  }
  const table = [
    ['row', 'baseline', 'value', 'sgw', 'ratio'],
    ...rows.map((r) => {
      const q = ratio(r);
      return [r.name, r.baseLabel, format(r.base, r.unit), r.sgw.value === undefined ? `n/a (${r.sgw.error})` : format(r.sgw.value, r.unit), q === undefined ? '' : q.toFixed(2)];
    }),
  ];
  // An n/a cell with its message ends its line (it has no ratio), so it does not widen the column for the others.
  const measured = table.filter((cells) => !cells[3]!.startsWith('n/a'));
  const widths = table[0]!.map((_, i) => Math.max(...(i >= 3 ? measured : table).map((cells) => cells[i]!.length)));
  console.log(table.map((cells) => cells.map((c, i) => c.padEnd(widths[i]! + 2)).join('').trimEnd()).join('\n'));
  console.log(`ratio = sgw / baseline; host rows: nfs-cp (libnfs) over NFSv3 on 127.0.0.1; ganesha exports a directory in ${os.tmpdir()}, sgw a bucket on moto`);
  console.log(`machine: ${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${os.type()} ${os.release()}, load average ${loadAtStart.toFixed(1)} at start; run took ${seconds.toFixed(0)} s`);
  for (const text of notes) console.log(`note: ${text}`);
  for (const [text, count] of complaints) console.log(`sgwd warned ${count}x: ${text}`);
}

async function cleanup(): Promise<void> {
  while (cleanups.length > 0) {
    const undo = cleanups.pop();
    try {
      await undo?.();
    } catch (err) {
      note(`bench:nfs: cleanup: ${oneLine((err as Error).message)}`);
    }
  }
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    note(`bench:nfs: ${signal}, cleaning up`);
    reportDeath(new BenchError(`interrupted by ${signal}`));
  });
}

let status = 0;
try {
  await guard(bench());
} catch (err) {
  process.stderr.write(`bench:nfs: ${err instanceof BenchError ? err.message : (err as Error).stack ?? String(err)}\n`);
  status = 1;
} finally {
  await cleanup();
}
process.exit(status);
