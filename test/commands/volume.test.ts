import path from 'node:path';
import t from 'tap';
import { TestDaemon } from '../harness/daemon.js';

interface Volume { volumeId: string; name: string; sizeBytes: number; status: string; type: string; bytesUsed: number }

t.test('volumes need an upload buffer and a cache first', async (t) => {
  const d = await TestDaemon.start(t);
  await d.sgwJson('activate');
  const noBuffer = await d.sgw('volume', 'create', '--cached', '1GiB');
  t.equal(noBuffer.code, 1);
  t.match(noBuffer.stderr, /need an upload buffer; add one with sgw disk add-upload-buffer/);
  await d.sgwJson('disk', 'add-upload-buffer', path.join(path.dirname(d.stateDir), 'buffer'), '--size', '64MiB');
  const noCache = await d.sgw('volume', 'create', '--cached', '1GiB');
  t.equal(noCache.code, 1);
  t.match(noCache.stderr, /need cache storage; add it with sgw disk add-cache/);
  t.same(await d.sgwJson('volume', 'list'), []);
});

t.test('create, list, describe and delete cached volumes; they survive a restart', async (t) => {
  const d = await TestDaemon.start(t);
  const dir = path.dirname(d.stateDir);
  await d.sgwJson('activate');
  await d.sgwJson('disk', 'add-upload-buffer', path.join(dir, 'buffer'), '--size', '64MiB');
  await d.sgwJson('disk', 'add-cache', path.join(dir, 'cache'), '--size', '128MiB');

  const unnamed = await d.sgwJson<Volume>('volume', 'create', '--cached', '500GiB');
  t.match(unnamed, { type: 'cached', status: 'AVAILABLE', sizeBytes: 500 * 2 ** 30, bytesUsed: 0 });
  t.match(unnamed.volumeId, /^vol-[0-9a-f]{8}$/);
  t.equal(unnamed.name, unnamed.volumeId, 'without a name the ID is the name');
  const named = await d.sgwJson<Volume>('volume', 'create', 'db01', '--cached', '32TiB');
  t.equal(named.name, 'db01');

  const cases: Array<[string[], number, RegExp]> = [
    [['volume', 'create', 'small', '--cached', '10MiB'], 2, /holds 1 GiB to 32 TiB, not 10 MiB/],
    [['volume', 'create', 'big', '--cached', '33TiB'], 2, /holds 1 GiB to 32 TiB/],
    [['volume', 'create', 'db01', '--cached', '1GiB'], 1, /a volume named db01 already exists/],
    [['volume', 'create', 'Bad_Name', '--cached', '1GiB'], 2, /is not a volume name/],
    [['volume', 'create', 'x'], 2, /Missing required flag cached/],
    [['volume', 'describe', 'nope'], 1, /no volume nope/],
    [['disk', 'add-cache', path.join(dir, 'cache2'), '--size', '64MiB'], 1, /delete the volumes before adding disks/],
  ];
  for (const [args, code, message] of cases) {
    const result = await d.sgw(...args);
    t.equal(result.code, code, args.join(' '));
    t.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    t.match(result.stderr, message, args.join(' '));
  }
  t.equal((await d.sgwJson<Volume[]>('volume', 'list')).length, 2);

  t.equal(await d.stop('SIGKILL'), null);
  await d.restart();
  const described = await d.sgwJson<Volume>('volume', 'describe', 'db01');
  t.match(described, { volumeId: named.volumeId, sizeBytes: 32 * 2 ** 40, status: 'AVAILABLE' });
  t.same(await d.sgwJson('volume', 'delete', unnamed.volumeId), { deleted: unnamed.volumeId });
  t.same((await d.sgwJson<Volume[]>('volume', 'list')).map((v) => v.name), ['db01']);
});
