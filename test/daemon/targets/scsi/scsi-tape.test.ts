import fc from 'fast-check';
import t from 'tap';
import { ScsiTape, type TapeMedium } from '../../../../src/daemon/targets/scsi/scsi-tape.js';
import { naaFromId } from '../../../../src/daemon/targets/scsi/scsi-disk.js';

/** A tape in memory: the list model the library's logs keep. */
function memoryTape(capacityBytes = 10 * 1024 * 1024, writeProtected = false): TapeMedium & { objects: Array<Buffer | 'filemark'> } {
  const objects: Array<Buffer | 'filemark'> = [];
  return {
    objects, barcode: 'MEM00001', writeProtected, capacityBytes,
    objectCount: () => objects.length,
    filemarks: () => objects.flatMap((o, i) => (o === 'filemark' ? [i] : [])),
    bytesBefore: (p) => objects.slice(0, p).reduce((n, o) => n + (o === 'filemark' ? 0 : o.length), 0),
    read: async (p) => objects[p]!,
    write: async (p, records) => void objects.splice(p, objects.length - p, ...records),
    writeFilemarks: async (p, count) => void objects.splice(p, objects.length - p, ...Array.from({ length: count }, () => 'filemark' as const)),
    truncate: async (p) => void objects.splice(p),
  };
}

function drive(medium: TapeMedium | undefined) {
  let prevented = false;
  const backend = { current: medium, medium: () => backend.current, setRemovalPrevented: (p: boolean) => void (prevented = p) };
  const unit = new ScsiTape({ backend, serial: 'DRIVE1', naa: naaFromId('drive-1'), targetName: 'iqn.test:tapedrive-01' });
  const run = (cdb: number[], dataOut: Buffer | null = null, expectedLength = 0x40000) => unit.execute({ cdb: Buffer.from(cdb), dataOut, expectedLength, nexus: 'n1' });
  return { unit, backend, run, prevented: () => prevented };
}

const sense = (s: Buffer | undefined) => ({ key: s![2]! & 0x0f, asc: s![12]!, ascq: s![13]!, fm: (s![2]! & 0x80) !== 0, eom: (s![2]! & 0x40) !== 0, ili: (s![2]! & 0x20) !== 0, info: s![0]! & 0x80 ? s!.readInt32BE(3) : undefined });
const write = (n: number) => [0x0a, 0, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff, 0];
const read = (n: number, b1 = 0) => [0x08, b1, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff, 0];
const space = (code: number, count: number) => [0x11, code, (count >> 16) & 0xff, (count >> 8) & 0xff, count & 0xff, 0];
const position = async (run: ReturnType<typeof drive>['run']) => (await run([0x34, 0, 0, 0, 0, 0, 0, 0, 0, 0])).dataIn!.readUInt32BE(4);

t.test('no tape: NOT READY 3A; a tape arriving: UNIT ATTENTION 28/00, then ready at BOP', async (t) => {
  const d = drive(undefined);
  t.match(sense((await d.run([0, 0, 0, 0, 0, 0])).sense), { key: 2, asc: 0x3a });
  d.backend.current = memoryTape();
  t.match(sense((await d.run([0, 0, 0, 0, 0, 0])).sense), { key: 6, asc: 0x28 });
  t.equal((await d.run([0, 0, 0, 0, 0, 0])).status, 0);
  const inquiry = (await d.run([0x12, 0, 0, 0, 96, 0])).dataIn!;
  t.same([inquiry[0], inquiry.subarray(8, 11).toString(), inquiry.subarray(16, 27).toString()], [1, 'IBM', 'ULT3580-TD5']);
  t.same([...(await d.run([0x05, 0, 0, 0, 0, 0])).dataIn!], [0, 0x80, 0, 0, 0, 1], 'READ BLOCK LIMITS: 1 byte to 8 MiB');
});

t.test('variable blocks: short and long reads (ILI), filemarks, blank check, space both ways, locate', async (t) => {
  const tape = memoryTape();
  const d = drive(tape);
  await d.run([0, 0, 0, 0, 0, 0]);
  for (const n of [100, 200]) t.equal((await d.run(write(n), Buffer.alloc(n, n))).status, 0);
  t.equal((await d.run([0x10, 0, 0, 0, 1, 0])).status, 0);
  t.equal((await d.run(write(300), Buffer.alloc(300, 3))).status, 0);
  t.equal(await position(d.run), 4);
  await d.run([0x01, 0, 0, 0, 0, 0]);
  const long = await d.run(read(150));
  t.same([long.dataIn!.length, sense(long.sense)], [100, { key: 0, asc: 0, ascq: 0, fm: false, eom: false, ili: true, info: 50 }], 'a shorter record: ILI, residue 50');
  const short = await d.run(read(150));
  t.same([short.dataIn!.length, sense(short.sense).info, sense(short.sense).ili], [150, -50, true], 'a longer record: ILI, negative residue');
  t.match(sense((await d.run(read(150))).sense), { key: 0, ascq: 1, fm: true, info: 150 }, 'the filemark');
  t.equal((await d.run(read(300))).status, 0);
  t.match(sense((await d.run(read(300))).sense), { key: 8, asc: 0, ascq: 5, info: 300 }, 'BLANK CHECK at EOD');
  t.equal(await position(d.run), 4, 'EOD stays put');
  t.match(sense((await d.run(space(0, -3))).sense), { fm: true, info: 2 }, 'back over a block, stopped before the filemark');
  t.equal(await position(d.run), 2);
  await d.run([0x01, 0, 0, 0, 0, 0]);
  t.equal((await d.run(space(1, 1))).status, 0);
  t.equal(await position(d.run), 3, 'after the filemark');
  t.match(sense((await d.run(space(1, 1))).sense), { key: 8, info: 1 }, 'no second filemark: blank check');
  t.equal((await d.run(space(1, -1 & 0xffffff))).status, 0);
  t.equal(await position(d.run), 2, 'back over it: on its BOT side');
  t.match(sense((await d.run(space(0, -5 & 0xffffff))).sense), { eom: true, ascq: 4 }, 'past BOP');
  t.equal((await d.run([0x2b, 0, 0, 0, 0, 0, 3, 0, 0, 0])).status, 0);
  t.equal(await position(d.run), 3, 'LOCATE');
  t.equal((await d.run(space(3, 0))).status, 0);
  t.equal(await position(d.run), 4, 'SPACE to end of data');
  await d.run([0x2b, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
  t.equal((await d.run(write(10), Buffer.alloc(10))).status, 0);
  t.equal(tape.objects.length, 2, 'a write in the middle ends the data there');
});

t.test('fixed blocks after MODE SELECT; early warning and overflow; a read-only tape; unload', async (t) => {
  const tape = memoryTape(1024 * 1024);
  const d = drive(tape);
  await d.run([0, 0, 0, 0, 0, 0]);
  const select = Buffer.from([0, 0, 0x10, 8, 0x58, 0, 0, 0, 0, 0, 2, 0]);
  t.equal((await d.run([0x15, 0x10, 0, 0, 12, 0], select)).status, 0);
  t.equal((await d.run(write(3).map((b, i) => (i === 1 ? 1 : b)), Buffer.alloc(1536, 7))).status, 0, 'three 512-byte blocks');
  t.equal(tape.objects.length, 3);
  const sensed = (await d.run([0x1a, 0, 0, 0, 12, 0])).dataIn!;
  t.same([sensed[3], sensed[4], sensed.readUIntBE(9, 3)], [8, 0x58, 512], 'MODE SENSE: LTO-5 density, block length 512');
  await d.run([0x01, 0, 0, 0, 0, 0]);
  t.equal((await d.run(read(2, 1))).dataIn!.length, 1024);
  await d.run([0x15, 0x10, 0, 0, 12, 0], Buffer.from([0, 0, 0x10, 8, 0x58, 0, 0, 0, 0, 0, 0, 0]));
  await d.run(space(3, 0));
  const near = await d.run(write(1_040_000), Buffer.alloc(1_040_000));
  t.match(sense(near.sense), { key: 0, eom: true, ascq: 2 }, 'past early warning: written, EOM');
  t.match(sense((await d.run(write(100_000), Buffer.alloc(100_000))).sense), { key: 0xd, eom: true }, 'beyond capacity: VOLUME OVERFLOW');
  t.equal((await d.run([0x1e, 0, 0, 0, 1, 0])).status, 0);
  t.equal(d.prevented(), true);
  t.match(sense((await d.run([0x1b, 0, 0, 0, 0, 0])).sense), { key: 5, asc: 0x53 }, 'unload while prevented');
  await d.run([0x1e, 0, 0, 0, 0, 0]);
  t.equal((await d.run([0x1b, 0, 0, 0, 0, 0])).status, 0);
  t.match(sense((await d.run([0, 0, 0, 0, 0, 0])).sense), { key: 2, asc: 0x3a }, 'unloaded: not ready');
  d.backend.current = memoryTape(1024 * 1024, true);
  await d.run([0, 0, 0, 0, 0, 0]);
  t.match(sense((await d.run(write(10), Buffer.alloc(10))).sense), { key: 7, asc: 0x27 }, 'a read-only tape: DATA PROTECT');
  t.equal((await d.run([0x1a, 0, 0, 0, 12, 0])).dataIn![2]! & 0x80, 0x80, 'and MODE SENSE shows WP');
});

t.test('random CDBs never throw and always answer a status', async (t) => {
  const d = drive(memoryTape());
  const opcodes = [0x00, 0x01, 0x03, 0x05, 0x08, 0x0a, 0x10, 0x11, 0x12, 0x15, 0x19, 0x1a, 0x1b, 0x1e, 0x2b, 0x34, 0x55, 0x5a, 0xa0];
  await fc.assert(fc.asyncProperty(fc.constantFrom(...opcodes), fc.uint8Array({ minLength: 5, maxLength: 15 }), fc.option(fc.uint8Array({ maxLength: 64 })), async (op, rest, data) => {
    const r = await d.unit.execute({ cdb: Buffer.from([op, ...rest]), dataOut: data ? Buffer.from(data) : null, expectedLength: 4096, nexus: 'n1' });
    return r.status === 0 || (r.status === 2 && r.sense !== undefined && r.sense.length === 18);
  }), { numRuns: 1000 });
  t.pass('1000 CDBs');
});
