import { truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { TestDaemon } from '../harness/daemon.js';
import { startVolumeGateway } from '../harness/volume-gateway.js';

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
  const { d, dir } = await startVolumeGateway(t);

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
    [['volume', 'create', 'x'], 2, /^Error: At least one of the following must be provided: --cached, --from-snapshot, --stored$/m],
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

t.test('stored volumes on a local disk', async (t) => {
  const { d, dir } = await startVolumeGateway(t);
  const diskPath = path.join(dir, 'stored-disk');
  await truncate(diskPath, 2 * 2 ** 30).catch(async () => {
    await writeFile(diskPath, '');
    await truncate(diskPath, 2 * 2 ** 30);
  });
  const stored = await d.sgwJson<Volume & { diskPath: string }>('volume', 'create', 'files', '--stored', '--disk', diskPath);
  t.match(stored, { type: 'stored', status: 'AVAILABLE', sizeBytes: 2 * 2 ** 30, diskPath });
  const cases: Array<[string[], RegExp]> = [
    [['volume', 'create', 'x', '--cached', '1GiB', '--stored', '--disk', diskPath], /cannot also be provided|exactly one/i],
    [['volume', 'create', 'x', '--stored'], /--disk/],
    [['volume', 'create', 'x', '--disk', diskPath], /--stored/],
    [['volume', 'create', 'x', '--cached', '1GiB', '--preserve-existing-data'], /--stored/],
  ];
  for (const [args, message] of cases) {
    const result = await d.sgw(...args);
    t.equal(result.code, 2, args.join(' '));
    t.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    t.match(result.stderr, message, args.join(' '));
  }
  const again = await d.sgw('volume', 'create', 'files2', '--stored', '--disk', diskPath);
  t.equal(again.code, 1);
  t.match(again.stderr, /already used by the gateway/);
});
