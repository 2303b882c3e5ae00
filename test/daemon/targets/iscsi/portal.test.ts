/** The portal over TCP, driven PDU by PDU: sequence numbers, data movement, errors, task management, sessions. */
import t, { type Test } from 'tap';
import { IscsiPortal } from '../../../../src/daemon/targets/iscsi/iscsi-portal.js';
import { startPortal, testTarget } from './test-directory.js';
import {
  DEFAULT_INITIATOR, RESERVED, TEST_UNIT_READY, TestInitiator, dataOut, encodePdu, lunField, parseText, read10, textData, write10,
} from './test-initiator.js';

const TARGET = 'iqn.2026-01.test.sgw:disk';
const SECURE = 'iqn.2026-01.test.sgw:secure';
const BLOCK = 512;

async function setup(t: Test, options: { queueDepth?: number; advertiseAddress?: string } = {}) {
  const disk = testTarget({ name: TARGET, luns: [0, 3] });
  const secure = testTarget({ name: SECURE, chap: { 'iqn.2026-01.test:trusted': { initiatorSecret: 'abcdefabcdef' } } });
  const { portal, directory } = await startPortal(t, [disk, secure], options);
  return { portal, directory, disk: disk.disks.get(0)!, target: disk };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
}

async function loggedIn(t: Test, portal: IscsiPortal, keys: Record<string, string> = {}, extra: { isid?: Buffer; discovery?: boolean } = {}) {
  const ini = await TestInitiator.connect(portal.port);
  t.teardown(() => ini.close());
  const response = await ini.login({ targetName: TARGET, keys, ...extra });
  t.equal(response.bhs.readUInt16BE(36), 0, 'logged in');
  return { ini, response };
}

t.test('login answers with the sequence numbers the first command continues from', async (t) => {
  const { portal } = await setup(t, { queueDepth: 16 });
  const { ini, response } = await loggedIn(t, portal);
  t.same([response.opcode, response.flags, response.statSN, response.expCmdSN, response.maxCmdSN], [0x23, 0x87, 0, 1000, 1015]);
  t.not(response.bhs.readUInt16BE(14), 0, 'a TSIH');
  const itt = ini.scsi({ cdb: TEST_UNIT_READY, edtl: 0 });
  const done = await ini.completion(itt);
  t.same([done.final.opcode, done.status, done.final.statSN, done.final.expCmdSN, done.final.maxCmdSN], [0x21, 0, 1, 1001, 1016]);
});

t.test('reads fold GOOD status into the last Data-In; residuals against the EDTL', async (t) => {
  const { portal, disk } = await setup(t);
  disk.blocks.fill(0x5a, 0, 4 * BLOCK);
  const { ini } = await loggedIn(t, portal, { MaxRecvDataSegmentLength: '512', MaxBurstLength: '1024' });
  const read = await ini.completion(ini.scsi({ cdb: read10(0, 4), read: true, edtl: 4 * BLOCK }));
  t.same(read.pdus.map((p) => [p.opcode, p.flags, p.word36, p.word40]), [[0x25, 0, 0, 0], [0x25, 0x80, 1, 512], [0x25, 0, 2, 1024], [0x25, 0x81, 3, 1536]], 'MRDSL segments, F at each burst, S on the last');
  t.ok(read.data.equals(disk.blocks.subarray(0, 4 * BLOCK)));
  const short = await ini.completion(ini.scsi({ cdb: read10(0, 1), read: true, edtl: 200 }));
  t.same([short.status, short.residual, short.data.length], [0, -(BLOCK - 200), 200], 'overflow: EDTL shorter than the command');
  const long = await ini.completion(ini.scsi({ cdb: read10(0, 1), read: true, edtl: 10000 }));
  t.same([long.status, long.residual, long.data.length], [0, 10000 - BLOCK, BLOCK], 'underflow');
  const zero = await ini.completion(ini.scsi({ cdb: read10(0, 1), read: true, edtl: 0 }));
  t.same([zero.final.opcode, zero.status, zero.residual], [0x21, 0, -BLOCK], 'EDTL 0: a SCSI Response with overflow');
  const beyond = await ini.completion(ini.scsi({ cdb: read10(0xffffff, 1), read: true, edtl: BLOCK }));
  t.same([beyond.status, beyond.residual, beyond.sense[2], beyond.sense[12]], [2, BLOCK, 5, 0x21], 'a failed read: sense and underflow of the whole EDTL');
});

t.test('writes: immediate data, unsolicited Data-Out, then several R2Ts outstanding at once', async (t) => {
  const { portal, disk } = await setup(t);
  const { ini, response } = await loggedIn(t, portal, { InitialR2T: 'No', ImmediateData: 'Yes', FirstBurstLength: '1024', MaxBurstLength: '2048', MaxOutstandingR2T: '3' });
  t.match(new Map(parseText(response.data)), new Map([['MaxOutstandingR2T', '3'], ['InitialR2T', 'No']]));
  const payload = Buffer.from(Array.from({ length: 16 * BLOCK }, (_, i) => (i * 13) & 0xff));
  const itt = ini.scsi({ cdb: write10(8, 16), write: true, final: false, edtl: payload.length, data: payload.subarray(0, 512) });
  ini.send(dataOut({ itt, ttt: RESERVED, dataSN: 0, offset: 512, data: payload.subarray(512, 1024), final: true }));
  const r2ts = [await ini.next(), await ini.next(), await ini.next()];
  t.same(r2ts.map((r) => [r.opcode, r.word36, r.word40, r.word44]), [[0x31, 0, 1024, 2048], [0x31, 1, 3072, 2048], [0x31, 2, 5120, 2048]], 'three R2Ts before any data');
  t.ok(await ini.quietFor(200), 'no fourth R2T until a sequence completes');
  t.ok(r2ts.every((r) => r.statSN === r2ts[0]!.statSN), 'R2Ts carry the next StatSN without taking it');
  const answer = (r2t: typeof r2ts[number]) => {
    for (let offset = r2t.word40, dataSN = 0; offset < r2t.word40 + r2t.word44; offset += 1024, dataSN++) {
      ini.send(dataOut({ itt, ttt: r2t.ttt, dataSN, offset, data: payload.subarray(offset, offset + 1024), final: offset + 1024 === r2t.word40 + r2t.word44 }));
    }
  };
  answer(r2ts[0]!);
  const fourth = await ini.next();
  t.same([fourth.opcode, fourth.word36, fourth.word40, fourth.word44], [0x31, 3, 7168, 1024], 'the last R2T once a slot frees');
  for (const r2t of [r2ts[1]!, r2ts[2]!, fourth]) answer(r2t);
  const done = await ini.completion(itt);
  t.same([done.status, done.residual], [0, 0]);
  t.ok(disk.blocks.subarray(8 * BLOCK, 24 * BLOCK).equals(payload), 'the disk holds what was sent');
});

t.test('a wrong DataSN drops the connection; the portal takes the next one', async (t) => {
  const { portal } = await setup(t);
  const { ini } = await loggedIn(t, portal, { InitialR2T: 'No', ImmediateData: 'No' });
  const itt = ini.scsi({ cdb: write10(0, 2), write: true, final: false, edtl: 2 * BLOCK });
  ini.send(dataOut({ itt, ttt: RESERVED, dataSN: 0, offset: 0, data: Buffer.alloc(BLOCK), final: false }));
  ini.send(dataOut({ itt, ttt: RESERVED, dataSN: 0, offset: BLOCK, data: Buffer.alloc(BLOCK), final: true }));
  await ini.closed;
  t.ok(ini.isClosed, 'dropped, no status');
  await loggedIn(t, portal);
});

t.test('CmdSN: early commands wait their turn, commands outside the window vanish', async (t) => {
  const { portal } = await setup(t, { queueDepth: 4 });
  const { ini } = await loggedIn(t, portal);
  ini.send({ opcode: 1, flags: 0x81, itt: 50, u32: { 24: 1004 }, cdb: TEST_UNIT_READY });
  ini.send({ opcode: 1, flags: 0x81, itt: 51, u32: { 24: 999 }, cdb: TEST_UNIT_READY });
  t.ok(await ini.quietFor(300), 'above MaxCmdSN and below ExpCmdSN: no answer, no disconnect');
  ini.send({ opcode: 1, flags: 0x81, itt: 61, u32: { 24: 1001 }, cdb: TEST_UNIT_READY });
  t.ok(await ini.quietFor(200), 'CmdSN 1001 waits for 1000');
  ini.send({ opcode: 1, flags: 0x81, itt: 60, u32: { 24: 1000 }, cdb: TEST_UNIT_READY });
  const [a, b] = [await ini.next(), await ini.next()];
  t.same([a.itt, b.itt], [60, 61], 'run in CmdSN order');
  t.same([b.expCmdSN, b.maxCmdSN], [1002, 1005]);
});

t.test('a full window advertises MaxCmdSN = ExpCmdSN - 1 and reopens as commands finish', async (t) => {
  const { portal, disk } = await setup(t, { queueDepth: 2 });
  const { ini } = await loggedIn(t, portal);
  let open!: () => void;
  disk.gate = new Promise((resolve) => (open = resolve));
  const first = ini.scsi({ cdb: TEST_UNIT_READY, edtl: 0 });
  const second = ini.scsi({ cdb: TEST_UNIT_READY, edtl: 0 });
  ini.send({ opcode: 0, immediate: true, flags: 0x80, itt: 900, lun: lunField(0), u32: { 20: RESERVED, 24: ini.cmdSN } });
  const ping = await ini.next();
  t.same([ping.opcode, ping.itt, ping.expCmdSN, ping.maxCmdSN], [0x20, 900, 1002, 1001], 'answered at once, window closed');
  ini.send({ opcode: 1, flags: 0x81, itt: 77, u32: { 24: 1002 }, cdb: TEST_UNIT_READY });
  t.ok(await ini.quietFor(200), 'the command sent into the closed window was dropped');
  open();
  disk.gate = undefined;
  const done = [await ini.completion(first), await ini.completion(second)];
  t.same(done.map((d) => d.final.maxCmdSN), [1002, 1003], 'each completion widens the window');
  t.ok(await ini.quietFor(200), 'and it stays dropped');
});

t.test('NOP-Out is echoed at once, ahead of a large read in progress', async (t) => {
  const { portal } = await setup(t);
  const { ini } = await loggedIn(t, portal, { MaxRecvDataSegmentLength: '262144' });
  ini.send({ opcode: 0, immediate: true, itt: 3, lun: lunField(0), u32: { 20: RESERVED, 24: ini.cmdSN }, data: Buffer.from('ping!') });
  const echo = await ini.next();
  t.same([echo.opcode, echo.itt, echo.ttt, echo.data.toString()], [0x20, 3, RESERVED, 'ping!']);
  ini.send({ opcode: 0, immediate: true, itt: RESERVED, u32: { 20: 5, 24: ini.cmdSN } });
  t.ok(await ini.quietFor(150), 'a NOP-Out with the reserved ITT gets no answer');

  ini.socket.pause();
  const read = ini.scsi({ cdb: read10(0, 32768), read: true, edtl: 32768 * BLOCK });
  ini.send({ opcode: 0, immediate: true, itt: 4, lun: lunField(0), u32: { 20: RESERVED, 24: ini.cmdSN } });
  await new Promise((resolve) => setTimeout(resolve, 200));
  ini.socket.resume();
  let dataBeforeNop = 0;
  for (;;) {
    const pdu = await ini.next();
    if (pdu.opcode === 0x20) break;
    t.equal(pdu.itt, read);
    dataBeforeNop += pdu.data.length;
  }
  t.ok(dataBeforeNop < 32768 * BLOCK / 2, `the NOP-In came after ${dataBeforeNop} of ${32768 * BLOCK} bytes`);
});

t.test('digests: CRC32C on headers and data; a bad data digest is rejected, then the connection drops', async (t) => {
  const { portal, disk } = await setup(t);
  disk.blocks.fill(7, 0, BLOCK);
  const { ini, response } = await loggedIn(t, portal, { HeaderDigest: 'CRC32C,None', DataDigest: 'CRC32C' });
  t.match(new Map(parseText(response.data)), new Map([['HeaderDigest', 'CRC32C'], ['DataDigest', 'CRC32C']]));
  ini.digests = { header: true, data: true };
  const read = await ini.completion(ini.scsi({ cdb: read10(0, 1), read: true, edtl: BLOCK }));
  t.ok(read.data.equals(disk.blocks.subarray(0, BLOCK)), 'a read with digests');
  const corrupt = encodePdu({ opcode: 0, immediate: true, itt: 9, u32: { 20: RESERVED, 24: ini.cmdSN }, data: Buffer.from('abcd') }, ini.digests);
  corrupt[48 + 4]! ^= 0xff;
  ini.sendRaw(corrupt);
  const reject = await ini.next();
  t.same([reject.opcode, reject.byte2, reject.data.readUInt32BE(16)], [0x3f, 0x02, 9], 'Reject, data digest error, with the header');
  await ini.closed;

  const second = (await loggedIn(t, portal, { HeaderDigest: 'CRC32C' })).ini;
  second.digests = { header: true, data: false };
  const bad = encodePdu({ opcode: 0, immediate: true, itt: 1, u32: { 20: RESERVED } }, second.digests);
  bad[48]! ^= 1;
  second.sendRaw(bad);
  await second.closed;
  t.pass('a header digest error drops the connection');
});

t.test('SendTargets in discovery and normal sessions', async (t) => {
  const { portal } = await setup(t);
  const { ini } = await loggedIn(t, portal, {}, { discovery: true });
  const ask = (text: string, ttt = RESERVED) => {
    ini.send({ opcode: 4, immediate: true, flags: 0x80, itt: ini.itt++, u32: { 20: ttt, 24: ini.cmdSN }, data: Buffer.from(`${text}\0`) });
    return ini.next();
  };
  const all = await ask('SendTargets=All');
  t.same([all.opcode, all.flags, all.ttt], [0x24, 0x80, RESERVED]);
  t.same(parseText(all.data), [['TargetName', TARGET], ['TargetAddress', `127.0.0.1:${portal.port},1`]], 'only targets this initiator may use');
  t.same(parseText((await ask(`SendTargets=${TARGET}`)).data).length, 2);
  t.same(parseText((await ask('SendTargets=iqn.2026-01.test.sgw:none')).data), []);
  t.same(parseText((await ask('SendTargetsPlease=All')).data), [['SendTargetsPlease', 'NotUnderstood']]);
  t.same(parseText((await ask('sENDtARGETS=aLL')).data), [['sENDtARGETS', 'NotUnderstood']]);
  t.same(parseText((await ask('SendTargets=Alle')).data), [['SendTargets', 'Reject']]);
  t.same(parseText((await ask('SendTargets=A')).data), [['SendTargets', 'Reject']]);
  ini.send({ opcode: 1, immediate: true, flags: 0x81, itt: 500, u32: { 24: ini.cmdSN }, cdb: TEST_UNIT_READY });
  const refused = await ini.next();
  t.same([refused.opcode, refused.byte2], [0x3f, 0x05], 'no SCSI commands in a discovery session');

  const normal = (await loggedIn(t, portal)).ini;
  normal.send({ opcode: 4, flags: 0x80, itt: 1, u32: { 20: RESERVED, 24: normal.cmdSN++ }, data: textData({ SendTargets: '' }) });
  t.same(parseText((await normal.next()).data)[0], ['TargetName', TARGET], 'an empty value names the current target');
});

t.test('a SendTargets answer longer than the initiator accepts comes in pieces', async (t) => {
  const targets = Array.from({ length: 40 }, (_, i) => testTarget({ name: `iqn.2026-01.test.sgw:volume-${String(i).padStart(3, '0')}`, sizeBytes: 4096 }));
  const { portal } = await startPortal(t, targets, { advertiseAddress: '192.0.2.10:3260' });
  const ini = await TestInitiator.connect(portal.port);
  t.teardown(() => ini.close());
  await ini.login({ discovery: true, keys: { MaxRecvDataSegmentLength: '512' } });
  ini.send({ opcode: 4, immediate: true, flags: 0x80, itt: 1, u32: { 20: RESERVED, 24: ini.cmdSN }, data: textData({ SendTargets: 'All' }) });
  const pieces: Buffer[] = [];
  for (let pdu = await ini.next(); ; pdu = await ini.next()) {
    t.ok(pdu.data.length <= 512);
    pieces.push(pdu.data);
    if (pdu.flags === 0x80) break;
    t.same([pdu.flags, pdu.ttt === RESERVED], [0x40, false], 'C set, F clear, a TTT to continue with');
    ini.send({ opcode: 4, immediate: true, flags: 0x80, itt: 1, u32: { 20: pdu.ttt, 24: ini.cmdSN } });
  }
  const pairs = parseText(Buffer.concat(pieces));
  t.equal(pairs.length, 80);
  t.same(pairs[1], ['TargetAddress', '192.0.2.10:3260,1'], 'the advertised address');
});

t.test('SNACK and unknown opcodes are rejected, the session goes on', async (t) => {
  const { portal } = await setup(t);
  const { ini } = await loggedIn(t, portal);
  ini.send({ opcode: 0x10, itt: 1 });
  t.same([(await ini.next()).byte2], [0x04]);
  ini.send({ opcode: 0x1c, immediate: true, itt: 2 });
  const reject = await ini.next();
  t.same([reject.opcode, reject.byte2, reject.data[0]], [0x3f, 0x05, 0x5c]);
  t.equal((await ini.completion(ini.scsi({ cdb: TEST_UNIT_READY, edtl: 0 }))).status, 0);
});

t.test('LUNs the target lacks answer as absent', async (t) => {
  const { portal } = await setup(t);
  const { ini } = await loggedIn(t, portal);
  const inquiry = Buffer.from([0x12, 0, 0, 0, 96, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const absent = await ini.completion(ini.scsi({ cdb: inquiry, read: true, edtl: 96, lun: 9 }));
  t.same([absent.status, absent.data.length, absent.data[0]], [0, 36, 0x7f]);
  const reportLuns = Buffer.from([0xa0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
  const luns = await ini.completion(ini.scsi({ cdb: reportLuns, read: true, edtl: 256, lun: 9 }));
  t.same([luns.data.readUInt32BE(0), luns.data[9], luns.data[17]], [16, 0, 3]);
  const tur = await ini.completion(ini.scsi({ cdb: TEST_UNIT_READY, edtl: 0, lun: 9 }));
  t.same([tur.status, tur.sense[2], tur.sense[12]], [2, 5, 0x25]);
});

t.test('login failures answer with a status and close the connection', async (t) => {
  const { portal } = await setup(t);
  for (const [keys, status] of [
    [{ InitiatorName: DEFAULT_INITIATOR, TargetName: 'iqn.2026-01.test.sgw:missing' }, 0x0203],
    [{ TargetName: TARGET }, 0x0207],
    [{ InitiatorName: DEFAULT_INITIATOR, TargetName: SECURE }, 0x0202],
  ] as const) {
    const ini = await TestInitiator.connect(portal.port);
    ini.send({ opcode: 3, immediate: true, flags: 0x87, itt: 1, u32: { 24: 1 }, data: textData(keys as Record<string, string>) });
    t.equal((await ini.next()).bhs.readUInt16BE(36), status);
    await ini.closed;
  }
  const early = await TestInitiator.connect(portal.port);
  early.send({ opcode: 1, itt: 1, cdb: TEST_UNIT_READY });
  await early.closed;
  t.pass('anything but a login before login drops the connection');
});

t.test('a new login from the same initiator port reinstates the session', async (t) => {
  const { portal, disk } = await setup(t);
  const first = (await loggedIn(t, portal)).ini;
  t.equal(portal.sessions().length, 1);
  const second = (await loggedIn(t, portal)).ini;
  await first.closed;
  t.equal(portal.sessions().length, 1, 'the old session is gone');
  t.same(disk.lostNexuses, [`${DEFAULT_INITIATOR},i,0x800000000001|${TARGET},t,0x0001`], 'its nexus was reported lost');
  t.match(portal.sessions()[0], { targetName: TARGET, initiatorName: DEFAULT_INITIATOR, isid: '800000000001', initiatorAddress: /^127\.0\.0\.1:\d+$/ });
  await loggedIn(t, portal, {}, { isid: Buffer.from([0x80, 0, 0, 0, 0, 2]) });
  t.equal(portal.sessions().length, 2, 'another ISID is another session');
  t.equal((await second.completion(second.scsi({ cdb: TEST_UNIT_READY, edtl: 0 }))).status, 0);
});

t.test('logout answers with Time2Wait 2 and Time2Retain 0, then closes', async (t) => {
  const { portal, disk } = await setup(t);
  const { ini } = await loggedIn(t, portal);
  ini.send({ opcode: 6, immediate: true, flags: 0x81, itt: 4, u32: { 24: ini.cmdSN } , u16: { 20: 5 } });
  t.same([(await ini.next()).byte2], [1], 'closing another CID: no such CID');
  ini.send({ opcode: 6, immediate: true, flags: 0x80, itt: 5, u32: { 24: ini.cmdSN } });
  const done = await ini.next();
  t.same([done.opcode, done.byte2, done.itt, done.bhs.readUInt16BE(40), done.bhs.readUInt16BE(42)], [0x26, 0, 5, 2, 0]);
  await ini.closed;
  await until(() => portal.sessions().length === 0);
  t.equal(disk.lostNexuses.length, 1, 'the nexus is gone');
});

t.test('task management: ABORT TASK, LOGICAL UNIT RESET, unknown tasks and LUNs', async (t) => {
  const { portal, disk } = await setup(t);
  const { ini } = await loggedIn(t, portal);
  let open!: () => void;
  disk.gate = new Promise((resolve) => (open = resolve));
  const slow = ini.scsi({ cdb: TEST_UNIT_READY, edtl: 0 });
  const tmf = (fn: number, rtt: number, refCmdSN: number, lun = 0) => {
    ini.send({ opcode: 2, immediate: true, flags: 0x80 | fn, itt: 800 + fn, lun: lunField(lun), u32: { 20: rtt, 24: ini.cmdSN, 32: refCmdSN } });
  };
  tmf(1, slow, 1000);
  t.ok(await ini.quietFor(200), 'the abort waits for the running command');
  open();
  disk.gate = undefined;
  const aborted = await ini.next();
  t.same([aborted.opcode, aborted.itt, aborted.byte2], [0x22, 801, 0], 'complete, and no status for the aborted task');
  tmf(1, 12345, 1000);
  t.equal((await ini.next()).byte2, 1, 'an ITT that already completed: no such task');
  tmf(1, 12345, ini.cmdSN + 1);
  t.equal((await ini.next()).byte2, 0, 'a CmdSN still in the window counts as received and aborted');
  tmf(5, RESERVED, 0);
  t.equal((await ini.next()).byte2, 0);
  t.equal(disk.resets, 1, 'the logical unit was reset');
  tmf(5, RESERVED, 0, 9);
  t.equal((await ini.next()).byte2, 2, 'no such LUN');
  tmf(8, RESERVED, 0);
  t.equal((await ini.next()).byte2, 4, 'task reassignment needs ERL 2');
  tmf(6, RESERVED, 0);
  t.equal((await ini.next()).byte2, 0);
  t.equal(disk.resets, 2, 'a target warm reset resets every LU');
  t.equal((await ini.completion(ini.scsi({ cdb: TEST_UNIT_READY, edtl: 0 }))).status, 0, 'the skipped CmdSN kept the window moving');
});

t.test('a write larger than the session budget is refused with INVALID FIELD IN CDB', async (t) => {
  const { portal } = await setup(t);
  const { ini } = await loggedIn(t, portal);
  const done = await ini.completion(ini.scsi({ cdb: write10(0, 0xffff), write: true, edtl: 0x7fffffff }));
  t.same([done.status, done.sense[2], done.sense[12]], [2, 5, 0x24]);
});

t.test('dropTarget tells the initiator and closes; close() ends everything', async (t) => {
  const { portal, directory } = await setup(t);
  const { ini } = await loggedIn(t, portal);
  const other = await TestInitiator.connect(portal.port);
  directory.remove(TARGET);
  portal.dropTarget(TARGET);
  const notice = await ini.next();
  t.same([notice.opcode, notice.bhs[36], notice.bhs.readUInt16BE(40), notice.bhs.readUInt16BE(42)], [0x32, 3, 2, 0], 'AsyncEvent 3 with Time2Wait/Time2Retain');
  await ini.closed;
  await until(() => portal.sessions().length === 0);
  t.same(portal.sessions(), []);
  await portal.close();
  await other.closed;
  t.pass('close() ended a connection that never logged in');
});
