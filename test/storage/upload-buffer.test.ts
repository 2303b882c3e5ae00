import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import t from 'tap';
import { UploadBuffer, type JournalRecord, type NewJournalRecord } from '../../src/storage/upload-buffer.js';
import { decodeSuperblock } from '../../src/storage/upload-buffer-superblock.js';
import { crashRecord, dataFor, KiB, makeDisks, overwriteNear, replayAll, summarize } from './upload-buffer-fixtures.js';

const MiB = 1024 * KiB;

const dataRecord = (stream: string, offset: number, data: Buffer): NewJournalRecord => ({ stream, offset, kind: 'data', length: data.length, data });

t.test('records survive a close and reopen, in order, with their seqs', async (t) => {
  const disks = await makeDisks(t.testdir(), [2 * MiB]);
  const buffer = await UploadBuffer.open(disks);
  t.equal(buffer.headSeq, 0);
  t.equal(buffer.tailSeq, 0);
  t.equal(buffer.usedBytes, 0);
  const written: NewJournalRecord[] = [
    dataRecord('vol-3f9a1c2e', 0, randomBytes(4096)),
    { stream: 'vol-3f9a1c2e', offset: 8192, kind: 'zero', length: 1 << 30 },
    dataRecord('vol-00000001', 2 ** 40, randomBytes(0)),
    dataRecord('vol-3f9a1c2e', 4096, randomBytes(100 * KiB + 3)),
    dataRecord('x'.repeat(32), Number.MAX_SAFE_INTEGER - 10, randomBytes(10)),
  ];
  const seqs = [];
  for (const rec of written) seqs.push(await buffer.append(rec));
  t.same(seqs, [1, 2, 3, 4, 5]);
  t.ok(buffer.usedBytes > 100 * KiB);
  await buffer.close();

  const reopened = await UploadBuffer.open(disks);
  t.equal(reopened.headSeq, 5);
  const replayed = await replayAll(reopened);
  t.same(replayed.map(summarize), written.map((rec, i) => summarize({ ...rec, seq: i + 1 })));
  t.ok(replayed[3]!.data!.equals(written[3]!.data!), 'payload bytes come back as written');
  t.equal(await reopened.append(dataRecord('vol-3f9a1c2e', 0, randomBytes(1))), 6, 'seqs continue after a reopen');
  await reopened.close();
});

t.test('concurrent appends share fdatasyncs and each resolves only after one that followed it', async (t) => {
  const disks = await makeDisks(t.testdir(), [8 * MiB]);
  const buffer = await UploadBuffer.open(disks);
  const syncsBefore = buffer.syncCount;
  const appends = Array.from({ length: 200 }, (_, i) => {
    const syncsAtCall = buffer.syncCount;
    return buffer.append(dataRecord('vol-1', i * 4096, dataFor(i + 1, 4096))).then((seq) => ({ seq, synced: buffer.syncCount > syncsAtCall }));
  });
  const results = await Promise.all(appends);
  t.same(results.map((r) => r.seq), Array.from({ length: 200 }, (_, i) => i + 1), 'seqs follow call order');
  t.ok(results.every((r) => r.synced), 'no append resolves before a datasync issued after it');
  const syncs = buffer.syncCount - syncsBefore;
  t.ok(syncs <= 10, `200 appends made at once took ${syncs} datasyncs`);

  // Appends arriving while a round's datasync is in flight join the next round.
  const syncsBeforeWaves = buffer.syncCount;
  const waves: Promise<number>[] = [];
  for (let wave = 0; wave < 20; wave++) {
    for (let i = 0; i < 10; i++) waves.push(buffer.append(dataRecord('vol-1', 0, dataFor(wave * 10 + i, 4096))));
    await new Promise((resolve) => setImmediate(resolve));
  }
  await Promise.all(waves);
  const waveSyncs = buffer.syncCount - syncsBeforeWaves;
  t.ok(waveSyncs <= 21, `200 appends in 20 waves took ${waveSyncs} datasyncs`);
  await buffer.close();
  t.equal((await replayAll(await reopenFor(t, disks))).length, 400);
});

t.test('appends that need not be durable take no datasync, survive a crash of sgwd, and the next flush syncs them', async (t) => {
  const disks = await makeDisks(t.testdir(), [8 * MiB]);
  const buffer = await UploadBuffer.open(disks);
  const syncsBefore = buffer.syncCount;
  for (let i = 0; i < 50; i++) await buffer.append(dataRecord('vol-1', i * 4096, dataFor(i, 4096)), { durable: false });
  t.equal(buffer.syncCount, syncsBefore, 'written, not synced');
  // What the process wrote is in the page cache: another open (sgwd restarted after kill -9) finds all of it.
  const afterCrash = await UploadBuffer.open(disks);
  t.equal(afterCrash.headSeq, 50);
  await afterCrash.close();
  await buffer.flush();
  t.equal(buffer.syncCount, syncsBefore + 1, 'one datasync covers the 50');
  await buffer.flush();
  t.equal(buffer.syncCount, syncsBefore + 1, 'nothing new: no datasync');
  await buffer.append(dataRecord('vol-1', 0, dataFor(51, 4096)), { durable: false });
  await buffer.append(dataRecord('vol-1', 0, dataFor(52, 4096)));
  t.equal(buffer.syncCount, syncsBefore + 2, 'a durable append syncs the volatile one before it too');
  await buffer.flush();
  t.equal(buffer.syncCount, syncsBefore + 2);
  await buffer.close();
});

t.test('a ring filled to the last byte is told apart from an empty one', async (t) => {
  // One region of 16 KiB holds exactly four records of 4 KiB (96-byte header + 4000-byte payload).
  const disks = await makeDisks(t.testdir(), [8 * KiB + 16 * KiB]);
  const buffer = await UploadBuffer.open(disks);
  t.equal(buffer.capacityBytes, 16 * KiB);
  for (let seq = 1; seq <= 4; seq++) await buffer.append(dataRecord('v', seq, dataFor(seq, 4000)));
  t.equal(buffer.usedBytes, buffer.capacityBytes);
  t.notOk(buffer.fits(0));
  await t.rejects(buffer.append({ stream: 'v', offset: 0, kind: 'zero', length: 1 }), { code: 'SGW_UPLOAD_BUFFER_FULL' });
  await buffer.close();

  const full = await UploadBuffer.open(disks);
  t.same((await replayAll(full)).map((r) => r.seq), [1, 2, 3, 4]);
  t.equal(full.usedBytes, full.capacityBytes);
  await full.release(2);
  for (let seq = 5; seq <= 6; seq++) await full.append(dataRecord('v', seq, dataFor(seq, 4000)));
  t.equal(full.usedBytes, full.capacityBytes);
  await full.close();

  const reopened = await reopenFor(t, disks);
  const replayed = await replayAll(reopened);
  t.same(replayed.map((r) => r.seq), [3, 4, 5, 6]);
  t.ok(replayed.every((r) => r.data!.equals(dataFor(r.seq, 4000))));
  await reopened.release(6);
  t.equal(reopened.usedBytes, 0);
  t.ok(reopened.fits(4000));
});

t.test('a full ring refuses at once, frees space on release, wraps across disks of different sizes', async (t) => {
  const disks = await makeDisks(t.testdir(), [512 * KiB, 300 * KiB, 700 * KiB]);
  const buffer = await UploadBuffer.open(disks);
  const live = new Map<number, NewJournalRecord>();
  let appendedBytes = 0;
  const fill = async (): Promise<void> => {
    const misjudged: number[] = [];
    for (let i = 0; ; i++) {
      const data = randomBytes(20 * KiB + ((i * 7717) % (90 * KiB)));
      const fits = buffer.fits(data.length);
      const rec = dataRecord('vol-ring', i, data);
      const result = await buffer.append(rec).catch((err: { code?: string }) => err);
      if (typeof result !== 'number') {
        t.equal(result.code, 'SGW_UPLOAD_BUFFER_FULL');
        t.same(fits ? [...misjudged, i] : misjudged, [], 'fits() foretold every append');
        return;
      }
      if (!fits || buffer.usedBytes > buffer.capacityBytes) misjudged.push(i);
      live.set(result, rec);
      appendedBytes += data.length;
    }
  };
  await fill();
  const usedWhenFull = buffer.usedBytes;
  t.ok(usedWhenFull > buffer.capacityBytes * 0.8, 'the ring filled up');
  const half = buffer.tailSeq + Math.floor((buffer.headSeq - buffer.tailSeq) / 2);
  await buffer.release(half);
  t.equal(buffer.tailSeq, half);
  t.ok(buffer.usedBytes < usedWhenFull);
  for (const seq of [...live.keys()]) if (seq <= half) live.delete(seq);
  await fill();
  t.ok(appendedBytes > buffer.capacityBytes, 'appends went round the end of the ring');
  await buffer.close();

  const reopened = await reopenFor(t, disks);
  const replayed = await replayAll(reopened);
  t.same(replayed.map(summarize), [...live].map(([seq, rec]) => summarize({ ...rec, seq })));
  t.equal(reopened.usedBytes, buffer.usedBytes, 'used bytes are recovered too');
});

t.test('a record larger than any disk is refused with a message saying so', async (t) => {
  const disks = await makeDisks(t.testdir(), [256 * KiB, 256 * KiB]);
  const buffer = await UploadBuffer.open(disks);
  await t.rejects(buffer.append(dataRecord('v', 0, Buffer.alloc(600 * KiB))), { code: 'SGW_UPLOAD_BUFFER_FULL', message: /larger than the whole upload buffer/ });
  await t.rejects(buffer.append(dataRecord('v', 0, Buffer.alloc(300 * KiB))), { code: 'SGW_UPLOAD_BUFFER_FULL', message: /any one upload buffer disk/ });
  t.notOk(buffer.fits(300 * KiB));
  t.equal(buffer.headSeq, 0, 'refused appends take no seq');
  await buffer.close();
});

t.test('malformed records are refused as defects', async (t) => {
  const disks = await makeDisks(t.testdir(), [256 * KiB]);
  const buffer = await UploadBuffer.open(disks);
  await t.rejects(buffer.append({ stream: 'v'.repeat(33), offset: 0, kind: 'zero', length: 1 }), { code: 'SGW_INTERNAL' });
  await t.rejects(buffer.append({ stream: 'vol-é', offset: 0, kind: 'zero', length: 1 }), { code: 'SGW_INTERNAL' });
  await t.rejects(buffer.append({ stream: 'v', offset: -1, kind: 'zero', length: 1 }), { code: 'SGW_INTERNAL' });
  await t.rejects(buffer.append({ stream: 'v', offset: 0, kind: 'data', length: 3, data: Buffer.alloc(2) }), { code: 'SGW_INTERNAL' });
  t.equal(buffer.headSeq, 0);
  await buffer.close();
  await t.rejects(buffer.append({ stream: 'v', offset: 0, kind: 'zero', length: 1 }), { code: 'SGW_SHUTTING_DOWN' });
});

for (const [what, damage] of [
  ['garbage in its payload', (start: number) => start + 1000],
  ['garbage in its header', (start: number) => start - 96 + 20],
  ['its second half never written', (start: number) => start + 10 * KiB],
] as const) {
  t.test(`a torn head record (${what}) is cut off with everything after it`, async (t) => {
    const disks = await makeDisks(t.testdir(), [1 * MiB]);
    const buffer = await UploadBuffer.open(disks);
    const payloads = Array.from({ length: 6 }, () => randomBytes(20 * KiB));
    for (const [i, data] of payloads.entries()) await buffer.append(dataRecord('vol-torn', i * 20 * KiB, data));
    await buffer.close();
    // Record 5 is torn; 6 stands for a later record of the same group commit that did reach the disk.
    const filler = what.includes('never written') ? Buffer.alloc(10 * KiB) : randomBytes(64);
    await overwriteNear(disks, payloads[4]!, damage, filler);

    const reopened = await UploadBuffer.open(disks);
    t.same((await replayAll(reopened)).map((r) => r.seq), [1, 2, 3, 4]);
    t.equal(reopened.headSeq, 4);
    const fresh = randomBytes(5 * KiB);
    t.equal(await reopened.append(dataRecord('vol-torn', 0, fresh)), 5, 'appends go on from the last intact record');
    await reopened.close();
    const again = await reopenFor(t, disks);
    const replayed = await replayAll(again);
    t.same(replayed.map((r) => r.seq), [1, 2, 3, 4, 5]);
    t.ok(replayed[4]!.data!.equals(fresh));
  });
}

t.test('a record cut off by a crash never comes back after its seq is reused', async (t) => {
  const disks = await makeDisks(t.testdir(), [1 * MiB]);
  const buffer = await UploadBuffer.open(disks);
  const payloads = [randomBytes(8 * KiB), randomBytes(8 * KiB), randomBytes(8 * KiB)];
  for (const data of payloads) await buffer.append(dataRecord('vol-e', 0, data));
  await buffer.close();
  await overwriteNear(disks, payloads[1]!, (start) => start + 100, randomBytes(16));

  // The next run reuses seq 2 for a record of the same size, so the old seq 3 lines up right behind it.
  const second = await UploadBuffer.open(disks);
  const replacement = randomBytes(8 * KiB);
  t.equal(await second.append(dataRecord('vol-e', 0, replacement)), 2);
  await second.close();

  const third = await reopenFor(t, disks);
  const replayed = await replayAll(third);
  t.same(replayed.map((r) => r.seq), [1, 2], 'the old seq 3, from before the crash, is not part of the journal');
  t.ok(replayed[1]!.data!.equals(replacement));
});

t.test('release persists the tail, clamps beyond the head and ignores seqs below the tail', async (t) => {
  const disks = await makeDisks(t.testdir(), [1 * MiB]);
  const buffer = await UploadBuffer.open(disks);
  for (let i = 1; i <= 10; i++) await buffer.append(dataRecord('vol-r', i, dataFor(i, 3000)));
  await buffer.release(4);
  await buffer.release(2);
  t.equal(buffer.tailSeq, 4);
  const pending = buffer.append(dataRecord('vol-r', 11, dataFor(11, 3000)));
  await buffer.release(1000);
  t.equal(buffer.tailSeq, 11, 'clamped to the head, waiting for the record still being written');
  t.equal(await pending, 11);
  t.equal(buffer.usedBytes, 0);
  t.equal(await buffer.append(dataRecord('vol-r', 12, dataFor(12, 3000))), 12);
  await buffer.close();

  const reopened = await reopenFor(t, disks);
  t.equal(reopened.tailSeq, 11);
  t.same((await replayAll(reopened)).map((r) => r.seq), [12]);
});

t.test('a torn superblock write falls back to the other copy', async (t) => {
  const disks = await makeDisks(t.testdir(), [1 * MiB]);
  const buffer = await UploadBuffer.open(disks);
  for (let i = 1; i <= 6; i++) await buffer.append(dataRecord('vol-s', i, dataFor(i, 1000)));
  await buffer.release(2);
  await buffer.release(4);
  await buffer.close();
  const first = await readFile(disks[0]!.path);
  const copies = [0, 4096].map((at) => ({ at, sb: decodeSuperblock(first.subarray(at, at + 4096)) }));
  const newest = copies.sort((a, b) => b.sb!.gen - a.sb!.gen)[0]!;
  t.equal(newest.sb!.tailSeq, 4);
  randomBytes(300).copy(first, newest.at + 10);
  await writeFile(disks[0]!.path, first);

  const reopened = await reopenFor(t, disks);
  t.equal(reopened.tailSeq, 2);
  t.same((await replayAll(reopened)).map((r) => r.seq), [3, 4, 5, 6]);
});

t.test('a disk set is refused when its disks, sizes or order differ from its format', async (t) => {
  const dir = t.testdir();
  const disks = await makeDisks(dir, [512 * KiB, 256 * KiB, 256 * KiB]);
  await (await UploadBuffer.open(disks)).close();
  const [a, b, c] = disks as [typeof disks[0], typeof disks[0], typeof disks[0]];
  await t.rejects(UploadBuffer.open([a, b]), { code: 'SGW_DISK_UNSUITABLE', message: /formatted on 3 disk/ });
  await t.rejects(UploadBuffer.open([a, b, { ...c, sizeBytes: 128 * KiB }]), { code: 'SGW_DISK_UNSUITABLE', message: /formatted on/ });
  await t.rejects(UploadBuffer.open([a, c, b]), { code: 'SGW_DISK_UNSUITABLE', message: /disk 3 of its upload buffer but is listed as disk 2/ });
  await t.rejects(UploadBuffer.open([b, a, c]), { code: 'SGW_DISK_UNSUITABLE', message: /disk 2 of an upload buffer, not its first/ });
  await t.rejects(UploadBuffer.open([a, a, c]), { code: 'SGW_DISK_UNSUITABLE', message: /same disk/ });
  const [other] = await makeDisks(dir, [512 * KiB], 'other');
  await t.rejects(UploadBuffer.open([other!, a, c]), { code: 'SGW_DISK_UNSUITABLE', message: /first disk of an upload buffer/ });
  await t.rejects(UploadBuffer.open([a, { ...other!, sizeBytes: 256 * KiB }, c]), { code: 'SGW_DISK_UNSUITABLE', message: /not a disk of the upload buffer/ });

  const [foreign] = await makeDisks(dir, [512 * KiB], 'foreign');
  await writeFile(foreign!.path, Buffer.concat([Buffer.from('not a journal'), Buffer.alloc(512 * KiB - 13)]));
  await t.rejects(UploadBuffer.open([foreign!]), { code: 'SGW_DISK_UNSUITABLE', message: /left untouched/ });
  t.equal((await readFile(foreign!.path)).toString('latin1', 0, 13), 'not a journal');
  await (await reopenFor(t, disks)).append(dataRecord('v', 0, Buffer.alloc(1)));
});

type Op =
  | { op: 'append'; kind: 'data' | 'zero'; size: number; stream: string }
  | { op: 'release'; at: number }
  | { op: 'reopen' };

t.test('model: replay after any appends, releases and reopens is exactly the unreleased records', async (t) => {
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ op: fc.constant('append' as const), kind: fc.constantFrom('data' as const, 'data' as const, 'zero' as const), size: fc.integer({ min: 0, max: 300 * KiB }), stream: fc.constantFrom('vol-a', 'vol-b') }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('release' as const), at: fc.double({ min: -0.2, max: 1.2, noNaN: true }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('reopen' as const) }) },
  );
  const dir = t.testdir();
  let run = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40, size: 'max' }), async (ops) => {
      const disks = await makeDisks(dir, [1 * MiB, 700 * KiB], `run-${++run}`);
      let buffer = await UploadBuffer.open(disks);
      let model: JournalRecord[] = [];
      let head = 0;
      let tail = 0;
      const check = async (): Promise<void> => {
        await buffer.close();
        buffer = await UploadBuffer.open(disks);
        const replayed = (await replayAll(buffer)).map(summarize);
        if (JSON.stringify(replayed) !== JSON.stringify(model.map(summarize))) {
          throw new Error(`replayed ${replayed.map((r) => r.seq)} but the model holds ${model.map((r) => r.seq)}`);
        }
        if (buffer.headSeq !== head || buffer.tailSeq !== tail) throw new Error(`head/tail ${buffer.headSeq}/${buffer.tailSeq}, model ${head}/${tail}`);
      };
      try {
        for (const o of ops) {
          if (o.op === 'append') {
            const rec: NewJournalRecord = o.kind === 'data'
              ? dataRecord(o.stream, head * 512, dataFor(head + 1 + run * 1000, o.size))
              : { stream: o.stream, offset: head * 512, kind: 'zero', length: o.size };
            const fits = buffer.fits(o.kind === 'data' ? o.size : 0);
            const seq = await buffer.append(rec).catch((err: { code?: string }) => {
              if (err.code !== 'SGW_UPLOAD_BUFFER_FULL') throw err;
              return undefined;
            });
            if ((seq !== undefined) !== fits) throw new Error(`fits() said ${fits} but append ${seq ? 'took' : 'refused'} it`);
            if (seq !== undefined) {
              if (seq !== head + 1) throw new Error(`append returned seq ${seq} after ${head}`);
              head = seq;
              model.push({ ...rec, seq });
            }
          } else if (o.op === 'release') {
            const upto = tail + Math.floor(o.at * (head - tail));
            await buffer.release(upto);
            tail = Math.max(tail, Math.min(upto, head));
            model = model.filter((r) => r.seq > tail);
          } else {
            await check();
          }
          if (buffer.usedBytes > buffer.capacityBytes || (model.length === 0) !== (buffer.usedBytes === 0)) {
            throw new Error(`used ${buffer.usedBytes} of ${buffer.capacityBytes} with ${model.length} records`);
          }
        }
        await check();
      } finally {
        await buffer.close();
      }
    }),
    { numRuns: 100 },
  );
  t.pass('the replayed records always matched the model');
});

t.test('every acknowledged append survives kill -9, whole and in order', async (t) => {
  const disks = await makeDisks(t.testdir(), [4 * MiB, 3 * MiB]);
  const child = fileURLToPath(new URL('./upload-buffer-crash-child.ts', import.meta.url));
  let totalAcked = 0;
  for (let round = 1; round <= 5; round++) {
    const { acked, released, stderr } = await runUntilKilled(child, JSON.stringify(disks), 100 + Math.random() * 500);
    t.equal(stderr, '', `round ${round}: the child ran without errors`);
    totalAcked += acked.length;
    const buffer = await UploadBuffer.open(disks);
    const replayed = await replayAll(buffer);
    const seqs = new Set(replayed.map((r) => r.seq));
    t.ok(buffer.tailSeq >= Math.max(0, ...released), `round ${round}: completed releases are kept`);
    const lost = acked.filter((seq) => seq > buffer.tailSeq && !seqs.has(seq));
    t.same(lost, [], `round ${round}: ${acked.length} acknowledged, none of the unreleased lost`);
    const wrong = replayed.filter((r) => JSON.stringify(summarize(r)) !== JSON.stringify(summarize({ ...crashRecord(r.seq), seq: r.seq })));
    t.same(wrong.map((r) => r.seq), [], `round ${round}: ${replayed.length} replayed, all intact`);
    await buffer.close();
  }
  t.ok(totalAcked > 50, `${totalAcked} appends were acknowledged over the rounds`);
});

/** Runs the crash child until `killAfterMs` past its start-up, then SIGKILLs it; returns what it reported. */
async function runUntilKilled(child: string, disks: string, killAfterMs: number): Promise<{ acked: number[]; released: number[]; stderr: string }> {
  const proc = spawn(process.execPath, [...process.execArgv, child, disks], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let killTimer: NodeJS.Timeout | undefined;
  // Start-up (loading TypeScript, recovery) takes a while; the kill time counts from when appends start.
  const startupLimit = setTimeout(() => proc.kill('SIGKILL'), 60_000);
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  proc.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (!killTimer && stdout.includes('ready\n')) killTimer = setTimeout(() => proc.kill('SIGKILL'), killAfterMs);
  });
  await new Promise((resolve) => proc.on('close', resolve));
  clearTimeout(startupLimit);
  clearTimeout(killTimer);
  const numbers = (word: string): number[] => [...stdout.matchAll(new RegExp(`^${word} (\\d+)$`, 'gm'))].map((m) => Number(m[1]));
  return { acked: numbers('ack'), released: numbers('released'), stderr };
}

async function reopenFor(t: { teardown(fn: () => unknown): void }, disks: Parameters<typeof UploadBuffer.open>[0]): Promise<UploadBuffer> {
  const buffer = await UploadBuffer.open(disks);
  t.teardown(() => buffer.close());
  return buffer;
}
