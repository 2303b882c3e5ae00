import { randomBytes } from 'node:crypto';
import { appendFile, mkdtemp, rm, stat, truncate } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { TapeLog } from '../../../src/storage/tapes/tape-log.js';

async function tempLog(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sgw-tape-log-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return path.join(dir, 'TAPE0001.log');
}

t.test('records and filemarks by position; overwriting truncates; a reopened log has exactly the same objects', async (t) => {
  const file = await tempLog(t);
  const log = await TapeLog.open(file);
  const a = randomBytes(1000);
  const b = randomBytes(65536);
  await log.write(0, [a, b]);
  await log.writeFilemarks(2, 1);
  await log.write(3, [Buffer.from('second file')]);
  await log.writeFilemarks(4, 2);
  t.equal(log.objectCount(), 6);
  t.same(log.filemarks(), [2, 4, 5]);
  t.equal(log.bytesBefore(3), 1000 + 65536);
  t.same(log.lengths(0, 6), [1000, 65536, -1, 11, -1, -1]);
  t.same(await log.read(1), b);
  t.equal(await log.read(2), 'filemark');
  await t.rejects(log.read(6), { code: 'SGW_OUT_OF_RANGE' });
  await log.write(3, [Buffer.from('replaced')]);
  t.equal(log.objectCount(), 4, 'a write in the middle ends the data there');
  t.same(log.filemarks(), [2]);
  await log.close();
  const again = await TapeLog.open(file);
  t.equal(again.objectCount(), 4);
  t.same((await again.read(3)).toString(), 'replaced');
  t.same(again.filemarks(), [2]);
  await again.truncate(1);
  t.equal(again.objectCount(), 1);
  await again.close();
  t.equal((await TapeLog.open(file)).objectCount(), 1, 'ERASE holds after a reopen');
});

t.test('a torn tail (a partial header, a short record, a bad checksum) is cut when the log opens', async (t) => {
  const file = await tempLog(t);
  const log = await TapeLog.open(file);
  await log.write(0, [randomBytes(5000), randomBytes(7000)]);
  await log.close();
  const whole = (await stat(file)).size;
  await appendFile(file, Buffer.from([0x53, 0x47, 0x57]));
  t.equal((await TapeLog.open(file)).objectCount(), 2, 'a partial header');
  t.equal((await stat(file)).size, whole, 'and the file is cut back to the last whole object');
  await truncate(file, whole - 10);
  const short = await TapeLog.open(file);
  t.equal(short.objectCount(), 1, 'a record cut short is not on the tape');
  await short.close();
});

t.test('random writes, filemarks and truncations agree with a list model, also after reopening', async (t) => {
  const file = await tempLog(t);
  type Op = { kind: 'write'; at: number; sizes: number[] } | { kind: 'marks'; at: number; count: number } | { kind: 'truncate'; at: number };
  const op = fc.oneof(
    fc.record({ kind: fc.constant('write' as const), at: fc.nat(30), sizes: fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 4 }) }),
    fc.record({ kind: fc.constant('marks' as const), at: fc.nat(30), count: fc.integer({ min: 1, max: 3 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(30) }),
  );
  await fc.assert(fc.asyncProperty(fc.array(op, { maxLength: 12 }), async (ops: Op[]) => {
    await rm(file, { force: true });
    let log = await TapeLog.open(file);
    const model: Array<Buffer | 'filemark'> = [];
    for (const o of ops) {
      const at = Math.min(o.at, model.length);
      if (o.kind === 'write') {
        const records = o.sizes.map((n) => randomBytes(n));
        await log.write(at, records);
        model.splice(at, model.length - at, ...records);
      } else if (o.kind === 'marks') {
        await log.writeFilemarks(at, o.count);
        model.splice(at, model.length - at, ...Array.from({ length: o.count }, () => 'filemark' as const));
      } else {
        await log.truncate(at);
        model.splice(at);
      }
    }
    await log.close();
    log = await TapeLog.open(file);
    const read = await Promise.all(model.map((_, p) => log.read(p)));
    await log.close();
    return log.objectCount() === model.length && read.every((r, p) => (r === 'filemark' ? model[p] === 'filemark' : model[p] !== 'filemark' && r.equals(model[p]!)))
      && JSON.stringify(log.filemarks()) === JSON.stringify(model.flatMap((m, p) => (m === 'filemark' ? [p] : [])));
  }), { numRuns: 60 });
  t.pass('60 random sequences');
});
