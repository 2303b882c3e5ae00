import { truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import type { SnapshotDetails, SnapshotScheduleInfo, SnapshotSummary, VolumeDetails } from '../../src/rpc/api.js';
import { runClient, startVolumeGateway, volumeUrl } from '../harness/volume-gateway.js';

t.test('snapshot, keep writing, restore: over iSCSI the restore reads the content of the instant', async (t) => {
  const { d } = await startVolumeGateway(t);
  await d.sgwJson('volume', 'create', 'src', '--cached', '1GiB');
  const src = await volumeUrl(d, 'src');
  const qemuIo = async (url: string, ...commands: string[]) => {
    const r = await runClient('qemu-io', ['-f', 'raw', ...commands.flatMap((c) => ['-c', c]), url]);
    t.equal(r.code, 0, `${commands.join('; ')}: ${r.stderr}`);
    t.notMatch(r.stdout, /Pattern verification failed/, commands.join('; '));
  };
  await qemuIo(src, 'write -P 0x11 0 8M');

  const created = await d.sgwJson<SnapshotDetails>('snapshot', 'create', 'src', '--description', 'before the upgrade', '--wait');
  t.match(created, { status: 'COMPLETED', progressPercent: 100, volumeName: 'src', description: 'before the upgrade', sizeBytes: 2 ** 30 });
  await qemuIo(src, 'write -P 0x22 0 4M');

  const listed = await d.sgwJson<SnapshotSummary[]>('snapshot', 'list', '--volume', 'src');
  t.same(listed.map((s) => s.snapshotId), [created.snapshotId]);
  const inBucket = await d.sgwJson<SnapshotSummary[]>('snapshot', 'list', '--from-bucket');
  t.same(inBucket.map((s) => [s.snapshotId, s.status]), [[created.snapshotId, 'COMPLETED']]);

  const restored = await d.sgwJson<VolumeDetails>('volume', 'create', 'restored', '--from-snapshot', created.snapshotId);
  t.equal(restored.sizeBytes, 2 ** 30);
  const copy = await volumeUrl(d, 'restored');
  await qemuIo(copy, 'read -P 0x11 0 8M', 'read -P 0 8M 1M');
  await qemuIo(src, 'read -P 0x22 0 4M', 'read -P 0x11 4M 4M');

  // The restored volume keeps its own references: deleting the snapshot leaves it whole.
  t.match(await d.sgwJson('snapshot', 'delete', created.snapshotId), { deleted: created.snapshotId });
  t.same(await d.sgwJson('snapshot', 'list'), []);
  await qemuIo(copy, 'read -P 0x11 0 8M');
});

t.test('snapshot commands refuse what does not exist, in one line', async (t) => {
  const { d } = await startVolumeGateway(t);
  for (const args of [['snapshot', 'describe', 'snap-00000000'], ['snapshot', 'create', 'nope'], ['volume', 'create', 'x', '--from-snapshot', 'snap-00000000'], ['snapshot', 'list', '--volume', 'nope']]) {
    const r = await d.sgw(...args);
    t.equal(r.code, 1, args.join(' '));
    t.equal(r.stderr.trim().split('\n').length, 1, `${args.join(' ')}: ${r.stderr}`);
    t.match(r.stderr, /no (snapshot|volume)/);
  }
  const both = await d.sgw('volume', 'create', 'y', '--cached', '1GiB', '--from-snapshot', 'snap-00000000');
  t.equal(both.code, 2, 'a size and a snapshot at once is a usage error');
});

t.test('schedules: daily from the creation hour by default, set with --start-at/--every or --cron, kept across restarts', async (t) => {
  const { d } = await startVolumeGateway(t);
  const volume = await d.sgwJson<VolumeDetails>('volume', 'create', 'v', '--cached', '1GiB');
  const initial = await d.sgwJson<SnapshotScheduleInfo>('snapshot', 'schedule', 'v');
  t.same(initial.schedule, { kind: 'interval', startAt: new Date(volume.createdAt).getUTCHours(), everyHours: 24 }, 'AWS default in UTC');
  const hourOf = (iso: string) => new Date(iso).getUTCHours();

  const every8 = await d.sgwJson<SnapshotScheduleInfo>('snapshot', 'schedule', 'v', '--start-at', '3', '--every', '8');
  t.same(every8.schedule, { kind: 'interval', startAt: 3, everyHours: 8 });
  t.ok([3, 11, 19].includes(hourOf(every8.nextRunAt)) && new Date(every8.nextRunAt).getUTCMinutes() === 0, every8.nextRunAt);
  t.ok(Date.parse(every8.nextRunAt) - Date.now() <= 8 * 3600_000);

  const cron = await d.sgwJson<SnapshotScheduleInfo>('snapshot', 'schedule', 'v', '--cron', '30 2 * * *');
  t.same(cron.schedule, { kind: 'cron', expression: '30 2 * * *' });
  t.equal(new Date(cron.nextRunAt).toISOString().slice(11, 16), '02:30');

  for (const [args, message] of [
    [['--every', '5'], /1, 2, 4, 8, 12, 24/],
    [['--start-at', '24'], /0 to 23/],
    [['--cron', 'not a cron'], /cron/],
    [['--cron', '0 1 * * *', '--every', '8'], /cannot also be provided/],
  ] as const) {
    const r = await d.sgw('snapshot', 'schedule', 'v', ...args);
    t.equal(r.code, 2, args.join(' '));
    t.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    t.match(r.stderr, message);
  }
  await d.stop();
  await d.restart();
  t.same((await d.sgwJson<SnapshotScheduleInfo>('snapshot', 'schedule', 'v')).schedule, { kind: 'cron', expression: '30 2 * * *' }, 'kept across a restart');
});

t.test('restore onto a stored volume, clone and snapshot the recovery point: the CLI over iSCSI', async (t) => {
  const { d, dir } = await startVolumeGateway(t);
  await d.sgwJson('volume', 'create', 'src', '--cached', '1GiB');
  const qemuIo = async (url: string, ...commands: string[]) => {
    const r = await runClient('qemu-io', ['-f', 'raw', ...commands.flatMap((c) => ['-c', c]), url]);
    t.equal(r.code, 0, `${commands.join('; ')}: ${r.stderr}`);
    t.notMatch(r.stdout, /Pattern verification failed/, commands.join('; '));
  };
  await qemuIo(await volumeUrl(d, 'src'), 'write -P 0x33 0 8M');
  const snapshot = await d.sgwJson<SnapshotDetails>('snapshot', 'create', 'src', '--wait');

  const disk = path.join(dir, 'restore-disk');
  await writeFile(disk, '');
  await truncate(disk, 2 ** 30);
  const restored = await d.sgwJson<VolumeDetails>('volume', 'create', 'copy', '--stored', '--disk', disk, '--from-snapshot', snapshot.snapshotId);
  t.match(restored, { type: 'stored', diskPath: disk, status: /^(RESTORING|AVAILABLE)$/ });
  await qemuIo(await volumeUrl(d, 'copy'), 'read -P 0x33 0 8M', 'read -P 0 8M 1M');

  let described = await d.sgwJson<VolumeDetails>('volume', 'describe', 'src');
  for (const deadline = Date.now() + 30_000; described.uploadBacklogBytes > 0 && Date.now() < deadline;) {
    await new Promise((r) => setTimeout(r, 200));
    described = await d.sgwJson<VolumeDetails>('volume', 'describe', 'src');
  }
  t.ok(described.recoveryPointAt, 'the uploaded volume has a recovery point');
  await d.sgwJson('volume', 'clone', 'src', 'twin');
  await qemuIo(await volumeUrl(d, 'twin'), 'read -P 0x33 0 8M');
  const fromPoint = await d.sgwJson<SnapshotDetails>('snapshot', 'create', 'src', '--from-recovery-point', '--wait');
  t.match(fromPoint, { status: 'COMPLETED', recoveryPointAt: described.recoveryPointAt });

  const stored = await d.sgw('volume', 'clone', 'copy', 'twin2');
  t.equal(stored.code, 1, 'a stored volume has no recovery point');
  t.match(stored.stderr, /stored volume/);
  t.equal(stored.stderr.trim().split('\n').length, 1, stored.stderr);
  const both = await d.sgw('volume', 'create', 'x', '--stored', '--disk', disk, '--from-snapshot', snapshot.snapshotId, '--preserve-existing-data');
  t.equal(both.code, 2, 'restoring and preserving at once is a usage error');
});
