// iSCSI target throughput: sgw's target against the peer target tgt, measured in one run on the same disk.
//   - fio through qemu-nbd (Debian's fio has no libiscsi engine; qemu-nbd is the initiator and fio speaks NBD to
//     it): 1 MiB sequential and 4 KiB random, read and write, at queue depth 1 and 32;
//   - libiscsi's iscsi-perf (read-only), an initiator of its own, so the NBD bridge's cost is out of those rows.
// Every row runs on each target in turn before the next row, so drift of the machine hits all sides alike; the
// figures that mean something are the ratios to tgt (this is a 2-core VM; absolute numbers vary run to run).
// Run: npm run bench:iscsi [-- --runtime 5 --json --no-stored --tgt-sync --peer-only]
//   --peer-only puts a second tgt where sgw would be (tgt against tgt: checks the bench itself, ratios ~1).
// Needs tgt, libiscsi-bin, qemu-utils, qemu-block-extra and fio (apt-get install -y tgt libiscsi-bin qemu-utils
// qemu-block-extra fio), and root for tgtd's control socket in /run/tgtd. MB/s here is 10^6 bytes per second.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort } from '../test/harness/free-port.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SGWD = path.join(ROOT, 'bin', 'sgwd.js');
const SGW = path.join(ROOT, 'bin', 'sgw.js');
const MiB = 2 ** 20;
const VOLUME_BYTES = 2 ** 30;
const TGTD_RUN_DIR = '/run/tgtd';

const HELP = `Usage: npx tsx bench/iscsi.ts [--runtime SECONDS] [--json] [--no-stored] [--tgt-sync] [--peer-only]

  --runtime N   seconds per row and target (default 5)
  --json        print the results as JSON instead of a table
  --no-stored   skip the stored volume (only tgt and the cached volume)
  --tgt-sync    tgt's LUN with bsoflags=sync: acknowledged writes are on disk, as sgw's are in its upload buffer
                (by default tgt writes into the page cache and acknowledges at once)
  --peer-only   a second tgt instead of sgw, to check the bench itself
`;

/** A failure the run cannot go on from; main prints its message as the one line and exits non-zero. */
class BenchError extends Error {}

const { values: flags } = (() => {
  try {
    return parseArgs({
      options: {
        runtime: { type: 'string', default: '5' },
        json: { type: 'boolean', default: false },
        'no-stored': { type: 'boolean', default: false },
        'tgt-sync': { type: 'boolean', default: false },
        'peer-only': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    });
  } catch (err) {
    process.stderr.write(`bench:iscsi: ${(err as Error).message}\n${HELP}`);
    process.exit(2);
  }
})();
if (flags.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const RUNTIME = Number(flags.runtime);
if (!Number.isInteger(RUNTIME) || RUNTIME < 1) {
  process.stderr.write(`bench:iscsi: --runtime "${flags.runtime}" is not a whole number of seconds\n`);
  process.exit(2);
}

/** Progress goes to stderr so that stdout is only the table (or the JSON). */
const note = (text: string) => process.stderr.write(`${text}\n`);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---- child processes --------------------------------------------------------------------------------------------

interface Proc {
  name: string;
  child: ChildProcess;
  /** The end of what it printed, for the one line that says why it failed. */
  tail: string;
  exited: Promise<void>;
  stopping: boolean;
}

const procs = new Set<Proc>();
let reportDeath: (err: BenchError) => void = () => {};
/** Rejects when a long-running process (tgtd, sgwd, qemu-nbd) ends while the run still needs it. */
const death = new Promise<never>((_, reject) => (reportDeath = reject));
death.catch(() => {});

/** The last thing a process said; for sgwd's JSON log, just the message. */
function lastLine(text: string): string {
  const line = text.trim().split('\n').filter((l) => l.trim() !== '').at(-1)?.trim() ?? '(no output)';
  try {
    const entry = JSON.parse(line) as { msg?: string; err?: { message?: string } };
    return `last log line: ${entry.msg ?? line}${entry.err?.message ? `: ${entry.err.message}` : ''}`;
  } catch {
    return line;
  }
}

/** Set once cleanup begins: from then on nothing new is started. */
let closing = false;

function start(name: string, file: string, args: string[], opts: { longLived?: boolean; cwd?: string; onOutput?: (chunk: string) => void } = {}): Proc {
  if (closing && opts.longLived) throw new BenchError(`not starting ${name}: cleaning up`);
  const child = spawn(file, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc: Proc = { name, child, tail: '', exited: Promise.resolve(), stopping: false };
  const keep = (d: Buffer) => {
    const text = d.toString();
    proc.tail = (proc.tail + text).slice(-8192);
    opts.onOutput?.(text);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  proc.exited = new Promise<void>((resolve) => {
    child.once('error', (err) => {
      proc.tail += `\ncannot run ${file}: ${err.message}`;
      resolve();
    });
    child.once('close', (code, signal) => {
      procs.delete(proc);
      if (opts.longLived && !proc.stopping) {
        reportDeath(new BenchError(`${name} exited unexpectedly (${signal ?? `status ${code}`}): ${lastLine(proc.tail)}`));
      }
      resolve();
    });
  });
  procs.add(proc);
  return proc;
}

const running = (p: Proc) => p.child.exitCode === null && p.child.signalCode === null && p.child.pid !== undefined;

/** Signals a process and waits for it to end; SIGKILL after graceMs. Returns false when it had to be killed. */
async function stop(p: Proc, signal: NodeJS.Signals | null = 'SIGTERM', graceMs = 5000): Promise<boolean> {
  p.stopping = true;
  if (!running(p)) return true;
  if (signal) p.child.kill(signal);
  const ended = await Promise.race([p.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!ended) {
    p.child.kill('SIGKILL');
    await p.exited;
  }
  return ended;
}

/** Runs a command to completion; a non-zero status or a timeout is a BenchError naming the command. */
async function run(name: string, file: string, args: string[], timeoutMs = 30_000, cwd?: string): Promise<string> {
  let stdout = '';
  const p = start(name, file, args, { cwd });
  p.child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  const timedOut = await Promise.race([p.exited.then(() => false), sleep(timeoutMs).then(() => true)]);
  if (timedOut) {
    await stop(p, 'SIGKILL');
    throw new BenchError(`${name} did not finish within ${timeoutMs / 1000} s: ${lastLine(p.tail)}`);
  }
  if (p.child.exitCode !== 0) {
    throw new BenchError(`${name} failed (${p.child.signalCode ?? `status ${p.child.exitCode}`}): ${lastLine(p.tail)}`);
  }
  return stdout;
}

/** The work, unless a process it depends on dies first. */
const guard = <T>(work: Promise<T>): Promise<T> => Promise.race([work, death]);

async function waitFor(what: string, timeoutMs: number, ready: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await guard(ready())) return;
    await guard(sleep(100));
  }
  throw new BenchError(`${what} not ready within ${timeoutMs / 1000} s`);
}

/** What to undo at the end, newest first; each step runs even when an earlier one failed. */
const cleanups: Array<() => Promise<void>> = [];

function onPath(tool: string): boolean {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/sbin'];
  return dirs.some((dir) => dir !== '' && existsSync(path.join(dir, tool)));
}

/** qemu's iSCSI driver is a module of qemu-block-extra; without it qemu-nbd says only "Unknown protocol". */
function qemuHasIscsi(): boolean {
  const lib = '/usr/lib';
  const dirs = [lib, ...readdirSync(lib).map((d) => path.join(lib, d))];
  return dirs.some((dir) => existsSync(path.join(dir, 'qemu', 'block-iscsi.so')));
}

function checkTools(): void {
  const missing = ['tgtd', 'tgtadm', 'qemu-nbd', 'fio', 'iscsi-perf', 'iscsi-readcapacity16'].filter((tool) => !onPath(tool));
  if (!qemuHasIscsi()) missing.push("qemu's iSCSI driver (block-iscsi.so)");
  if (missing.length > 0) {
    throw new BenchError(`missing ${missing.join(', ')}: apt-get install -y tgt libiscsi-bin qemu-utils qemu-block-extra fio`);
  }
}

async function sizedFile(file: string, bytes: number): Promise<string> {
  const handle = await open(file, 'w');
  await handle.truncate(bytes);
  await handle.close();
  return file;
}

// ---- targets ----------------------------------------------------------------------------------------------------

interface Side {
  /** Column heading. */
  label: string;
  /** JSON key. */
  key: string;
  url: string;
  /** sgw's volume name, to watch its upload backlog. */
  sgwVolume?: string;
  nbdSocket: string;
  nbd?: Proc;
}

/**
 * tgtd with one 1 GiB file as LUN 1. Each tgtd has its own control socket (/run/tgtd/socket.N, N = --control-port),
 * so this one neither clashes with a tgtd somebody else runs on the default socket.0 nor lets tgtadm reach theirs.
 */
async function startTgt(dir: string, name: string, sync: boolean): Promise<string> {
  const port = await freePort();
  let control = 0;
  do control = 10_000 + Math.floor(Math.random() * 22_000); // tgtd takes 0..32767
  while (existsSync(path.join(TGTD_RUN_DIR, `socket.${control}`)) || existsSync(path.join(TGTD_RUN_DIR, `socket.${control}.lock`)));
  const tgtd = start(`tgtd (${name})`, 'tgtd', ['-f', '-C', String(control), '--iscsi', `portal=127.0.0.1:${port}`], { longLived: true, cwd: dir });
  // tgtadm waits forever for a tgtd that does not answer; 10 s is plenty for any of these.
  const tgtadm = (...args: string[]) => run(`tgtadm (${name}) ${args.slice(0, 6).join(' ')}`, 'tgtadm', ['-C', String(control), ...args], 10_000);
  let targetCreated = false;
  cleanups.push(async () => {
    tgtd.stopping = true;
    if (running(tgtd)) {
      // tgtd ignores SIGTERM while it has targets; and refuses to delete one while an initiator's session is
      // still closing ("this logical unit is still active"), hence the retries.
      // If it still won't, tgtd is killed below.
      for (const deadline = Date.now() + 10_000; targetCreated;) {
        try {
          await tgtadm('--lld', 'iscsi', '--op', 'delete', '--mode', 'target', '--tid', '1', '--force');
          break;
        } catch (err) {
          if (Date.now() > deadline) {
            note(`bench:iscsi: cleanup: ${(err as Error).message}`);
            break;
          }
          await sleep(100);
        }
      }
      await tgtadm('--op', 'delete', '--mode', 'system').catch(() => {});
      if (!(await stop(tgtd, null, 5000))) note(`tgtd (${name}) did not exit after "tgtadm --op delete --mode system"; killed`);
    }
    await rm(path.join(TGTD_RUN_DIR, `socket.${control}`), { force: true });
    await rm(path.join(TGTD_RUN_DIR, `socket.${control}.lock`), { force: true });
  });
  await waitFor(`tgtd (${name})`, 10_000, () => tgtadm('--op', 'show', '--mode', 'system').then(() => true, () => false));
  const disk = await sizedFile(path.join(dir, `${name}.img`), VOLUME_BYTES);
  const iqn = `iqn.2026-11.bench.tgt:${name}`;
  await tgtadm('--lld', 'iscsi', '--op', 'new', '--mode', 'target', '--tid', '1', '-T', iqn);
  targetCreated = true;
  await tgtadm('--lld', 'iscsi', '--op', 'new', '--mode', 'logicalunit', '--tid', '1', '--lun', '1', '-b', disk, ...(sync ? ['--bsoflags', 'sync'] : []));
  await tgtadm('--lld', 'iscsi', '--op', 'bind', '--mode', 'target', '--tid', '1', '-I', 'ALL');
  return `iscsi://127.0.0.1:${port}/${iqn}/1`;
}

/** What sgwd logged at warn level or above, counted by message: the odd things to report next to the table. */
const sgwdComplaints = new Map<string, number>();
let sgwdPartial = '';

function collectSgwdLog(chunk: string): void {
  const lines = (sgwdPartial + chunk).split('\n');
  sgwdPartial = lines.pop() ?? '';
  for (const line of lines) {
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
      if ((entry.level ?? 0) >= 40) {
        const text = `${entry.msg ?? '?'}${entry.err?.message ? `: ${entry.err.message}` : ''}`;
        sgwdComplaints.set(text, (sgwdComplaints.get(text) ?? 0) + 1);
      }
    } catch {
      if (line.trim() !== '') sgwdComplaints.set(line.trim(), (sgwdComplaints.get(line.trim()) ?? 0) + 1);
    }
  }
}

async function ensureBuilt(): Promise<void> {
  if (!existsSync(path.join(ROOT, 'dist', 'daemon', 'main.js'))) {
    note('dist/ is missing: npm run build');
    await run('npm run build', 'npm', ['run', 'build'], 300_000, ROOT);
  }
  const help = await run('sgwd --help', process.execPath, [SGWD, '--help']);
  if (!help.includes('--iscsi-listen')) {
    throw new BenchError('sgwd in dist/ has no --iscsi-listen (dist/ predates the iSCSI target): run npm run build');
  }
}

interface SgwDaemon {
  port: number;
  sgw: <T>(...args: string[]) => Promise<T>;
}

/** sgwd in the foreground on a state dir in the bench's directory, activated, with a buffer and a cache disk. */
async function startSgw(dir: string): Promise<SgwDaemon> {
  await ensureBuilt();
  const port = await freePort();
  const socket = path.join(dir, 'sgw.sock');
  const sgwd = start('sgwd', process.execPath, [SGWD, '--foreground', '--state-dir', path.join(dir, 'state'), '--socket', socket, '--iscsi-listen', `127.0.0.1:${port}`, '--nfs-listen', '127.0.0.1:0', '--portmap-listen', 'off'], {
    longLived: true,
    onOutput: collectSgwdLog,
  });
  cleanups.push(async () => {
    if (!(await stop(sgwd, 'SIGTERM', 15_000))) note('sgwd did not stop within 15 s of SIGTERM; killed');
    else if (sgwd.child.exitCode !== 0 && sgwd.child.exitCode !== null) note(`sgwd exited with status ${sgwd.child.exitCode} on SIGTERM: ${lastLine(sgwd.tail)}`);
  });
  const sgw = async <T>(...args: string[]): Promise<T> =>
    JSON.parse(await guard(run(`sgw ${args.slice(0, 2).join(' ')}`, process.execPath, [SGW, ...args, '--socket', socket, '--json'], 120_000))) as T;
  await waitFor('sgwd', 30_000, () => sgw('gateway', 'info').then(() => true, () => false));
  await sgw('activate', '--name', 'bench');
  await sgw('disk', 'add-upload-buffer', path.join(dir, 'buffer'), '--size', '3GiB');
  await sgw('disk', 'add-cache', path.join(dir, 'cache'), '--size', '3GiB');
  return { port, sgw };
}

interface VolumeDetails {
  targetName: string;
  status: string;
  uploadBacklogBytes: number;
}

async function sgwVolume(daemon: SgwDaemon, name: string, createArgs: string[], dir: string, label: string, key: string): Promise<Side> {
  const volume = await daemon.sgw<VolumeDetails>('volume', 'create', name, ...createArgs);
  return { label, key, url: `iscsi://127.0.0.1:${daemon.port}/${volume.targetName}/0`, sgwVolume: name, nbdSocket: path.join(dir, `${key}.nbd`) };
}

// ---- measurements -----------------------------------------------------------------------------------------------

/** qemu-nbd as the iSCSI initiator for fio; persistent (-t), else it exits after fio's first connection. */
async function startNbd(side: Side): Promise<void> {
  side.nbd = start(`qemu-nbd (${side.label})`, 'qemu-nbd', ['-t', '-f', 'raw', '--cache=none', '--aio=threads', '-e', '8', `--socket=${side.nbdSocket}`, side.url], { longLived: true });
  const nbd = side.nbd;
  cleanups.push(async () => void (await stop(nbd)));
  await waitFor(`qemu-nbd (${side.label}) on ${side.url}`, 20_000, async () => existsSync(side.nbdSocket));
}

interface FioJob {
  error: number;
  read: { bw_bytes: number; iops: number };
  write: { bw_bytes: number; iops: number };
}

async function fio(dir: string, side: Side, what: string, rw: string, bs: string, iodepth: number, timed: boolean): Promise<FioJob> {
  const output = path.join(dir, 'fio.json');
  await rm(output, { force: true });
  const timeoutMs = (timed ? RUNTIME : 240) * 1000 + 30_000;
  await guard(run(`fio ${what} on ${side.label}`, 'fio', [
    '--name=bench', '--ioengine=nbd', `--uri=nbd+unix:///?socket=${side.nbdSocket}`, `--rw=${rw}`, `--bs=${bs}`, `--iodepth=${iodepth}`,
    '--size=1g', '--direct=1', '--output-format=json', `--output=${output}`, ...(timed ? ['--time_based', `--runtime=${RUNTIME}`] : []),
  ], timeoutMs));
  // fio's nbd engine prints "fio: connected to NBD server" ahead of the JSON in the same file.
  const text = await readFile(output, 'utf8');
  const job = (JSON.parse(text.slice(text.indexOf('{'))) as { jobs: FioJob[] }).jobs[0];
  if (!job || job.error !== 0) throw new BenchError(`fio ${what} on ${side.label}: job error ${job?.error}`);
  return job;
}

/** iscsi-perf's own initiator, read-only. Transfer sizes are in logical blocks, so they follow the target's. */
async function iscsiPerf(side: Side, what: string, requests: number, bytesPerRequest: number, random: boolean): Promise<{ iops: number; bytesPerSecond: number }> {
  const blockSize = await blockSizeOf(side);
  const out = await guard(run(`iscsi-perf ${what} on ${side.label}`, 'iscsi-perf', [
    '-m', String(requests), '-b', String(bytesPerRequest / blockSize), '-t', String(RUNTIME), ...(random ? ['-r'] : []), side.url,
  ], RUNTIME * 1000 + 30_000));
  const averages = [...out.matchAll(/iops average (\d+)/g)];
  const iops = Number(averages.at(-1)?.[1]);
  if (!Number.isFinite(iops) || !out.includes('finished')) throw new BenchError(`iscsi-perf ${what} on ${side.label}: no result in: ${lastLine(out)}`);
  return { iops, bytesPerSecond: iops * bytesPerRequest };
}

const blockSizes = new Map<string, number>();

async function blockSizeOf(side: Side): Promise<number> {
  let size = blockSizes.get(side.url);
  if (size === undefined) {
    const out = await guard(run(`iscsi-readcapacity16 on ${side.label}`, 'iscsi-readcapacity16', [side.url], 30_000));
    const match = /LOGICAL BLOCK LENGTH IN BYTES:\s*(\d+)/i.exec(out);
    if (!match) throw new BenchError(`iscsi-readcapacity16 on ${side.label}: no block length in: ${lastLine(out)}`);
    size = Number(match[1]);
    blockSizes.set(side.url, size);
  }
  return size;
}

/** Lets sgw finish uploading what the last writes left in its buffer, so rows don't measure each other's tails. */
async function drained(daemon: SgwDaemon | undefined, side: Side, limitMs: number): Promise<{ seconds: number; backlog: number }> {
  const started = Date.now();
  if (!daemon || !side.sgwVolume) return { seconds: 0, backlog: 0 };
  for (;;) {
    const { uploadBacklogBytes } = await daemon.sgw<VolumeDetails>('volume', 'describe', side.sgwVolume);
    const seconds = (Date.now() - started) / 1000;
    if (uploadBacklogBytes === 0 || Date.now() - started > limitMs) return { seconds, backlog: uploadBacklogBytes };
    await guard(sleep(250));
  }
}

interface Row {
  name: string;
  unit: 'MB/s' | 'IOPS';
  measure: (side: Side) => Promise<number>;
  values: Map<string, number>;
}

function fioRow(dir: string, name: string, rw: string, bs: string, iodepth: number): Row {
  const unit = bs === '1m' ? 'MB/s' : 'IOPS';
  return {
    name, unit, values: new Map(),
    measure: async (side) => {
      const job = await fio(dir, side, name, rw, bs, iodepth, true);
      const result = rw.includes('read') ? job.read : job.write;
      return unit === 'MB/s' ? result.bw_bytes / 1e6 : result.iops;
    },
  };
}

function format(value: number | undefined, unit: string): string {
  if (value === undefined) return '-';
  if (unit === 'IOPS') return `${value.toFixed(0)} IOPS`;
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} MB/s`;
}

// ---- the run ----------------------------------------------------------------------------------------------------

async function bench(): Promise<void> {
  const begun = Date.now();
  // Other work on the machine moves tgt's figures as much as sgw's; the load says how far to trust a ratio.
  const loadAtStart = os.loadavg()[0] ?? 0;
  checkTools();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sgw-bench-iscsi-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));

  const sides: Side[] = [];
  const sync = flags['tgt-sync'];
  sides.push({ label: sync ? 'tgt (sync)' : 'tgt', key: 'tgt', url: await startTgt(dir, 'tgt', sync), nbdSocket: path.join(dir, 'tgt.nbd') });
  let daemon: SgwDaemon | undefined;
  if (flags['peer-only']) {
    sides.push({ label: sync ? 'tgt #2 (sync)' : 'tgt #2', key: 'tgt2', url: await startTgt(dir, 'tgt2', sync), nbdSocket: path.join(dir, 'tgt2.nbd') });
  } else {
    daemon = await startSgw(dir);
    sides.push(await sgwVolume(daemon, 'bench', ['--cached', '1GiB'], dir, 'sgw cached', 'sgwCached'));
    if (!flags['no-stored']) {
      const disk = await sizedFile(path.join(dir, 'stored-disk'), VOLUME_BYTES);
      sides.push(await sgwVolume(daemon, 'stored', ['--stored', '--disk', disk], dir, 'sgw stored', 'sgwStored'));
    }
  }

  // Reads must hit written data on every side: a fresh tgt file is sparse and a fresh sgw volume has no chunks,
  // and both answer those reads without touching a disk.
  const precondition: Record<string, { seconds: number; drainSeconds: number; backlogBytes: number }> = {};
  for (const side of sides) {
    await startNbd(side);
    const began = Date.now();
    await fio(dir, side, 'precondition (seq write 1M qd8, whole volume)', 'write', '1m', 8, false);
    const seconds = (Date.now() - began) / 1000;
    const drain = await drained(daemon, side, 60_000);
    precondition[side.key] = { seconds, drainSeconds: drain.seconds, backlogBytes: drain.backlog };
    note(`precondition ${side.label}: 1 GiB written in ${seconds.toFixed(1)} s${side.sgwVolume ? `, upload backlog ${drain.backlog === 0 ? 'drained' : `still ${(drain.backlog / MiB).toFixed(0)} MiB`} after ${drain.seconds.toFixed(1)} s more` : ''}`);
  }

  const fioRows = ['read', 'write'].flatMap((dirn) => [
    ...[1, 32].map((qd) => fioRow(dir, `seq ${dirn} 1M qd${qd}`, dirn, '1m', qd)),
    ...[1, 32].map((qd) => fioRow(dir, `rand ${dirn} 4K qd${qd}`, `rand${dirn}`, '4k', qd)),
  ]);
  const perfRows: Row[] = [
    { name: 'iscsi-perf rand read 4K qd32', unit: 'IOPS', values: new Map(), measure: async (side) => (await iscsiPerf(side, 'rand read 4K qd32', 32, 4096, true)).iops },
    { name: 'iscsi-perf seq read 1M qd8', unit: 'MB/s', values: new Map(), measure: async (side) => (await iscsiPerf(side, 'seq read 1M qd8', 8, MiB, false)).bytesPerSecond / 1e6 },
  ];
  // Reads before writes, so that read rows see the preconditioned volumes with nothing left to upload.
  const order = [...fioRows.filter((r) => r.name.includes('read')), ...perfRows, ...fioRows.filter((r) => r.name.includes('write'))];
  const drainNotes: string[] = [];
  let drainSeconds = 0;
  for (const row of order) {
    for (const side of sides) {
      // Only writes leave something to upload; the precondition's backlog was waited for above.
      if (row.name.includes('write')) {
        const drain = await drained(daemon, side, 30_000);
        drainSeconds += drain.seconds;
        if (drain.backlog > 0) drainNotes.push(`${row.name} on ${side.label}: started with ${(drain.backlog / MiB).toFixed(0)} MiB still to upload after waiting ${drain.seconds.toFixed(0)} s`);
      }
      row.values.set(side.key, await row.measure(side));
    }
    note(`${row.name.padEnd(30)} ${sides.map((s) => `${s.label} ${format(row.values.get(s.key), row.unit)}`).join('   ')}`);
  }
  if (daemon) drainNotes.push(`waited ${drainSeconds.toFixed(0)} s in all for sgw's upload backlog to drain before write rows`);

  const rows = [
    ...['seq read 1M', 'seq write 1M', 'rand read 4K', 'rand write 4K'].flatMap((prefix) => fioRows.filter((r) => r.name.startsWith(prefix))),
    ...perfRows,
  ];
  const [base, ...others] = sides;
  if (!base) throw new BenchError('no targets');
  const seconds = (Date.now() - begun) / 1000;
  const cpus = os.cpus();
  const machine = `${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${os.type()} ${os.release()}, load average ${loadAtStart.toFixed(1)} at start`;

  if (flags.json) {
    process.stdout.write(`${JSON.stringify({
      machine: { cores: cpus.length, cpu: cpus[0]?.model.trim(), memoryBytes: os.totalmem(), node: process.version, kernel: os.release(), loadAverageAtStart: loadAtStart },
      runtimeSecondsPerRow: RUNTIME, tgtSync: sync, peerOnly: flags['peer-only'], totalSeconds: seconds,
      targets: Object.fromEntries(sides.map((s) => [s.key, { label: s.label, url: s.url }])),
      precondition,
      rows: rows.map((r) => ({
        row: r.name, unit: r.unit,
        values: Object.fromEntries(sides.map((s) => [s.key, r.values.get(s.key)])),
        ratios: Object.fromEntries(others.map((s) => [s.key, (r.values.get(s.key) ?? NaN) / (r.values.get(base.key) ?? NaN)])),
      })),
      notes: drainNotes, drainWaitSeconds: drainSeconds,
      sgwdWarnings: Object.fromEntries(sgwdComplaints),
    }, null, 2)}\n`);
    return;
  }
  const cell = (text: string) => text.padEnd(13);
  const lines = [
    `${'row'.padEnd(30)}${cell(base.label)}${others.map((s) => `${cell(s.label)}${'ratio'.padEnd(8)}`).join('')}`.trimEnd(),
    ...rows.map((r) => {
      const b = r.values.get(base.key);
      return `${r.name.padEnd(30)}${cell(format(b, r.unit))}${others.map((s) => {
        const v = r.values.get(s.key);
        return `${cell(format(v, r.unit))}${(v !== undefined && b ? (v / b).toFixed(2) : '-').padEnd(8)}`;
      }).join('')}`.trimEnd();
    }),
  ];
  console.log(lines.join('\n'));
  console.log(`ratio = ${others.map((s) => s.label).join(', ')} / ${base.label}; ${RUNTIME} s per row and target; fio via qemu-nbd, iscsi-perf direct; files in ${os.tmpdir()}`);
  console.log(`machine: ${machine}; run took ${seconds.toFixed(0)} s`);
  for (const text of drainNotes) console.log(`note: ${text}`);
  for (const [text, count] of sgwdComplaints) console.log(`sgwd warned ${count}x: ${text}`);
}

async function cleanup(): Promise<void> {
  closing = true;
  while (cleanups.length > 0) {
    const step = cleanups.pop();
    try {
      await step?.();
    } catch (err) {
      note(`bench:iscsi: cleanup: ${(err as Error).message}`);
    }
  }
  for (const p of procs) await stop(p, 'SIGKILL');
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    note(`bench:iscsi: ${signal}, cleaning up`);
    reportDeath(new BenchError(`interrupted by ${signal}`));
  });
}

let status = 0;
try {
  await guard(bench());
} catch (err) {
  process.stderr.write(`bench:iscsi: ${err instanceof BenchError ? err.message : (err as Error).stack ?? String(err)}\n`);
  status = 1;
} finally {
  await cleanup();
}
process.exit(status);
