/**
 * Random and mutated PDUs against a real portal over TCP. Whatever arrives, only the connection it arrives on may
 * suffer: the process stays up, nothing is logged as an internal error, a session on another connection keeps
 * working, fresh logins succeed, and the heap does not grow with the number of bad connections.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import fc from 'fast-check';
import { pino } from 'pino';
import t from 'tap';
import { startPortal, testTarget } from './test-directory.js';
import { RESERVED, TEST_UNIT_READY, TestInitiator, encodePdu, lunField, type OutgoingPdu } from './test-initiator.js';

v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;

const TARGET = 'iqn.2026-01.test.sgw:fuzz';
const u32 = fc.nat({ max: 0xffffffff });
const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));

type Mode = 'raw' | 'plain' | 'digests';
type Item = { pdu: OutgoingPdu; corrupt?: number } | { raw: Buffer };

/** PDUs shaped like the real ones with random fields, plus plain garbage and lies about lengths. */
const item: fc.Arbitrary<Item> = fc.oneof(
  bytes(200).map((raw) => ({ raw })),
  fc.record({ opcode: fc.nat(63), immediate: fc.boolean(), flags: fc.nat(255), byte2: fc.nat(255), byte3: fc.nat(255), itt: u32, u32: fc.record({ 20: u32, 24: u32, 28: u32, 32: u32, 36: u32, 40: u32, 44: u32 }), data: bytes(300) }).map((pdu) => ({ pdu })),
  fc.record({ opcode: fc.nat(63), dataSegmentLength: fc.integer({ min: 262145, max: 0xffffff }) }).map((pdu) => ({ pdu })),
  fc.record({ flags: fc.constantFrom(0x80, 0xa1, 0xc1, 0xe1, 0x21, 0x41), edtl: fc.oneof(fc.nat(70000), u32), cmdSN: fc.oneof(fc.constant(1000), u32), cdb: fc.oneof(fc.constant(TEST_UNIT_READY), fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => Buffer.from(a)), fc.tuple(fc.constantFrom(0x28, 0x2a, 0x88, 0x8a, 0x12, 0xa0, 0x9e, 0x25), u32, fc.nat(0xffff)).map(([op, lba, n]) => { const c = Buffer.alloc(16); c[0] = op; c.writeUInt32BE(lba, 2); c.writeUInt16BE(n, 7); return c; })), data: bytes(600), lun: fc.nat(5) })
    .map(({ flags, edtl, cmdSN, cdb, data, lun }) => ({ pdu: { opcode: 1, flags, itt: (cmdSN ^ 0x5555) >>> 0, lun: lunField(lun), u32: { 20: edtl, 24: cmdSN }, cdb, data } })),
  fc.record({ itt: u32, ttt: fc.oneof(fc.constant(RESERVED), u32), dataSN: fc.oneof(fc.nat(3), u32), offset: fc.oneof(fc.nat(4096), u32), data: bytes(600), final: fc.boolean() })
    .map((f) => ({ pdu: { opcode: 5, flags: f.final ? 0x80 : 0, itt: f.itt, u32: { 20: f.ttt, 36: f.dataSN, 40: f.offset }, data: f.data } })),
  fc.record({ fn: fc.nat(127), rtt: u32, refCmdSN: u32, lun: fc.nat(5) }).map((f) => ({ pdu: { opcode: 2, immediate: true, flags: 0x80 | f.fn, itt: 7, lun: lunField(f.lun), u32: { 20: f.rtt, 32: f.refCmdSN } } })),
  fc.record({ text: fc.string({ maxLength: 120 }), ttt: fc.oneof(fc.constant(RESERVED), u32), flags: fc.constantFrom(0x80, 0xc0, 0x40) }).map((f) => ({ pdu: { opcode: 4, immediate: true, flags: f.flags, itt: 9, u32: { 20: f.ttt }, data: Buffer.from(f.text) } })),
  fc.record({ reason: fc.nat(127), immediate: fc.boolean() }).map((f) => ({ pdu: { opcode: 6, immediate: f.immediate, flags: 0x80 | f.reason, itt: 11, u32: { 24: 1000 } } })),
  fc.record({ data: bytes(400), corrupt: fc.nat(500) }).map((f) => ({ pdu: { opcode: 0, immediate: true, itt: 13, u32: { 20: RESERVED }, data: f.data }, corrupt: f.corrupt })),
);

function wire(entry: Item, mode: Mode): Buffer {
  if ('raw' in entry) return entry.raw;
  const encoded = encodePdu(entry.pdu, { header: mode === 'digests', data: mode === 'digests' });
  if (entry.corrupt !== undefined) encoded[entry.corrupt % encoded.length]! ^= 0x40;
  return encoded;
}

t.test('malformed input only ever ends its own connection, and memory stays bounded', async (t) => {
  const errors: string[] = [];
  const log = pino({ level: 'error' }, { write: (line: string) => void errors.push(line) });
  const target = testTarget({ name: TARGET, sizeBytes: 4 * 1024 * 1024 });
  const { portal } = await startPortal(t, [target], { log, queueDepth: 16 });

  const control = await TestInitiator.connect(portal.port);
  t.teardown(() => control.close());
  t.equal((await control.login({ targetName: TARGET })).bhs.readUInt16BE(36), 0);
  const stillServed = async (label: string) => t.equal((await control.completion(control.scsi({ cdb: TEST_UNIT_READY, edtl: 0 }))).status, 0, label);

  collectGarbage();
  const heapBefore = process.memoryUsage().heapUsed;
  let runs = 0;
  await fc.assert(fc.asyncProperty(fc.constantFrom<Mode>('raw', 'plain', 'digests'), fc.array(item, { minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 2000 }), async (mode, items, chunk) => {
    runs++;
    const ini = await TestInitiator.connect(portal.port);
    try {
      if (mode !== 'raw') {
        const keys: Record<string, string> = mode === 'digests' ? { HeaderDigest: 'CRC32C', DataDigest: 'CRC32C' } : {};
        if ((await ini.login({ targetName: TARGET, keys, isid: Buffer.from([0x40, 0, 0, 0, runs >> 8, runs & 0xff]) })).bhs.readUInt16BE(36) !== 0) return false;
        ini.digests = { header: mode === 'digests', data: mode === 'digests' };
      }
      const stream = Buffer.concat(items.map((entry) => wire(entry, mode)));
      for (let offset = 0; offset < stream.length && !ini.isClosed; offset += chunk) ini.sendRaw(stream.subarray(offset, offset + chunk));
      await ini.quietFor(30);
    } finally {
      await ini.close();
    }
    return errors.length === 0;
  }), { numRuns: 2000, interruptAfterTimeLimit: 15_000, markInterruptAsFailure: false });

  t.ok(runs > 50, `${runs} fuzzed connections`);
  t.same(errors, [], 'no internal errors logged');
  await stillServed('a session on another connection kept working throughout');
  const fresh = await TestInitiator.connect(portal.port);
  t.teardown(() => fresh.close());
  t.equal((await fresh.login({ targetName: TARGET, isid: Buffer.from([0x40, 0, 0, 0, 0xff, 0xff]) })).bhs.readUInt16BE(36), 0, 'a fresh connection logs in');
  await new Promise((resolve) => setTimeout(resolve, 200));
  collectGarbage();
  const growth = process.memoryUsage().heapUsed - heapBefore;
  t.ok(growth < 32 * 1024 * 1024, `heap grew by ${(growth / 1048576).toFixed(1)} MiB over ${runs} connections`);
});
