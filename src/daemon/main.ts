import { spawn } from 'node:child_process';
import { mkdir, open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SgwError, UsageError, asSgwError } from '../errors.js';
import { defaultSocketPath, defaultStateDir } from '../paths.js';
import { VERSION } from '../version.js';
import { Daemon } from './daemon.js';
import { createLogger } from './logger.js';
import { SystemdNotify } from './sd-notify.js';

const DEFAULT_ISCSI_LISTEN = '0.0.0.0:3260';
const DEFAULT_NFS_LISTEN = '0.0.0.0:2049';
const DEFAULT_PORTMAP_LISTEN = '0.0.0.0:111';

const HELP = `Usage: sgwd [--foreground] [--state-dir DIR] [--socket PATH] [--iscsi-listen HOST:PORT] [--iscsi-advertise HOST:PORT]
            [--nfs-listen HOST:PORT] [--portmap-listen HOST:PORT|off] [--metrics-listen HOST:PORT]
            [--nfs4-domain DOMAIN]

The sgw storage gateway daemon. The sgw command drives it over its control socket.

  --foreground       stay attached and log JSON to stdout (systemd runs it this way)   env SGW_FOREGROUND=1
  --state-dir DIR    catalog, local object store and lock (default ${defaultStateDir()})   env SGW_STATE_DIR
  --socket PATH      control socket (default ${defaultSocketPath(process.env, () => false)})   env SGW_SOCKET
  --iscsi-listen HOST:PORT   the iSCSI portal (default ${DEFAULT_ISCSI_LISTEN})   env SGW_ISCSI_LISTEN
  --iscsi-advertise HOST:PORT   the portal address discovery tells initiators, when they reach sgwd through
                     a forward or NAT (default: the address each connection arrived on)   env SGW_ISCSI_ADVERTISE
  --nfs-listen HOST:PORT   NFS and MOUNT (default ${DEFAULT_NFS_LISTEN})   env SGW_NFS_LISTEN
  --portmap-listen HOST:PORT|off   the built-in portmapper, TCP and UDP (default ${DEFAULT_PORTMAP_LISTEN}; skipped
                     with a warning when a system rpcbind holds the port)   env SGW_PORTMAP_LISTEN
  --metrics-listen HOST:PORT   serve GET /metrics in Prometheus' text format there (e.g. 127.0.0.1:9464;
                     default: nowhere, sgw top reads them over the socket)   env SGW_METRICS_LISTEN
  --nfs4-domain DOMAIN   NFSv4 owners as user@DOMAIN, mapped through this host's passwd and group files, as
                     idmapd's Domain (default: numeric ids only, as Linux sends with sec=sys)   env SGW_NFS4_DOMAIN
  --version, --help
`;

interface Options {
  foreground: boolean;
  stateDir: string;
  socketPath: string;
  iscsiListen: { host: string; port: number };
  iscsiAdvertise: { host: string; port: number } | undefined;
  nfsListen: { host: string; port: number };
  portmapListen: { host: string; port: number } | undefined;
  metricsListen: { host: string; port: number } | undefined;
  nfs4Domain: string | undefined;
}

/** HOST:PORT, [IPv6]:PORT or a bare PORT (all addresses). */
function parseAddress(flag: string, text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]:|([^:]+):)?(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (!match || port > 65535) throw new UsageError(`${flag} "${text}" is not HOST:PORT (e.g. 0.0.0.0:3260)`);
  return { host: match[1] ?? match[2] ?? '0.0.0.0', port };
}

function formatAddress({ host, port }: { host: string; port: number }): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function parseOptions(argv: string[]): Options | 'help' | 'version' {
  const { values } = parseArgs({
    args: argv,
    options: {
      foreground: { type: 'boolean' },
      'state-dir': { type: 'string' },
      socket: { type: 'string' },
      'iscsi-listen': { type: 'string' },
      'iscsi-advertise': { type: 'string' },
      'nfs-listen': { type: 'string' },
      'portmap-listen': { type: 'string' },
      'metrics-listen': { type: 'string' },
      'nfs4-domain': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  if (values.version) return 'version';
  const env = { ...process.env };
  const advertise = values['iscsi-advertise'] ?? process.env.SGW_ISCSI_ADVERTISE;
  const portmap = values['portmap-listen'] ?? process.env.SGW_PORTMAP_LISTEN ?? DEFAULT_PORTMAP_LISTEN;
  const metrics = values['metrics-listen'] ?? process.env.SGW_METRICS_LISTEN;
  if (values['state-dir']) env.SGW_STATE_DIR = values['state-dir'];
  if (values.socket) env.SGW_SOCKET = values.socket;
  return {
    foreground: values.foreground ?? ['1', 'true', 'yes'].includes(process.env.SGW_FOREGROUND ?? ''),
    stateDir: defaultStateDir(env),
    // A daemon run by another user than root listens in its own place, never on the service's socket.
    socketPath: defaultSocketPath(env, () => false),
    iscsiListen: parseAddress('--iscsi-listen', values['iscsi-listen'] ?? process.env.SGW_ISCSI_LISTEN ?? DEFAULT_ISCSI_LISTEN),
    iscsiAdvertise: advertise ? parseAddress('--iscsi-advertise', advertise) : undefined,
    nfsListen: parseAddress('--nfs-listen', values['nfs-listen'] ?? process.env.SGW_NFS_LISTEN ?? DEFAULT_NFS_LISTEN),
    portmapListen: portmap === 'off' ? undefined : parseAddress('--portmap-listen', portmap),
    metricsListen: metrics ? parseAddress('--metrics-listen', metrics) : undefined,
    nfs4Domain: values['nfs4-domain'] || process.env.SGW_NFS4_DOMAIN || undefined,
  };
}

async function runForeground(options: Options): Promise<void> {
  const log = createLogger();
  const systemd = new SystemdNotify(log);
  // The socket answers before start() returns, so a signal can arrive mid-start: it is held until start settles.
  let stopRequested: NodeJS.Signals | undefined;
  let daemon: Daemon | undefined;
  const stop = (signal: NodeJS.Signals) => {
    if (stopRequested) return;
    stopRequested = signal;
    log.info({ signal }, 'signal received');
    systemd.stopping(`stopping on ${signal}: finishing requests in flight`);
    if (daemon) shutDown(daemon);
  };
  const shutDown = (running: Daemon) => {
    running.stop().then(() => systemd.settled()).then(() => process.exit(0), (err: unknown) => {
      log.error({ err }, 'sgwd did not stop cleanly');
      process.exit(1);
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  daemon = await Daemon.start({
    stateDir: options.stateDir, socketPath: options.socketPath, iscsiListen: options.iscsiListen,
    ...(options.iscsiAdvertise ? { iscsiAdvertise: formatAddress(options.iscsiAdvertise) } : {}),
    nfsListen: options.nfsListen, ...(options.portmapListen ? { portmapListen: options.portmapListen } : {}),
    ...(options.metricsListen ? { metricsListen: options.metricsListen } : {}),
    ...(options.nfs4Domain ? { nfs4Domain: options.nfs4Domain } : {}), log,
  });
  if (stopRequested) shutDown(daemon);
  else systemd.ready(`serving iSCSI on ${formatAddress(options.iscsiListen)}, NFS on ${formatAddress(options.nfsListen)}; control socket ${options.socketPath}`);
}

/**
 * Without --foreground sgwd detaches: a child runs the daemon with its log in the state dir, and this process
 * returns once the control socket answers, or reports why the child gave up.
 */
async function runDetached(options: Options): Promise<void> {
  await mkdir(options.stateDir, { recursive: true, mode: 0o750 });
  const logPath = path.join(options.stateDir, 'sgwd.log');
  const logFile = await open(logPath, 'a', 0o640);
  const logStart = (await logFile.stat()).size;
  const child = spawn(process.execPath, [
    process.argv[1] ?? '', '--foreground', '--state-dir', options.stateDir, '--socket', options.socketPath, '--iscsi-listen', formatAddress(options.iscsiListen),
    ...(options.iscsiAdvertise ? ['--iscsi-advertise', formatAddress(options.iscsiAdvertise)] : []),
    '--nfs-listen', formatAddress(options.nfsListen), '--portmap-listen', options.portmapListen ? formatAddress(options.portmapListen) : 'off',
    ...(options.metricsListen ? ['--metrics-listen', formatAddress(options.metricsListen)] : []),
    ...(options.nfs4Domain ? ['--nfs4-domain', options.nfs4Domain] : []),
  ], {
    detached: true,
    stdio: ['ignore', logFile.fd, logFile.fd],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const { DaemonClient } = await import('../client/daemon-client.js');
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const code = await Promise.race([exited, new Promise<'waiting'>((r) => setTimeout(() => r('waiting'), 100))]);
    if (code !== 'waiting') {
      const lines = (await readFile(logPath, 'utf8')).slice(logStart).trim().split('\n');
      throw new SgwError('SGW_DAEMON_START_FAILED', lines.at(-1)?.replace(/^sgwd: /, '') || `sgwd exited with status ${code}; see ${logPath}`);
    }
    // Another daemon may answer on this socket until the child gives up; only the child's own answer counts.
    const ready = await DaemonClient.call(options.socketPath, 'ping', {}).then((r) => r.pid === child.pid, () => false);
    if (ready) {
      await logFile.close();
      child.unref();
      process.stdout.write(`sgwd started (pid ${child.pid}); socket ${options.socketPath}; log ${logPath}\n`);
      return;
    }
  }
  child.kill('SIGTERM');
  throw new SgwError('SGW_DAEMON_START_FAILED', `sgwd did not answer within 30 s; see ${logPath}`);
}

export async function main(argv: string[]): Promise<void> {
  let options: ReturnType<typeof parseOptions>;
  try {
    options = parseOptions(argv);
  } catch (err) {
    process.stderr.write(`sgwd: ${(err as Error).message}\n${HELP}`);
    process.exit(2);
  }
  if (options === 'help') return void process.stdout.write(HELP);
  if (options === 'version') return void process.stdout.write(`${VERSION}\n`);
  try {
    await (options.foreground ? runForeground(options) : runDetached(options));
  } catch (err) {
    const e = asSgwError(err);
    process.stderr.write(`sgwd: ${e.message}\n`);
    process.exit(e.exitCode);
  }
}
