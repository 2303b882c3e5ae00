/**
 * Peer servers that prove the lab's NFS and tape scenarios before sgw serves those protocols: nfs-ganesha (VFS)
 * with rpcbind, and tgt's virtual tape library. Each runs in a network namespace of its own that has only `lo`, so
 * nothing binds outside it; the guest reaches them through `ip netns exec NS socat` forwards. Both are stopped and
 * their namespaces deleted at teardown, also when the test fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ensurePrograms, HOST_PROGRAMS, loopbackNetns, must, run, sleep, waitFor } from './host.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

function spawnLogged(file: string, args: string[], logFile: string): { child: ChildProcess; output: () => Promise<string> } {
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let text = '';
  child.stdout?.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (text += d.toString()));
  return { child, output: async () => `${text}${await readFile(logFile, 'utf8').catch(() => '')}` };
}

/** Stops a detached child and its process group: `signal` first, SIGKILL after graceMs. */
async function stopGroup(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    process.kill(-child.pid, signal);
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  }, graceMs);
  await exited;
  clearTimeout(timer);
}

export interface GaneshaPeer {
  netns: string;
  /** The exported directory on the host (the server's own copy of what clients write). */
  exportDir: string;
  /** The NFSv3 path (the directory) and the NFSv4 pseudo path of the export. */
  v3Path: string;
  v4Path: string;
  nfsPort: number;
  mountPort: number;
  log: () => Promise<string>;
}

/**
 * nfs-ganesha 4 (VFS backend) and rpcbind in a lo-only namespace, exporting a fresh directory for NFS v3 and v4.x.
 * rpcbind and ganesha get a private /run (a mount namespace of their own), so they never touch the host's.
 */
export async function startGanesha(t: Teardown): Promise<GaneshaPeer> {
  await ensurePrograms(HOST_PROGRAMS.nfsPeer);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sgw-lab-ganesha-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const exportDir = path.join(dir, 'export');
  await mkdir(exportDir);
  await mkdir(path.join(dir, 'recovery'));
  const nfsPort = 2049;
  const mountPort = 20048;
  await writeFile(path.join(dir, 'ganesha.conf'), `
NFS_CORE_PARAM { NFS_Port = ${nfsPort}; MNT_Port = ${mountPort}; Enable_NLM = false; Enable_RQUOTA = false; Protocols = 3, 4; }
NFSV4 { Graceless = true; RecoveryBackend = fs; RecoveryRoot = "${dir}/recovery"; Minor_Versions = 0, 1, 2; }
EXPORT {
  Export_Id = 1; Path = "${exportDir}"; Pseudo = /export; Protocols = 3, 4; Transports = TCP;
  Access_Type = RW; Squash = No_Root_Squash; SecType = sys;
  FSAL { Name = VFS; }
}
LOG { Default_Log_Level = EVENT; }
`);
  const netns = await loopbackNetns(t, 'sgwlab-nfs');
  const logFile = path.join(dir, 'ganesha.log');
  // Bind addresses are left out on purpose: inside a lo-only namespace there is nothing else to bind to, and
  // ganesha's Bind_addr=127.0.0.1 fails there (getaddrinfo with AI_ADDRCONFIG finds no address).
  const script = `set -e
mount -t tmpfs sgw-lab-run /run
rpcbind -f &
for i in $(seq 50); do [ -S /run/rpcbind.sock ] && break; sleep 0.1; done
exec ganesha.nfsd -F -f "${dir}/ganesha.conf" -L "${logFile}" -p /run/ganesha.pid -N NIV_EVENT`;
  const server = spawnLogged('ip', ['netns', 'exec', netns, 'unshare', '--mount', '--propagation', 'private', 'bash', '-c', script], logFile);
  t.teardown(() => stopGroup(server.child, 'SIGTERM', 8000));
  await waitFor('ganesha to register NFS and MOUNT with rpcbind', async () => {
    if (server.child.exitCode !== null) throw new Error(`ganesha exited ${server.child.exitCode}: ${await server.output()}`);
    const probe = await run('ip', ['netns', 'exec', netns, 'bash', '-c', `exec 3<>/dev/tcp/127.0.0.1/${nfsPort} && exec 4<>/dev/tcp/127.0.0.1/${mountPort}`]);
    return probe.code === 0;
  }, 30_000).catch(async (err: Error) => {
    throw new Error(`${err.message}\n${await server.output()}`);
  });
  return { netns, exportDir, v3Path: exportDir, v4Path: '/export', nfsPort, mountPort, log: server.output };
}

export interface TgtVtlPeer {
  netns: string;
  /** The portal inside the namespace (127.0.0.1:port). */
  port: number;
  target: string;
  drives: number;
  slots: number;
  barcodes: string[];
  log: () => Promise<string>;
}

/**
 * tgt's virtual tape library (after /usr/share/doc/tgt/README.vtl) in a lo-only namespace: one target with tape
 * drives on LUN 1..drives and a changer on the next LUN (drive elements 1.., picker 111, two import/export
 * elements 900-901, storage slots from 1024), each slot holding a 64 MB tape with barcode SGWL00nn.
 * tgtd uses a control port of its own, so another tgtd on the machine is not disturbed.
 */
export async function startTgtVtl(t: Teardown, opts: { drives?: number; slots?: number } = {}): Promise<TgtVtlPeer> {
  await ensurePrograms(HOST_PROGRAMS.tapePeer);
  const drives = opts.drives ?? 2;
  const slots = opts.slots ?? 6;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sgw-lab-tgt-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const netns = await loopbackNetns(t, 'sgwlab-vtl');
  const port = 3260;
  const control = 200 + Math.floor(Math.random() * 700);
  const tid = 1;
  const target = 'iqn.2026-11.io.sgw.lab.tgt:vtl';
  const logFile = path.join(dir, 'tgtd.log');
  const server = spawnLogged('ip', ['netns', 'exec', netns, 'tgtd', '-f', '-C', String(control), '--iscsi', `portal=127.0.0.1:${port}`], logFile);
  const tgtadm = (...args: string[]) => must('tgtadm', ['-C', String(control), '--lld', 'iscsi', ...args]);
  t.teardown(async () => {
    // tgtd ignores SIGTERM while it has targets: delete them, then shut the daemon down.
    await run('tgtadm', ['-C', String(control), '--lld', 'iscsi', '--op', 'delete', '--mode', 'target', '--tid', String(tid), '--force']);
    await run('tgtadm', ['-C', String(control), '--op', 'delete', '--mode', 'system']);
    await stopGroup(server.child, 'SIGTERM', 5000);
  });
  await waitFor('tgtd to answer on its control socket', async () => {
    if (server.child.exitCode !== null) throw new Error(`tgtd exited ${server.child.exitCode}: ${await server.output()}`);
    return (await run('tgtadm', ['-C', String(control), '--op', 'show', '--mode', 'system'])).code === 0;
  });

  const barcodes: string[] = [];
  const changerFile = path.join(dir, 'smc');
  await writeFile(changerFile, Buffer.alloc(1024));
  for (let i = 1; i <= slots; i++) {
    const barcode = `SGWL${String(i).padStart(4, '0')}`;
    barcodes.push(barcode);
    await must('tgtimg', ['--op', 'new', '--device-type', 'tape', '--barcode', barcode, '--size', '64', '--type', 'data', '--file', path.join(dir, barcode)]);
  }
  const changer = drives + 1;
  const lu = (lun: number, ...args: string[]) => tgtadm('--mode', 'logicalunit', '--tid', String(tid), '--lun', String(lun), ...args);
  const params = (lun: number, value: string) => lu(lun, '--op', 'update', '--params', value);
  await tgtadm('--op', 'new', '--mode', 'target', '--tid', String(tid), '-T', target);
  for (let i = 1; i <= drives; i++) {
    // A drive LU needs a backing file at creation; it starts with no medium (online=0) until the changer loads one.
    await lu(i, '--op', 'new', '-b', path.join(dir, barcodes[i - 1]!), '--device-type=tape');
    await params(i, 'online=0');
  }
  await lu(changer, '--op', 'new', '-b', changerFile, '--device-type=changer');
  await params(changer, `media_home=${dir}`);
  await params(changer, `element_type=4,start_address=1,quantity=${drives}`);
  for (let i = 1; i <= drives; i++) await params(changer, `element_type=4,address=${i},tid=${tid},lun=${i}`);
  await params(changer, 'element_type=1,start_address=111,quantity=1');
  await params(changer, 'element_type=3,start_address=900,quantity=2');
  await params(changer, `element_type=2,start_address=1024,quantity=${slots}`);
  for (let i = 1; i <= slots; i++) await params(changer, `element_type=2,address=${1023 + i},barcode=${barcodes[i - 1]},sides=1`);
  await tgtadm('--op', 'bind', '--mode', 'target', '--tid', String(tid), '-I', 'ALL');
  await sleep(200);
  return { netns, port, target, drives, slots, barcodes, log: server.output };
}
