import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { pino } from 'pino';
import { DaemonClient } from '../../../src/client/daemon-client.js';
import { AuditLog } from '../../../src/daemon/audit/audit-log.js';
import { auditedCalls, changesState } from '../../../src/daemon/audit/audited-calls.js';
import { ControlServer } from '../../../src/daemon/control-server.js';
import { createLogger } from '../../../src/daemon/logger.js';
import { SgwError } from '../../../src/errors.js';
import type { Method } from '../../../src/rpc/api.js';

t.test('which calls change state', async (t) => {
  for (const method of ['ping', 'version', 'gateway.info', 'gateway.metrics', 'gateway.audit', 'gateway.bandwidth.show', 'disk.list', 'disk.describe',
    'volume.list', 'volume.describe', 'volume.chap.list', 'share.refresh.status', 'tape.policy.show', 'snapshot.list']) {
    t.notOk(changesState(method, {}), `${method} only reads`);
  }
  for (const method of ['gateway.activate', 'gateway.drain', 'gateway.stop', 'gateway.bandwidth.set', 'gateway.bandwidth.clear', 'disk.addCache',
    'volume.create', 'volume.delete', 'volume.chap.set', 'volume.chap.delete', 'share.refresh', 'share.sync', 'tape.eject', 'tape.policy.clear']) {
    t.ok(changesState(method, {}), `${method} changes state`);
  }
  t.notOk(changesState('snapshot.schedule', { volume: 'db01' }), 'snapshot.schedule with a volume alone shows');
  t.ok(changesState('snapshot.schedule', { volume: 'db01', everyHours: 4 }), 'with a setting it sets');
});

t.test('the control server records state-changing calls, after they finish, with their caller', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sgw-audited-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const log = await AuditLog.open(dir);
  let deleted = false;
  const server = new ControlServer({
    ping: () => ({ pong: true }),
    'volume.list': () => [],
    'volume.chap.set': (params) => ({ volume: (params as { volume: string }).volume }),
    'volume.delete': () => {
      if (deleted) throw new SgwError('SGW_NOT_FOUND', 'no volume db01; secret abcdefghijkl is not it');
      deleted = true;
      return { deleted: 'db01' };
    },
    'gateway.stop': () => {
      throw new Error('boom');
    },
  }, createLogger('silent'), auditedCalls(log));
  const socket = path.join(dir, 'sgw.sock');
  await server.listen(socket);
  t.teardown(async () => {
    await server.close();
    await log.close();
  });
  const call = (method: string, params: unknown) => DaemonClient.call(socket, method as Method, params as never);

  await call('ping', {});
  await call('volume.list', {});
  await call('volume.chap.set', { volume: 'db01', initiatorName: 'iqn.x', secret: 'abcdefghijkl' });
  await call('volume.delete', { volume: 'db01' });
  await t.rejects(call('volume.delete', { volume: 'db01', secret: 'abcdefghijkl' }), { code: 'SGW_NOT_FOUND' });
  await t.rejects(call('gateway.stop', {}), { code: 'SGW_INTERNAL' });
  await t.rejects(call('volume.nonsense', {}), 'an unknown method fails');

  // Each answer came after its record, so everything is there now.
  const records = await log.read();
  const me = { uid: process.getuid!(), pid: process.pid };
  t.match(records, [
    { ...me, action: 'volume.chap.set', params: { volume: 'db01', initiatorName: 'iqn.x', secret: '***' }, result: 'ok' },
    { ...me, action: 'volume.delete', params: { volume: 'db01' }, result: 'ok' },
    { ...me, action: 'volume.delete', params: { secret: '***' }, result: { error: 'SGW_NOT_FOUND', message: 'no volume db01; secret *** is not it' } },
    { ...me, action: 'gateway.stop', result: { error: 'SGW_INTERNAL', message: /boom/ } },
  ]);
  t.equal(records.length, 4, 'reads, pings and unknown methods are not recorded');
  for (const r of records) t.ok(Date.parse(r.time) <= Date.now());
});

t.test('a batch is recorded call by call; a line that is not JSON is not recorded', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sgw-audited-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const log = await AuditLog.open(dir);
  const server = new ControlServer({ 'tape.eject': () => ({}), 'tape.list': () => [] }, createLogger('silent'), auditedCalls(log));
  const socket = path.join(dir, 'sgw.sock');
  await server.listen(socket);
  t.teardown(async () => {
    await server.close();
    await log.close();
  });
  const net = await import('node:net');
  const send = (text: string) => new Promise<string>((resolve) => {
    const c = net.connect(socket, () => c.write(text));
    let got = '';
    c.on('data', (d) => {
      got += d.toString();
      if (got.endsWith('\n')) {
        c.end();
        resolve(got);
      }
    });
  });
  await send('{"jsonrpc":"2.0","id":1,"method":"tape.eject"\n');
  t.same(await log.read(), []);
  const answer = await send(`${JSON.stringify([
    { jsonrpc: '2.0', id: 1, method: 'tape.eject', params: { barcode: 'A' } },
    { jsonrpc: '2.0', id: 2, method: 'tape.list' },
    { jsonrpc: '2.0', id: 3, method: 'tape.eject', params: { barcode: 'B' } },
  ])}\n`);
  t.equal(JSON.parse(answer).length, 3);
  t.same((await log.read()).map((r) => r.params), [{ barcode: 'A' }, { barcode: 'B' }]);
});

t.test('a log that cannot be written does not fail the call', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sgw-audited-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const log = await AuditLog.open(dir);
  await log.close();
  const server = new ControlServer({ 'tape.eject': () => ({ ejected: true }) }, createLogger('silent'), auditedCalls(log));
  const socket = path.join(dir, 'sgw.sock');
  await server.listen(socket);
  t.teardown(() => server.close());
  t.same(await DaemonClient.call(socket, 'tape.eject', { barcode: 'A' }), { ejected: true });
});

t.test('a caller that cannot be identified is recorded with nulls, and the daemon says why, once', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sgw-audited-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const log = await AuditLog.open(dir);
  const lines: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
  const server = new ControlServer({ 'tape.eject': () => ({}) }, logger, auditedCalls(log));
  const socket = path.join(dir, 'sgw.sock');
  await server.listen(socket);
  t.teardown(async () => {
    await server.close();
    await log.close();
  });
  // Without ss on the PATH the peer cannot be looked up.
  const savedPath = process.env.PATH;
  process.env.PATH = path.join(dir, 'no-such-bin');
  t.teardown(() => {
    process.env.PATH = savedPath;
  });
  await DaemonClient.call(socket, 'tape.eject', { barcode: 'A' });
  await DaemonClient.call(socket, 'tape.eject', { barcode: 'B' });
  process.env.PATH = savedPath;
  t.match(await log.read(), [{ uid: null, pid: null, action: 'tape.eject', result: 'ok' }, { uid: null, pid: null }]);
  t.equal(lines.length, 1, 'one warning, not one per call');
  t.match(JSON.parse(lines[0]!), { msg: /could not be identified.*ss \(iproute2\).*CAP_SYS_PTRACE/ });
});
