import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { peerCredentials, peerPid, UNKNOWN_PEER } from '../../../src/daemon/audit/peer-credentials.js';

/** A Unix socket server whose accepted sockets are handed to `onConnection`. */
async function listen(t: { teardown(fn: () => unknown): void }, onConnection: (socket: net.Socket) => void): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sgw-peer-'));
  const socketPath = path.join(dir, 'peer.sock');
  const server = net.createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  t.teardown(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });
  return socketPath;
}

/** The server's end of a connection this process makes to itself. */
async function connectedToSelf(t: Parameters<typeof listen>[0]): Promise<net.Socket> {
  let accepted!: (s: net.Socket) => void;
  const socket = new Promise<net.Socket>((resolve) => (accepted = resolve));
  const socketPath = await listen(t, accepted);
  const client = net.connect(socketPath);
  t.teardown(() => client.destroy());
  const server = await socket;
  t.teardown(() => server.destroy());
  return server;
}

t.test('the peer of an accepted socket: this process when it connects to itself', async (t) => {
  const server = await connectedToSelf(t);
  t.same(await peerCredentials(server), { uid: process.getuid!(), pid: process.pid });
});

t.test('the peer is another process, with its own uid when it runs as another user', async (t) => {
  let accepted!: (s: net.Socket) => void;
  const socket = new Promise<net.Socket>((resolve) => (accepted = resolve));
  const socketPath = await listen(t, accepted);
  const asNobody = process.getuid!() === 0;
  if (asNobody) await import('node:fs/promises').then((fs) => fs.chmod(path.dirname(socketPath), 0o755).then(() => fs.chmod(socketPath, 0o777)));
  const script = `const c = require('net').connect(${JSON.stringify(socketPath)}); c.on('data', () => {}); c.on('close', () => process.exit(0));`;
  const child = asNobody
    ? spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', script], { stdio: 'ignore' })
    : spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
  t.teardown(() => child.kill('SIGKILL'));
  const server = await socket;
  const peer = await peerCredentials(server);
  server.destroy();
  // setpriv execs node in the same process, so the pid is the child's.
  t.same(peer, { uid: asNobody ? 65534 : process.getuid!(), pid: child.pid });
});

t.test('a socket whose peer cannot be found yields nulls, never an error', async (t) => {
  const server = await connectedToSelf(t);
  t.same(await peerCredentials(server, async () => 'u_str ESTAB 0 0 * 1 * 2\n'), UNKNOWN_PEER, 'ss does not list the peer');
  t.same(await peerCredentials(server, () => Promise.reject(Object.assign(new Error('spawn ss ENOENT'), { code: 'ENOENT' }))), UNKNOWN_PEER, 'no ss');
  server.destroy();
  t.same(await peerCredentials(server), UNKNOWN_PEER, 'a closed socket');
  t.same(await peerCredentials(new net.Socket()), UNKNOWN_PEER, 'a socket never connected');
});

t.test('the other end in ss output', async (t) => {
  const output = [
    'u_str ESTAB 0      0      /run/sgw/sgw.sock 1884243 * 1884242 users:(("sgwd",pid=100,fd=21))',
    'u_str ESTAB 0      0                     * 1884242 * 1884243 users:(("node",pid=4076,fd=20),("sh",pid=4077,fd=20))',
    'u_str ESTAB 0      0      /tmp/a dir/with space.sock 1884250 * 1884251 users:(("sgwd",pid=100,fd=22))',
    'u_str ESTAB 0      0      * 1884251 * 1884250',
  ].join('\n');
  t.equal(peerPid(output, '1884243'), 4076, 'the first process holding the peer');
  t.equal(peerPid(output, '1884250'), null, 'a peer no visible process holds');
  t.equal(peerPid(output, '1884251'), 100, 'spaces in a path do not confuse it');
  t.equal(peerPid(output, '999'), null, 'no such socket');
  t.equal(peerPid(output, '84243'), null, 'inodes match whole');
});
