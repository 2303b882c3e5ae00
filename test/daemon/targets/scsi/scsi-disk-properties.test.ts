import fc from 'fast-check';
import t from 'tap';
import { allocationLength, paddedCdb } from '../../../../src/daemon/targets/scsi/scsi-cdb.js';
import { blockCdb, compareAndWriteCdb, makeDisk, NEXUS_A, NEXUS_B, outcome, parseSense, run, unmapCdb, unmapList } from './disk-fixture.js';

const BLOCKS = 64;
const BS = 512;

type Op =
  | { kind: 'write'; lba: number; blocks: number; seed: number; opcode: number }
  | { kind: 'writeSame'; lba: number; blocks: number; fill: number; opcode: number; unmapBit: boolean }
  | { kind: 'unmap'; ranges: Array<[number, number]> }
  | { kind: 'caw'; lba: number; blocks: number; seed: number; matches: boolean; flip: number };

// LBAs and lengths reach a little past the end so that refused commands are part of the sequences too.
const lba = fc.integer({ min: 0, max: BLOCKS + 2 });
const blocks = fc.integer({ min: 0, max: 12 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('write' as const), lba, blocks, seed: fc.integer({ min: 0, max: 255 }), opcode: fc.constantFrom(0x2a, 0xaa, 0x8a) }),
  fc.record({ kind: fc.constant('writeSame' as const), lba, blocks, fill: fc.constantFrom(0, 0, 0x11, 0xee), opcode: fc.constantFrom(0x41, 0x93), unmapBit: fc.boolean() }),
  fc.record({ kind: fc.constant('unmap' as const), ranges: fc.array(fc.tuple(lba, blocks), { maxLength: 3 }) }),
  fc.record({ kind: fc.constant('caw' as const), lba, blocks: fc.integer({ min: 0, max: 4 }), seed: fc.integer({ min: 0, max: 255 }), matches: fc.boolean(), flip: fc.nat() }),
);

function data(blocksCount: number, seed: number): Buffer {
  const b = Buffer.alloc(blocksCount * BS);
  for (let i = 0; i < b.length; i++) b[i] = (seed * 31 + i * 7 + (i >> 9)) & 0xff;
  return b;
}

/** What the op must answer, and what it does to the reference bytes, per SBC-3. */
function apply(model: Buffer, o: Op): { expected: string; dataOut: Buffer } {
  const inRange = (start: number, n: number) => start < BLOCKS && start + n <= BLOCKS;
  switch (o.kind) {
    case 'write': {
      const d = data(o.blocks, o.seed);
      if (!inRange(o.lba, o.blocks)) return { expected: 'CC 5/21/00', dataOut: d };
      d.copy(model, o.lba * BS);
      return { expected: 'GOOD', dataOut: d };
    }
    case 'writeSame': {
      const d = Buffer.alloc(BS, o.fill);
      if (o.lba >= BLOCKS) return { expected: 'CC 5/21/00', dataOut: d };
      const n = o.blocks === 0 ? BLOCKS - o.lba : o.blocks;
      if (!inRange(o.lba, n)) return { expected: 'CC 5/21/00', dataOut: d };
      model.fill(o.unmapBit ? 0 : o.fill, o.lba * BS, (o.lba + n) * BS);
      return { expected: 'GOOD', dataOut: d };
    }
    case 'unmap': {
      const list = unmapList(o.ranges);
      if (o.ranges.some(([start, n]) => start + n > BLOCKS)) return { expected: 'CC 5/21/00', dataOut: list };
      for (const [start, n] of o.ranges) model.fill(0, start * BS, (start + n) * BS);
      return { expected: 'GOOD', dataOut: list };
    }
    case 'caw': {
      const next = data(o.blocks, o.seed);
      if (!inRange(o.lba, o.blocks)) return { expected: 'CC 5/21/00', dataOut: Buffer.concat([Buffer.alloc(next.length), next]) };
      const compare = Buffer.from(model.subarray(o.lba * BS, (o.lba + o.blocks) * BS));
      if (!o.matches && compare.length > 0) {
        compare[o.flip % compare.length] = compare[o.flip % compare.length]! ^ 0xff;
        return { expected: 'CC e/1d/00', dataOut: Buffer.concat([compare, next]) };
      }
      next.copy(model, o.lba * BS);
      return { expected: 'GOOD', dataOut: Buffer.concat([compare, next]) };
    }
  }
}

function cdbOf(o: Op, dataOut: Buffer): Buffer {
  switch (o.kind) {
    case 'write':
      return blockCdb(o.opcode, o.lba, o.blocks);
    case 'writeSame':
      return blockCdb(o.opcode, o.lba, o.blocks, o.unmapBit ? 0x08 : 0);
    case 'unmap':
      return unmapCdb(dataOut.length);
    case 'caw':
      return compareAndWriteCdb(o.lba, o.blocks);
  }
}

t.test('random WRITE / WRITE SAME / UNMAP / COMPARE AND WRITE sequences read back like a byte model', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
      const { disk } = makeDisk({ blocks: BLOCKS });
      const model = Buffer.alloc(BLOCKS * BS);
      for (const o of ops) {
        const { expected, dataOut } = apply(model, o);
        const r = await run(disk, cdbOf(o, dataOut), { dataOut });
        if (outcome(r) !== expected) throw new Error(`${JSON.stringify(o)}: ${outcome(r)}, expected ${expected}`);
        const whole = await run(disk, blockCdb(0x88, 0, BLOCKS));
        if (!whole.dataIn!.equals(model)) throw new Error(`${JSON.stringify(o)} left the disk unlike the model`);
      }
    }),
    { numRuns: 150 },
  );
  t.pass();
});

const STATUSES = new Set([0x00, 0x02, 0x08, 0x18, 0x28, 0x40]);
const OPCODES = [
  0x00, 0x03, 0x04, 0x08, 0x0a, 0x12, 0x15, 0x16, 0x17, 0x1a, 0x1b, 0x1d, 0x1e, 0x25, 0x28, 0x2a, 0x2e, 0x2f, 0x34, 0x35, 0x37, 0x41, 0x42, 0x55,
  0x56, 0x57, 0x5a, 0x5e, 0x5f, 0x88, 0x89, 0x8a, 0x8e, 0x8f, 0x90, 0x91, 0x93, 0x9e, 0xa0, 0xa3, 0xa8, 0xaa, 0xae, 0xaf, 0xb7,
];
const READS = new Set([0x08, 0x28, 0xa8, 0x88]);
const WITH_ALLOCATION_LENGTH = new Set([0x03, 0x12, 0x1a, 0x5a, 0x5e, 0xa0, 0xa3, 0x9e, 0x37, 0xb7]);
const READ_CAPACITY_10 = 0x25;

const request = fc.record({
  opcode: fc.oneof(fc.constantFrom(...OPCODES), fc.integer({ min: 0, max: 255 })),
  // Small values in the length bytes keep transfers short; any value anywhere else.
  rest: fc.uint8Array({ minLength: 0, maxLength: 17 }),
  small: fc.boolean(),
  dataOut: fc.option(fc.uint8Array({ maxLength: 1100 }), { nil: undefined }),
  expectedLength: fc.option(fc.integer({ min: 0, max: 70000 }), { nil: undefined }),
  nexus: fc.constantFrom(NEXUS_A, NEXUS_B),
});

t.test('random CDBs and data-out never make execute reject or answer something malformed', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 6 }), async (requests) => {
      const { disk } = makeDisk({ blocks: 2048 });
      for (const q of requests) {
        const cdb = Buffer.from([q.opcode, ...q.rest]);
        // Service action commands mostly get a service action they know.
        if (q.small && (q.opcode === 0x9e || q.opcode === 0xa3) && cdb.length > 1) cdb[1] = q.opcode === 0x9e ? 0x10 | (cdb[1]! & 2) : 0x0c;
        if (q.small) for (let i = 6; i < cdb.length; i++) cdb[i] = cdb[i]! & 0x07;
        const dataOut = q.dataOut ? Buffer.from(q.dataOut) : null;
        const r = await disk.execute({ cdb, dataOut, expectedLength: q.expectedLength ?? dataOut?.length ?? 4096, nexus: q.nexus });
        const what = `${cdb.toString('hex')} -> ${JSON.stringify({ ...r, dataIn: r.dataIn?.length, sense: r.sense?.toString('hex') })}`;
        if (!STATUSES.has(r.status)) throw new Error(`status: ${what}`);
        if ((r.status === 0x02) !== (r.sense !== undefined)) throw new Error(`sense only with CHECK CONDITION: ${what}`);
        if (r.sense && (r.sense.length !== 18 || (r.sense[0]! & 0x7f) !== 0x70)) throw new Error(`sense: ${what}`);
        if (r.sense && parseSense(r.sense)!.key === 4) throw new Error(`the disk called the backend out of range: ${what}`);
        if (r.dataIn && r.status !== 0) throw new Error(`data-in with an error: ${what}`);
        if (r.transferLength !== undefined && !(Number.isSafeInteger(r.transferLength) && r.transferLength >= 0)) throw new Error(`transfer length: ${what}`);
        const length = r.dataIn?.length ?? 0;
        if (WITH_ALLOCATION_LENGTH.has(q.opcode)) {
          if (length > allocationLength(paddedCdb(cdb))) throw new Error(`more data-in than the allocation length: ${what}`);
        } else if (READS.has(q.opcode)) {
          if (length % 512 !== 0) throw new Error(`partial blocks: ${what}`);
        } else if (length !== (q.opcode === READ_CAPACITY_10 && r.status === 0 ? 8 : 0)) {
          throw new Error(`data-in from a command without any: ${what}`);
        }
      }
    }),
    { numRuns: 400 },
  );
  t.pass();
});
