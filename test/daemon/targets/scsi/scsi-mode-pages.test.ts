import t from 'tap';
import { blockCdb, makeDisk, NEXUS_A, NEXUS_B, outcome, parseSense, run } from './disk-fixture.js';

const sense6 = (page: number, { dbd = false, pc = 0, subpage = 0, alloc = 255 } = {}) => [0x1a, dbd ? 0x08 : 0, (pc << 6) | page, subpage, alloc, 0];
const sense10 = (page: number, { dbd = false, llbaa = false, pc = 0, alloc = 1024 } = {}) =>
  [0x5a, (dbd ? 0x08 : 0) | (llbaa ? 0x10 : 0), (pc << 6) | page, 0, 0, 0, 0, alloc >> 8, alloc & 0xff, 0];
const select6 = (length: number, flags = 0x10) => [0x15, flags, 0, 0, length, 0];

/** Pages of a mode parameter list, by page code, each as its bytes after the 2-byte page header. */
function pagesOf(data: Buffer, headerLength: number, descriptorLength: number): Map<number, Buffer> {
  const pages = new Map<number, Buffer>();
  for (let at = headerLength + descriptorLength; at < data.length; at += 2 + data[at + 1]!) {
    pages.set(data[at]! & 0x3f, data.subarray(at + 2, at + 2 + data[at + 1]!));
  }
  return pages;
}

t.test('MODE SENSE(6) all pages: header, 8-byte block descriptor, pages 01 08 0A 1C in order', async (t) => {
  const { disk } = makeDisk({ blocks: 4096 });
  const d = (await run(disk, sense6(0x3f))).dataIn!;
  t.equal(d[0], d.length - 1, 'mode data length');
  t.equal(d[1], 0, 'medium type');
  t.equal(d[2], 0x10, 'DPOFUA, not write protected');
  t.equal(d[3], 8, 'block descriptor length');
  t.equal(d.readUInt32BE(4), 4096, 'number of blocks');
  t.equal(d.readUIntBE(9, 3), 512, 'block length');
  const pages = pagesOf(d, 4, 8);
  t.same([...pages.keys()], [0x01, 0x08, 0x0a, 0x1c]);
  t.same([...pages.values()].map((p) => p.length), [10, 18, 10, 10]);
  t.equal(pages.get(0x08)![0]! & 0x05, 0x04, 'WCE=1, RCD=0: a volatile write cache that SYNCHRONIZE CACHE and FUA flush');
  const control = pages.get(0x0a)!;
  t.equal(control[0]! & 0x04, 0, 'D_SENSE=0: fixed sense');
  t.equal(control[1]! >> 4, 1, 'QAM=1');
  t.equal(control[2]! & 0x08, 0, 'SWP clear');
  t.equal(pages.get(0x1c)![0]! & 0x08, 0x08, 'DEXCPT');
});

t.test('a single page, DBD, and the allocation length cut (no more than asked for)', async (t) => {
  const { disk } = makeDisk();
  const control = (await run(disk, sense6(0x0a, { dbd: true }))).dataIn!;
  t.same([...control.subarray(0, 4)], [15, 0, 0x10, 0]);
  t.same([...control.subarray(4, 6)], [0x0a, 0x0a]);
  t.equal((await run(disk, sense6(0x3f, { alloc: 4 }))).dataIn!.length, 4);
});

t.test('MODE SENSE(10): 8-byte header, long LBA descriptor with LLBAA, capacity over 2^32 blocks', async (t) => {
  const { disk } = makeDisk({ blocks: 2 ** 33 });
  const short = (await run(disk, sense10(0x08))).dataIn!;
  t.equal(short.readUInt16BE(0), short.length - 2);
  t.equal(short[3], 0x10);
  t.equal(short[4], 0, 'LONGLBA clear');
  t.equal(short.readUInt16BE(6), 8);
  t.equal(short.readUInt32BE(8), 0xffffffff, 'too many blocks for a short descriptor');
  const long = (await run(disk, sense10(0x08, { llbaa: true }))).dataIn!;
  t.equal(long[4], 0x01, 'LONGLBA');
  t.equal(long.readUInt16BE(6), 16);
  t.equal(long.readBigUInt64BE(8), 2n ** 33n);
  t.equal(long.readUInt32BE(20), 512);
  t.equal(long[24], 0x08, 'then the caching page');
  const noDescriptor = (await run(disk, sense10(0x08, { dbd: true, llbaa: true }))).dataIn!;
  t.equal(noDescriptor.readUInt16BE(6), 0);
  t.equal(noDescriptor[4], 0);
});

t.test('page control: changeable shows only SWP and WCE, default equals current, saved is refused', async (t) => {
  const { disk } = makeDisk();
  const changeable = (await run(disk, sense6(0x3f, { pc: 1 }))).dataIn!;
  const masks = pagesOf(changeable, 4, 8);
  t.same(changeable.subarray(4, 12), Buffer.alloc(8), 'block descriptor not changeable');
  const changeableBit = (page: number, i: number) => (page === 0x0a && i === 2) || (page === 0x08 && i === 0);
  for (const [page, mask] of masks) t.same([...mask].map((b, i) => (changeableBit(page, i) ? b : 0)), [...mask], `page ${page}`);
  t.equal(masks.get(0x0a)![2], 0x08);
  t.equal(masks.get(0x08)![0], 0x04);
  t.same((await run(disk, sense6(0x3f, { pc: 2 }))).dataIn, (await run(disk, sense6(0x3f))).dataIn);
  t.equal(outcome(await run(disk, sense6(0x3f, { pc: 3 }))), 'CC 5/39/00');
});

t.test('unknown page or subpage: INVALID FIELD IN CDB', async (t) => {
  const { disk } = makeDisk();
  t.same(parseSense((await run(disk, sense6(0x19))).sense)?.field, { inCdb: true, byte: 2, bit: 5 });
  t.same(parseSense((await run(disk, sense6(0x0a, { subpage: 1 }))).sense)?.field, { inCdb: true, byte: 3 });
  t.equal(outcome(await run(disk, sense6(0x3f, { subpage: 0xff }))), 'GOOD', 'all pages and subpages');
});

t.test('WP is set when the volume is read-only', async (t) => {
  const d = (await run(makeDisk({ readOnly: true }).disk, sense6(0x3f))).dataIn!;
  t.equal(d[2], 0x90);
});

/** The control page as MODE SELECT(6) data, as libiscsi's set_swp builds it from MODE SENSE. */
async function controlSelect(disk: ReturnType<typeof makeDisk>['disk'], change: (page: Buffer) => void): Promise<Buffer> {
  const current = (await run(disk, sense6(0x0a, { dbd: true }))).dataIn!;
  const data = Buffer.concat([Buffer.alloc(4), Buffer.from(current.subarray(4))]);
  change(data.subarray(4));
  return data;
}

t.test('MODE SELECT sets SWP: writes fail with SOFTWARE WRITE PROTECTED, other nexuses get 2A/01', async (t) => {
  const { disk } = makeDisk();
  await run(disk, [0], { nexus: NEXUS_B });
  const data = await controlSelect(disk, (p) => (p[4]! |= 0x08));
  t.equal(outcome(await run(disk, select6(data.length), { dataOut: data })), 'GOOD');
  const d = (await run(disk, sense6(0x0a))).dataIn!;
  t.equal(d[2], 0x90, 'WP in the header');
  t.equal(d[4 + 8 + 4]! & 0x08, 0x08, 'SWP in the control page');
  t.equal(outcome(await run(disk, blockCdb(0x2a, 0, 1), { dataOut: Buffer.alloc(512) })), 'CC 7/27/02');
  t.equal(outcome(await run(disk, blockCdb(0x28, 0, 1))), 'GOOD', 'reads still work');
  t.equal(outcome(await run(disk, [0], { nexus: NEXUS_B })), 'CC 6/2a/01');
  t.equal(outcome(await run(disk, [0], { nexus: NEXUS_A })), 'GOOD', 'not for the nexus that changed it');
  const clear = await controlSelect(disk, (p) => (p[4]! &= ~0x08));
  t.equal(outcome(await run(disk, select6(clear.length), { dataOut: clear })), 'GOOD');
  t.equal(outcome(await run(disk, blockCdb(0x2a, 0, 1), { dataOut: Buffer.alloc(512) })), 'GOOD');
});

t.test('a logical unit reset restores the default mode parameters', async (t) => {
  const { disk } = makeDisk();
  const data = await controlSelect(disk, (p) => (p[4]! |= 0x08));
  await run(disk, select6(data.length), { dataOut: data });
  disk.reset();
  t.equal(outcome(await run(disk, [0])), 'CC 6/29/03');
  t.equal(outcome(await run(disk, blockCdb(0x2a, 0, 1), { dataOut: Buffer.alloc(512) })), 'GOOD');
  t.equal((await run(disk, sense6(0x0a)))!.dataIn![2], 0x10, 'WP clear again');
});

t.test('MODE SELECT that repeats the current values changes nothing and raises nothing', async (t) => {
  const { disk } = makeDisk();
  await run(disk, [0], { nexus: NEXUS_B });
  const all = (await run(disk, sense6(0x3f))).dataIn!;
  const data = Buffer.from(all);
  data[0] = 0;
  data[2] = 0;
  t.equal(outcome(await run(disk, select6(data.length), { dataOut: data })), 'GOOD', 'header, block descriptor and all pages');
  t.equal(outcome(await run(disk, [0], { nexus: NEXUS_B })), 'GOOD');
  t.equal(outcome(await run(disk, select6(0), { dataOut: Buffer.alloc(0) })), 'GOOD', 'empty parameter list');
});

t.test('MODE SELECT of a field that cannot change: INVALID FIELD IN PARAMETER LIST, nothing applied', async (t) => {
  const { disk } = makeDisk();
  const data = await controlSelect(disk, (p) => (p[4]! |= 0x08));
  const caching = Buffer.concat([data, Buffer.from([0x08, 18, 0x05]), Buffer.alloc(17)]);
  const r = await run(disk, select6(caching.length), { dataOut: caching });
  t.same(parseSense(r.sense), { key: 5, asc: 0x26, ascq: 0, field: { inCdb: false, byte: 18 } }, 'RCD cannot be set');
  t.equal(outcome(await run(disk, blockCdb(0x2a, 0, 1), { dataOut: Buffer.alloc(512) })), 'GOOD', 'SWP was not applied either');
});

t.test('MODE SELECT checks PF, SP, page codes, page lengths, block descriptor and list length', async (t) => {
  const { disk } = makeDisk({ blocks: 4096 });
  const data = await controlSelect(disk, () => undefined);
  t.equal(outcome(await run(disk, select6(data.length, 0x00), { dataOut: data })), 'CC 5/24/00', 'PF=0');
  t.equal(outcome(await run(disk, select6(data.length, 0x11), { dataOut: data })), 'CC 5/24/00', 'SP=1');
  const unknown = Buffer.concat([Buffer.alloc(4), Buffer.from([0x19, 2, 0, 0])]);
  t.equal(outcome(await run(disk, select6(unknown.length), { dataOut: unknown })), 'CC 5/26/00');
  const badLength = Buffer.from(data);
  badLength[5] = 9;
  t.equal(outcome(await run(disk, select6(badLength.length), { dataOut: badLength })), 'CC 5/26/00');
  const truncatedPage = data.subarray(0, data.length - 1);
  t.equal(outcome(await run(disk, select6(truncatedPage.length), { dataOut: truncatedPage })), 'CC 5/1a/00');
  const descriptor = (blocks: number, blockLength: number) => {
    const b = Buffer.alloc(12);
    b[3] = 8;
    b.writeUInt32BE(blocks, 4);
    b.writeUIntBE(blockLength, 9, 3);
    return b;
  };
  for (const [blocks, blockLength, expected] of [[0, 512, 'GOOD'], [4096, 512, 'GOOD'], [4095, 512, 'CC 5/26/00'], [0, 4096, 'CC 5/26/00']] as const) {
    const list = descriptor(blocks, blockLength);
    t.equal(outcome(await run(disk, select6(list.length), { dataOut: list })), expected, `${blocks} blocks of ${blockLength}`);
  }
  const ten = Buffer.concat([Buffer.alloc(8), data.subarray(4)]);
  t.equal(outcome(await run(disk, [0x55, 0x10, 0, 0, 0, 0, 0, 0, ten.length, 0], { dataOut: ten })), 'GOOD', 'MODE SELECT(10)');
  t.equal(outcome(await run(disk, select6(3), { dataOut: Buffer.alloc(3) })), 'CC 5/1a/00', 'shorter than a header');
  t.equal(outcome(await run(disk, select6(20), { dataOut: data, expectedLength: 20 })), 'CC 5/0e/03', 'less data-out than the CDB says');
});

t.test('MODE SELECT turns the write cache off and on; a reset turns it back on', async (t) => {
  const { disk, backend } = makeDisk();
  const caching = (wce: boolean) => Buffer.concat([Buffer.alloc(4), Buffer.from([0x08, 18, wce ? 0x04 : 0]), Buffer.alloc(17)]);
  const writeDurability = async () => {
    await run(disk, blockCdb(0x2a, 0, 1), { dataOut: Buffer.alloc(512) });
    return backend.calls.at(-1)?.durable;
  };
  t.equal(await writeDurability(), false, 'WCE=1: acknowledged before it is durable');
  t.equal(outcome(await run(disk, select6(24), { dataOut: caching(false) })), 'GOOD');
  t.equal((await run(disk, sense6(0x08, { dbd: true }))).dataIn![6]! & 0x04, 0, 'WCE=0 reported');
  t.equal(await writeDurability(), true, 'WCE=0: durable before GOOD');
  t.equal(outcome(await run(disk, select6(24), { dataOut: caching(true) })), 'GOOD');
  t.equal(await writeDurability(), false);
  await run(disk, select6(24), { dataOut: caching(false) });
  disk.reset();
  t.equal(await writeDurability(), false, 'the default after a reset');
});
