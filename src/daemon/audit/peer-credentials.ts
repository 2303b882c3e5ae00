import { execFile } from 'node:child_process';
import { readFile, readlink } from 'node:fs/promises';
import type net from 'node:net';

/** Who is at the other end of a Unix socket; nulls where that could not be found out. */
export interface PeerCredentials {
  uid: number | null;
  pid: number | null;
}

export const UNKNOWN_PEER: PeerCredentials = Object.freeze({ uid: null, pid: null });

/** Runs `ss -xpnH` and returns its output; replaceable so the parsing can be tested on recorded output. */
export type SocketLister = () => Promise<string>;

const SS_TIMEOUT_MS = 2_000;
const SS_MAX_OUTPUT = 64 * 1024 * 1024;

/**
 * The process and real user id connected to an accepted Unix socket.
 *
 * Node offers no getsockopt(SO_PEERCRED), so this goes the long way round: our end's inode from /proc/self/fd, the
 * process holding the other end from `ss -xpn` (iproute2; sock_diag knows each Unix socket's peer, which
 * /proc/net/unix does not show), its real uid from /proc/PID/status. About 5-10 ms, mostly ss reading every
 * process's fd table; it sees only processes this daemon may inspect, which as root is all of them. The other
 * end must still be open, so call this while the peer waits for its answer. Never throws.
 */
export async function peerCredentials(socket: net.Socket, listSockets: SocketLister = runSs): Promise<PeerCredentials> {
  try {
    const fd = (socket as unknown as { _handle?: { fd?: unknown } | null })._handle?.fd;
    if (typeof fd !== 'number' || fd < 0) return UNKNOWN_PEER;
    const inode = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/self/fd/${fd}`))?.[1];
    if (!inode) return UNKNOWN_PEER;
    const pid = peerPid(await listSockets(), inode);
    if (pid === null) return UNKNOWN_PEER;
    return { uid: await realUid(pid), pid };
  } catch {
    return UNKNOWN_PEER;
  }
}

/**
 * The first process holding the socket whose peer is `inode`, from `ss -xpnH` lines such as
 * `u_str ESTAB 0 0 * 1884242 * 1884243 users:(("sgw",pid=4076,fd=20))`: the peer's inode is the last address
 * field, so the line that ends (before its users) with ours is the other end's.
 */
export function peerPid(ssOutput: string, inode: string): number | null {
  const endsWithOurs = new RegExp(`\\s${inode}(?:\\s+users:\\((.*)\\))?\\s*$`);
  for (const line of ssOutput.split('\n')) {
    const match = endsWithOurs.exec(line);
    if (!match) continue;
    const pid = /\bpid=(\d+)/.exec(match[1] ?? '')?.[1];
    return pid ? Number(pid) : null;
  }
  return null;
}

async function realUid(pid: number): Promise<number | null> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const uid = /^Uid:\s+(\d+)/m.exec(status)?.[1];
  return uid === undefined ? null : Number(uid);
}

function runSs(): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ss', ['-xpnH'], { timeout: SS_TIMEOUT_MS, maxBuffer: SS_MAX_OUTPUT, env: { ...process.env, LC_ALL: 'C' } }, (err, stdout) => {
      if (err) reject(err);
      else resolve(stdout);
    });
  });
}
