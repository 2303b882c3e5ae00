import t from 'tap';
import type { ScsiDisk } from '../../../../src/daemon/targets/scsi/scsi-disk.js';
import { blockCdb, makeDisk, NEXUS_A, NEXUS_B, outcome, parseSense, read10, run, write10 } from './disk-fixture.js';

const NEXUS_C = 'iqn.1994-05.com.example:c,i,0x400001370000';
const WE = 1;
const EA = 3;
const WE_RO = 5;
const EA_RO = 6;
const WE_AR = 7;
const EA_AR = 8;

const prIn = (sa: number, alloc = 8192) => [0x5e, sa, 0, 0, 0, 0, 0, alloc >> 8, alloc & 0xff, 0];

function prOut(disk: ScsiDisk, nexus: string, sa: number, o: { key?: bigint; sark?: bigint; type?: number; scope?: number; flags?: number; length?: number } = {}) {
  const params = Buffer.alloc(24);
  params.writeBigUInt64BE(o.key ?? 0n, 0);
  params.writeBigUInt64BE(o.sark ?? 0n, 8);
  params[20] = o.flags ?? 0;
  const length = o.length ?? 24;
  const cdb = Buffer.from([0x5f, sa, ((o.scope ?? 0) << 4) | (o.type ?? 0), 0, 0, 0, 0, 0, 0, 0]);
  cdb.writeUInt32BE(length, 5);
  return run(disk, cdb, { dataOut: Buffer.concat([params, Buffer.alloc(Math.max(0, length - 24))]).subarray(0, length), nexus });
}

const register = (disk: ScsiDisk, nexus: string, sark: bigint, key = 0n) => prOut(disk, nexus, 0, { key, sark });
const registerIgnore = (disk: ScsiDisk, nexus: string, sark: bigint) => prOut(disk, nexus, 6, { sark });
const reserve = (disk: ScsiDisk, nexus: string, key: bigint, type: number) => prOut(disk, nexus, 1, { key, type });
const release = (disk: ScsiDisk, nexus: string, key: bigint, type: number) => prOut(disk, nexus, 2, { key, type });

async function readKeys(disk: ScsiDisk, nexus = NEXUS_A): Promise<{ generation: number; keys: bigint[] }> {
  const d = (await run(disk, prIn(0), { nexus })).dataIn!;
  const keys: bigint[] = [];
  for (let at = 8; at < 8 + d.readUInt32BE(4); at += 8) keys.push(d.readBigUInt64BE(at));
  return { generation: d.readUInt32BE(0), keys };
}

async function readReservation(disk: ScsiDisk, nexus = NEXUS_A): Promise<{ key: bigint; type: number } | undefined> {
  const d = (await run(disk, prIn(1), { nexus })).dataIn!;
  if (d.readUInt32BE(4) === 0) return undefined;
  return { key: d.readBigUInt64BE(8), type: d[21]! & 0x0f };
}

t.test('REGISTER, READ KEYS, a conflicting re-register, unregister (ProutRegister.Simple)', async (t) => {
  const { disk } = makeDisk();
  t.same(await readKeys(disk), { generation: 0, keys: [] });
  t.equal(outcome(await registerIgnore(disk, NEXUS_A, 0x1111n)), 'GOOD');
  t.same(await readKeys(disk), { generation: 1, keys: [0x1111n] });
  t.equal(outcome(await register(disk, NEXUS_A, 0x1112n)), '0x18', 'REGISTER with the wrong key conflicts');
  t.equal(outcome(await register(disk, NEXUS_A, 0x2222n, 0x1111n)), 'GOOD', 'with the right key it changes the key');
  t.same(await readKeys(disk), { generation: 2, keys: [0x2222n] });
  t.equal(outcome(await register(disk, NEXUS_A, 0n, 0x2222n)), 'GOOD');
  t.same(await readKeys(disk), { generation: 3, keys: [] });
  t.equal(outcome(await register(disk, NEXUS_B, 0n)), 'GOOD', 'unregistering when not registered is a no-op');
  t.equal(outcome(await register(disk, NEXUS_B, 5n, 7n)), '0x18', 'an unregistered nexus must give key 0');
  t.equal((await readKeys(disk)).generation, 3);
});

t.test('READ KEYS cut to 8 bytes keeps the additional length (PrinReadKeys.Truncate)', async (t) => {
  const { disk } = makeDisk();
  await registerIgnore(disk, NEXUS_A, 0xabcn);
  const d = (await run(disk, prIn(0, 8))).dataIn!;
  t.equal(d.length, 8);
  t.equal(d.readUInt32BE(4), 8);
});

t.test('PR IN service actions 0-3 work, 4-0x1F are INVALID FIELD IN CDB (PrinServiceactionRange)', async (t) => {
  const { disk } = makeDisk();
  for (let sa = 0; sa < 4; sa++) t.equal(outcome(await run(disk, prIn(sa))), 'GOOD');
  for (let sa = 4; sa < 0x20; sa++) {
    t.same(parseSense((await run(disk, prIn(sa))).sense), { key: 5, asc: 0x24, ascq: 0, field: { inCdb: true, byte: 1, bit: 4 } });
  }
});

t.test('REPORT CAPABILITIES: length 8, ATP_C, TMV, ALLOW COMMANDS 3, all six types, no PTPL', async (t) => {
  const d = (await run(makeDisk().disk, prIn(2))).dataIn!;
  t.same([...d], [0x00, 0x08, 0x04, 0xb0, 0xea, 0x01, 0x00, 0x00]);
});

t.test('RESERVE and RELEASE every type; all-registrants reservations read with key 0 (ProutReserve.Simple)', async (t) => {
  const { disk } = makeDisk();
  await registerIgnore(disk, NEXUS_A, 0x77n);
  const generation = (await readKeys(disk)).generation;
  for (const type of [WE, EA, WE_RO, EA_RO, WE_AR, EA_AR]) {
    t.equal(outcome(await reserve(disk, NEXUS_A, 0x77n, type)), 'GOOD');
    t.same(await readReservation(disk), { key: type >= WE_AR ? 0n : 0x77n, type });
    t.equal(outcome(await reserve(disk, NEXUS_A, 0x77n, type)), 'GOOD', 'reserving again the same way is fine');
    t.equal(outcome(await release(disk, NEXUS_A, 0x77n, type)), 'GOOD');
    t.equal(await readReservation(disk), undefined);
  }
  t.equal((await readKeys(disk)).generation, generation, 'RESERVE and RELEASE leave the generation alone');
});

t.test('RESERVE checks key, scope and type; another holder conflicts', async (t) => {
  const { disk } = makeDisk();
  await registerIgnore(disk, NEXUS_A, 1n);
  await registerIgnore(disk, NEXUS_B, 2n);
  t.equal(outcome(await reserve(disk, NEXUS_A, 9n, WE)), '0x18', 'wrong key');
  t.equal(outcome(await reserve(disk, NEXUS_C, 0n, WE)), '0x18', 'not registered');
  t.equal(outcome(await prOut(disk, NEXUS_A, 1, { key: 1n, type: WE, scope: 1 })), 'CC 5/24/00', 'scope other than LU');
  t.equal(outcome(await reserve(disk, NEXUS_A, 1n, 2)), 'CC 5/24/00', 'type 2 does not exist');
  t.equal(outcome(await reserve(disk, NEXUS_A, 1n, EA)), 'GOOD');
  t.equal(outcome(await reserve(disk, NEXUS_B, 2n, EA)), '0x18');
  t.equal(outcome(await reserve(disk, NEXUS_A, 1n, WE)), '0x18', 'the holder cannot change the type by RESERVE');
  t.equal(outcome(await release(disk, NEXUS_B, 2n, EA)), 'GOOD', 'a non-holder releases nothing');
  t.same(await readReservation(disk), { key: 1n, type: EA });
  t.equal(outcome(await release(disk, NEXUS_A, 1n, WE)), 'CC 5/26/04', 'releasing with another type');
});

t.test('access for a registered and an unregistered second nexus, per type (ProutReserve.Access*)', async (t) => {
  // [type, registered can read, registered can write, unregistered can read, unregistered can write]
  const table: Array<[number, boolean, boolean, boolean, boolean]> = [
    [EA, false, false, false, false],
    [WE, true, false, true, false],
    [EA_RO, true, true, false, false],
    [WE_RO, true, true, true, false],
    [EA_AR, true, true, false, false],
    [WE_AR, true, true, true, false],
  ];
  for (const [type, regRead, regWrite, unregRead, unregWrite] of table) {
    const { disk } = makeDisk();
    await registerIgnore(disk, NEXUS_A, 0xa1n);
    await registerIgnore(disk, NEXUS_B, 0xb2n);
    t.equal(outcome(await reserve(disk, NEXUS_A, 0xa1n, type)), 'GOOD');
    const block = Buffer.alloc(512, type);
    t.equal(outcome(await read10(disk, 1, 1)), 'GOOD', `type ${type}: holder reads`);
    t.equal(outcome(await write10(disk, 1, block)), 'GOOD', `type ${type}: holder writes`);
    const expect = (ok: boolean) => (ok ? 'GOOD' : '0x18');
    t.equal(outcome(await read10(disk, 1, 1, NEXUS_B)), expect(regRead), `type ${type}: registrant reads`);
    t.equal(outcome(await write10(disk, 1, block, NEXUS_B)), expect(regWrite), `type ${type}: registrant writes`);
    await register(disk, NEXUS_B, 0n, 0xb2n);
    t.equal(outcome(await read10(disk, 1, 1, NEXUS_B)), expect(unregRead), `type ${type}: non-registrant reads`);
    t.equal(outcome(await write10(disk, 1, block, NEXUS_B)), expect(unregWrite), `type ${type}: non-registrant writes`);
    for (const cdb of [[0], [0x12, 0, 0, 0, 36, 0], [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0], prIn(0)]) {
      t.equal(outcome(await run(disk, cdb, { nexus: NEXUS_B })), 'GOOD', `type ${type}: opcode ${cdb[0]} passes`);
    }
    t.equal(outcome(await release(disk, NEXUS_A, 0xa1n, type)), 'GOOD');
    t.equal(outcome(await write10(disk, 1, block, NEXUS_B)), 'GOOD', `type ${type}: released`);
  }
});

t.test('the holder unregistering releases its reservation, unless all registrants hold it (ProutReserve.Ownership*)', async (t) => {
  for (const type of [EA, WE, EA_RO, WE_RO, EA_AR, WE_AR]) {
    const { disk } = makeDisk();
    await run(disk, [0], { nexus: NEXUS_B });
    await registerIgnore(disk, NEXUS_A, 0xa1n);
    await registerIgnore(disk, NEXUS_B, 0xb2n);
    await reserve(disk, NEXUS_A, 0xa1n, type);
    t.equal(outcome(await register(disk, NEXUS_A, 0n, 0xa1n)), 'GOOD');
    if (type >= WE_AR) {
      t.same(await readReservation(disk), { key: 0n, type }, `type ${type}: still reserved`);
      t.equal(outcome(await release(disk, NEXUS_B, 0xb2n, type)), 'GOOD', `type ${type}: the other registrant releases`);
    } else {
      t.equal(await readReservation(disk), undefined, `type ${type}: released`);
      const expected = type >= WE_RO ? 'CC 6/2a/04' : 'GOOD';
      t.equal(outcome(await run(disk, [0], { nexus: NEXUS_B })), expected, `type ${type}: RESERVATIONS RELEASED only for registrants-only`);
    }
    t.equal(await readReservation(disk), undefined);
    t.equal(outcome(await register(disk, NEXUS_B, 0n, 0xb2n)), 'GOOD');
  }
});

t.test('the last registrant leaving ends an all-registrants reservation', async (t) => {
  const { disk } = makeDisk();
  await registerIgnore(disk, NEXUS_A, 1n);
  await reserve(disk, NEXUS_A, 1n, EA_AR);
  await register(disk, NEXUS_A, 0n, 1n);
  t.equal(await readReservation(disk), undefined);
  t.equal(outcome(await write10(disk, 0, Buffer.alloc(512), NEXUS_B)), 'GOOD');
});

t.test('CLEAR drops every registration and the reservation, bumps the generation once (ProutClear.Simple)', async (t) => {
  const { disk } = makeDisk();
  await run(disk, [0], { nexus: NEXUS_B });
  await registerIgnore(disk, NEXUS_A, 5n);
  await registerIgnore(disk, NEXUS_B, 6n);
  await reserve(disk, NEXUS_A, 5n, EA);
  const before = (await readKeys(disk)).generation;
  t.equal(outcome(await prOut(disk, NEXUS_A, 3, { key: 6n })), '0x18', 'CLEAR needs the own key');
  t.equal(outcome(await prOut(disk, NEXUS_A, 3, { key: 5n })), 'GOOD');
  t.same(await readKeys(disk), { generation: before + 1, keys: [] });
  t.equal(await readReservation(disk), undefined);
  t.equal(outcome(await run(disk, [0], { nexus: NEXUS_B })), 'CC 6/2a/03', 'the other registrant is told');
});

t.test('PREEMPT removes the registrations of a key and bumps the generation (ProutPreempt.RemoveRegistration)', async (t) => {
  const { disk } = makeDisk();
  await run(disk, [0], { nexus: NEXUS_A });
  await registerIgnore(disk, NEXUS_A, 0x1n);
  await registerIgnore(disk, NEXUS_B, 0x2n);
  const before = await readKeys(disk);
  t.same(before.keys, [1n, 2n]);
  t.equal(outcome(await prOut(disk, NEXUS_B, 4, { key: 2n, sark: 1n, type: EA })), 'GOOD');
  t.same(await readKeys(disk, NEXUS_B), { generation: before.generation + 1, keys: [2n] });
  t.equal(outcome(await run(disk, [0], { nexus: NEXUS_A })), 'CC 6/2a/03');
  t.equal(await readReservation(disk), undefined, 'no reservation to take');
  t.equal(outcome(await prOut(disk, NEXUS_B, 4, { key: 2n, sark: 9n, type: EA })), '0x18', 'nobody has that key');
  t.equal(outcome(await prOut(disk, NEXUS_B, 4, { key: 2n, sark: 0n, type: EA })), 'CC 5/26/00', 'key 0 without an all-registrants reservation');
});

t.test('PREEMPT of the holder takes over its reservation with the new type; PREEMPT AND ABORT alike', async (t) => {
  for (const sa of [4, 5]) {
    const { disk } = makeDisk();
    await registerIgnore(disk, NEXUS_A, 1n);
    await registerIgnore(disk, NEXUS_B, 2n);
    await reserve(disk, NEXUS_A, 1n, WE);
    t.equal(outcome(await prOut(disk, NEXUS_B, sa, { key: 2n, sark: 1n, type: EA })), 'GOOD');
    t.same(await readReservation(disk, NEXUS_B), { key: 2n, type: EA });
    t.equal(outcome(await read10(disk, 0, 1)), 'CC 6/2a/03', 'the preempted nexus hears about it first');
    t.equal(outcome(await read10(disk, 0, 1)), '0x18', 'then it is locked out');
  }
});

t.test('PREEMPT with key 0 against an all-registrants reservation removes everyone else', async (t) => {
  const { disk } = makeDisk();
  await registerIgnore(disk, NEXUS_A, 1n);
  await registerIgnore(disk, NEXUS_B, 2n);
  await registerIgnore(disk, NEXUS_C, 3n);
  await reserve(disk, NEXUS_A, 1n, WE_AR);
  t.equal(outcome(await prOut(disk, NEXUS_B, 4, { key: 2n, sark: 0n, type: WE })), 'GOOD');
  t.same((await readKeys(disk, NEXUS_B)).keys, [2n]);
  t.same(await readReservation(disk, NEXUS_B), { key: 2n, type: WE });
  t.equal(outcome(await run(disk, [0], { nexus: NEXUS_C })), 'CC 6/2a/03');
});

t.test('PR OUT parameter checks: length 24, no SPEC_I_PT, no APTPL (not persisted), ALL_TG_PT accepted', async (t) => {
  const { disk } = makeDisk();
  t.equal(outcome(await prOut(disk, NEXUS_A, 6, { sark: 1n, length: 28 })), 'CC 5/1a/00');
  t.same(parseSense((await prOut(disk, NEXUS_A, 6, { sark: 1n, flags: 0x08 })).sense)?.field, { inCdb: false, byte: 20, bit: 3 });
  t.same(parseSense((await prOut(disk, NEXUS_A, 6, { sark: 1n, flags: 0x01 })).sense)?.field, { inCdb: false, byte: 20, bit: 0 });
  t.equal(outcome(await prOut(disk, NEXUS_A, 6, { sark: 1n, flags: 0x04 })), 'GOOD');
  t.equal(outcome(await prOut(disk, NEXUS_A, 7, { key: 1n })), 'CC 5/24/00', 'REGISTER AND MOVE');
  t.equal(outcome(await prOut(disk, NEXUS_A, 0x1f, { key: 1n })), 'CC 5/24/00');
  const cdb = Buffer.from([0x5f, 6, 0, 0, 0, 0, 0, 0, 24, 0]);
  t.equal(outcome(await run(disk, cdb, { dataOut: Buffer.alloc(10), expectedLength: 10 })), 'CC 5/0e/03', 'short data-out');
});

t.test('READ FULL STATUS lists each registration with its initiator port, the holder flagged', async (t) => {
  const { disk } = makeDisk();
  const transportNexus = `${NEXUS_A}|iqn.2024-01.test.sgw:vol1,t,0x0001`;
  await registerIgnore(disk, transportNexus, 0x10n);
  await registerIgnore(disk, 'x', 0x20n);
  await reserve(disk, 'x', 0x20n, WE_RO);
  const d = (await run(disk, prIn(3))).dataIn!;
  t.equal(d.readUInt32BE(0), 2);
  const descriptors: Array<{ key: bigint; holder: number; scopeType: number; port: number; format: number; name: string }> = [];
  for (let at = 8; at < 8 + d.readUInt32BE(4); ) {
    const idLength = d.readUInt32BE(at + 20);
    const id = d.subarray(at + 24, at + 24 + idLength);
    t.equal(id[0]! & 0x0f, 0x05, 'iSCSI TransportID');
    t.equal(id.readUInt16BE(2), idLength - 4);
    t.ok(idLength - 4 >= 20 && (idLength - 4) % 4 === 0, 'padded, at least 20 bytes');
    const name = id.subarray(4).toString('utf8').replace(/\0+$/, '');
    descriptors.push({ key: d.readBigUInt64BE(at), holder: d[at + 12]!, scopeType: d[at + 13]!, port: d.readUInt16BE(at + 18), format: id[0]! >> 6, name });
    at += 24 + idLength;
  }
  t.same(descriptors, [
    { key: 0x10n, holder: 0, scopeType: 0, port: 1, format: 1, name: NEXUS_A },
    { key: 0x20n, holder: 1, scopeType: WE_RO, port: 1, format: 0, name: 'x' },
  ]);
});

t.test('RESERVE(6)/RELEASE(6) between two initiators (Reserve6.Simple, Reserve6.2Initiators)', async (t) => {
  const { disk } = makeDisk();
  const reserve6 = (nexus: string) => run(disk, [0x16, 0, 0, 0, 0, 0], { nexus });
  const release6 = (nexus: string) => run(disk, [0x17, 0, 0, 0, 0, 0], { nexus });
  const modeSense = (nexus: string) => run(disk, [0x1a, 0, 0x3f, 0, 255, 0], { nexus });
  t.equal(outcome(await reserve6(NEXUS_A)), 'GOOD');
  t.equal(outcome(await reserve6(NEXUS_A)), 'GOOD', 'the holder may reserve again');
  t.equal(outcome(await reserve6(NEXUS_B)), '0x18');
  t.equal(outcome(await release6(NEXUS_B)), 'GOOD', 'a release by another nexus is a no-op');
  t.equal(outcome(await modeSense(NEXUS_A)), 'GOOD');
  t.equal(outcome(await modeSense(NEXUS_B)), '0x18');
  for (const cdb of [[0x12, 0, 0, 0, 36, 0], [0xa0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0], [0x03, 0, 0, 0, 18, 0]]) {
    t.equal(outcome(await run(disk, cdb, { nexus: NEXUS_B })), 'GOOD', `opcode ${cdb[0]} passes a RESERVE(6)`);
  }
  for (const cdb of [[0], prIn(0), blockCdb(0x28, 0, 1)]) {
    t.equal(outcome(await run(disk, cdb, { nexus: NEXUS_B })), '0x18', `opcode ${cdb[0]} does not`);
  }
  t.equal(outcome(await reserve6(NEXUS_B)), '0x18');
  t.equal(outcome(await release6(NEXUS_A)), 'GOOD');
  t.equal(outcome(await reserve6(NEXUS_B)), 'GOOD');
  t.equal(outcome(await run(disk, [0x57, 0, 0, 0, 0, 0, 0, 0, 0, 0], { nexus: NEXUS_B })), 'GOOD', 'RELEASE(10)');
  t.equal(outcome(await run(disk, [0x56, 0, 0, 0, 0, 0, 0, 0, 0, 0], { nexus: NEXUS_A })), 'GOOD', 'RESERVE(10)');
});

t.test('a SCSI-2 reservation ends with LU reset and with its nexus; persistent ones survive both', async (t) => {
  const { disk } = makeDisk();
  await run(disk, [0x16, 0, 0, 0, 0, 0]);
  disk.reset();
  t.equal(outcome(await run(disk, [0x16, 0, 0, 0, 0, 0], { nexus: NEXUS_B })), 'GOOD', 'reset released it');
  disk.nexusLost(NEXUS_B);
  t.equal(outcome(await run(disk, [0x16, 0, 0, 0, 0, 0], { nexus: NEXUS_C })), 'GOOD', 'nexus loss released it');
  disk.nexusLost(NEXUS_C);
  await registerIgnore(disk, NEXUS_C, 3n);
  await reserve(disk, NEXUS_C, 3n, EA);
  disk.reset();
  disk.nexusLost(NEXUS_C);
  t.same(await readReservation(disk, NEXUS_B), { key: 3n, type: EA });
});

t.test('RESERVE(6) and RELEASE(6) conflict with persistent registrations; PR commands with a RESERVE(6)', async (t) => {
  const { disk } = makeDisk();
  await registerIgnore(disk, NEXUS_A, 1n);
  t.equal(outcome(await run(disk, [0x16, 0, 0, 0, 0, 0], { nexus: NEXUS_B })), '0x18');
  t.equal(outcome(await run(disk, [0x17, 0, 0, 0, 0, 0], { nexus: NEXUS_A })), '0x18');
  await register(disk, NEXUS_A, 0n, 1n);
  t.equal(outcome(await run(disk, [0x16, 0, 0, 0, 0, 0], { nexus: NEXUS_B })), 'GOOD');
  t.equal(outcome(await registerIgnore(disk, NEXUS_A, 1n)), '0x18');
  t.equal(outcome(await registerIgnore(disk, NEXUS_B, 2n)), 'GOOD', 'the SCSI-2 holder may');
});
