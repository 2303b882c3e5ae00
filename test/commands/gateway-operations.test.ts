import t from 'tap';
import type { BandwidthShow, MetricsSnapshot } from '../../src/rpc/api.js';
import { runCommand, SGW } from '../harness/daemon.js';
import { runClient, startVolumeGateway, volumeUrl } from '../harness/volume-gateway.js';

t.test('bandwidth limits: set, shown, kept across a restart, refused below AWS\'s floors, cleared', async (t) => {
  const { d } = await startVolumeGateway(t);
  const set = await d.sgwJson<BandwidthShow>('gateway', 'bandwidth', 'set', '--upload', '100Mbit', '--download', '20MB/s');
  t.same(set.settings?.rates, { uploadBitsPerSecond: 100_000_000, downloadBitsPerSecond: 160_000_000 });
  t.same(set.now, set.settings?.rates, 'without a schedule the limits hold now');

  for (const [args, message] of [
    [['--upload', '51199'], /upload rate limit must be a whole number of at least 51200 bit\/s/],
    [['--download', '100000'], /download rate limit .* at least 102400 bit\/s/],
    [['--upload', 'fast'], /"fast" is not a rate/],
    [[], /give --upload RATE, --download RATE or both/],
    [['--upload', '1Mbit', '--schedule', 'Mon-Fri 18:00-08:00'], /split a window across midnight/],
  ] as const) {
    const r = await d.sgw('gateway', 'bandwidth', 'set', ...args);
    t.equal(r.code, 2, `${args.join(' ')}: a usage error`);
    t.match(r.stderr, message);
    t.equal(r.stderr.trim().split('\n').length, 1, 'in one line');
  }

  const scheduled = await d.sgwJson<BandwidthShow>('gateway', 'bandwidth', 'set', '--upload', '1Mbit', '--schedule', 'Mon-Fri 08:00-18:00', '--schedule', 'Sat 10:00-12:00');
  t.same(scheduled.settings?.rates, {}, 'outside the windows nothing limits');
  t.same(scheduled.settings?.schedule.map((i) => [i.daysOfWeek, i.startHourOfDay, i.endHourOfDay, i.endMinuteOfHour, i.uploadBitsPerSecond]),
    [[[1, 2, 3, 4, 5], 8, 17, 59, 1e6], [[6], 10, 11, 59, 1e6]]);
  await d.stop();
  await d.restart();
  const kept = await d.sgwJson<BandwidthShow>('gateway', 'bandwidth', 'show');
  t.same(kept.settings, scheduled.settings, 'the limits survive a restart');
  const metrics = await d.client('gateway.metrics', {}) as MetricsSnapshot;
  t.same(metrics.bandwidth, kept.now, 'the metrics show the limits in force');
  t.same((await d.sgwJson<BandwidthShow>('gateway', 'bandwidth', 'clear')).settings, null);
  t.same((await d.sgwJson<BandwidthShow>('gateway', 'bandwidth', 'show')).now, {});
});

t.test('gateway stop drains what volumes hold before the daemon exits, and gateway start brings it back', async (t) => {
  const { d } = await startVolumeGateway(t);
  await d.sgwJson('volume', 'create', 'busy', '--cached', '1GiB');
  // 16 distinct MiB behind a 16 Mbit/s limit: about 8 s of uploading left when the stop comes.
  await d.sgwJson('gateway', 'bandwidth', 'set', '--upload', '16Mbit');
  const mib = Array.from({ length: 16 }, (_, i) => i);
  const io = await runClient('qemu-io', ['-f', 'raw', ...mib.flatMap((i) => ['-c', `write -P ${i + 1} ${i}M 1M`]), await volumeUrl(d, 'busy')]);
  t.equal(io.code, 0, io.stderr);

  const exited = new Promise<number | null>((resolve) => d.proc!.once('exit', (code) => resolve(code)));
  const stop = await d.sgw('gateway', 'stop', '--json');
  t.equal(stop.code, 0, stop.stderr);
  const lines = stop.stdout.trim().split('\n');
  const result = lines.findIndex((l) => l === '{');
  t.ok(result > 0, 'the drain reported its progress first');
  t.match(JSON.parse(lines[0]!), { progress: /^uploading: [\d.]+ [KM]iB of volumes/ });
  t.same(JSON.parse(lines.slice(result).join('\n')), { stopped: true, pid: d.proc!.pid, drained: true });
  t.equal(await exited, 0, 'sgwd exits cleanly');
  t.match(d.output, /stop requested over the control socket/);

  await d.restart();
  const after = await d.client('gateway.metrics', {}) as MetricsSnapshot;
  t.equal(after.uploadQueue.volumeBytes, 0, 'nothing was left to upload after the drain');
  const read = await runClient('qemu-io', ['-f', 'raw', ...mib.flatMap((i) => ['-c', `read -P ${i + 1} ${i}M 1M`]), await volumeUrl(d, 'busy')]);
  t.equal(read.code, 0, read.stderr);
  t.notMatch(read.stdout, /Pattern verification failed/, 'the data is all there');

  const env = { SGW_SOCKET: d.socket, SGW_STATE_DIR: d.stateDir, SGW_ISCSI_LISTEN: '127.0.0.1:0', SGW_NFS_LISTEN: '127.0.0.1:0', SGW_PORTMAP_LISTEN: 'off' };
  await d.stop();
  const started = await runCommand(SGW, ['gateway', 'start'], env);
  t.equal(started.code, 0, started.stderr);
  t.match(started.stdout, /sgwd started \(pid \d+\)/);
  t.teardown(() => runCommand(SGW, ['gateway', 'stop', '--no-drain'], env));
  const again = await runCommand(SGW, ['gateway', 'start'], env);
  t.equal(again.code, 0);
  t.match(again.stderr, /already running/);
  const stopped = await runCommand(SGW, ['gateway', 'stop', '--no-drain', '--json'], env);
  t.equal(stopped.code, 0, stopped.stderr);
  t.match(JSON.parse(stopped.stdout), { stopped: true, drained: false });
  t.not((await runCommand(SGW, ['gateway', 'info'], env)).code, 0, 'no daemon answers after the stop');
});
