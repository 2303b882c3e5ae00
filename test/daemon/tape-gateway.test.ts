/**
 * The tape gateway as backup software drives it, over real iSCSI sessions to sgwd: the changer's inventory and
 * moves, a drive writing two files in variable-block mode and reading them back, a move to a mailslot that
 * archives the tape, a retrieval that brings it back read-only, and a SIGKILL in the middle of writing.
 */
import { randomBytes } from 'node:crypto';
import t, { type Test } from 'tap';
import { changerTargetName, driveTargetName } from '../../src/daemon/tape-targets.js';
import type { GatewayInfo, TapeDetails } from '../../src/rpc/api.js';
import { TestDaemon } from '../harness/daemon.js';
import { Changer, elementStatus, position, ScsiSession, senseOf, Tape, type ElementStatus } from '../harness/tape-initiator.js';

t.setTimeout(180_000);

async function library(t: Test, d: TestDaemon) {
  const info = await d.sgwJson<GatewayInfo>('gateway', 'info');
  const port = Number(info.daemon.iscsiPortal.split(':').pop());
  const gateway = info.gateway!.name;
  const sessions: ScsiSession[] = [];
  t.teardown(() => Promise.all(sessions.map((s) => s.close().catch(() => undefined))));
  const open = async (target: string) => {
    const s = await ScsiSession.open(port, target);
    sessions.push(s);
    await s.ready();
    return s;
  };
  const changer = await open(changerTargetName(gateway));
  const elements = async (type: number): Promise<ElementStatus[]> => {
    const r = await changer.run(Changer.readElementStatus(type, 0, 2000), { read: 0x40000 });
    t.equal(r.status, 0, `READ ELEMENT STATUS type ${type}`);
    return elementStatus(r.data);
  };
  const move = async (from: number, to: number) => (await changer.run(Changer.moveMedium(from, to))).status;
  const drive = (index: number) => ScsiSession.open(port, driveTargetName(gateway, index)).then((s) => (sessions.push(s), s));
  const tape = (barcode: string) => d.sgwJson<TapeDetails>('tape', 'describe', barcode);
  return { changer, elements, move, drive, tape, port, gateway };
}

async function positionOf(drive: ScsiSession): Promise<number> {
  const r = await drive.run(Tape.readPosition(), { read: 20 });
  if (r.status !== 0) throw new Error(`READ POSITION: ${r.sense.toString('hex')}`);
  return position(r.data).object;
}

async function writeRecord(drive: ScsiSession, record: Buffer): Promise<number> {
  return (await drive.run(Tape.write(record.length), { write: record })).status;
}

const until = async (what: () => Promise<boolean>, ms = 60_000) => {
  const end = Date.now() + ms;
  while (!(await what())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 200));
  }
};

t.test('inventory, load, two files between filemarks, rewind and space, read back, unload, mailslot → archived → retrieved read-only', async (t) => {
  const d = await TestDaemon.start(t, { SGW_LOCAL_RETRIEVAL_MS: '500' });
  await d.sgwJson('activate');
  await d.sgwJson('tape', 'create', '--count', '3', '--size', '100GiB', '--barcode-prefix', 'TST');
  const lib = await library(t, d);

  const slots = await lib.elements(2);
  t.same(slots.filter((s) => s.full).map((s) => s.barcode), ['TST00001', 'TST00002', 'TST00003'], 'the barcodes in the storage slots');
  const drives = await lib.elements(4);
  t.equal(drives.length, 10, 'ten drives');
  const mailslots = await lib.elements(3);
  t.ok(mailslots.length > 0 && mailslots.every((m) => !m.full), 'empty mailslots');

  t.equal(await lib.move(slots[0]!.address, drives[0]!.address), 0, 'MOVE MEDIUM slot → drive 1');
  t.match((await lib.elements(4))[0], { full: true, barcode: 'TST00001', source: slots[0]!.address });
  const drive = await lib.drive(0);
  const attentions = await drive.ready();
  t.ok(attentions.some((s) => senseOf(s).asc === 0x28), 'the drive reports the new tape (UNIT ATTENTION 28/00)');
  t.equal(await positionOf(drive), 0, 'at the beginning');

  const first = [randomBytes(10240), randomBytes(10240), randomBytes(3000)];
  const second = [randomBytes(65536), randomBytes(40000)];
  for (const [i, record] of first.entries()) {
    t.equal(await writeRecord(drive, record), 0);
    t.equal(await positionOf(drive), i + 1, `READ POSITION after record ${i + 1}`);
  }
  t.equal((await drive.run(Tape.writeFilemarks(1))).status, 0);
  t.equal(await positionOf(drive), 4, 'after the filemark');
  for (const record of second) t.equal(await writeRecord(drive, record), 0);
  t.equal((await drive.run(Tape.writeFilemarks(1))).status, 0);
  t.equal(await positionOf(drive), 7);

  t.equal((await drive.run(Tape.rewind())).status, 0);
  t.equal(await positionOf(drive), 0, 'rewound');
  t.equal((await drive.run(Tape.space(1, 1))).status, 0, 'SPACE over one filemark');
  t.equal(await positionOf(drive), 4);
  for (const record of second) {
    const r = await drive.run(Tape.read(record.length), { read: record.length });
    t.equal(r.status, 0);
    t.ok(r.data.equals(record), `a ${record.length}-byte record of the second file reads back`);
  }
  const mark = await drive.run(Tape.read(65536), { read: 65536 });
  t.match(senseOf(mark.sense), { key: 0, filemark: true }, 'then the filemark');
  t.equal(await positionOf(drive), 7, 'past it');
  t.equal((await drive.run(Tape.rewind())).status, 0);
  for (const record of first) t.ok((await drive.run(Tape.read(65536), { read: 65536 })).data.equals(record), 'the first file reads back');
  t.equal(await positionOf(drive), 3);

  t.equal((await drive.run(Tape.loadUnload(false))).status, 0, 'unload');
  t.equal(await lib.move(drives[0]!.address, mailslots[0]!.address), 0, 'MOVE MEDIUM drive → mailslot');
  await until(async () => (await lib.tape('TST00001')).status === 'ARCHIVED');
  t.match(await lib.tape('TST00001'), { status: 'ARCHIVED', location: null, usedBytes: 10240 * 2 + 3000 + 65536 + 40000 });
  t.notOk((await lib.elements(3))[0]!.full, 'the mailslot is empty again');

  t.match(await d.sgwJson<TapeDetails>('tape', 'retrieve', 'TST00001'), { status: 'RETRIEVING', retrievalEta: /^20/ });
  await until(async () => (await lib.tape('TST00001')).status === 'RETRIEVED');
  t.match(await lib.tape('TST00001'), { location: /^slot / });
  const slot = (await lib.elements(2)).find((s) => s.barcode === 'TST00001')!;
  t.equal(await lib.move(slot.address, drives[2]!.address), 0, 'the retrieved tape into drive 3');
  const reader = await lib.drive(2);
  await reader.ready();
  for (const record of first) t.ok((await reader.run(Tape.read(65536), { read: 65536 })).data.equals(record), 'reads back from the archive');
  t.match(senseOf((await reader.run(Tape.read(65536), { read: 65536 })).sense), { filemark: true });
  t.ok((await reader.run(Tape.read(65536), { read: 65536 })).data.equals(second[0]!));
  const refused = await reader.run(Tape.write(100), { write: randomBytes(100) });
  t.equal(refused.status, 2);
  t.match(senseOf(refused.sense), { key: 7, asc: 0x27 }, 'a write to a retrieved tape: DATA PROTECT');
});

t.test('SIGKILL while writing: every record acknowledged before the kill is on the tape after the restart', async (t) => {
  const d = await TestDaemon.start(t);
  await d.sgwJson('activate');
  await d.sgwJson('tape', 'create', '--barcode', 'KILL0001', '--size', '100GiB');
  let lib = await library(t, d);
  const [slot] = await lib.elements(2);
  const [drive0] = await lib.elements(4);
  t.equal(await lib.move(slot!.address, drive0!.address), 0);
  const drive = await lib.drive(0);
  await drive.ready();
  const records = Array.from({ length: 400 }, () => randomBytes(32 * 1024));
  let acknowledged = 0;
  const writing = (async () => {
    for (const record of records) {
      if ((await writeRecord(drive, record)) !== 0) return;
      acknowledged++;
    }
  })().catch(() => undefined);
  await until(async () => acknowledged >= 100, 30_000);
  t.equal(await d.stop('SIGKILL'), null, 'killed mid-write');
  await writing;
  t.ok(acknowledged >= 100 && acknowledged < records.length, `${acknowledged} records acknowledged before the kill`);

  await d.restart();
  lib = await library(t, d);
  t.match((await lib.elements(4))[0], { full: true, barcode: 'KILL0001' }, 'the tape is still in the drive');
  const again = await lib.drive(0);
  await again.ready();
  t.equal((await again.run(Tape.rewind())).status, 0);
  let read = 0;
  for (;;) {
    const r = await again.run(Tape.read(32 * 1024), { read: 32 * 1024 });
    if (r.status !== 0) {
      t.match(senseOf(r.sense), { key: 8 }, 'then BLANK CHECK at the end of data');
      break;
    }
    if (!r.data.equals(records[read]!)) {
      t.fail(`record ${read} differs`);
      break;
    }
    read++;
  }
  t.ok(read >= acknowledged && read <= acknowledged + 1, `${read} records on the tape (acknowledged ${acknowledged}; one more may have landed unacknowledged)`);
});
