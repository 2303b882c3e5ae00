import t from 'tap';
import { SgwError } from '../../../../src/errors.js';
import { blockCdb, makeDisk, NEXUS_A, NEXUS_B, outcome, parseSense, read10, run, write10 } from './disk-fixture.js';

const TUR = [0, 0, 0, 0, 0, 0];
const rc16 = (alloc: number, lba = 0n, pmi = 0) => {
  const b = Buffer.alloc(16);
  b[0] = 0x9e;
  b[1] = 0x10;
  b.writeBigUInt64BE(lba, 2);
  b.writeUInt32BE(alloc, 10);
  b[14] = pmi;
  return b;
};
const getLbaStatus = (lba: bigint, alloc = 24) => {
  const b = rc16(alloc, lba);
  b[1] = 0x12;
  return b;
};
const reportLuns = (alloc: number, select = 0) => [0xa0, 0, select, 0, 0, 0, alloc >>> 24, (alloc >> 16) & 0xff, (alloc >> 8) & 0xff, alloc & 0xff, 0, 0];
const rsoc = (option: number, opcode = 0, sa = 0, rctd = false, alloc = 65535) => [0xa3, 0x0c, (rctd ? 0x80 : 0) | option, opcode, sa >> 8, sa & 0xff, 0, 0, alloc >> 8, alloc & 0xff, 0, 0];

t.test('TEST UNIT READY, START STOP UNIT, PREVENT ALLOW, FORMAT UNIT and SEND DIAGNOSTIC (self-test) succeed', async (t) => {
  const { disk, backend } = makeDisk();
  for (const cdb of [TUR, [0x1b, 1, 0, 0, 0x01, 0], [0x1b, 0, 0, 0, 0x02, 0], [0x1e, 0, 0, 0, 1, 0], [0x1e, 0, 0, 0, 0, 0], [0x04, 0, 0, 0, 0, 0], [0x1d, 0x04, 0, 0, 0, 0]]) {
    const r = await run(disk, cdb);
    t.same(r, { status: 0 }, `opcode ${cdb[0]}`);
  }
  t.same(parseSense((await run(disk, [0x04, 0x10, 0, 0, 0, 0])).sense)?.field, { inCdb: true, byte: 1, bit: 4 }, 'FORMAT UNIT with a parameter list');
  t.same(parseSense((await run(disk, [0x1d, 0x10, 0, 0, 8, 0])).sense)?.field, { inCdb: true, byte: 3 }, 'diagnostic pages');
  t.same(backend.calls, []);
});

t.test('unknown opcodes: INVALID COMMAND OPERATION CODE; unknown service actions: pointer on byte 1', async (t) => {
  const { disk } = makeDisk();
  for (const op of [0x01, 0x07, 0x3b, 0x83, 0x84, 0x8b, 0x9c, 0xc0, 0xff]) {
    t.equal(outcome(await run(disk, [op, 0, 0, 0, 0, 0, 0, 0, 0, 0])), 'CC 5/20/00', `opcode ${op.toString(16)}`);
  }
  for (const [op, sa] of [[0x9e, 0x11], [0x9e, 0x00], [0xa3, 0x0a], [0xa3, 0x0d]]) {
    const s = parseSense((await run(disk, [op!, sa!, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])).sense);
    t.same(s, { key: 5, asc: 0x24, ascq: 0, field: { inCdb: true, byte: 1, bit: 4 } });
  }
});

t.test('READ CAPACITY(10) and (16): last LBA, block size, LBPME and LBPRZ', async (t) => {
  const { disk } = makeDisk({ blocks: 12345 });
  t.same([...(await run(disk, [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0])).dataIn!], [0, 0, 0x30, 0x38, 0, 0, 2, 0]);
  const d = (await run(disk, rc16(32))).dataIn!;
  t.equal(d.length, 32);
  t.equal(d.readBigUInt64BE(0), 12344n);
  t.equal(d.readUInt32BE(8), 512);
  t.same([d[12], d[13], d[14], d[15]], [0, 0, 0xc0, 0], 'no protection, LBPPBE 0, LBPME|LBPRZ');
  for (let alloc = 0; alloc < 16; alloc++) t.equal((await run(disk, rc16(alloc))).dataIn!.length, alloc);
  t.same(parseSense((await run(disk, [0x25, 0, 0, 0, 0, 1, 0, 0, 0, 0])).sense)?.field, { inCdb: true, byte: 2 }, 'LBA without PMI');
  t.equal(outcome(await run(disk, [0x25, 0, 0, 0, 0, 1, 0, 0, 1, 0])), 'GOOD', 'LBA with PMI');
  t.equal(outcome(await run(disk, rc16(32, 5n))), 'CC 5/24/00');
  t.equal(outcome(await run(disk, rc16(32, 5n, 1))), 'GOOD');
});

t.test('READ CAPACITY(10) says 0xFFFFFFFF when the capacity does not fit; (16) has it', async (t) => {
  const { disk } = makeDisk({ blocks: 2 ** 32 + 5 });
  t.equal((await run(disk, [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0])).dataIn!.readUInt32BE(0), 0xffffffff);
  t.equal((await run(disk, rc16(32))).dataIn!.readBigUInt64BE(0), 2n ** 32n + 4n);
});

t.test('GET LBA STATUS: one mapped descriptor from the LBA asked for; past the end is out of range', async (t) => {
  const { disk } = makeDisk({ blocks: 1000 });
  const d = (await run(disk, getLbaStatus(250n))).dataIn!;
  t.equal(d.readUInt32BE(0), 20);
  t.equal(d.readBigUInt64BE(8), 250n);
  t.equal(d.readUInt32BE(16), 750);
  t.equal(d[20], 0, 'mapped');
  t.equal((await run(disk, getLbaStatus(999n, 16))).dataIn!.length, 16);
  for (const lba of [1000n, 1001n, 2n ** 63n, 2n ** 64n - 1n]) t.equal(outcome(await run(disk, getLbaStatus(lba))), 'CC 5/21/00');
  const huge = makeDisk({ blocks: 2 ** 33 }).disk;
  t.equal((await run(huge, getLbaStatus(0n))).dataIn!.readUInt32BE(16), 0xffffffff, 'the count saturates');
});

t.test('REPORT LUNS: the LUN list, select reports, allocation length of at least 16', async (t) => {
  const { disk } = makeDisk({ luns: () => [0, 3, 300] });
  const d = (await run(disk, reportLuns(512))).dataIn!;
  t.equal(d.readUInt32BE(0), 24);
  t.same([d.readUInt16BE(8), d.readUInt16BE(16), d.readUInt16BE(24)], [0, 3, 0x4000 | 300]);
  t.equal((await run(disk, reportLuns(16))).dataIn!.length, 16);
  t.same([...(await run(disk, reportLuns(512, 1))).dataIn!], [0, 0, 0, 0, 0, 0, 0, 0], 'no well-known LUNs');
  t.equal((await run(disk, reportLuns(512, 2))).dataIn!.readUInt32BE(0), 24);
  t.same(parseSense((await run(disk, reportLuns(15))).sense)?.field, { inCdb: true, byte: 6 });
  t.equal(outcome(await run(disk, reportLuns(512, 0x10))), 'CC 5/24/00');
  t.equal((await run(makeDisk().disk, reportLuns(512))).dataIn!.readUInt32BE(0), 8, 'LUN 0 by default');
});

t.test('READ DEFECT DATA(10)/(12): an empty list in the format asked for', async (t) => {
  const { disk } = makeDisk();
  t.same([...(await run(disk, [0x37, 0, 0x1d, 0, 0, 0, 0, 0, 32, 0])).dataIn!], [0, 0x1d, 0, 0]);
  t.same([...(await run(disk, [0xb7, 0x0b, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0])).dataIn!], [0, 0x0b, 0, 0, 0, 0, 0, 0]);
  t.equal((await run(disk, [0x37, 0, 0x08, 0, 0, 0, 0, 0, 2, 0])).dataIn!.length, 2);
});

t.test('unit attentions: LU reset reaches every nexus once; INQUIRY and REPORT LUNS leave them pending', async (t) => {
  const { disk } = makeDisk();
  t.equal(outcome(await run(disk, TUR, { nexus: NEXUS_A })), 'GOOD', 'a new nexus starts without one');
  await run(disk, TUR, { nexus: NEXUS_B });
  disk.reset();
  t.equal(outcome(await run(disk, [0x12, 0, 0, 0, 36, 0], { nexus: NEXUS_A })), 'GOOD');
  t.equal(outcome(await run(disk, reportLuns(16), { nexus: NEXUS_A })), 'GOOD');
  t.equal(outcome(await read10(disk, 0, 1)), 'CC 6/29/03', 'the next other command reports it');
  t.equal(outcome(await read10(disk, 0, 1)), 'GOOD', 'once');
  t.equal(outcome(await run(disk, [0x99, 0, 0, 0, 0, 0, 0, 0, 0, 0], { nexus: NEXUS_B })), 'CC 6/29/03', 'before an unknown opcode too');
  t.equal(outcome(await run(disk, TUR, { nexus: 'never seen' })), 'GOOD');
});

t.test('REQUEST SENSE returns a pending unit attention as data and clears it, else NO SENSE', async (t) => {
  const { disk } = makeDisk();
  await run(disk, TUR);
  disk.raiseUnitAttention(0x2a, 0x09);
  const r = await run(disk, [0x03, 0, 0, 0, 252, 0]);
  t.equal(r.status, 0);
  t.same(parseSense(r.dataIn), { key: 6, asc: 0x2a, ascq: 0x09 });
  t.equal(r.dataIn!.length, 18);
  t.same(parseSense((await run(disk, [0x03, 0, 0, 0, 252, 0])).dataIn), { key: 0, asc: 0, ascq: 0 });
  t.equal(outcome(await run(disk, TUR)), 'GOOD');
  t.equal((await run(disk, [0x03, 0, 0, 0, 8, 0])).dataIn!.length, 8);
  t.equal(outcome(await run(disk, [0x03, 1, 0, 0, 252, 0])), 'CC 5/24/00', 'descriptor format is not supported');
});

t.test('a lost nexus forgets its unit attentions and comes back without one', async (t) => {
  const { disk } = makeDisk();
  await run(disk, TUR, { nexus: NEXUS_B });
  disk.reset();
  disk.nexusLost(NEXUS_B);
  t.equal(outcome(await run(disk, TUR, { nexus: NEXUS_B })), 'GOOD');
});

t.test('backend errors: a full buffer or cache is TASK SET FULL without sense, anything else HARDWARE ERROR', async (t) => {
  const { disk, backend } = makeDisk();
  backend.failure = new SgwError('SGW_UPLOAD_BUFFER_FULL', 'full');
  const full = await write10(disk, 0, Buffer.alloc(512));
  t.same(full, { status: 0x28, transferLength: 512 });
  backend.failure = new SgwError('SGW_CACHE_FULL', 'full');
  t.same(await read10(disk, 0, 1), { status: 0x28 });
  backend.failure = new SgwError('SGW_BACKEND_FAILED', 'S3 is down');
  t.equal(outcome(await read10(disk, 0, 1)), 'CC 4/44/00');
  backend.failure = Object.assign(new Error('odd'), { code: 42 });
  t.equal(outcome(await run(disk, blockCdb(0x35, 0, 0))), 'CC 4/44/00');
  backend.failure = undefined;
  t.equal(outcome(await read10(disk, 0, 1)), 'GOOD');
});

t.test('REPORT SUPPORTED OPERATION CODES, all commands: one descriptor each, timeouts only with RCTD', async (t) => {
  const { disk } = makeDisk();
  const parse = (d: Buffer) => {
    const list: Array<{ opcode: number; sa: number; flags: number; cdbLength: number; timeoutLength?: number }> = [];
    for (let at = 4; at < 4 + d.readUInt32BE(0); ) {
      const entry = { opcode: d[at]!, sa: d.readUInt16BE(at + 2), flags: d[at + 5]!, cdbLength: d.readUInt16BE(at + 6) };
      at += 8;
      if (entry.flags & 0x02) {
        list.push({ ...entry, timeoutLength: d.readUInt16BE(at) });
        at += 12;
      } else list.push(entry);
    }
    return list;
  };
  const plain = parse((await run(disk, rsoc(0))).dataIn!);
  t.ok(plain.length >= 50);
  t.ok(plain.every((e) => (e.flags & 0x02) === 0 && ((e.flags & 0x01) !== 0 || e.sa === 0)));
  t.same(plain.find((e) => e.opcode === 0x2a), { opcode: 0x2a, sa: 0, flags: 0, cdbLength: 10 });
  t.same(plain.filter((e) => e.opcode === 0x9e).map((e) => [e.sa, e.flags, e.cdbLength]), [[0x10, 1, 16], [0x12, 1, 16]]);
  t.same(plain.filter((e) => e.opcode === 0x5f).map((e) => e.sa), [0, 1, 2, 3, 4, 5, 6]);
  const timed = parse((await run(disk, rsoc(0, 0, 0, true))).dataIn!);
  t.equal(timed.length, plain.length);
  t.ok(timed.every((e) => e.timeoutLength === 0x0a));
  t.equal((await run(disk, rsoc(0, 0, 0, false, 256))).dataIn!.length, 256, 'cut to the allocation length');
});

t.test('REPORT SUPPORTED OPERATION CODES, one command: usage data starting with the opcode', async (t) => {
  const { disk } = makeDisk();
  const one = async (option: number, opcode: number, sa = 0, rctd = false) => (await run(disk, rsoc(option, opcode, sa, rctd))).dataIn!;
  const write10 = await one(1, 0x2a);
  t.same([...write10], [0, 0x03, 0, 10, 0x2a, 0x18, 0xff, 0xff, 0xff, 0xff, 0, 0xff, 0xff, 0], 'DPO and FUA are in the usage data');
  t.equal((await one(1, 0x2f))[5]! & 0x10, 0x10, 'VERIFY(10) DPO');
  t.equal((await one(1, 0x89))[5], 0x18, 'COMPARE AND WRITE DPO/FUA');
  const rc = await one(2, 0x9e, 0x10);
  t.same([rc[1], rc.readUInt16BE(2), rc[4], rc[5], rc[18]], [0x03, 16, 0x9e, 0x10, 0x01], 'service action in byte 1, PMI');
  const timed = await one(2, 0x5e, 1, true);
  t.same([timed[1], timed.readUInt16BE(2), timed[5], timed.readUInt16BE(14)], [0x83, 10, 0x01, 0x0a]);
  t.same([...(await one(1, 0x8b))], [0, 0x01, 0, 0], 'ORWRITE: not supported');
  t.same([...(await one(2, 0x9e, 0x11))], [0, 0x01, 0, 0], 'unknown service action: not supported');
  t.equal((await one(3, 0x28, 7))[4], 0x28, 'option 3 ignores the service action of a command without');
  t.equal((await one(3, 0x9e, 0x12))[5], 0x12);
  t.same(parseSense((await run(disk, rsoc(1, 0x9e))).sense)?.field, { inCdb: true, byte: 3 }, 'option 1 on a command with service actions');
  t.equal(outcome(await run(disk, rsoc(2, 0x28))), 'CC 5/24/00', 'option 2 on one without');
  t.equal(outcome(await run(disk, rsoc(4))), 'CC 5/24/00');
});

t.test('every listed command can be asked about, and its usage data says its own opcode and CDB length', async (t) => {
  const { disk } = makeDisk();
  const d = (await run(disk, rsoc(0))).dataIn!;
  for (let at = 4; at < 4 + d.readUInt32BE(0); at += 8) {
    const [opcode, sa, servactv] = [d[at]!, d.readUInt16BE(at + 2), d[at + 5]! & 1];
    const r = await run(disk, rsoc(servactv ? 2 : 1, opcode, sa));
    t.equal(outcome(r), 'GOOD');
    t.equal(r.dataIn![4], opcode);
    t.equal(r.dataIn!.readUInt16BE(2), d.readUInt16BE(at + 6));
    if (servactv) t.equal(r.dataIn![5]! & 0x1f, sa);
  }
});

t.test('a write survives in the backend: what WRITE(10) acknowledged, a new disk on the same backend reads', async (t) => {
  const { disk, backend } = makeDisk();
  await write10(disk, 3, Buffer.alloc(512, 7));
  const { ScsiDisk, naaFromId } = await import('../../../../src/daemon/targets/scsi/scsi-disk.js');
  const again = new ScsiDisk({ backend, serial: 's', naa: naaFromId('s'), targetName: 'iqn.x' });
  t.same((await read10(again, 3, 1)).dataIn, Buffer.alloc(512, 7));
});
