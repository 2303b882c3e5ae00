/**
 * Host-side helpers of the kernel-client lab: running programs, installing the Debian packages the lab needs,
 * free loopback ports and lo-only network namespaces.
 */
import { execFile, spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import path from 'node:path';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion; never throws for a non-zero status (code 127 when it could not start). */
export function run(file: string, args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(file, args, {
      timeout: opts.timeoutMs ?? 120_000,
      killSignal: 'SIGKILL',
      maxBuffer: 64 * 2 ** 20,
      env: { ...process.env, ...opts.env },
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
    }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 127) : 0;
      resolve({ code, stdout, stderr: err && typeof err.code !== 'number' ? `${stderr}${err.message}` : stderr });
    });
  });
}

/** Like run, but throws with the program's output when it fails. */
export async function must(file: string, args: string[], opts: Parameters<typeof run>[2] = {}): Promise<string> {
  const result = await run(file, args, opts);
  if (result.code !== 0) throw new Error(`${file} ${args.join(' ')} exited ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`);
  return result.stdout;
}

/** Runs a program with its output streamed line by line (long builds: debootstrap). */
export function runStreaming(file: string, args: string[], onLine: (line: string) => void, env: NodeJS.ProcessEnv = {}): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let pending = '';
    const feed = (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    };
    child.stdout.on('data', feed);
    child.stderr.on('data', feed);
    child.on('error', () => resolve(127));
    child.on('close', (code) => {
      if (pending) onLine(pending);
      resolve(code ?? 1);
    });
  });
}

const SYSTEM_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The full path of a program on PATH or in the system directories; undefined when absent. */
export async function which(program: string): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...SYSTEM_PATH];
  for (const dir of dirs) {
    const candidate = path.join(dir, program);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return undefined;
}

/** Program → Debian package of everything the lab runs on the host. */
export const HOST_PROGRAMS = {
  image: { debootstrap: 'debootstrap', 'mkfs.ext4': 'e2fsprogs', chroot: 'coreutils' },
  guest: { 'qemu-system-x86_64': 'qemu-system-x86', socat: 'socat', timeout: 'coreutils', ip: 'iproute2' },
  nfsPeer: { 'ganesha.nfsd': 'nfs-ganesha', rpcbind: 'rpcbind', unshare: 'util-linux', ip: 'iproute2' },
  tapePeer: { tgtd: 'tgt', tgtadm: 'tgt', tgtimg: 'tgt', ip: 'iproute2' },
} as const;

/** Packages whose files are not programs: ganesha's VFS backend. */
const EXTRA_FILES: Record<string, string> = {
  '/usr/lib/x86_64-linux-gnu/ganesha/libfsalvfs.so': 'nfs-ganesha-vfs',
};

let aptUpdated = false;

/**
 * Installs the Debian packages of the programs that are missing (apt-get update once per process, then
 * apt-get install --no-install-recommends), as test/run.sh does for the rest of the suite.
 */
export async function ensurePrograms(programs: Record<string, string>, log: (line: string) => void = () => {}): Promise<void> {
  const missing = new Set<string>();
  for (const [program, pkg] of Object.entries(programs)) if (!(await which(program))) missing.add(pkg);
  if (programs['ganesha.nfsd']) {
    for (const [file, pkg] of Object.entries(EXTRA_FILES)) {
      try {
        await access(file);
      } catch {
        missing.add(pkg);
      }
    }
  }
  if (missing.size === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`the kernel lab needs root to install ${[...missing].join(' ')} (and to run debootstrap, netns, tgtd)`);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    log('apt-get update');
    await must('apt-get', ['update', '-qq'], { env, timeoutMs: 600_000 });
    aptUpdated = true;
  }
  log(`apt-get install ${[...missing].join(' ')}`);
  await must('apt-get', ['install', '-y', '-qq', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=600', ...missing], { env, timeoutMs: 900_000 });
}

export { freePort } from '../harness/free-port.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

/**
 * A network namespace with only `lo` (up): a peer server in it can bind anything and still reach nobody but
 * processes in the same namespace; the guest reaches it through `ip netns exec NAME socat ...` forwards.
 * Deleted at teardown.
 */
export async function loopbackNetns(t: Teardown, prefix: string): Promise<string> {
  const name = `${prefix}-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
  await must('ip', ['netns', 'add', name]);
  t.teardown(() => run('ip', ['netns', 'delete', name]));
  await must('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
  const links = await must('ip', ['netns', 'exec', name, 'ip', '-o', 'link', 'show']);
  const names = links.split('\n').filter(Boolean).map((l) => l.split(':')[1]?.trim());
  if (names.join(',') !== 'lo') throw new Error(`netns ${name} has links other than lo: ${names.join(',')}`);
  return name;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until check() holds; throws with `what` after timeoutMs. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(200);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** What sgwd complained about in its JSON log (pino levels: 40 warn, 50 error, 60 fatal), counted by message. */
export function logComplaints(output: string): string {
  const complaints = new Map<string, number>();
  for (const line of output.split('\n')) {
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string };
      if ((entry.level ?? 0) >= 40) complaints.set(`${entry.level} ${entry.msg}`, (complaints.get(`${entry.level} ${entry.msg}`) ?? 0) + 1);
    } catch {
      // not a log line
    }
  }
  return complaints.size === 0 ? 'none' : [...complaints].map(([m, n]) => `${n}x ${m}`).join('; ');
}
