/**
 * The RPC listeners and the portmapper against a client nobody here wrote: rpcinfo from Debian's rpcbind package.
 * `-a` pings a program at an address of our choosing; `-p` and the listings only ever ask port 111, so those run
 * inside a fresh network namespace (unshare from util-linux, ip from iproute2) with the portmapper on 111 there.
 * A missing tool fails its test with the package to install: these tests must not pass by being skipped.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { IPPROTO_TCP, portmapperProgram } from '../../../../src/daemon/targets/rpc/portmapper.js';
import type { RpcProgram } from '../../../../src/daemon/targets/rpc/rpc-dispatcher.js';
import { startRpcServer } from './test-server.js';

const ROOT = fileURLToPath(new URL('../../../..', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./with-portmapper-on-111.ts', import.meta.url));
const TOOLS = { rpcinfo: 'rpcbind', unshare: 'util-linux', ip: 'iproute2' } as const;

function locate(binary: keyof typeof TOOLS): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    try {
      accessSync(path.join(dir, binary), constants.X_OK);
      return path.join(dir, binary);
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** The tools' paths, or a failed test naming the Debian packages to install. */
function tools(t: Test, ...binaries: Array<keyof typeof TOOLS>): Record<string, string> | undefined {
  const found = Object.fromEntries(binaries.map((binary) => [binary, locate(binary)]));
  const missing = binaries.filter((binary) => found[binary] === undefined);
  if (missing.length === 0) return found as Record<string, string>;
  t.fail(`${missing.join(', ')} not installed: apt-get install ${missing.map((binary) => TOOLS[binary]).join(' ')}`);
  return undefined;
}

interface Run {
  code: number;
  output: string;
}

function run(file: string, args: string[], options: { cwd?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 60_000, ...options }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

const MULTI = 400500;
const multiVersion: RpcProgram = { name: 'multi', program: MULTI, versions: { 3: {}, 4: {} } };
const server = await startRpcServer(t, [portmapperProgram(() => [{ program: MULTI, version: 3, protocol: IPPROTO_TCP, port: server.tcp.port }]), multiVersion]);
/** The universal address of a port on 127.0.0.1 (RFC 5665): the port's two bytes after the IPv4 address. */
const uaddr = (port: number) => `127.0.0.1.${port >> 8}.${port & 0xff}`;

t.test('rpcinfo pings NULL over TCP and over UDP', async (t) => {
  const { rpcinfo } = tools(t, 'rpcinfo') ?? {};
  if (!rpcinfo) return;
  for (const [transport, port] of [['tcp', server.tcp.port], ['udp', server.udp.port]] as const) {
    const ping = await run(rpcinfo, ['-a', uaddr(port), '-T', transport, '100000', '2']);
    t.equal(ping.code, 0, `${transport}: rpcinfo succeeds`, { output: ping.output });
    t.match(ping.output, 'program 100000 version 2 ready and waiting');
  }
});

t.test('rpcinfo finds the versions of a program from PROG_MISMATCH and pings each', async (t) => {
  const { rpcinfo } = tools(t, 'rpcinfo') ?? {};
  if (!rpcinfo) return;
  const probe = await run(rpcinfo, ['-a', uaddr(server.tcp.port), '-T', 'tcp', String(MULTI)]);
  t.equal(probe.code, 0, 'rpcinfo succeeds', { output: probe.output });
  t.match(probe.output, `program ${MULTI} version 3 ready and waiting\nprogram ${MULTI} version 4 ready and waiting`);
  const rpcbind = await run(rpcinfo, ['-a', uaddr(server.tcp.port), '-T', 'tcp', '100000', '4']);
  t.not(rpcbind.code, 0);
  t.match(rpcbind.output, 'Program/version mismatch; low version = 2, high version = 2', 'rpcbind version 4 is not served');
  const absent = await run(rpcinfo, ['-a', uaddr(server.udp.port), '-T', 'udp', '100003', '3']);
  t.not(absent.code, 0);
  t.match(absent.output, 'Program unavailable', 'a program nobody registered');
});

t.test('rpcinfo -p, -s and the full listing read the portmapper on port 111 (in a network namespace)', async (t) => {
  const found = tools(t, 'rpcinfo', 'unshare', 'ip');
  if (!found) return;
  // Root needs no user namespace for a network namespace, which keeps this working where user namespaces are off.
  const namespace = process.getuid?.() === 0 ? ['--net'] : ['--map-root-user', '--net'];
  const withPortmapper = (...rpcinfoArgs: string[]) => run(found.unshare!, [...namespace, 'sh', '-c', `"${found.ip}" link set lo up && exec "$@"`, 'sh',
    process.execPath, '--import', 'tsx', FIXTURE, found.rpcinfo!, ...rpcinfoArgs], { cwd: ROOT });
  const outcome = async (...rpcinfoArgs: string[]): Promise<Run> => {
    const wrapper = await withPortmapper(...rpcinfoArgs);
    t.equal(wrapper.code, 0, `a portmapper on port 111 in a network namespace for rpcinfo ${rpcinfoArgs.join(' ')}`, { output: wrapper.output });
    return wrapper.code === 0 ? (JSON.parse(wrapper.output) as Run) : { code: -1, output: wrapper.output };
  };

  const dump = await outcome('-p', '127.0.0.1');
  t.equal(dump.code, 0, 'rpcinfo -p succeeds', { output: dump.output });
  t.match(dump.output, /100000\s+2\s+tcp\s+111\s+portmapper\n\s+100000\s+2\s+udp\s+111\s+portmapper\n\s+100005\s+3\s+tcp\s+20048\s+mountd\n\s+100003\s+3\s+tcp\s+2049\s+nfs/);

  const concise = await outcome('-s', '127.0.0.1');
  t.equal(concise.code, 0, 'rpcinfo -s falls back from rpcbind v4 and v3 to portmap v2', { output: concise.output });
  t.match(concise.output, /100000\s+2\s+udp,tcp\s+portmapper/);
  t.match(concise.output, /100005\s+3\s+tcp\s+mountd/);

  const viaPortmapper = await outcome('-T', 'tcp', '127.0.0.1', '100000', '2');
  t.equal(viaPortmapper.code, 0, 'rpcinfo -T tcp looks the port up with GETPORT, then pings it', { output: viaPortmapper.output });
  const udpMount = await outcome('-T', 'udp', '127.0.0.1', '100005', '3');
  t.match(udpMount, { code: 1, output: /Program not registered/ }, 'MOUNT over UDP is not registered, so mount.nfs moves on to TCP');
});
