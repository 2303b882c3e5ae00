// A writer that the crash test kills with SIGKILL: it opens the volume engine on the test's files, writes slots
// from four concurrent workers and prints "start SLOT SEED" before and "ack SLOT SEED" after each write.
import { truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { crashEngineOptions, slotRange, type CrashVolume } from './crash-geometry.js';
import { openEngine, pattern } from './engine-fixture.js';

const [dir = '', roundText = '0', typeText = 'cached'] = process.argv.slice(2);
const round = Number(roundText);
const type = typeText as CrashVolume;
if (type === 'pass-through') await writeFile(path.join(dir, 'outage'), '');
const fixture = await openEngine(crashEngineOptions(dir, type));
const engine = fixture.engine;
async function createVolume(): Promise<string> {
  if (type === 'cached') return engine.create({ name: 'crash', sizeBytes: 2 ** 30 }).volumeId;
  const diskPath = path.join(dir, 'volume-disk');
  await writeFile(diskPath, '');
  await truncate(diskPath, 2 ** 30);
  return (await engine.createStored({ name: 'crash', diskPath })).volumeId;
}

const volume = engine.list()[0]?.volumeId ?? await createVolume();
process.stdout.write('ready\n');

async function worker(w: number): Promise<void> {
  const mine: number[] = [];
  for (let k = 0; k < 100; k++) {
    const rewrite = mine.length > 0 && Math.random() < 0.3;
    const slot = rewrite ? mine[Math.floor(Math.random() * mine.length)]! : (round * 4 + w) * 100 + k;
    const seed = Math.floor(Math.random() * 1e9) + 1;
    const { offset, length } = slotRange(slot);
    process.stdout.write(`start ${slot} ${seed}\n`);
    await engine.write(volume, offset, pattern(seed, length));
    process.stdout.write(`ack ${slot} ${seed}\n`);
    if (!rewrite) mine.push(slot);
  }
}

await Promise.all([0, 1, 2, 3].map(worker));
process.stdout.write('done\n');
// Stay up (uploading) until killed, as a daemon would.
setInterval(() => undefined, 1000);
