import t from 'tap';
import { naaFromId } from '../../../../src/daemon/targets/scsi/scsi-disk.js';
import { makeDisk, outcome, parseSense, run, TARGET } from './disk-fixture.js';

const inquiry = (evpd: number, page: number, alloc: number) => [0x12, evpd, page, alloc >> 8, alloc & 0xff, 0];

t.test('standard INQUIRY: disk, SPC-4, HiSup, CmdQue, padded ASCII names, version descriptors', async (t) => {
  const { disk } = makeDisk({ vendor: 'ACME', product: 'Gateway Volume', revision: '12' });
  const r = await run(disk, inquiry(0, 0, 255));
  t.equal(outcome(r), 'GOOD');
  const d = r.dataIn!;
  t.equal(d.length, 96);
  t.equal(d[0], 0x00, 'peripheral qualifier 0, direct-access device');
  t.equal(d[1], 0x00, 'not removable');
  t.equal(d[2], 0x06, 'SPC-4');
  t.equal(d[3], 0x12, 'HiSup, response data format 2');
  t.equal(d[4], 91, 'additional length = length - 5');
  t.equal(d[5], 0, 'no TPGS, no 3PC, no protection');
  t.equal(d[6], 0, 'MChngr clear');
  t.equal(d[7], 0x02, 'CmdQue');
  t.equal(d.toString('ascii', 8, 16), 'ACME    ');
  t.equal(d.toString('ascii', 16, 32), 'Gateway Volume  ');
  t.equal(d.toString('ascii', 32, 36), '12  ');
  t.same([0, 1, 2].map((i) => d.readUInt16BE(58 + 2 * i)), [0x0960, 0x0460, 0x04c0]);
  t.equal(d.readUInt16BE(64), 0);
});

t.test('defaults: SGW / VOLUME / 0001; non-printable characters never reach the data', async (t) => {
  const d = (await run(makeDisk().disk, inquiry(0, 0, 96))).dataIn!;
  t.equal(d.toString('ascii', 8, 36), 'SGW     VOLUME          0001');
  const odd = (await run(makeDisk({ vendor: 'a\u00e9\n' }).disk, inquiry(0, 0, 96))).dataIn!;
  t.equal(odd.toString('ascii', 8, 16), 'a??     ');
});

t.test('allocation length: any from 0 to 65535, cut not padded; 511 and 512 give the same', async (t) => {
  const { disk } = makeDisk();
  for (const alloc of [0, 5, 36, 95, 96, 255, 511, 512, 65535]) {
    const r = await run(disk, inquiry(0, 0, alloc));
    t.equal(r.dataIn!.length, Math.min(alloc, 96), `alloc ${alloc}`);
  }
});

t.test('EVPD=0 with a page code, unknown VPD page, CMDDT: INVALID FIELD IN CDB with the pointer on the field', async (t) => {
  const { disk } = makeDisk();
  const pageWithoutEvpd = parseSense((await run(disk, inquiry(0, 0x80, 255))).sense);
  t.same(pageWithoutEvpd, { key: 5, asc: 0x24, ascq: 0, field: { inCdb: true, byte: 2 } });
  t.equal(outcome(await run(disk, inquiry(1, 0x99, 255))), 'CC 5/24/00');
  t.equal(outcome(await run(disk, inquiry(2, 0, 255))), 'CC 5/24/00');
});

t.test('VPD 0x00 lists the pages in ascending order and each of them can be read', async (t) => {
  const { disk } = makeDisk();
  const list = (await run(disk, inquiry(1, 0, 255))).dataIn!;
  t.equal(list[1], 0x00);
  const pages = [...list.subarray(4, 4 + list.readUInt16BE(2))];
  t.same(pages, [0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2]);
  for (const page of pages) {
    const r = await run(disk, inquiry(1, page, 255));
    t.equal(outcome(r), 'GOOD', `page ${page.toString(16)}`);
    t.equal(r.dataIn![1], page);
    t.equal(r.dataIn!.length, 4 + r.dataIn!.readUInt16BE(2), 'page length matches');
  }
});

t.test('VPD 0x80: the serial number, unchanged across instances', async (t) => {
  const first = (await run(makeDisk({ serial: 'vol-abc' }).disk, inquiry(1, 0x80, 255))).dataIn!;
  const again = (await run(makeDisk({ serial: 'vol-abc' }).disk, inquiry(1, 0x80, 255))).dataIn!;
  t.equal(first.toString('ascii', 4), 'vol-abc');
  t.equal(first.readUInt16BE(2), 7);
  t.same(first, again);
});

t.test('VPD 0x83: NAA 6 and T10 vendor id of the LU, relative port and iSCSI name of the target port', async (t) => {
  const naa = naaFromId('vol-xyz');
  const d = (await run(makeDisk({ serial: 'vol-xyz', naa }).disk, inquiry(1, 0x83, 1024))).dataIn!;
  const designators: Array<{ b0: number; b1: number; value: Buffer }> = [];
  for (let at = 4; at < 4 + d.readUInt16BE(2); at += 4 + d[at + 3]!) {
    designators.push({ b0: d[at]!, b1: d[at + 1]!, value: d.subarray(at + 4, at + 4 + d[at + 3]!) });
  }
  t.equal(designators.length, 4);
  const [naaDesignator, vendor, port, name] = designators;
  t.same([naaDesignator!.b0, naaDesignator!.b1], [0x01, 0x03], 'binary, LU, NAA');
  t.same(naaDesignator!.value, naa);
  t.same([vendor!.b0, vendor!.b1], [0x02, 0x01], 'ASCII, LU, T10 vendor id');
  t.equal(vendor!.value.toString('ascii'), 'SGW     vol-xyz');
  t.same([port!.b0, port!.b1], [0x51, 0x94], 'iSCSI, PIV, target port, relative target port');
  t.same(port!.value, Buffer.from([0, 0, 0, 1]));
  t.same([name!.b0, name!.b1], [0x53, 0x98], 'iSCSI, UTF-8, PIV, target port, SCSI name string');
  t.equal(name!.value.length % 4, 0, 'padded to a multiple of 4');
  t.equal(name!.value.toString('utf8').replace(/\0+$/, ''), `${TARGET},t,0x0001`);
  t.equal(name!.value[name!.value.length - 1], 0, 'NUL-terminated');
});

t.test('naaFromId: NAA 6, deterministic, different for different ids', async (t) => {
  const a = naaFromId('vol-1');
  t.equal(a.length, 16);
  t.equal(a[0]! >> 4, 6);
  t.same(naaFromId('vol-1'), a);
  t.notSame(naaFromId('vol-2'), a);
  t.same(naaFromId('vol-2').subarray(0, 3), a.subarray(0, 3), 'same company id');
});

t.test('VPD 0xB0 block limits at SBC-3 length, consistent with the commands', async (t) => {
  const d = (await run(makeDisk().disk, inquiry(1, 0xb0, 255))).dataIn!;
  t.equal(d.readUInt16BE(2), 0x3c);
  t.equal(d[4], 0, 'WSNZ clear');
  t.equal(d[5], 255, 'MAXIMUM COMPARE AND WRITE LENGTH');
  t.equal(d.readUInt16BE(6), 8, '4 KiB transfer granularity');
  t.equal(d.readUInt32BE(8), 65536, '32 MiB maximum transfer');
  t.equal(d.readUInt32BE(12), 2048, '1 MiB optimal transfer');
  t.equal(d.readUInt32BE(20), 1048576, 'MAXIMUM UNMAP LBA COUNT within 1M');
  t.equal(d.readUInt32BE(24), 256, 'MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT');
  t.equal(d.readUInt32BE(28), 2048, 'OPTIMAL UNMAP GRANULARITY');
  t.equal(d.readUInt32BE(32), 0x80000000, 'UGAVALID, alignment 0');
  t.equal(d.readBigUInt64BE(36), 2097152n, 'MAXIMUM WRITE SAME LENGTH: 1 GiB');
  const big = (await run(makeDisk({ blockSize: 4096 }).disk, inquiry(1, 0xb0, 255))).dataIn!;
  t.equal(big.readUInt16BE(6), 1);
  t.equal(big.readUInt32BE(8), 8192);
});

t.test('VPD 0xB1: non-rotating; 0xB2: LBPU, LBPWS, LBPWS10, LBPRZ, thin', async (t) => {
  const { disk } = makeDisk();
  const b1 = (await run(disk, inquiry(1, 0xb1, 255))).dataIn!;
  t.equal(b1.readUInt16BE(2), 0x3c);
  t.equal(b1.readUInt16BE(4), 1);
  const b2 = (await run(disk, inquiry(1, 0xb2, 255))).dataIn!;
  t.same([...b2], [0x00, 0xb2, 0x00, 0x04, 0x00, 0xe4, 0x02, 0x00]);
});
