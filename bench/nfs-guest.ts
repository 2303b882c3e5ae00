/**
 * The guest rows of bench/nfs.ts (--guest): one boot of the kernel lab's Linux guest (test/kernel) that mounts
 * every server with NFSv3 and runs test/kernel/scenarios/nfs-bench.sh, fio and a creates loop, row by row. The
 * guest reaches each server through forwards of its own pair of guest ports (qemu's guestfwd is keyed by guest port
 * alone, so two servers cannot share 2049), with the mount options of the NFS lab.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { GUEST_GATEWAY_HOST, type Forward } from '../test/kernel/guest-runner.js';
import { boot, BOOT_TIMEOUT_MS, labImage } from '../test/kernel/lab.js';

const SCENARIO = fileURLToPath(new URL('../test/kernel/scenarios/nfs-bench.sh', import.meta.url));
/** The scenario's rows, in the order it runs them. */
export const GUEST_ROWS = ['seq-write', 'seq-read', 'creates'] as const;
export type GuestRow = (typeof GUEST_ROWS)[number];
/** fio stops a job after this many seconds (the file it leaves is then shorter): a slow server costs bounded time. */
const FIO_RUNTIME_S = 60;

export interface GuestServer {
  /** A word: the mount's name in the guest and the key of its results. */
  name: string;
  /** NFSv3 through MOUNT, or NFSv4.1 (no MOUNT: the path is looked up from the server's root). */
  version: '3' | '4.1';
  /** The path the server exports for that version. */
  exportPath: string;
  /** NFS and MOUNT on 127.0.0.1 on the host, or in `netns`. */
  nfsPort: number;
  mountPort: number;
  netns?: string;
}

/** A server's figure for a row (bytes/s or files/s), or what the guest said went wrong. */
export type GuestFigure = { value: number } | { error: string };

/**
 * Boots the guest once against `servers` (measured in that order within each row) and returns every server's
 * figure per row. Throws a one-line-able Error when the guest fails as a whole (no image, boot, scenario error).
 */
export async function guestBench(opts: {
  servers: GuestServer[];
  sizeMiB: number;
  files: number;
  runId: string;
  log: (line: string) => void;
}): Promise<Map<GuestRow, Map<string, GuestFigure>>> {
  const comments = { comment: (text: string) => opts.log(text) };
  const image = await labImage(comments);
  const forwards: Forward[] = [];
  const mounts = opts.servers.map((server, i) => {
    // 2049/20048 for the first server, 3049/30048 for the second, and so on.
    const nfs = 2049 + 1000 * i;
    const mount = 20048 + 10_000 * i;
    forwards.push({ guestPort: nfs, hostPort: server.nfsPort, netns: server.netns }, { guestPort: mount, hostPort: server.mountPort, netns: server.netns });
    const options = server.version === '3' ? `vers=3,proto=tcp,port=${nfs},mountport=${mount},mountproto=tcp,nolock` : `vers=4.1,proto=tcp,port=${nfs}`;
    return `${server.name} ${GUEST_GATEWAY_HOST}:${server.exportPath} ${options}\n`;
  });
  const result = await boot(comments, 'nfs-bench', {
    image,
    scenario: await readFile(SCENARIO, 'utf8'),
    env: { LAB_RUN_ID: opts.runId, LAB_BENCH_MIB: opts.sizeMiB, LAB_BENCH_FILES: opts.files, LAB_BENCH_RUNTIME: FIO_RUNTIME_S },
    files: { mounts: mounts.join('') },
    forwards,
    timeoutMs: BOOT_TIMEOUT_MS,
  });
  const results = result.blocks.get('results')?.toString();
  if (result.status !== 0 || results === undefined) {
    const failed = result.steps.filter((s) => s.text.startsWith('FAIL ')).at(-1)?.text;
    const how = result.timedOut ? `hard timeout after ${result.seconds.toFixed(0)} s` : result.status === null ? `no exit status (qemu ${result.qemuExit})` : `exit ${result.status}`;
    throw new Error(`the guest failed (${how})${failed ? `: ${failed}` : results === undefined ? ': no results block' : ''}`);
  }
  const figures = new Map<GuestRow, Map<string, GuestFigure>>(GUEST_ROWS.map((row) => [row, new Map()]));
  for (const line of results.trim().split('\n')) {
    const match = /^(\S+) (\S+) (?:error (.*)|(\d+(?:\.\d+)?))$/.exec(line);
    const byServer = figures.get(match?.[2] as GuestRow);
    if (!match || !byServer) throw new Error(`the guest's results have a line the bench does not read: ${line}`);
    byServer.set(match[1]!, match[3] === undefined ? { value: Number(match[4]) } : { error: match[3] });
  }
  return figures;
}
