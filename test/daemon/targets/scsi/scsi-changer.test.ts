import fc from 'fast-check';
import t from 'tap';
import { allocationLength, paddedCdb } from '../../../../src/daemon/targets/scsi/scsi-cdb.js';
import { ChangerMoveRefused, ScsiChanger, type ChangerElement, type ScsiChangerOptions } from '../../../../src/daemon/targets/scsi/scsi-changer.js';
import { naaFromId } from '../../../../src/daemon/targets/scsi/scsi-disk.js';
import type { ScsiLogicalUnit, ScsiResponse } from '../../../../src/daemon/targets/scsi/scsi-types.js';
import { NEXUS_A, NEXUS_B, outcome, parseSense } from './disk-fixture.js';
import { BASE, MemoryLibrary } from './memory-library.js';

const TARGET = 'iqn.2024-01.test.sgw:changer';
const SLOT = (n: number) => BASE.storage + n - 1;
const MAILSLOT = (n: number) => BASE.importExport + n - 1;
const DRIVE = (n: number) => BASE.drive + n;
const barcode = (n: number) => `ABC${String(n).padStart(3, '0')}L5`;

/** 1 transport, 20 slots (1-8 full), 4 mailslots (2 holding a tape an operator put there), 10 drives, all empty. */
function stocked(): MemoryLibrary {
  const library = new MemoryLibrary();
  for (let n = 1; n <= 8; n++) library.put(SLOT(n), barcode(n));
  return library.put(MAILSLOT(2), 'IMP001L5');
}

function makeChanger(o: Partial<ScsiChangerOptions> & { library?: MemoryLibrary } = {}): { changer: ScsiChanger; library: MemoryLibrary } {
  const library = o.library ?? stocked();
  const changer = new ScsiChanger({ backend: library, serial: 'changer-0123456789', naa: naaFromId('changer-0123456789'), targetName: TARGET, ...o });
  return { changer, library };
}

function run(unit: ScsiLogicalUnit, cdb: number[] | Buffer, nexus = NEXUS_A): Promise<ScsiResponse> {
  return unit.execute({ cdb: Buffer.from(cdb), dataOut: null, expectedLength: 0x10000, nexus });
}

async function dataOf(unit: ScsiLogicalUnit, cdb: number[] | Buffer): Promise<Buffer> {
  const r = await run(unit, cdb);
  if (r.status !== 0) throw new Error(`${Buffer.from(cdb).toString('hex')}: ${outcome(r)}`);
  return r.dataIn ?? Buffer.alloc(0);
}

interface ResOptions {
  voltag?: boolean;
  dvcid?: boolean;
  /** Byte 1 bits 7-5, the obsolete LUN field Linux ch fills in. */
  lunBits?: number;
}

function readElementStatus(type: number, start: number, count: number, alloc = 0xffff, { voltag = true, dvcid = false, lunBits = 0 }: ResOptions = {}): Buffer {
  return Buffer.from([0xb8, lunBits | (voltag ? 0x10 : 0) | type, start >> 8, start & 0xff, count >> 8, count & 0xff, dvcid ? 1 : 0, (alloc >> 16) & 0xff, (alloc >> 8) & 0xff, alloc & 0xff, 0, 0]);
}

const moveMedium = (source: number, destination: number, transport = 0, invert = false) =>
  [0xa5, 0, transport >> 8, transport & 0xff, source >> 8, source & 0xff, destination >> 8, destination & 0xff, 0, 0, invert ? 1 : 0, 0];
const positionToElement = (destination: number, transport = 0) => [0x2b, 0, transport >> 8, transport & 0xff, destination >> 8, destination & 0xff, 0, 0, 0, 0];
const sense6 = (page: number, { dbd = false, pc = 0, subpage = 0, alloc = 255 } = {}) => [0x1a, dbd ? 0x08 : 0, (pc << 6) | page, subpage, alloc, 0];
const sense10 = (page: number, { pc = 0, alloc = 1024 } = {}) => [0x5a, 0x08, (pc << 6) | page, 0, 0, 0, 0, alloc >> 8, alloc & 0xff, 0];
const TUR = [0, 0, 0, 0, 0, 0];
const reportLuns = (alloc: number, select = 0) => [0xa0, 0, select, 0, 0, 0, alloc >>> 24, (alloc >> 16) & 0xff, (alloc >> 8) & 0xff, alloc & 0xff, 0, 0];

interface Descriptor {
  type: number;
  address: number;
  /** Byte 2: Full 0x01, ImpExp 0x02, Except 0x04, Access 0x08, ExEnab 0x10, InEnab 0x20. */
  flags: number;
  /** Byte 6 of a DT descriptor: NotBus 0x80, IDValid 0x20, LUValid 0x10, LUN. */
  bus: number;
  sValid: boolean;
  /** Bytes 10-11, read whatever SValid says, as mtx does. */
  source: number;
  mediumType: number;
  /** The primary volume tag as mtx's copy_barcode leaves it, trailing spaces trimmed; '' without PVolTag. */
  tag: string;
  identifier: { codeSet: number; type: number; value: string } | undefined;
}

interface Report {
  first: number;
  count: number;
  byteCount: number;
  pages: Array<{ type: number; flags: number; descriptorLength: number; byteCount: number }>;
  descriptors: Descriptor[];
}

/** mtx's copy_barcode: 36 bytes, anything outside 32-127 ends the string. */
function mtxBarcode(bytes: Buffer): string {
  const end = bytes.findIndex((b) => b < 32 || b > 127);
  return bytes.subarray(0, end < 0 ? bytes.length : end).toString('ascii').trimEnd();
}

/**
 * Decodes READ ELEMENT STATUS data the way mtx's ParseElementStatus walks it: as many descriptors as the header
 * counts, page after page, each page's descriptors by its byte count and descriptor length. Anything mtx would
 * trip over (a short descriptor, a page past the data, a count that does not match) throws.
 */
function decode(data: Buffer): Report {
  const report: Report = { first: data.readUInt16BE(0), count: data.readUInt16BE(2), byteCount: data.readUIntBE(5, 3), pages: [], descriptors: [] };
  if (data[4] !== 0) throw new Error('header byte 4 is reserved');
  let remaining = report.count;
  let at = 8;
  while (remaining > 0) {
    if (at + 8 > data.length) throw new Error(`page header at ${at} is past the data`);
    const page = { type: data[at]!, flags: data[at + 1]!, descriptorLength: data.readUInt16BE(at + 2), byteCount: data.readUIntBE(at + 5, 3) };
    if (data[at + 4] !== 0) throw new Error('page header byte 4 is reserved');
    if (page.descriptorLength < 16) throw new Error(`descriptor length ${page.descriptorLength}: mtx gives up`);
    if (page.byteCount === 0 || page.byteCount % page.descriptorLength !== 0) throw new Error(`page byte count ${page.byteCount}`);
    report.pages.push(page);
    at += 8;
    for (const end = at + page.byteCount; at < end; at += page.descriptorLength) {
      if (at + page.descriptorLength > data.length) throw new Error(`descriptor at ${at} is past the data`);
      const d = data.subarray(at, at + page.descriptorLength);
      const pvoltag = (page.flags & 0x80) !== 0;
      const trailer = 12 + (pvoltag ? 36 : 0) + (page.flags & 0x40 ? 36 : 0);
      const identifierLength = d[trailer + 3]!;
      if (trailer + 4 + identifierLength > d.length) throw new Error('identifier past the descriptor');
      report.descriptors.push({
        type: page.type,
        address: d.readUInt16BE(0),
        flags: d[2]!,
        bus: d[6]!,
        sValid: (d[9]! & 0x80) !== 0,
        source: d.readUInt16BE(10),
        mediumType: d[9]! & 0x07,
        tag: pvoltag ? mtxBarcode(d.subarray(12, 48)) : '',
        identifier: identifierLength === 0 ? undefined : { codeSet: d[trailer]! & 0x0f, type: d[trailer + 1]! & 0x0f, value: d.subarray(trailer + 4, trailer + 4 + identifierLength).toString('ascii') },
      });
      remaining--;
    }
  }
  if (remaining !== 0) throw new Error(`the header counts ${report.count} descriptors, the pages ${report.count - remaining}`);
  return report;
}

interface Assignment {
  mtStart: number;
  mtCount: number;
  stStart: number;
  stCount: number;
  ieStart: number;
  ieCount: number;
  dtStart: number;
  dtCount: number;
}

/** Page 0x1D where ch and mtx look for it: after the 4-byte header and `buf[3]` bytes of block descriptors. */
function assignment(data: Buffer): Assignment {
  const p = 4 + data[3]!;
  if ((data[p]! & 0x3f) !== 0x1d || data[p + 1] !== 0x12) throw new Error(`no page 0x1D at ${p}`);
  const field = (i: number) => data.readUInt16BE(p + 2 + 2 * i);
  return { mtStart: field(0), mtCount: field(1), stStart: field(2), stCount: field(3), ieStart: field(4), ieCount: field(5), dtStart: field(6), dtCount: field(7) };
}

interface MtxStatus {
  transport: number;
  lines: string[];
  storage: Descriptor[];
  drives: Descriptor[];
}

/**
 * `mtx status` in its default (per type) mode: MODE SENSE(6) DBD=1 page 0x1D with 136 bytes, then READ ELEMENT
 * STATUS with VolTag for the storage slots, the mailslots, the drives and one transport. A request whose report
 * does not fit is asked again with room for all of it; one that fails is asked again without VolTag. The lines
 * are what mtx prints, drive sources resolved as mtx does (an empty storage slot, else the next empty slot).
 */
async function mtxStatus(unit: ScsiLogicalUnit, firstAllocation = 64): Promise<MtxStatus> {
  const inquiry = await dataOf(unit, [0x12, 0, 0, 0, 96, 0]);
  if ((inquiry[0]! & 0x1f) !== 8 || inquiry[6]! & 0x08) throw new Error('not a medium changer');
  const a = assignment(await dataOf(unit, sense6(0x1d, { dbd: true, alloc: 136 })));
  const request = async (type: number, start: number, count: number): Promise<Report> => {
    let r = await run(unit, readElementStatus(type, start, count, firstAllocation));
    if (r.status !== 0 && parseSense(r.sense)!.key > 1) r = await run(unit, readElementStatus(type, start, count, firstAllocation, { voltag: false }));
    if (r.status !== 0) throw new Error(`READ ELEMENT STATUS ${type}: ${outcome(r)}`);
    const needed = r.dataIn!.readUIntBE(5, 3) + 8;
    if (needed > firstAllocation) r = await run(unit, readElementStatus(type, start, count, needed));
    return decode(r.dataIn!);
  };
  const storage = (await request(2, a.stStart, a.stCount)).descriptors;
  const importExport = a.ieCount > 0 ? (await request(3, a.ieStart, a.ieCount)).descriptors : [];
  const drives = (await request(4, a.dtStart, a.dtCount)).descriptors;
  const transport = (await request(1, a.mtStart, 1)).descriptors[0]!.address;
  if (drives.length === 0 || storage.length === 0) throw new Error('mtx: no drives or no storage elements');
  const slots = [...storage, ...importExport];
  const emptySlots = storage.flatMap((d, i) => (d.flags & 0x01 ? [] : [i]));
  const sources = drives.map((d) => (d.flags & 0x01 ? slots.findIndex((s) => s.address === d.source && !(s.flags & 0x01)) : -1));
  let nextEmpty = 0;
  const resolved = sources.map((source, i) => (drives[i]!.flags & 0x01 && source < 0 ? (emptySlots[nextEmpty++] ?? -1) : source));
  const full = (d: Descriptor) => (d.flags & 0x01) !== 0;
  const lines = [
    ...drives.map((d, i) => `Data Transfer Element ${i}:${full(d) ? `Full (Storage Element ${resolved[i]! + 1} Loaded)${d.tag ? `:VolumeTag = ${d.tag}` : ''}` : 'Empty'}`),
    ...slots.map((d, i) => `Storage Element ${i + 1}${d.type === 3 ? ' IMPORT/EXPORT' : ''}:${full(d) ? 'Full ' : 'Empty'}${d.tag ? `:VolumeTag=${d.tag}` : ''}`),
  ];
  return { transport, lines, storage: slots, drives };
}

t.test('INQUIRY: an STK L700 medium changer, removable, MChngr clear; VPD 00, 80 and 83', async (t) => {
  const { changer } = makeChanger();
  const d = await dataOf(changer, [0x12, 0, 0, 0, 96, 0]);
  t.equal(d[0], 0x08, 'PQ 0, PDT 8');
  t.equal(d[1], 0x80, 'RMB');
  t.equal(d[6]! & 0x08, 0, 'MChngr 0: the changer is its own logical unit');
  t.equal(d.subarray(8, 16).toString('ascii'), 'STK     ');
  t.equal(d.subarray(16, 32).toString('ascii'), 'L700            ');
  t.equal(d.subarray(32, 36).toString('ascii'), '0105');
  const descriptors = Array.from({ length: 8 }, (_, i) => d.readUInt16BE(58 + 2 * i));
  t.ok(descriptors.includes(0x0480), 'SMC-3');
  t.same([...(await dataOf(changer, [0x12, 1, 0x00, 0, 255, 0]))], [0x08, 0x00, 0, 3, 0x00, 0x80, 0x83]);
  const serial = await dataOf(changer, [0x12, 1, 0x80, 0, 255, 0]);
  t.equal(serial.subarray(4).toString('ascii'), 'changer-0123456789');
  const id = await dataOf(changer, [0x12, 1, 0x83, 0, 255, 0]);
  t.same([id[4], id[5], id[7]], [0x01, 0x03, 16], 'NAA designator first');
  t.ok(id.subarray(8, 24).equals(naaFromId('changer-0123456789')));
  t.ok(id.includes(Buffer.from(`${TARGET},t,0x0001`)), 'target port name');
  t.equal(outcome(await run(changer, [0x12, 1, 0xb0, 0, 255, 0])), 'CC 5/24/00', 'no block limits on a changer');
  t.equal((await dataOf(changer, [0x12, 0, 0, 0, 36, 0])).length, 36);
});

t.test('the NAA designator must be 16 bytes', async (t) => {
  t.throws(() => makeChanger({ naa: Buffer.alloc(8) }), RangeError);
});

t.test('TEST UNIT READY, PREVENT ALLOW MEDIUM REMOVAL, INITIALIZE ELEMENT STATUS (with range) succeed', async (t) => {
  const { changer, library } = makeChanger();
  for (const cdb of [TUR, [0x1e, 0, 0, 0, 1, 0], [0x1e, 0, 0, 0, 0, 0], [0x07, 0, 0, 0, 0, 0], [0x07, 0x20, 0, 0, 0, 0], [0x37, 1, 0x10, 0, 0, 0, 0, 4, 0, 0], [0x37, 0, 0, 0, 0, 0, 0, 0, 0, 0]]) {
    t.same(await run(changer, cdb), { status: 0 }, `opcode ${cdb[0]!.toString(16)}`);
  }
  t.same(library.moves, []);
});

t.test('EXCHANGE MEDIUM, volume tag commands and disk or tape commands are not supported', async (t) => {
  const { changer } = makeChanger();
  for (const op of [0xa6, 0xb5, 0xb6, 0x08, 0x28, 0x15, 0x55, 0x16, 0x25, 0xa3, 0x5e, 0x01, 0xff]) {
    t.equal(outcome(await run(changer, [op, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])), 'CC 5/20/00', `opcode ${op.toString(16)}`);
  }
});

t.test('MODE SENSE page 0x1D as ch and mtx read it: element ranges from the library, no block descriptor', async (t) => {
  const { changer } = makeChanger();
  const expected: Assignment = { mtStart: 0, mtCount: 1, stStart: 0x1000, stCount: 20, ieStart: 0x2000, ieCount: 4, dtStart: 0x3000, dtCount: 10 };
  const ch = await dataOf(changer, [0x1a, 0, 0x1d, 0, 255, 0, 0, 0, 0, 0]);
  t.same([ch[0], ch[1], ch[2], ch[3]], [23, 0, 0, 0], 'mode data length, medium type, device-specific, no block descriptor even with DBD=0');
  t.equal(ch.length, 24);
  t.same(assignment(ch), expected);
  t.same([...ch.subarray(4, 6)], [0x1d, 0x12], 'not savable: PS clear');
  t.same([...ch.subarray(22, 24)], [0, 0], 'reserved');
  const mtx = await dataOf(changer, sense6(0x1d, { dbd: true, alloc: 136 }));
  t.ok(mtx.equals(ch), 'DBD makes no difference');
  const chLun = await dataOf(changer, [0x1a, 0x20, 0x1d, 0, 255, 0]);
  t.ok(chLun.equals(ch), 'the LUN bits ch puts in byte 1 are ignored');
  const odd = makeChanger({ library: new MemoryLibrary({ transports: 2, slots: 3, mailslots: 0, drives: 1 }) }).changer;
  t.same(assignment(await dataOf(odd, sense6(0x1d))), { mtStart: 0, mtCount: 2, stStart: 0x1000, stCount: 3, ieStart: 0, ieCount: 0, dtStart: 0x3000, dtCount: 1 }, 'no mailslots: 0/0');
});

t.test('MODE SENSE all pages: 0x1D, 0x1E transport geometry, 0x1F device capabilities; (10); PC; errors', async (t) => {
  const { changer } = makeChanger();
  const all = await dataOf(changer, sense6(0x3f));
  t.equal(all[0], all.length - 1);
  const pages = all.subarray(4);
  t.same([...pages.subarray(0, 2)], [0x1d, 0x12]);
  t.same([...pages.subarray(20, 24)], [0x1e, 0x02, 0x00, 0x00], 'one transport, no rotation, member 0');
  t.same([...pages.subarray(24)], [0x1f, 0x12, 0x0e, 0, 0x00, 0x0e, 0x0e, 0x0e, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 'ST/IE/DT store and move to each other; no exchange');
  t.equal(pages.length, 44);
  const ten = await dataOf(changer, sense10(0x3f));
  t.equal(ten.readUInt16BE(0), ten.length - 2);
  t.same([...ten.subarray(2, 8)], [0, 0, 0, 0, 0, 0], 'no block descriptor');
  t.ok(ten.subarray(8).equals(pages));
  t.same([...(await dataOf(changer, sense6(0x1e)))], [7, 0, 0, 0, 0x1e, 2, 0, 0]);
  const changeable = await dataOf(changer, sense6(0x3f, { pc: 1 }));
  t.same([...changeable.subarray(4, 6)], [0x1d, 0x12]);
  t.ok(changeable.subarray(6, 24).equals(Buffer.alloc(18)), 'nothing is changeable');
  t.ok((await dataOf(changer, sense6(0x3f, { pc: 2 }))).equals(all), 'defaults are the current values');
  t.same(parseSense((await run(changer, sense6(0x1d, { pc: 3 }))).sense), { key: 5, asc: 0x39, ascq: 0, field: { inCdb: true, byte: 2, bit: 7 } });
  for (const page of [0x00, 0x08, 0x0a, 0x1c, 0x20]) t.equal(outcome(await run(changer, sense6(page))), 'CC 5/24/00', `page ${page.toString(16)}`);
  t.equal(outcome(await run(changer, sense6(0x1d, { subpage: 1 }))), 'CC 5/24/00');
  t.equal(outcome(await run(changer, sense6(0x1d, { subpage: 0xff }))), 'GOOD');
  t.same([...(await dataOf(changer, sense6(0x3f, { alloc: 6 })))], [...all.subarray(0, 6)], 'cut to the allocation length');
});

t.test('mtx status: per-type requests, barcodes, mailslots, re-asking when the report does not fit', async (t) => {
  const { changer } = makeChanger();
  const status = await mtxStatus(changer);
  t.equal(status.transport, 0);
  t.same(status.lines.slice(0, 10), Array.from({ length: 10 }, (_, i) => `Data Transfer Element ${i}:Empty`));
  t.same(status.lines.slice(10), [
    ...Array.from({ length: 8 }, (_, i) => `Storage Element ${i + 1}:Full :VolumeTag=${barcode(i + 1)}`),
    ...Array.from({ length: 12 }, (_, i) => `Storage Element ${i + 9}:Empty`),
    'Storage Element 21 IMPORT/EXPORT:Empty',
    'Storage Element 22 IMPORT/EXPORT:Full :VolumeTag=IMP001L5',
    'Storage Element 23 IMPORT/EXPORT:Empty',
    'Storage Element 24 IMPORT/EXPORT:Empty',
  ]);
  t.same(status.storage.map((d) => d.address), [...Array.from({ length: 20 }, (_, i) => SLOT(i + 1)), ...Array.from({ length: 4 }, (_, i) => MAILSLOT(i + 1))]);
  t.same(status.drives.map((d) => d.address), Array.from({ length: 10 }, (_, i) => DRIVE(i)));
  t.same(await mtxStatus(changer, 0x10000), status, 'the same with room for everything at once');
});

t.test('READ ELEMENT STATUS: header, page headers and descriptor lengths with and without VolTag', async (t) => {
  const { changer } = makeChanger();
  const tagged = await dataOf(changer, readElementStatus(2, SLOT(1), 20));
  t.equal(tagged.length, 8 + 8 + 20 * 52);
  t.same([tagged.readUInt16BE(0), tagged.readUInt16BE(2), tagged[4], tagged.readUIntBE(5, 3)], [SLOT(1), 20, 0, 8 + 20 * 52]);
  t.same([...tagged.subarray(8, 16)], [0x02, 0x80, 0, 52, 0, 0, (20 * 52) >> 8, (20 * 52) & 0xff], 'ST page: PVolTag, 52-byte descriptors');
  const first = tagged.subarray(16, 68);
  t.same([...first.subarray(0, 12)], [0x10, 0x00, 0x09, 0, 0, 0, 0, 0, 0, 0x01, 0, 0], 'Full|Access, no SValid, medium type data');
  t.equal(first.subarray(12, 44).toString('ascii'), `${barcode(1)}${' '.repeat(24)}`, 'space-padded volume identifier');
  t.same([...first.subarray(44, 52)], [0, 0, 0, 0, 0, 0, 0, 0], 'reserved, sequence 0, empty identification trailer');
  const empty = tagged.subarray(16 + 19 * 52, 16 + 20 * 52);
  t.same([empty.readUInt16BE(0), empty[2], empty[9]], [SLOT(20), 0x08, 0], 'an empty slot: Access only');
  t.ok(empty.subarray(12).equals(Buffer.alloc(40)), 'no volume tag for an empty slot');
  const plain = await dataOf(changer, readElementStatus(2, SLOT(1), 20, 0xffff, { voltag: false }));
  t.equal(plain.length, 8 + 8 + 20 * 16);
  t.same([...plain.subarray(8, 12)], [0x02, 0x00, 0, 16], 'no PVolTag, 16-byte descriptors');
  t.same([...plain.subarray(16, 32)], [0x10, 0x00, 0x09, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0]);
  const ie = decode(await dataOf(changer, readElementStatus(3, MAILSLOT(1), 4)));
  t.same(ie.descriptors.map((d) => d.flags), [0x38, 0x3b, 0x38, 0x38], 'InEnab|ExEnab|Access, ImpExp for the tape an operator put there');
  const dt = decode(await dataOf(changer, readElementStatus(4, DRIVE(0), 10)));
  t.same(dt.pages, [{ type: 4, flags: 0x80, descriptorLength: 52, byteCount: 520 }]);
  t.ok(dt.descriptors.every((d) => d.bus === 0x80 && d.flags === 0x08 && d.identifier === undefined), 'NotBus, IDValid and LUValid clear');
  const mt = await dataOf(changer, readElementStatus(1, 0, 1));
  t.same([...mt.subarray(0, 16)], [0, 0, 0, 1, 0, 0, 0, 60, 0x01, 0x80, 0, 52, 0, 0, 0, 52]);
  t.equal(mt[18], 0, 'the transport has no Access bit and holds nothing');
});

t.test('READ ELEMENT STATUS with DVCID: drives identify themselves by serial number, in ASCII', async (t) => {
  const serials = new Map([[DRIVE(0), 'HU1234567'], [DRIVE(1), 'HU12345678901']]);
  const { changer } = makeChanger({ driveSerial: (address) => serials.get(address) });
  const data = await dataOf(changer, readElementStatus(4, DRIVE(0), 10, 0xffff, { dvcid: true }));
  const r = decode(data);
  t.same(r.pages, [{ type: 4, flags: 0x80, descriptorLength: 52 + 13, byteCount: 10 * 65 }], 'one length for every drive: the longest serial');
  t.same(r.descriptors[0]!.identifier, { codeSet: 2, type: 0, value: 'HU1234567    ' });
  t.same(r.descriptors[1]!.identifier, { codeSet: 2, type: 0, value: 'HU12345678901' });
  t.equal(r.descriptors[2]!.identifier, undefined, 'a drive without a serial: identifier length 0');
  const untagged = decode(await dataOf(changer, readElementStatus(4, DRIVE(1), 1, 0xffff, { voltag: false, dvcid: true })));
  t.same(untagged.pages[0], { type: 4, flags: 0, descriptorLength: 16 + 13, byteCount: 29 });
  t.equal(untagged.descriptors[0]!.identifier?.value, 'HU12345678901');
  const slots = decode(await dataOf(changer, readElementStatus(0, SLOT(20), 2, 0xffff, { dvcid: true })));
  t.same(slots.pages.map((p) => [p.type, p.descriptorLength]), [[2, 52], [3, 52]], 'only drives carry identifiers');
  const none = decode(await dataOf(makeChanger().changer, readElementStatus(4, DRIVE(0), 1, 0xffff, { dvcid: true })));
  t.equal(none.pages[0]!.descriptorLength, 52, 'no serials at all: nothing added');
});

t.test('READ ELEMENT STATUS: the allocation length cuts the transfer, never the counts', async (t) => {
  const { changer } = makeChanger();
  const whole = await dataOf(changer, readElementStatus(0, 0, 100));
  t.equal(whole.length, 8 + 4 * 8 + 35 * 52);
  for (const alloc of [0, 1, 7, 8, 9, 16, 17, 100, whole.length - 1, whole.length, whole.length + 1, 0xffffff]) {
    const cut = await dataOf(changer, readElementStatus(0, 0, 100, alloc));
    t.ok(cut.equals(whole.subarray(0, alloc)), `allocation ${alloc}`);
  }
  const eight = await dataOf(changer, readElementStatus(2, SLOT(1), 20, 8));
  t.same([eight.readUInt16BE(0), eight.readUInt16BE(2), eight.readUIntBE(5, 3)], [SLOT(1), 20, 8 + 20 * 52], 'full size in a header-only transfer');
});

t.test('READ ELEMENT STATUS: start addresses in the middle, in a gap and beyond; counts; bad type codes', async (t) => {
  const { changer } = makeChanger();
  const middle = decode(await dataOf(changer, readElementStatus(2, SLOT(7), 3)));
  t.same(middle.descriptors.map((d) => [d.address, d.tag]), [[SLOT(7), barcode(7)], [SLOT(8), barcode(8)], [SLOT(9), '']]);
  t.equal(middle.first, SLOT(7));
  const tail = decode(await dataOf(changer, readElementStatus(2, SLOT(18), 10)));
  t.same(tail.descriptors.map((d) => d.address), [SLOT(18), SLOT(19), SLOT(20)], 'fewer left than asked for');
  const gap = decode(await dataOf(changer, readElementStatus(0, 1, 3)));
  t.same(gap.descriptors.map((d) => [d.type, d.address]), [[2, SLOT(1)], [2, SLOT(2)], [2, SLOT(3)]], 'from the next element up');
  const across = decode(await dataOf(changer, readElementStatus(0, SLOT(19), 4)));
  t.same(across.pages.map((p) => [p.type, p.byteCount]), [[2, 104], [3, 104]], 'one page per type');
  t.same(across.descriptors.map((d) => d.address), [SLOT(19), SLOT(20), MAILSLOT(1), MAILSLOT(2)]);
  const typed = decode(await dataOf(changer, readElementStatus(4, 0, 2)));
  t.same(typed.descriptors.map((d) => d.address), [DRIVE(0), DRIVE(1)], 'a type from address 0');
  const zero = await dataOf(changer, readElementStatus(2, SLOT(5), 0));
  t.same([...zero], [0x10, 0x04, 0, 0, 0, 0, 0, 0], 'a count of 0: no descriptors');
  for (const [type, start] of [[2, SLOT(21)], [2, MAILSLOT(1)], [1, 1], [3, DRIVE(0)], [4, DRIVE(10)], [0, DRIVE(10)], [0, 0xffff]] as const) {
    t.same(parseSense((await run(changer, readElementStatus(type, start, 10))).sense), { key: 5, asc: 0x21, ascq: 0x01, field: { inCdb: true, byte: 2 } }, `type ${type} from ${start.toString(16)}`);
  }
  for (let type = 5; type < 16; type++) {
    t.same(parseSense((await run(changer, readElementStatus(type, 0, 10))).sense), { key: 5, asc: 0x24, ascq: 0, field: { inCdb: true, byte: 1, bit: 3 } });
  }
});

t.test('mtx altres: all types from the last address + 1 until INVALID ELEMENT ADDRESS', async (t) => {
  const { changer, library } = makeChanger();
  const a = assignment(await dataOf(changer, sense6(0x1d, { dbd: true, alloc: 136 })));
  const seen: Descriptor[] = [];
  let next = 0;
  let requests = 0;
  for (;;) {
    const r = await run(changer, readElementStatus(0, next, a.stCount));
    if (r.status !== 0) {
      t.equal(outcome(r), 'CC 5/21/01');
      break;
    }
    requests++;
    const report = decode(r.dataIn!);
    t.equal(report.first, report.descriptors[0]!.address);
    seen.push(...report.descriptors);
    next = report.descriptors.at(-1)!.address + 1;
  }
  t.equal(requests, 2);
  t.same(seen.map((d) => d.address), library.elements().map((e) => e.address), 'every element once, in order');
  t.same(seen.map((d) => d.type), library.elements().map((e) => ({ transport: 1, storage: 2, importExport: 3, drive: 4 })[e.type]));
});

t.test('Linux ch: probe per drive with count 1 and allocation 255, then CHIOGELEM with volume tags', async (t) => {
  const { changer, library } = makeChanger();
  t.equal(outcome(await run(changer, moveMedium(SLOT(3), DRIVE(4)))), 'GOOD');
  const modes = await dataOf(changer, [0x1a, 0x20, 0x1d, 0, 255, 0, 0, 0, 0, 0]);
  const a = assignment(modes);
  for (let i = 0; i < a.dtCount; i++) {
    const buffer = await dataOf(changer, readElementStatus(4, a.dtStart + i, 1, 255, { voltag: false, lunBits: 0x20 }));
    t.equal(buffer.readUInt16BE(16), a.dtStart + i, `drive ${i}: the address at offset 16`);
  }
  t.same(await run(changer, [0x07, 0x20, 0, 0, 0, 0, 0, 0, 0, 0]), { status: 0 }, 'INITIALIZE ELEMENT STATUS');
  const gelem = await dataOf(changer, readElementStatus(4, DRIVE(4), 1, 255, { lunBits: 0x20 }));
  t.equal(gelem[18], 0x09, 'status: Full|Access');
  t.equal(gelem[25]! & 0xc0, 0x80, 'SValid, not inverted');
  t.equal(gelem.readUInt16BE(26), SLOT(3), 'source');
  t.equal((gelem[22]! & 0x30) === 0x30, false, 'no ID/LUN for ch to map');
  t.equal(gelem[9]! & 0x80, 0x80, 'PVolTag');
  t.equal(mtxBarcode(gelem.subarray(28, 64)), barcode(3));
  t.same(library.moves, [[SLOT(3), DRIVE(4)]]);
});

t.test('MOVE MEDIUM slot → drive → mailslot, as mtx load and unload do, and back', async (t) => {
  const { changer, library } = makeChanger();
  t.same(await run(changer, moveMedium(SLOT(3), DRIVE(0))), { status: 0 }, 'mtx load 3 0 (transport 0)');
  let status = await mtxStatus(changer);
  t.equal(status.lines[0], `Data Transfer Element 0:Full (Storage Element 3 Loaded):VolumeTag = ${barcode(3)}`);
  t.equal(status.lines[10 + 2], 'Storage Element 3:Empty');
  const drive = decode(await dataOf(changer, readElementStatus(4, DRIVE(0), 1))).descriptors[0]!;
  t.same([drive.flags, drive.sValid, drive.source, drive.mediumType, drive.tag], [0x09, true, SLOT(3), 1, barcode(3)]);
  t.same(await run(changer, moveMedium(DRIVE(0), MAILSLOT(1), status.transport)), { status: 0 }, 'mtx unload 21 0 (transport as read)');
  status = await mtxStatus(changer);
  t.equal(status.lines[0], 'Data Transfer Element 0:Empty');
  t.equal(status.lines[10 + 20], `Storage Element 21 IMPORT/EXPORT:Full :VolumeTag=${barcode(3)}`);
  const mailslot = decode(await dataOf(changer, readElementStatus(3, MAILSLOT(1), 1))).descriptors[0]!;
  t.same([mailslot.flags, mailslot.sValid, mailslot.source], [0x39, true, DRIVE(0)], 'placed by the robot: ImpExp clear');
  t.same(await run(changer, moveMedium(MAILSLOT(1), SLOT(3))), { status: 0 });
  t.same(library.moves, [[SLOT(3), DRIVE(0)], [DRIVE(0), MAILSLOT(1)], [MAILSLOT(1), SLOT(3)]]);
});

t.test('mtx resolves a drive source that is not an empty slot to the first empty slot', async (t) => {
  const library = stocked();
  library.put(DRIVE(1), 'LOST01L5');
  const status = await mtxStatus(makeChanger({ library }).changer);
  t.equal(status.lines[1], 'Data Transfer Element 1:Full (Storage Element 9 Loaded):VolumeTag = LOST01L5');
  const drive = status.drives[1]!;
  t.same([drive.sValid, drive.source], [false, 0], 'source unknown: SValid clear');
});

t.test('MOVE MEDIUM refusals: each reason its sense, bad addresses before the library, INVERT, transports', async (t) => {
  const { changer, library } = makeChanger();
  library.put(DRIVE(2), 'DRV002L5');
  library.prevented.add(DRIVE(2));
  const cases: Array<[string, number[], string]> = [
    ['source empty', moveMedium(SLOT(9), DRIVE(0)), 'CC 5/3b/0e'],
    ['destination full', moveMedium(SLOT(1), SLOT(2)), 'CC 5/3b/0d'],
    ['removal prevented', moveMedium(DRIVE(2), SLOT(9)), 'CC 5/53/02'],
    ['the library refuses the transport as an end', moveMedium(0, SLOT(9)), 'CC 5/21/01'],
  ];
  for (const [what, cdb, expected] of cases) t.equal(outcome(await run(changer, cdb)), expected, what);
  t.same(library.moves, [[SLOT(9), DRIVE(0)], [SLOT(1), SLOT(2)], [DRIVE(2), SLOT(9)], [0, SLOT(9)]]);
  library.moves.length = 0;
  const pointer = async (cdb: number[]) => parseSense((await run(changer, cdb)).sense);
  t.same(await pointer(moveMedium(0x1234, DRIVE(0))), { key: 5, asc: 0x21, ascq: 0x01, field: { inCdb: true, byte: 4 } }, 'unknown source');
  t.same(await pointer(moveMedium(SLOT(1), DRIVE(10))), { key: 5, asc: 0x21, ascq: 0x01, field: { inCdb: true, byte: 6 } }, 'unknown destination');
  t.same(await pointer(moveMedium(SLOT(1), DRIVE(0), 7)), { key: 5, asc: 0x21, ascq: 0x01, field: { inCdb: true, byte: 2 } }, 'not a transport');
  t.same(await pointer(moveMedium(SLOT(1), DRIVE(0), SLOT(2))), { key: 5, asc: 0x21, ascq: 0x01, field: { inCdb: true, byte: 2 } }, 'a slot is no transport');
  t.same(await pointer(moveMedium(SLOT(1), DRIVE(0), 0, true)), { key: 5, asc: 0x24, ascq: 0, field: { inCdb: true, byte: 10, bit: 0 } }, 'INVERT');
  t.same(library.moves, [], 'none of these reached the library');
  const transports = makeChanger({ library: new MemoryLibrary({ transports: 2 }).put(SLOT(1), 'A') });
  t.equal(outcome(await run(transports.changer, moveMedium(SLOT(1), DRIVE(0), 1))), 'GOOD', 'the second transport');
});

t.test('a failing library is a HARDWARE ERROR, and the changer keeps working', async (t) => {
  const { changer, library } = makeChanger();
  library.moveFailure = new Error('robot jammed');
  t.equal(outcome(await run(changer, moveMedium(SLOT(1), DRIVE(0)))), 'CC 4/44/00');
  library.moveFailure = new ChangerMoveRefused('jammed' as never);
  t.equal(outcome(await run(changer, moveMedium(SLOT(1), DRIVE(0)))), 'CC 4/44/00', 'a refusal for a reason it does not know');
  library.moveFailure = undefined;
  library.elementsFailure = new Error('catalog unavailable');
  for (const cdb of [readElementStatus(0, 0, 10), Buffer.from(sense6(0x1d)), Buffer.from(moveMedium(SLOT(1), DRIVE(0))), Buffer.from(positionToElement(SLOT(1)))]) {
    t.equal(outcome(await run(changer, cdb)), 'CC 4/44/00', `opcode ${cdb[0]!.toString(16)}`);
  }
  t.equal(outcome(await run(changer, TUR)), 'GOOD');
  library.elementsFailure = undefined;
  t.equal(outcome(await run(changer, moveMedium(SLOT(1), DRIVE(0)))), 'GOOD');
  t.equal(decode(await dataOf(changer, readElementStatus(4, DRIVE(0), 1))).descriptors[0]!.tag, barcode(1));
});

t.test('an element the robot cannot reach has its Access bit clear', async (t) => {
  const { changer, library } = makeChanger();
  library.unreachable.add(MAILSLOT(2));
  library.unreachable.add(SLOT(1));
  const r = decode(await dataOf(changer, readElementStatus(0, SLOT(1), 100)));
  const flags = new Map(r.descriptors.map((d) => [d.address, d.flags]));
  t.same([flags.get(SLOT(1)), flags.get(SLOT(2)), flags.get(MAILSLOT(2)), flags.get(MAILSLOT(3))], [0x01, 0x09, 0x33, 0x38]);
  t.equal(outcome(await run(changer, moveMedium(MAILSLOT(2), SLOT(9)))), 'CC 5/53/02');
});

t.test('POSITION TO ELEMENT: any element is GOOD, anything else INVALID ELEMENT ADDRESS', async (t) => {
  const { changer, library } = makeChanger();
  for (const address of [0, SLOT(1), SLOT(20), MAILSLOT(4), DRIVE(9)]) t.equal(outcome(await run(changer, positionToElement(address))), 'GOOD');
  t.equal(outcome(await run(changer, positionToElement(SLOT(5), 0))), 'GOOD');
  for (const address of [1, SLOT(21), DRIVE(10), 0xffff]) t.equal(outcome(await run(changer, positionToElement(address))), 'CC 5/21/01', `0x${address.toString(16)}`);
  t.equal(outcome(await run(changer, positionToElement(SLOT(5), 9))), 'CC 5/21/01', 'no such transport');
  t.equal(outcome(await run(changer, [0x2b, 0, 0, 0, 0x10, 0, 0, 0, 1, 0])), 'CC 5/24/00', 'INVERT');
  t.same(library.moves, []);
});

t.test('REPORT LUNS and REQUEST SENSE', async (t) => {
  const { changer } = makeChanger({ luns: () => [0, 1, 2] });
  const d = await dataOf(changer, reportLuns(64));
  t.equal(d.readUInt32BE(0), 24);
  t.same([d.readUInt16BE(8), d.readUInt16BE(16), d.readUInt16BE(24)], [0, 1, 2]);
  t.equal(outcome(await run(changer, reportLuns(15))), 'CC 5/24/00');
  t.equal((await dataOf(makeChanger().changer, reportLuns(16))).readUInt32BE(0), 8, 'LUN 0 by default');
  t.same([...(await dataOf(changer, reportLuns(64, 1)))], [0, 0, 0, 0, 0, 0, 0, 0], 'no well-known LUNs');
  t.equal((await dataOf(makeChanger({ luns: () => [300] }).changer, reportLuns(16))).readUInt16BE(8), 0x4000 | 300, 'flat space addressing');
  t.equal(outcome(await run(changer, reportLuns(64, 3))), 'CC 5/24/00');
  t.same(parseSense(await dataOf(changer, [0x03, 0, 0, 0, 18, 0])), { key: 0, asc: 0, ascq: 0 });
  t.equal((await dataOf(changer, [0x03, 0, 0, 0, 8, 0])).length, 8);
  t.equal(outcome(await run(changer, [0x03, 1, 0, 0, 18, 0])), 'CC 5/24/00');
});

t.test('unit attentions: reset and raised ones reach each nexus once; INQUIRY and REPORT LUNS pass them by', async (t) => {
  const { changer } = makeChanger();
  t.equal(outcome(await run(changer, TUR, NEXUS_A)), 'GOOD', 'a new nexus starts without one');
  await run(changer, TUR, NEXUS_B);
  changer.reset();
  t.equal(outcome(await run(changer, [0x12, 0, 0, 0, 36, 0], NEXUS_A)), 'GOOD');
  t.equal(outcome(await run(changer, reportLuns(16), NEXUS_A)), 'GOOD');
  t.equal(outcome(await run(changer, readElementStatus(0, 0, 1), NEXUS_A)), 'CC 6/29/03');
  t.equal(outcome(await run(changer, readElementStatus(0, 0, 1), NEXUS_A)), 'GOOD', 'once');
  t.equal(outcome(await run(changer, [0xa6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], NEXUS_B)), 'CC 6/29/03', 'before an unknown opcode too');
  changer.raiseUnitAttention(0x28, 0x00);
  t.same(parseSense(await dataOf(changer, [0x03, 0, 0, 0, 18, 0])), { key: 6, asc: 0x28, ascq: 0 }, 'REQUEST SENSE hands it over');
  t.equal(outcome(await run(changer, TUR, NEXUS_A)), 'GOOD');
  changer.nexusLost(NEXUS_B);
  t.equal(outcome(await run(changer, TUR, NEXUS_B)), 'GOOD', 'a lost nexus forgets its unit attentions');
});

const TYPES = { transport: 1, storage: 2, importExport: 3, drive: 4 } as const;

t.test('READ ELEMENT STATUS matches a model for any library, type, start, count, VolTag and allocation', async (t) => {
  const addresses = new MemoryLibrary().elements().map((e) => e.address);
  const start = fc.oneof(fc.constantFrom(...addresses), fc.integer({ min: 0, max: 0x3010 }), fc.constant(0xffff));
  await fc.assert(
    fc.asyncProperty(
      fc.uniqueArray(fc.constantFrom(...addresses.filter((a) => a !== 0)), { maxLength: 30 }),
      fc.record({ type: fc.integer({ min: 0, max: 4 }), start, count: fc.integer({ min: 0, max: 40 }), voltag: fc.boolean(), dvcid: fc.boolean(), alloc: fc.integer({ min: 0, max: 3000 }) }),
      async (full, q) => {
        const library = new MemoryLibrary();
        full.forEach((address, i) => library.put(address, `T${i}`));
        const { changer } = makeChanger({ library, driveSerial: (address) => `SN${address}` });
        const elements: ChangerElement[] = library.elements();
        const eligible = elements.filter((e) => (q.type === 0 || TYPES[e.type] === q.type) && e.address >= q.start);
        const r = await run(changer, readElementStatus(q.type, q.start, q.count, 0xffffff, q));
        if (eligible.length === 0) {
          if (outcome(r) !== 'CC 5/21/01') throw new Error(`expected INVALID ELEMENT ADDRESS, got ${outcome(r)}`);
          return;
        }
        const report = decode(r.dataIn!);
        const expected = eligible.slice(0, q.count);
        const got = report.descriptors.map((d) => [d.type, d.address, d.flags & 1, d.tag]);
        const want = expected.map((e) => [TYPES[e.type], e.address, e.full ? 1 : 0, q.voltag && e.full ? `T${full.indexOf(e.address)}` : '']);
        if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`descriptors ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
        if (report.byteCount !== r.dataIn!.length - 8) throw new Error('byte count');
        if (report.first !== eligible[0]!.address) throw new Error('first address');
        const cut = await run(changer, readElementStatus(q.type, q.start, q.count, q.alloc, q));
        if (!cut.dataIn!.equals(r.dataIn!.subarray(0, q.alloc))) throw new Error('the cut transfer is not a prefix of the whole');
      },
    ),
    { numRuns: 300 },
  );
  t.pass();
});

const OPCODES = [0x00, 0x03, 0x07, 0x12, 0x1a, 0x1e, 0x2b, 0x37, 0x5a, 0xa0, 0xa5, 0xa6, 0xb8];
const STATUSES = new Set([0x00, 0x02]);

t.test('random CDBs never make execute reject or answer something malformed', async (t) => {
  const address = fc.constantFrom(0, SLOT(1), SLOT(2), SLOT(9), MAILSLOT(1), DRIVE(0), DRIVE(1));
  const request = fc.record({
    opcode: fc.oneof(fc.constantFrom(...OPCODES), fc.integer({ min: 0, max: 255 })),
    rest: fc.uint8Array({ minLength: 0, maxLength: 17 }),
    // Often real element addresses in bytes 2-7, so that some moves, positions and reads succeed.
    addresses: fc.option(fc.tuple(address, address, address), { nil: undefined }),
    nexus: fc.constantFrom(NEXUS_A, NEXUS_B),
    reset: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
  });
  await fc.assert(
    fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 8 }), async (requests) => {
      const { changer } = makeChanger({ driveSerial: (address) => (address % 2 ? `SERIAL${address}` : undefined) });
      for (const q of requests) {
        if (q.reset) changer.reset();
        const cdb = Buffer.from([q.opcode, ...q.rest]);
        if (q.addresses && cdb.length >= 8) q.addresses.forEach((a, i) => cdb.writeUInt16BE(a, 2 + 2 * i));
        const r = await changer.execute({ cdb, dataOut: null, expectedLength: 4096, nexus: q.nexus });
        const what = `${cdb.toString('hex')} -> ${JSON.stringify({ ...r, dataIn: r.dataIn?.length, sense: r.sense?.toString('hex') })}`;
        if (!STATUSES.has(r.status)) throw new Error(`status: ${what}`);
        if ((r.status === 0x02) !== (r.sense !== undefined)) throw new Error(`sense only with CHECK CONDITION: ${what}`);
        if (r.sense && (r.sense.length !== 18 || (r.sense[0]! & 0x7f) !== 0x70)) throw new Error(`sense: ${what}`);
        if (r.sense && parseSense(r.sense)!.key === 4) throw new Error(`an internal failure with a working library: ${what}`);
        if (r.dataIn && r.status !== 0) throw new Error(`data-in with an error: ${what}`);
        const padded = paddedCdb(cdb);
        const room = padded[0] === 0xb8 ? padded.readUIntBE(7, 3) : [0x03, 0x12, 0x1a, 0x5a, 0xa0].includes(padded[0]!) ? allocationLength(padded) : 0;
        if ((r.dataIn?.length ?? 0) > room) throw new Error(`more data-in than the allocation length: ${what}`);
      }
    }),
    { numRuns: 500 },
  );
  t.pass();
});
