/**
 * Boots the lab guest (guest-image.ts) under qemu with one scenario script and returns the scenario's exit status.
 *
 * - Software emulation (TCG, 2 vCPUs): KVM does not work on this project's machines.
 * - The root image is opened with snapshot=on: every boot starts from the pristine image, nothing persists.
 * - Network: qemu user networking with restrict=on, so the guest reaches nothing at all except the forwards:
 *   each `{ guestPort, hostPort, netns? }` makes 10.0.2.100:guestPort in the guest a connection, through a socat
 *   that qemu spawns per connection, to 127.0.0.1:hostPort on the host (or inside network namespace `netns`).
 * - The scenario, its environment and any extra files reach the guest through fw_cfg (opt/io.sgw.lab/NAME, copied
 *   to /run/lab/NAME at boot), so a new scenario never means a new image.
 * - The console (ttyS0) is streamed line by line; the guest ends with `SGW-LAB-EXIT <status>`. Lines
 *   `SGW-LAB-BEGIN name` … `SGW-LAB-END name sha256` carry files back (guest/lib.sh emit_block).
 * - qemu and every socat it spawned are killed when the guest is done, at the hard timeout, and (through
 *   `timeout`, which qemu runs under) even if this process dies first.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT_MARKER, FW_CFG_PREFIX, type GuestImage } from './guest-image.js';
import { ensurePrograms, HOST_PROGRAMS } from './host.js';

/** The address the guest reaches forwarded ports on (it exists only inside qemu's user network). */
export const GUEST_GATEWAY_HOST = '10.0.2.100';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export interface Forward {
  /** Port on 10.0.2.100 in the guest. */
  guestPort: number;
  /** Port on 127.0.0.1 on the host (or in the namespace). */
  hostPort: number;
  /** Network namespace the host end lives in. */
  netns?: string;
}

export interface RunGuestOptions {
  image: GuestImage;
  /** The scenario script (bash), run as /run/lab/scenario; it may source "$LAB_DIR/lib.sh". */
  scenario: string;
  /** Exported to the scenario (names: A-Z, 0-9, _). */
  env?: Record<string, string | number>;
  /** Extra files, at /run/lab/NAME in the guest. */
  files?: Record<string, string | Buffer>;
  forwards?: Forward[];
  /** Hard limit for the whole boot; qemu is killed when it passes. */
  timeoutMs: number;
  /** Every console line as it arrives (escape sequences and CRs removed). */
  onConsole?: (line: string) => void;
  memoryMiB?: number;
  cpus?: number;
}

export interface GuestResult {
  /** The scenario's exit status; null when the guest never printed it (crash, timeout). */
  status: number | null;
  timedOut: boolean;
  /** The whole console, cleaned. */
  console: string;
  /** Files the scenario emitted with emit_block, checked against their SHA-256. */
  blocks: Map<string, Buffer>;
  /** `SGW-LAB-STEP` and `SGW-LAB-FAIL` lines with seconds since qemu started. */
  steps: { at: number; text: string }[];
  seconds: number;
  /** qemu's exit code or signal, for diagnosis. */
  qemuExit: string;
}

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
const FILE_NAME = /^[A-Za-z0-9._-]{1,40}$/;
const RESERVED_FILES = new Set(['main', 'env', 'lib.sh', 'scenario']);

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

// eslint-disable-next-line no-control-regex
const ESCAPES = /\x1b\[[0-9;?]*[A-Za-z]|\x1b[c()][0-9A-B]?|\r/g;

function forwardArg(f: Forward): string {
  for (const port of [f.guestPort, f.hostPort]) if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`bad port ${port}`);
  if (f.netns !== undefined && !/^[A-Za-z0-9_.-]+$/.test(f.netns)) throw new Error(`bad netns name ${f.netns}`);
  const socat = `socat STDIO TCP:127.0.0.1:${f.hostPort}`;
  return `guestfwd=tcp:${GUEST_GATEWAY_HOST}:${f.guestPort}-cmd:${f.netns ? `ip netns exec ${f.netns} ${socat}` : socat}`;
}

export async function runGuest(opts: RunGuestOptions): Promise<GuestResult> {
  await ensurePrograms(HOST_PROGRAMS.guest);
  const work = await mkdtemp(path.join(os.tmpdir(), 'sgw-lab-guest-'));
  try {
    const files = new Map<string, string | Buffer>();
    for (const [name, content] of Object.entries(opts.files ?? {})) {
      if (!FILE_NAME.test(name) || RESERVED_FILES.has(name)) throw new Error(`file name ${name} is reserved or not [A-Za-z0-9._-]{1,40}`);
      files.set(name, content);
    }
    const envLines = Object.entries(opts.env ?? {}).map(([name, value]) => {
      if (!ENV_NAME.test(name)) throw new Error(`env name ${name} is not [A-Z_][A-Z0-9_]*`);
      return `${name}=${shellQuote(String(value))}`;
    });
    files.set('env', `LAB_DIR=/run/lab\nLAB_HOST=${GUEST_GATEWAY_HOST}\n${envLines.join('\n')}\n`);
    files.set('main', await readFile(path.join(HERE, 'guest', 'main.sh')));
    files.set('lib.sh', await readFile(path.join(HERE, 'guest', 'lib.sh')));
    files.set('scenario', opts.scenario);
    const fwCfg: string[] = [];
    for (const [name, content] of files) {
      const file = path.join(work, name);
      await writeFile(file, content);
      fwCfg.push('-fw_cfg', `name=${FW_CFG_PREFIX}/${name},file=${file}`);
    }

    const net = ['user', 'id=n0', 'restrict=on', ...(opts.forwards ?? []).map(forwardArg)].join(',');
    const qemu = [
      'qemu-system-x86_64', '-accel', 'tcg,thread=multi', '-smp', String(opts.cpus ?? 2), '-m', String(opts.memoryMiB ?? 1024),
      '-nodefaults', '-display', 'none', '-monitor', 'none', '-serial', 'stdio', '-no-reboot',
      '-kernel', opts.image.kernel, '-initrd', opts.image.initrd,
      '-append', 'root=/dev/vda rw console=ttyS0 quiet systemd.show_status=0 panic=-1',
      '-drive', `file=${opts.image.rootfs},format=raw,if=virtio,snapshot=on`,
      '-netdev', net, '-device', 'virtio-net-pci,netdev=n0',
      '-device', 'virtio-rng-pci',
      ...fwCfg,
    ];
    // `timeout` is the backstop if this process dies: it kills its process group (qemu and the forwards' socats).
    const backstopSeconds = Math.ceil(opts.timeoutMs / 1000) + 30;
    const started = Date.now();
    const child = spawn('timeout', ['--signal=KILL', String(backstopSeconds), ...qemu], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    process.once('exit', killGroup);

    const lines: string[] = [];
    const steps: GuestResult['steps'] = [];
    let status: number | null = null;
    let pending = '';
    let stderr = '';
    const onLine = (raw: string) => {
      const line = raw.replace(ESCAPES, '');
      lines.push(line);
      const at = Math.round((Date.now() - started) / 100) / 10;
      const marker = /^SGW-LAB-(STEP|FAIL) (.*)$/.exec(line);
      if (marker) steps.push({ at, text: `${marker[1] === 'FAIL' ? 'FAIL ' : ''}${marker[2]}` });
      const exit = new RegExp(`^${EXIT_MARKER} (\\d+)\\s*$`).exec(line);
      if (exit) status = Number(exit[1]);
      opts.onConsole?.(line);
    };
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      for (const part of parts) onLine(part);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));

    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      onLine(`[guest-runner] hard timeout after ${opts.timeoutMs} ms: killing qemu`);
      killGroup();
    }, opts.timeoutMs);
    const qemuExit = await new Promise<string>((resolve) => {
      child.on('error', (err) => resolve(`spawn failed: ${err.message}`));
      child.on('close', (code, signal) => resolve(signal ? `signal ${signal}` : `exit ${code}`));
    });
    clearTimeout(timer);
    killGroup();
    process.removeListener('exit', killGroup);
    if (pending) onLine(pending);
    if (stderr.trim()) for (const line of stderr.trim().split('\n')) onLine(`[qemu] ${line}`);

    return { status, timedOut, console: lines.join('\n'), blocks: parseBlocks(lines), steps, seconds: (Date.now() - started) / 1000, qemuExit };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Blocks of base64 between `SGW-LAB-BEGIN name` and `SGW-LAB-END name sha256`; throws when one is damaged. */
export function parseBlocks(lines: string[]): Map<string, Buffer> {
  const blocks = new Map<string, Buffer>();
  let current: { name: string; body: string[] } | undefined;
  for (const line of lines) {
    const begin = /^SGW-LAB-BEGIN (\S+)$/.exec(line);
    const end = /^SGW-LAB-END (\S+) ([0-9a-f]{64})$/.exec(line);
    if (begin) current = { name: begin[1]!, body: [] };
    else if (end && current !== undefined && current.name === end[1]) {
      const content = Buffer.from(current.body.join(''), 'base64');
      const sha = createHash('sha256').update(content).digest('hex');
      if (sha !== end[2]) throw new Error(`block ${current.name} arrived damaged on the console (sha256 ${sha}, guest said ${end[2]})`);
      blocks.set(current.name, content);
      current = undefined;
    } else if (current) current.body.push(line.trim());
  }
  return blocks;
}

/** A short report of a guest run for test output: the steps with their times, and the console's tail on failure. */
export function summarize(result: GuestResult, tailLines = 60): string {
  const steps = result.steps.map((s) => `  ${s.at.toFixed(1).padStart(6)} s  ${s.text}`).join('\n');
  const head = `guest ${result.status === null ? 'printed no exit status' : `exited ${result.status}`} after ${result.seconds.toFixed(1)} s (qemu ${result.qemuExit}${result.timedOut ? ', hard timeout' : ''})`;
  const tail = result.status === 0 ? '' : `\n--- console tail ---\n${result.console.split('\n').slice(-tailLines).join('\n')}`;
  return `${head}\n${steps}${tail}`;
}
