import { stat } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { SGW, TestDaemon, runCommand } from '../harness/daemon.js';

const oneLine = (text: string) => text.trim().split('\n').length === 1;

t.test('--help shows the seven topics', async (t) => {
  const help = await runCommand(SGW, ['--help']);
  t.equal(help.code, 0);
  for (const topic of ['gateway', 'disk', 'share', 'volume', 'snapshot', 'tape', 'top']) {
    t.match(help.stdout, new RegExp(`^\\s+${topic}\\s+\\S`, 'm'), `topic ${topic} with a description`);
  }
});

t.test('a daemon that is not running gives one line saying where and how', async (t) => {
  const socket = path.join(os.tmpdir(), `sgw-absent-${process.pid}.sock`);
  const result = await runCommand(SGW, ['gateway', 'info'], { SGW_SOCKET: socket });
  t.equal(result.code, 1);
  t.ok(oneLine(result.stderr), result.stderr);
  t.match(result.stderr, `nothing answers at ${socket}`);
  t.match(result.stderr, /systemctl start sgwd/);
});

t.test('activate with no flags uses the embedded local store and is idempotent', async (t) => {
  const d = await TestDaemon.start(t);
  const info0 = await d.sgwJson<{ activated: boolean }>('gateway', 'info');
  t.equal(info0.activated, false);
  const first = await d.sgwJson<{ changed: boolean; gateway: { name: string; backend: unknown; gatewayId: string } }>('activate');
  t.equal(first.changed, true);
  t.same(first.gateway.backend, { kind: 'local' });
  t.match(first.gateway.gatewayId, /^sgw-[0-9a-f]{8}$/);
  const again = await d.sgwJson<{ changed: boolean; gateway: unknown }>('activate');
  t.equal(again.changed, false);
  t.same(again.gateway, first.gateway);
  const viaTopic = await d.sgwJson<{ changed: boolean }>('gateway', 'activate');
  t.equal(viaTopic.changed, false, 'gateway activate is the same command');

  const other = await d.sgw('activate', '--name', 'another-name');
  t.equal(other.code, 1);
  t.ok(oneLine(other.stderr));
  t.match(other.stderr, /already activated with other settings; add --force/);
  const forced = await d.sgwJson<{ changed: boolean; gateway: { name: string; gatewayId: string } }>('activate', '--name', 'another-name', '--force');
  t.equal(forced.changed, true);
  t.equal(forced.gateway.name, 'another-name');
  t.equal(forced.gateway.gatewayId, first.gateway.gatewayId, 'the gateway keeps its identity');
});

t.test('activate rejects bad settings with one line and stores nothing', async (t) => {
  const d = await TestDaemon.start(t);
  const cases: Array<[string[], number, RegExp]> = [
    [['--name', 'Not A Name!'], 2, /is not a gateway name/],
    [['--timezone', 'Mars/Olympus'], 2, /is not a time zone/],
    [['--endpoint', 'http://127.0.0.1:1'], 2, /--bucket/],
    [['--bucket', 'NO'], 2, /is not a bucket name/],
  ];
  for (const [args, code, message] of cases) {
    const result = await d.sgw('activate', ...args);
    t.equal(result.code, code, args.join(' '));
    t.ok(oneLine(result.stderr), result.stderr);
    t.match(result.stderr, message);
  }
  const info = await d.sgwJson<{ activated: boolean }>('gateway', 'info');
  t.equal(info.activated, false);
});

t.test('an unreachable S3 endpoint fails activation with one clear line and stores nothing', async (t) => {
  const d = await TestDaemon.start(t);
  const closed = await new Promise<number>((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
  const result = await d.sgw('activate', '--endpoint', `http://127.0.0.1:${closed}`, '--bucket', 'gateway-data');
  t.equal(result.code, 1);
  t.ok(oneLine(result.stderr), result.stderr);
  t.match(result.stderr, `127.0.0.1:${closed}`);
  t.equal((await d.sgwJson<{ activated: boolean }>('gateway', 'info')).activated, false);
});

t.test('disks: preallocated files, permanent allocation, the cache warning', async (t) => {
  const d = await TestDaemon.start(t);
  const dir = path.dirname(d.stateDir);
  const notYet = await d.sgw('disk', 'add-cache', path.join(dir, 'early'), '--size', '64MiB');
  t.equal(notYet.code, 1);
  t.match(notYet.stderr, /not activated yet; run sgw activate/);
  await d.sgwJson('activate');

  const buffer = await d.sgwJson<{ disk: { diskId: string; sizeBytes: number; role: string; kind: string } }>('disk', 'add-upload-buffer', path.join(dir, 'buffer0'), '--size', '128MiB');
  t.match(buffer.disk, { sizeBytes: 128 * 2 ** 20, role: 'upload-buffer', kind: 'file' });
  const allocated = await stat(path.join(dir, 'buffer0'));
  t.equal(allocated.size, 128 * 2 ** 20);
  t.ok(allocated.blocks * 512 >= 128 * 2 ** 20, 'the space is really reserved, not sparse');

  const cache = await d.sgw('disk', 'add-cache', path.join(dir, 'cache0'), '--size', '64M', '--json');
  t.equal(cache.code, 0, cache.stderr);
  t.match(cache.stderr, /^Warning: the cache \(64 MiB\) is smaller than the upload buffer \(128 MiB\)/);

  const twice = await d.sgw('disk', 'add-cache', path.join(dir, 'cache0'), '--size', '64M');
  t.equal(twice.code, 1);
  t.match(twice.stderr, /already allocated; a disk is added once and never removed/);

  const described = await d.sgwJson<{ path: string }>('disk', 'describe', buffer.disk.diskId);
  t.equal(described.path, path.join(dir, 'buffer0'));
  const byPath = await d.sgwJson<{ diskId: string }>('disk', 'describe', path.join(dir, 'buffer0'));
  t.equal(byPath.diskId, buffer.disk.diskId);
  const missing = await d.sgw('disk', 'describe', 'disk-00000000');
  t.equal(missing.code, 1);
  t.match(missing.stderr, /no disk disk-00000000/);
  t.equal((await d.sgwJson<unknown[]>('disk', 'list')).length, 2);
});

t.test('bad CLI input: one clear line, a non-zero exit, nothing changed', async (t) => {
  const d = await TestDaemon.start(t);
  await d.sgwJson('activate');
  const dir = path.dirname(d.stateDir);
  const cases: Array<[string, string[], number, RegExp]> = [
    ['unknown size unit', ['disk', 'add-cache', path.join(dir, 'c1'), '--size', '10XB'], 2, /"XB" is not a size unit/],
    ['negative size', ['disk', 'add-cache', path.join(dir, 'c2'), '--size', '-5GiB'], 2, /is not a size/],
    ['zero size', ['disk', 'add-cache', path.join(dir, 'c3'), '--size', '0'], 2, /greater than zero/],
    ['too small', ['disk', 'add-cache', path.join(dir, 'c4'), '--size', '1MiB'], 2, /between 64 MiB and 64 TiB/],
    ['missing file', ['disk', 'add-cache', path.join(dir, 'no-such-file')], 1, /does not exist; give --size/],
    ['missing directory', ['disk', 'add-cache', path.join(dir, 'no-dir', 'f'), '--size', '64MiB'], 1, /does not exist/],
    ['relative path', ['disk', 'add-cache', 'relative/file', '--size', '64MiB'], 2, /not an absolute path/],
    ['unknown flag', ['disk', 'list', '--colour'], 2, /Nonexistent flag: --colour/],
    ['missing argument', ['disk', 'add-cache'], 2, /Missing 1 required arg/],
    ['bad interval', ['top', '--interval', 'soon'], 2, /Expected an integer/],
  ];
  for (const [what, args, code, message] of cases) {
    const result = await d.sgw(...args);
    t.equal(result.code, code, `${what}: exit status`);
    t.ok(oneLine(result.stderr), `${what}: one line: ${result.stderr}`);
    t.match(result.stderr, message, what);
    t.equal(result.stdout, '', `${what}: nothing on stdout`);
  }
  t.same(await d.sgwJson('disk', 'list'), [], 'no disk was added');
  for (const name of ['c1', 'c2', 'c3', 'c4', 'no-such-file']) {
    await t.rejects(stat(path.join(dir, name)), { code: 'ENOENT' }, `${name} was not created`);
  }
});

t.test('every topic lists from the catalog, as JSON when piped', async (t) => {
  const d = await TestDaemon.start(t);
  for (const topic of ['volume', 'share', 'snapshot', 'tape']) {
    t.same(await d.sgwJson(topic, 'list'), [], `${topic} list`);
  }
  const top = await d.sgwJson<{ resources: unknown[]; gateway: { cachePercentUsed: number | null } }>('top');
  t.same(top.resources, [], 'sgw top --json: nothing to watch yet');
  t.equal(top.gateway.cachePercentUsed, null, 'and no cache to measure');
});
