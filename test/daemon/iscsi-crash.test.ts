import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import type { VolumeDetails } from '../../src/rpc/api.js';
import { runClient, startVolumeGateway, volumeUrl } from '../harness/volume-gateway.js';

const MiB = 2 ** 20;
const WRITES = 256;

t.test('SIGKILL during 256 MiB of iSCSI writes loses no acknowledged block; the store alone then holds the volume', async (t) => {
  const { d, dir } = await startVolumeGateway(t, { buffer: '512MiB', cache: '512MiB' });
  await d.sgwJson('volume', 'create', 'crash', '--cached', '1GiB');
  const url = await volumeUrl(d, 'crash');
  const sources: string[] = [];
  for (let i = 0; i < WRITES; i++) {
    sources.push(path.join(dir, `src-${i}`));
    await writeFile(sources[i]!, randomBytes(MiB));
  }

  // qemu-io prints a line per completed write; stdbuf makes each reach us as soon as the write is acknowledged.
  const commands = sources.flatMap((file, i) => ['-c', `write -s ${file} ${i * MiB} 1M`]);
  const writer = spawn('stdbuf', ['-oL', 'qemu-io', '-f', 'raw', ...commands, url], { stdio: ['ignore', 'pipe', 'pipe'] });
  const acknowledged = new Set<number>();
  let output = '';
  await new Promise<void>((resolve) => {
    const killAt = 40 + Math.floor(Math.random() * 120);
    writer.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      for (const match of output.matchAll(/wrote 1048576\/1048576 bytes at offset (\d+)/g)) acknowledged.add(Number(match[1]) / MiB);
      if (acknowledged.size >= killAt && d.proc?.exitCode === null && d.proc.signalCode === null) {
        d.proc.kill('SIGKILL');
        writer.kill('SIGKILL');
      }
    });
    writer.on('close', () => resolve());
  });
  t.ok(acknowledged.size >= 40 && acknowledged.size < WRITES, `sgwd was killed after ${acknowledged.size} acknowledged writes`);

  const check = async (when: string) => {
    const image = path.join(dir, 'image');
    // A restarted test daemon listens on a new port.
    const dd = await runClient('qemu-img', ['dd', '-f', 'raw', '-O', 'raw', 'bs=1M', `count=${WRITES}`, `if=${await volumeUrl(d, 'crash')}`, `of=${image}`]);
    t.equal(dd.code, 0, dd.stderr);
    const content = await readFile(image);
    let same = 0;
    for (const i of acknowledged) if (content.subarray(i * MiB, (i + 1) * MiB).equals(await readFile(sources[i]!))) same++;
    t.equal(same, acknowledged.size, `${when}: every acknowledged MiB reads back identical`);
  };
  await d.restart();
  await check('after the restart');

  let described: VolumeDetails | undefined;
  for (let i = 0; i < 600 && (described?.dirtyBytes ?? 1) > 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    described = await d.sgwJson<VolumeDetails>('volume', 'describe', 'crash');
  }
  t.equal(described?.dirtyBytes, 0, 'the upload drained');
  t.equal(await d.stop('SIGTERM'), 0);
  const cache = path.join(dir, 'cache');
  const { size } = await stat(cache);
  await truncate(cache, 0);
  await truncate(cache, size);
  await d.restart();
  await check('with the cache wiped');
});
