import t from 'tap';
import {
  blockCdb,
  blocksOf,
  compareAndWriteCdb,
  makeDisk,
  outcome,
  parseSense,
  read10,
  run,
  unmapCdb,
  unmapList,
  write10,
} from './disk-fixture.js';

const READS = [0x08, 0x28, 0xa8, 0x88];
const WRITES = [0x0a, 0x2a, 0xaa, 0x8a];

t.test('each READ and WRITE size moves the blocks its CDB names', async (t) => {
  const { disk } = makeDisk({ blocks: 1000 });
  for (const [i, op] of WRITES.entries()) {
    const data = blocksOf(3, 0x10 + i);
    const r = await run(disk, blockCdb(op, 10 * i + 1, 3), { dataOut: data });
    t.equal(outcome(r), 'GOOD');
    t.equal(r.transferLength, 3 * 512, 'a write reports the bytes its CDB transfers');
  }
  for (const [i, op] of READS.entries()) {
    const r = await run(disk, blockCdb(op, 10 * i + 1, 3));
    t.same(r.dataIn, blocksOf(3, 0x10 + i), `opcode ${op.toString(16)}`);
    t.equal(r.transferLength, undefined);
  }
  t.same((await read10(disk, 0, 1)).dataIn, Buffer.alloc(512), 'untouched blocks read as zeros');
});

t.test('READ(6)/WRITE(6) with transfer length 0 move 256 blocks', async (t) => {
  const { disk, backend } = makeDisk({ blocks: 1000 });
  const data = blocksOf(256);
  t.equal(outcome(await run(disk, blockCdb(0x0a, 0, 0), { dataOut: data })), 'GOOD');
  t.same(backend.calls.at(-1), { op: 'write', offset: 0, length: 256 * 512, durable: false });
  t.same((await run(disk, blockCdb(0x08, 0, 0))).dataIn, data);
});

t.test('transfer length 0 is a no-op inside the medium, LBA OUT OF RANGE at or past its end', async (t) => {
  const { disk, backend } = makeDisk({ blocks: 100 });
  for (const op of [...READS.slice(1), ...WRITES.slice(1), 0x2f, 0xaf, 0x8f, 0x2e, 0xae, 0x8e, 0x34, 0x90]) {
    const good = await run(disk, blockCdb(op, 0, 0), { expectedLength: 0 });
    t.equal(outcome(good), 'GOOD', `opcode ${op.toString(16)} at 0`);
    t.equal(good.dataIn?.length ?? 0, 0);
    for (const lba of [100, 101, 0x80000000, -1]) {
      t.equal(outcome(await run(disk, blockCdb(op, lba, 0), { expectedLength: 0 })), 'CC 5/21/00', `opcode ${op.toString(16)} at ${lba}`);
    }
  }
  t.same(backend.calls, [], 'nothing reached the backend');
});

t.test('ranges past the end: LBA OUT OF RANGE, including LBAs whose byte offset overflows 64 bits', async (t) => {
  const { disk, backend } = makeDisk({ blocks: 100 });
  for (const op of [0x28, 0x88, 0x2a, 0x8a, 0x2f, 0x8f, 0x34, 0x90]) {
    for (let i = 1; i <= 4; i++) {
      const cases: Array<number | bigint> = [101 - i, 0x80000000, -1];
      if (i > 1) cases.push(99);
      if (op >= 0x88) cases.push(2n ** 63n, 1n << 55n, 1n << 54n);
      for (const lba of cases) {
        const r = await run(disk, blockCdb(op, lba, i), { dataOut: blocksOf(i) });
        t.equal(outcome(r), 'CC 5/21/00', `opcode ${op.toString(16)} LBA ${lba} x${i}`);
      }
    }
  }
  t.equal(outcome(await run(disk, blockCdb(0x08, 0x1fffff, 1))), 'CC 5/21/00', 'READ(6) at the highest 21-bit LBA');
  t.equal(outcome(await run(disk, blockCdb(0x28, 99, 1))), 'GOOD', 'the last block is fine');
  t.ok(backend.calls.every((c) => c.op === 'read' && c.offset === 99 * 512));
});

t.test('protection fields are refused; DPO and FUA are accepted', async (t) => {
  const { disk } = makeDisk();
  for (const op of [0x28, 0x2a, 0xa8, 0xaa, 0x88, 0x8a, 0x2f, 0x2e, 0x41, 0x93]) {
    for (let protect = 1; protect < 8; protect++) {
      const r = await run(disk, blockCdb(op, 0, 1, protect << 5), { dataOut: blocksOf(1) });
      t.same(parseSense(r.sense)?.field, { inCdb: true, byte: 1, bit: 7 }, `opcode ${op.toString(16)} protect ${protect}`);
    }
  }
  for (const op of [0x28, 0x2a, 0xa8, 0xaa, 0x88, 0x8a]) {
    for (const flags of [0x10, 0x08, 0x18]) {
      t.equal(outcome(await run(disk, blockCdb(op, 0, 1, flags), { dataOut: blocksOf(1) })), 'GOOD');
    }
  }
  t.equal(outcome(await run(disk, compareAndWriteCdb(0, 1, 0x20), { dataOut: blocksOf(2) })), 'CC 5/24/00');
});

t.test('more than 32 MiB in one command: INVALID FIELD IN CDB on the transfer length', async (t) => {
  const { disk, backend } = makeDisk({ blocks: 100000 });
  const r = await run(disk, blockCdb(0xa8, 0, 65537));
  t.same(parseSense(r.sense), { key: 5, asc: 0x24, ascq: 0, field: { inCdb: true, byte: 6 } });
  t.same(parseSense((await run(disk, blockCdb(0x8a, 0, 65537), { expectedLength: 0 })).sense)?.field, { inCdb: true, byte: 10 });
  t.equal((await run(disk, blockCdb(0x88, 0, 65536))).dataIn!.length, 32 * 2 ** 20, 'exactly 32 MiB is fine');
  t.equal(backend.calls.length, 1);
});

t.test('residuals: only what the initiator sent is written, never more than the CDB asks for', async (t) => {
  const { disk, backend } = makeDisk();
  for (const op of [0x2a, 0x2e]) {
    await write10(disk, 0, blocksOf(2, 0x61));
    backend.calls.length = 0;
    const none = await run(disk, blockCdb(op, 0, 1, 0x02), { expectedLength: 0 });
    t.same(none, { status: 0, transferLength: 512 }, 'EDTL 0: nothing to write, the transport reports the overflow');
    t.same(backend.calls, [], 'nothing written');
    const partial = await run(disk, blockCdb(op, 0, 1, 0x02), { dataOut: blocksOf(1, 0x62).subarray(0, 200), expectedLength: 200 });
    t.same(partial, { status: 0, transferLength: 512 }, 'EDTL 200');
    t.same((await read10(disk, 0, 1)).dataIn, Buffer.concat([blocksOf(1, 0x62).subarray(0, 200), blocksOf(1, 0x61).subarray(200)]));
    const short = await run(disk, blockCdb(op, 0, 2, 0x02), { dataOut: blocksOf(1, 0x63) });
    t.same(short, { status: 0, transferLength: 1024 }, 'EDTL one block of two');
    t.same((await read10(disk, 0, 2)).dataIn, Buffer.concat([blocksOf(1, 0x63), blocksOf(1, 0x61)]));
    const long = await run(disk, blockCdb(op, 1, 1, 0x02), { dataOut: blocksOf(20, 0x64).subarray(0, 10000) });
    t.same(long, { status: 0, transferLength: 512 }, 'EDTL 10000: the transport reports the underflow');
    t.same((await read10(disk, 0, 3)).dataIn, Buffer.concat([blocksOf(1, 0x63), blocksOf(1, 0x64), Buffer.alloc(512)]));
    t.same(backend.calls.filter((c) => c.op === 'write').map((c) => c.length), [200, 512, 512]);
  }
});

t.test('a read-only volume refuses every command that writes with WRITE PROTECTED', async (t) => {
  const { disk, backend } = makeDisk({ readOnly: true });
  const attempts: Array<[number[] | Buffer, Buffer | undefined]> = [
    ...[0x0a, 0x2a, 0xaa, 0x8a, 0x2e, 0xae, 0x8e].map((op): [Buffer, Buffer] => [blockCdb(op, 0, 1, op === 0x2e ? 0x02 : 0), blocksOf(1)]),
    [blockCdb(0x41, 0, 1), blocksOf(1)],
    [blockCdb(0x41, 0, 1, 0x08), undefined],
    [blockCdb(0x93, 0, 1, 0x08), undefined],
    [compareAndWriteCdb(0, 1), blocksOf(2)],
    [unmapCdb(24), unmapList([[0, 1]])],
    [[0x04, 0, 0, 0, 0, 0], undefined],
  ];
  for (const [cdb, dataOut] of attempts) {
    t.equal(outcome(await run(disk, cdb, dataOut ? { dataOut } : { expectedLength: 0 })), 'CC 7/27/00', `opcode ${cdb[0]!.toString(16)}`);
  }
  t.equal(outcome(await read10(disk, 0, 1)), 'GOOD');
  t.equal(outcome(await run(disk, blockCdb(0x35, 0, 0))), 'GOOD', 'SYNCHRONIZE CACHE is not a write');
  t.notOk(backend.calls.some((c) => c.op === 'write' || c.op === 'unmap'));
});

t.test('VERIFY: BYTCHK 0 checks the range only, 1 compares the data-out, 3 compares one block with each', async (t) => {
  const { disk } = makeDisk({ blocks: 100 });
  const data = blocksOf(4);
  await write10(disk, 8, data);
  for (const op of [0x2f, 0xaf, 0x8f]) {
    t.equal(outcome(await run(disk, blockCdb(op, 8, 4, 0x02), { dataOut: data })), 'GOOD', `opcode ${op.toString(16)} equal`);
    for (const at of [0, 1, 777, 2047]) {
      const wrong = Buffer.from(data);
      wrong[at] = wrong[at]! ^ 0x58;
      const r = await run(disk, blockCdb(op, 8, 4, 0x02), { dataOut: wrong });
      t.same(parseSense(r.sense), { key: 0x0e, asc: 0x1d, ascq: 0, information: at }, `miscompare at ${at}`);
    }
    const noCompare = await run(disk, blockCdb(op, 8, 4, 0x10), { expectedLength: 0 });
    t.equal(outcome(noCompare), 'GOOD', 'BYTCHK 0 with DPO');
    t.equal(noCompare.transferLength, undefined);
  }
  await write10(disk, 20, blocksOf(3, 0x44));
  t.equal(outcome(await run(disk, blockCdb(0x2f, 20, 3, 0x06), { dataOut: blocksOf(1, 0x44) })), 'GOOD');
  const r = await run(disk, blockCdb(0x2f, 20, 4, 0x06), { dataOut: blocksOf(1, 0x44) });
  t.equal(parseSense(r.sense)?.information, 3 * 512, 'the fourth block differs');
  t.equal(r.transferLength, 512, 'BYTCHK 3 transfers one block');
  t.equal(outcome(await run(disk, blockCdb(0x2f, 20, 1, 0x04), { dataOut: blocksOf(1) })), 'CC 5/24/00', 'BYTCHK 2 is reserved');
});

t.test('WRITE AND VERIFY writes, then compares when BYTCHK is set', async (t) => {
  const { disk, backend } = makeDisk();
  for (const [op, flags] of [[0x2e, 0x02], [0xae, 0], [0x8e, 0x12]] as const) {
    const data = blocksOf(2, op);
    const r = await run(disk, blockCdb(op, 4, 2, flags), { dataOut: data });
    t.equal(outcome(r), 'GOOD');
    t.equal(r.transferLength, 1024);
    t.same((await read10(disk, 4, 2)).dataIn, data);
  }
  t.same(backend.calls.filter((c) => c.op === 'read').length, 3 + 2, 'BYTCHK 1 read the data back twice');
  t.equal(outcome(await run(disk, blockCdb(0x2e, 0, 1, 0x04), { dataOut: blocksOf(1) })), 'CC 5/24/00');
});

t.test('COMPARE AND WRITE writes the second half when the first half matches', async (t) => {
  const { disk } = makeDisk({ blocks: 1000 });
  for (const [lba, n] of [[0, 1], [5, 3], [1000 - 255, 255]] as const) {
    const old = blocksOf(n, 0x41);
    const next = blocksOf(n, 0x42);
    await write10(disk, lba, old);
    const r = await run(disk, compareAndWriteCdb(lba, n, 0x18), { dataOut: Buffer.concat([old, next]) });
    t.equal(outcome(r), 'GOOD', `${n} blocks at ${lba}`);
    t.equal(r.transferLength, 2 * n * 512);
    t.same((await read10(disk, lba, n)).dataIn, next);
  }
  t.equal(outcome(await run(disk, compareAndWriteCdb(999, 0), { expectedLength: 0 })), 'GOOD', 'zero blocks');
  t.equal(outcome(await run(disk, compareAndWriteCdb(999, 2), { dataOut: blocksOf(4) })), 'CC 5/21/00');
});

t.test('COMPARE AND WRITE miscompare: INFORMATION is the offset, nothing is written', async (t) => {
  const { disk } = makeDisk();
  const old = blocksOf(2, 0x41);
  await write10(disk, 7, old);
  for (const at of [0, 26, 511, 1000]) {
    const compare = Buffer.from(old);
    compare[at] = 0x5a;
    const r = await run(disk, compareAndWriteCdb(7, 2), { dataOut: Buffer.concat([compare, blocksOf(2, 0x42)]) });
    t.same(parseSense(r.sense), { key: 0x0e, asc: 0x1d, ascq: 0, information: at });
    t.same((await read10(disk, 7, 2)).dataIn, old);
  }
});

t.test('COMPARE AND WRITE needs exactly 2N blocks of data-out, else its block count is wrong', async (t) => {
  const { disk, backend } = makeDisk();
  for (const n of [0, 1, 3]) {
    const r = await run(disk, compareAndWriteCdb(0, n), { dataOut: blocksOf(4) });
    t.same(parseSense(r.sense), { key: 5, asc: 0x24, ascq: 0, field: { inCdb: true, byte: 13 } }, `${n} blocks`);
    t.equal(r.transferLength, 2 * n * 512);
  }
  t.equal(backend.calls.length, 0);
});

t.test('COMPARE AND WRITE is atomic against writes; plain writes run side by side', async (t) => {
  const { disk, backend } = makeDisk();
  let open!: () => void;
  backend.writeGate = new Promise((resolve) => (open = resolve));
  const first = write10(disk, 0, blocksOf(1, 1));
  const second = write10(disk, 1, blocksOf(1, 2));
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(backend.calls.filter((c) => c.op === 'write').length, 2, 'both writes are in the backend at once');
  const caw = run(disk, compareAndWriteCdb(0, 1), { dataOut: Buffer.concat([blocksOf(1, 1), blocksOf(1, 3)]) });
  const third = write10(disk, 0, blocksOf(1, 4));
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(backend.calls.length, 2, 'COMPARE AND WRITE waits for the writes, the later write waits for it');
  open();
  t.same((await Promise.all([first, second, caw, third])).map(outcome), ['GOOD', 'GOOD', 'GOOD', 'GOOD']);
  t.same(backend.calls.map((c) => c.op), ['write', 'write', 'read', 'write', 'write']);
  t.same((await read10(disk, 0, 1)).dataIn, blocksOf(1, 4), 'the write queued after it landed last');
});

t.test('WRITE SAME writes its block over the range, 1 MiB at a time', async (t) => {
  const { disk, backend } = makeDisk({ blocks: 10000 });
  const block = blocksOf(1, 0x5c);
  t.equal(outcome(await run(disk, blockCdb(0x41, 3, 5), { dataOut: block })), 'GOOD');
  t.same((await read10(disk, 2, 7)).dataIn, Buffer.concat([Buffer.alloc(512), blocksOf(5, 0x5c), Buffer.alloc(512)]));
  backend.calls.length = 0;
  const r = await run(disk, blockCdb(0x93, 100, 5000), { dataOut: block });
  t.equal(outcome(r), 'GOOD');
  t.equal(r.transferLength, 512);
  t.same(backend.calls.map((c) => c.length), [2 ** 20, 2 ** 20, 5000 * 512 - 2 * 2 ** 20]);
  t.same((await run(disk, blockCdb(0x88, 100, 5000))).dataIn, blocksOf(5000, 0x5c));
});

t.test('WRITE SAME with UNMAP, of zeros or with NDOB unmaps the range once; unmapped blocks read zeros', async (t) => {
  const { disk, backend } = makeDisk({ blocks: 10000 });
  for (const [cdb, dataOut] of [
    [blockCdb(0x41, 0, 300, 0x08), Buffer.alloc(512)],
    [blockCdb(0x41, 0, 300, 0x08), Buffer.alloc(512, 0xff)],
    [blockCdb(0x93, 0, 300), Buffer.alloc(512)],
    [blockCdb(0x93, 0, 300, 0x09), undefined],
  ] as const) {
    await write10(disk, 0, blocksOf(300, 0xff));
    backend.calls.length = 0;
    const r = await run(disk, cdb, dataOut ? { dataOut } : { expectedLength: 0 });
    t.equal(outcome(r), 'GOOD');
    t.same(backend.calls, [{ op: 'unmap', offset: 0, length: 300 * 512 }]);
    t.same((await read10(disk, 0, 300)).dataIn, Buffer.alloc(300 * 512));
  }
});

t.test('WRITE SAME with transfer length 0 goes to the end of the medium, within MAXIMUM WRITE SAME LENGTH', async (t) => {
  const blocks = 2 ** 21 + 10; // a little more than 1 GiB of 512-byte blocks
  const { disk, backend } = makeDisk({ blocks });
  const zero = Buffer.alloc(512);
  t.same(parseSense((await run(disk, blockCdb(0x41, 0, 0), { dataOut: zero })).sense), { key: 5, asc: 0x24, ascq: 0, field: { inCdb: true, byte: 7 } });
  t.equal(outcome(await run(disk, blockCdb(0x41, 9, 0), { dataOut: zero })), 'CC 5/24/00', 'one block too many');
  t.equal(outcome(await run(disk, blockCdb(0x41, 10, 0), { dataOut: zero })), 'GOOD', 'exactly the maximum');
  t.same(backend.calls, [{ op: 'unmap', offset: 10 * 512, length: 2 ** 30 }]);
  t.equal(outcome(await run(disk, blockCdb(0x93, blocks - 1, 0), { dataOut: blocksOf(1, 9) })), 'GOOD');
  t.same((await read10(disk, blocks - 1, 1)).dataIn, blocksOf(1, 9));
  for (const lba of [blocks, blocks + 1, 0x80000000, -1]) {
    t.equal(outcome(await run(disk, blockCdb(0x41, lba, 0), { dataOut: zero })), 'CC 5/21/00', `LBA ${lba}`);
  }
  t.equal(outcome(await run(disk, blockCdb(0x93, 2n ** 63n, 0), { dataOut: zero })), 'CC 5/21/00');
});

t.test('WRITE SAME refuses ANCHOR, PBDATA/LBDATA and data-out other than one block', async (t) => {
  const { disk, backend } = makeDisk();
  const block = Buffer.alloc(512);
  t.same(parseSense((await run(disk, blockCdb(0x41, 0, 1, 0x10), { dataOut: block })).sense)?.field, { inCdb: true, byte: 1, bit: 4 });
  t.equal(outcome(await run(disk, blockCdb(0x41, 0, 1, 0x18), { dataOut: block })), 'CC 5/24/00');
  t.equal(outcome(await run(disk, blockCdb(0x93, 0, 1, 0x02), { dataOut: block })), 'CC 5/24/00');
  for (const size of [256, 1024]) {
    const r = await run(disk, blockCdb(0x41, 0, 1, 0x08), { dataOut: Buffer.alloc(size, 0xa6) });
    t.equal(outcome(r), 'CC 5/1a/00', `${size} bytes`);
    t.equal(r.transferLength, 512);
  }
  t.equal(backend.calls.length, 0);
});

t.test('UNMAP: each descriptor unmapped, zero-length ones and an empty list are no-ops', async (t) => {
  const { disk, backend } = makeDisk({ blocks: 1000 });
  await write10(disk, 0, blocksOf(300, 0x61));
  backend.calls.length = 0;
  const list = unmapList([[1, 2], [10, 0], [100, 50]]);
  t.equal(outcome(await run(disk, unmapCdb(list.length), { dataOut: list })), 'GOOD');
  t.same(backend.calls, [{ op: 'unmap', offset: 512, length: 1024 }, { op: 'unmap', offset: 100 * 512, length: 50 * 512 }]);
  const after = (await read10(disk, 0, 300)).dataIn!;
  t.same(after.subarray(512, 1536), Buffer.alloc(1024));
  t.same(after.subarray(0, 512), blocksOf(1, 0x61));
  t.same(after.subarray(100 * 512, 150 * 512), Buffer.alloc(50 * 512));
  backend.calls.length = 0;
  for (const l of [unmapList([]), unmapList([[1000, 0]]), unmapList(Array.from({ length: 256 }, (_, i): [number, number] => [i >> 1, 0]))]) {
    t.equal(outcome(await run(disk, unmapCdb(l.length), { dataOut: l })), 'GOOD');
  }
  t.equal(outcome(await run(disk, unmapCdb(0), { expectedLength: 0 })), 'GOOD', 'parameter list length 0');
  t.same(backend.calls, []);
});

t.test('UNMAP checks: ANCHOR, list length, range, descriptor count and block count', async (t) => {
  const { disk, backend } = makeDisk({ blocks: 2 ** 21 });
  const send = (l: Buffer, cdb = unmapCdb(l.length)) => run(disk, cdb, { dataOut: l });
  t.same(parseSense((await send(unmapList([[0, 1]]), unmapCdb(24, true))).sense)?.field, { inCdb: true, byte: 1, bit: 0 });
  t.equal(outcome(await send(Buffer.alloc(6))), 'CC 5/1a/00');
  t.equal(outcome(await send(unmapList([[0, 1], [2 ** 21 - 1, 2]]))), 'CC 5/21/00');
  t.equal(outcome(await send(unmapList([[2n ** 64n - 1n, 2]]))), 'CC 5/21/00', 'an LBA that wraps around');
  const tooMany = unmapList(Array.from({ length: 257 }, (_, i): [number, number] => [i, 1]));
  t.same(parseSense((await send(tooMany)).sense)?.field, { inCdb: false, byte: 2 });
  t.same(parseSense((await send(unmapList([[0, 2 ** 19], [2 ** 19, 2 ** 19 + 1]]))).sense)?.field, { inCdb: false, byte: 32 }, 'more than 2^20 blocks in all');
  t.same(backend.calls, [], 'nothing unmapped when any descriptor is wrong');
  const partial = Buffer.concat([unmapList([[0, 1]]), Buffer.alloc(8)]);
  partial.writeUInt16BE(24, 2);
  t.equal(outcome(await send(partial)), 'GOOD', 'a partial last descriptor is ignored');
  t.same(backend.calls, [{ op: 'unmap', offset: 0, length: 512 }]);
});

t.test('PRE-FETCH checks the range only; SYNCHRONIZE CACHE checks nothing and flushes', async (t) => {
  const { disk, backend } = makeDisk({ blocks: 100 });
  t.equal(outcome(await run(disk, blockCdb(0x34, 0, 100, 0x02))), 'GOOD');
  t.equal(outcome(await run(disk, blockCdb(0x90, 99, 2))), 'CC 5/21/00');
  t.equal(outcome(await run(disk, blockCdb(0x35, 12345678, 50000))), 'GOOD', 'fio passes bytes as blocks');
  t.equal(outcome(await run(disk, blockCdb(0x91, -1, 0xffffffff))), 'GOOD');
  t.same(backend.calls.map((c) => c.op), ['flush', 'flush']);
});

t.test('4096-byte blocks', async (t) => {
  const { disk, backend } = makeDisk({ blockSize: 4096, blocks: 64 });
  const data = blocksOf(2, 0x33, 4096);
  t.equal(outcome(await run(disk, blockCdb(0x2a, 62, 2), { dataOut: data })), 'GOOD');
  t.same(backend.calls.at(-1), { op: 'write', offset: 62 * 4096, length: 8192, durable: false });
  t.same((await run(disk, blockCdb(0x28, 62, 2))).dataIn, data);
  const rc = (await run(disk, [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0])).dataIn!;
  t.same([rc.readUInt32BE(0), rc.readUInt32BE(4)], [63, 4096]);
  t.throws(() => makeDisk({ blockSize: 520 }), RangeError);
});

t.test('with the write cache on, FUA writes and WRITE AND VERIFY are durable before GOOD; SYNCHRONIZE CACHE flushes', async (t) => {
  const { disk, backend } = makeDisk({ blocks: 1000 });
  const FUA = 0x08;
  const durability = async (cdb: Buffer, dataOut: Buffer) => {
    t.equal(outcome(await run(disk, cdb, { dataOut })), 'GOOD');
    return backend.calls.filter((c) => c.op === 'write').at(-1)?.durable;
  };
  const block = blocksOf(1, 7);
  t.equal(await durability(blockCdb(0x0a, 1, 1), block), false, 'WRITE(6) has no FUA');
  for (const op of [0x2a, 0xaa, 0x8a]) {
    t.equal(await durability(blockCdb(op, 1, 1), block), false, `opcode ${op.toString(16)} without FUA`);
    t.equal(await durability(blockCdb(op, 1, 1, FUA), block), true, `opcode ${op.toString(16)} with FUA`);
  }
  t.equal(await durability(blockCdb(0x2e, 1, 1), block), true, 'WRITE AND VERIFY(10)');
  t.equal(await durability(compareAndWriteCdb(1, 1, FUA), Buffer.concat([block, block])), true, 'COMPARE AND WRITE with FUA');
  t.equal(outcome(await run(disk, blockCdb(0x35, 0, 0))), 'GOOD');
  t.equal(backend.calls.at(-1)?.op, 'flush', 'SYNCHRONIZE CACHE(10) reaches the backend');
});
