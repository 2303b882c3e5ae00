import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { SGWD, TestDaemon, runCommand } from '../harness/daemon.js';
import { VERSION } from '../../src/version.js';

/** Sends raw bytes on the control socket and collects what comes back until the daemon closes the connection. */
function rawExchange(socketPath: string, payload: Buffer | string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let reply = '';
    socket.on('data', (d) => (reply += d.toString()));
    socket.on('close', () => resolve(reply));
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)));
    socket.write(payload);
    setTimeout(() => socket.end(), 2000).unref();
  });
}

// Every daemon a test starts listens for iSCSI on loopback only, on a free port.
const LOOPBACK_ISCSI = ['--iscsi-listen', '127.0.0.1:0'];

t.test('answers ping and version on a 0660 socket', async (t) => {
  const d = await TestDaemon.start(t);
  t.match(await d.client('ping', {}), { pong: true });
  t.same(await d.client('version', {}), { version: VERSION });
  t.equal((await stat(d.socket)).mode & 0o777, 0o660);
});

t.test('refuses a second daemon on the same state dir, naming the first one', async (t) => {
  const d = await TestDaemon.start(t);
  const second = await runCommand(SGWD, ['--foreground', '--state-dir', d.stateDir, '--socket', `${d.socket}.2`, ...LOOPBACK_ISCSI]);
  t.equal(second.code, 1);
  t.match(second.stderr, new RegExp(`another sgwd \\(pid ${d.proc?.pid}\\) is already running`));
  t.same(await d.client('ping', {}), { pong: true, pid: d.proc?.pid }, 'the first daemon is unharmed');
});

t.test('refuses a socket another daemon answers on', async (t) => {
  const d = await TestDaemon.start(t);
  const other = await runCommand(SGWD, ['--foreground', '--state-dir', `${d.stateDir}-other`, '--socket', d.socket, ...LOOPBACK_ISCSI]);
  t.equal(other.code, 1);
  t.match(other.stderr, /another sgwd already answers at/);
});

t.test('SIGTERM drains and exits cleanly, removing the socket', async (t) => {
  const d = await TestDaemon.start(t);
  t.equal(await d.stop('SIGTERM'), 0);
  await t.rejects(stat(d.socket), { code: 'ENOENT' });
  t.match(d.output, /sgwd stopped/);
});

t.test('SIGTERM the moment the socket appears still stops cleanly', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sgw-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const socket = path.join(dir, 'sgw.sock');
  const proc = spawn(process.execPath, [SGWD, '--foreground', '--state-dir', path.join(dir, 'state'), '--socket', socket, ...LOOPBACK_ISCSI], { stdio: 'ignore' });
  t.teardown(() => proc.kill('SIGKILL'));
  const exited = once(proc, 'exit');
  while (!(await stat(socket).then(() => true, () => false))) await new Promise((r) => setTimeout(r, 1));
  proc.kill('SIGTERM');
  const [code, signal] = await exited;
  t.same({ code, signal }, { code: 0, signal: null }, 'the signal is handled, not fatal');
  await t.rejects(stat(socket), { code: 'ENOENT' });
});

t.test('malformed requests get the protocol error or a dropped connection, and the daemon stays up', async (t) => {
  const d = await TestDaemon.start(t);
  const notJson = await rawExchange(d.socket, 'this is not json\n');
  t.match(JSON.parse(notJson), { error: { code: -32700 } });
  const huge = await rawExchange(d.socket, Buffer.alloc(5 * 1024 * 1024, 'x'));
  t.equal(huge, '', 'an oversized message is cut off without an answer');
  const unknown = JSON.parse(await rawExchange(d.socket, '{"jsonrpc":"2.0","id":7,"method":"no.such.method"}\n'));
  t.match(unknown, { id: 7, error: { code: -32601 } });
  const badParams = JSON.parse(await rawExchange(d.socket, '{"jsonrpc":"2.0","id":8,"method":"disk.addCache","params":{"path":5}}\n'));
  t.match(badParams, { id: 8, error: { data: { code: 'SGW_INVALID_ARGUMENT', kind: 'usage' } } });
  const extraParams = JSON.parse(await rawExchange(d.socket, '{"jsonrpc":"2.0","id":9,"method":"ping","params":{"x":1}}\n'));
  t.match(extraParams, { id: 9, error: { data: { code: 'SGW_INVALID_ARGUMENT' } } });
  const notRequest = JSON.parse(await rawExchange(d.socket, '[1,2,3]\n'));
  t.ok(Array.isArray(notRequest) && notRequest.every((r: { error?: unknown }) => r.error), 'a batch of junk is answered with errors');
  t.match(await d.client('ping', {}), { pong: true });
});

t.test('kill -9 loses nothing the catalog acknowledged', async (t) => {
  const d = await TestDaemon.start(t);
  await d.sgwJson('activate', '--name', 'durable-gw', '--timezone', 'Europe/Berlin');
  const cache = path.join(path.dirname(d.stateDir), 'cache0');
  await d.sgwJson('disk', 'add-cache', cache, '--size', '64MiB');
  const before = await d.sgwJson<{ gateway: unknown }>('gateway', 'info');
  const disksBefore = await d.sgwJson('disk', 'list');
  t.equal(await d.stop('SIGKILL'), null, 'killed by the signal');
  await d.restart();
  const after = await d.sgwJson<{ gateway: unknown }>('gateway', 'info');
  t.same(after.gateway, before.gateway);
  t.same(await d.sgwJson('disk', 'list'), disksBefore);
});

t.test('without --foreground it detaches and returns once the socket answers', async (t) => {
  const d = await TestDaemon.start(t);
  await d.stop('SIGTERM');
  const started = await runCommand(SGWD, ['--state-dir', d.stateDir, '--socket', d.socket, ...LOOPBACK_ISCSI]);
  t.equal(started.code, 0, started.stderr);
  const pid = Number((await readFile(path.join(d.stateDir, 'sgwd.pid'), 'utf8')).trim());
  t.teardown(() => process.kill(pid, 'SIGKILL'));
  t.match(started.stdout, new RegExp(`sgwd started \\(pid ${pid}\\)`));
  t.match(await d.client('ping', {}), { pong: true });
  const again = await runCommand(SGWD, ['--state-dir', d.stateDir, '--socket', d.socket, ...LOOPBACK_ISCSI]);
  t.equal(again.code, 1);
  t.match(again.stderr, new RegExp(`pid ${pid}`));
});

t.test('bad daemon flags are a usage error', async (t) => {
  const result = await runCommand(SGWD, ['--no-such-flag']);
  t.equal(result.code, 2);
  t.match(result.stderr, /Unknown option '--no-such-flag'/);
  const listen = await runCommand(SGWD, ['--foreground', '--iscsi-listen', 'everywhere']);
  t.equal(listen.code, 2);
  t.match(listen.stderr, /^sgwd: --iscsi-listen "everywhere" is not HOST:PORT/);
});

t.test('an iSCSI port in use stops the start with one clear line', async (t) => {
  const blocker = net.createServer().listen(0, '127.0.0.1');
  await once(blocker, 'listening');
  t.teardown(() => blocker.close());
  const { port } = blocker.address() as net.AddressInfo;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sgw-port-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const result = await runCommand(SGWD, ['--foreground', '--state-dir', dir, '--socket', path.join(dir, 'sock'), '--iscsi-listen', `127.0.0.1:${port}`]);
  t.equal(result.code, 1);
  t.match(result.stderr, new RegExp(`^sgwd: the iSCSI port 127\\.0\\.0\\.1:${port} is in use by another program; stop it or start sgwd with --iscsi-listen HOST:PORT\n$`));
});
