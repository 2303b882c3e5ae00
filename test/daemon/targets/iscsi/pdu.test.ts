import fc from 'fast-check';
import t from 'tap';
import {
  asyncMessage, dataIn, decodeLun, decodeRequest, encodeLun, loginResponse, logoutResponse, nopIn, readyToTransfer,
  reject, scsiResponse, serialAdd, serialDiff, taskManagementResponse, textResponse, type TargetPdu,
} from '../../../../src/daemon/targets/iscsi/pdu.js';
import { ProtocolError } from '../../../../src/daemon/targets/iscsi/protocol-error.js';
import { decodeIncoming, encodePdu, type OutgoingPdu } from './test-initiator.js';

const u32 = fc.nat({ max: 0xffffffff });
const u16 = fc.nat({ max: 0xffff });
const u8 = fc.nat({ max: 0xff });
const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((a) => Buffer.from(a));
const lun = bytes(8);

const seen = (pdu: TargetPdu) => decodeIncoming(pdu.bhs, pdu.data);

/** Frames an initiator PDU with the test encoder and splits it the way the reader would. */
function framed(pdu: OutgoingPdu) {
  const wire = encodePdu(pdu);
  const ahs = wire[4]! * 4;
  const length = wire.readUIntBE(5, 3);
  return decodeRequest({ bhs: wire.subarray(0, 48), ahs: wire.subarray(48, 48 + ahs), data: wire.subarray(48 + ahs, 48 + ahs + length), dataDigestOk: true });
}

t.test('target PDUs carry their fields at the RFC 7143 offsets', async (t) => {
  t.test('SCSI Response and its residual flags', async () => {
    fc.assert(fc.property(u32, u8, fc.integer({ min: -0x7fffffff, max: 0x7fffffff }), u32, fc.option(fc.uint8Array({ minLength: 1, maxLength: 96 })), (itt, status, residual, expDataSN, sense) => {
      const p = seen(scsiResponse({ itt, status, residual, expDataSN, sense: sense ? Buffer.from(sense) : undefined }));
      const flags = 0x80 | (residual > 0 ? 0x02 : 0) | (residual < 0 ? 0x04 : 0);
      return p.opcode === 0x21 && p.flags === flags && p.byte2 === 0 && p.byte3 === status && p.itt === itt && p.word36 === expDataSN
        && p.word44 === Math.abs(residual)
        && (sense ? p.data.readUInt16BE(0) === sense.length && p.data.subarray(2).equals(Buffer.from(sense)) : p.data.length === 0);
    }));
  });

  t.test('Data-In, with and without status', async () => {
    fc.assert(fc.property(u32, fc.boolean(), u32, u32, fc.option(fc.record({ status: u8, residual: fc.integer({ min: -1e9, max: 1e9 }) })), (itt, final, dataSN, bufferOffset, completion) => {
      const pdu = dataIn({ itt, final, dataSN, bufferOffset, data: Buffer.from('abc'), completion: completion ?? undefined });
      const p = seen(pdu);
      const residualFlags = completion ? (completion.residual > 0 ? 0x02 : 0) | (completion.residual < 0 ? 0x04 : 0) : 0;
      return p.opcode === 0x25 && p.flags === ((final ? 0x80 : 0) | (completion ? 0x01 : 0) | residualFlags) && p.itt === itt
        && p.ttt === 0xffffffff && p.word36 === dataSN && p.word40 === bufferOffset && pdu.advancesStatSN === (completion !== null)
        && (completion ? p.byte3 === completion.status && p.word44 === Math.abs(completion.residual) : p.word44 === 0);
    }));
  });

  t.test('R2T', async () => {
    fc.assert(fc.property(lun, u32, u32, u32, u32, u32, (l, itt, ttt, r2tSN, bufferOffset, desiredLength) => {
      const pdu = readyToTransfer({ lun: l, itt, ttt, r2tSN, bufferOffset, desiredLength });
      const p = seen(pdu);
      return p.opcode === 0x31 && p.flags === 0x80 && p.bhs.subarray(8, 16).equals(l) && p.itt === itt && p.ttt === ttt
        && p.word36 === r2tSN && p.word40 === bufferOffset && p.word44 === desiredLength && !pdu.advancesStatSN;
    }));
  });

  t.test('Login Response', async () => {
    fc.assert(fc.property(fc.boolean(), fc.nat(1), fc.constantFrom(1, 3), bytes(6), u16, u32, u16, (transit, csg, nsg, isid, tsih, itt, status) => {
      const p = seen(loginResponse({ transit, csg, nsg, isid, tsih, itt, status, data: Buffer.alloc(0) }));
      return p.opcode === 0x23 && p.flags === ((transit ? 0x80 : 0) | (csg << 2) | (transit ? nsg : 0)) && p.byte2 === 0 && p.byte3 === 0
        && p.bhs.subarray(8, 14).equals(isid) && p.bhs.readUInt16BE(14) === tsih && p.itt === itt && p.bhs.readUInt16BE(36) === status;
    }));
  });

  t.test('Text, Logout, Task Management, NOP-In, Reject, Async', async (t) => {
    fc.assert(fc.property(fc.boolean(), u32, u32, (final, itt, ttt) => {
      const p = seen(textResponse({ final, itt, ttt, data: Buffer.from('a=b\0') }));
      return p.opcode === 0x24 && p.flags === (final ? 0x80 : 0x40) && p.itt === itt && p.ttt === ttt;
    }));
    fc.assert(fc.property(u32, u8, u16, u16, (itt, response, time2Wait, time2Retain) => {
      const p = seen(logoutResponse({ itt, response, time2Wait, time2Retain }));
      return p.opcode === 0x26 && p.flags === 0x80 && p.byte2 === response && p.itt === itt
        && p.bhs.readUInt16BE(40) === time2Wait && p.bhs.readUInt16BE(42) === time2Retain;
    }));
    fc.assert(fc.property(u32, u8, (itt, response) => {
      const p = seen(taskManagementResponse({ itt, response }));
      return p.opcode === 0x22 && p.flags === 0x80 && p.byte2 === response && p.itt === itt;
    }));
    fc.assert(fc.property(lun, u32, u32, (l, itt, ttt) => {
      const pdu = nopIn({ lun: l, itt, ttt, data: Buffer.alloc(0) });
      const p = seen(pdu);
      return p.opcode === 0x20 && p.bhs.subarray(8, 16).equals(l) && p.itt === itt && p.ttt === ttt && pdu.advancesStatSN === (itt !== 0xffffffff);
    }));
    fc.assert(fc.property(u8, bytes(48), (reason, rejected) => {
      const p = seen(reject({ reason, rejectedHeader: rejected }));
      return p.opcode === 0x3f && p.byte2 === reason && p.itt === 0xffffffff && p.data.equals(rejected);
    }));
    const p = seen(asyncMessage({ event: 3, parameters: [1, 2, 3] }));
    t.same([p.opcode, p.itt, p.bhs[36], p.bhs.readUInt16BE(38), p.bhs.readUInt16BE(40), p.bhs.readUInt16BE(42)], [0x32, 0xffffffff, 3, 1, 2, 3]);
  });
});

t.test('initiator PDUs decode into their typed fields', async (t) => {
  t.test('SCSI Command, with an extended CDB in the AHS', async () => {
    fc.assert(fc.property(fc.boolean(), fc.boolean(), fc.boolean(), fc.boolean(), lun, u32, u32, u32, bytes(16), fc.option(bytes(16)), (immediate, final, read, write, l, itt, edtl, cmdSN, cdb, extension) => {
      const ahs = extension ? Buffer.concat([Buffer.from([0, 17, 1, 0]), extension, Buffer.alloc(0)]) : undefined;
      const r = framed({ opcode: 1, immediate, flags: (final ? 0x80 : 0) | (read ? 0x40 : 0) | (write ? 0x20 : 0), lun: l, itt, u32: { 20: edtl, 24: cmdSN }, cdb, ahs, data: Buffer.from('xyz') });
      return r.kind === 'scsi-command' && r.immediate === immediate && r.final === final && r.read === read && r.write === write
        && r.lun.equals(l) && r.itt === itt && r.expectedLength === edtl && r.cmdSN === cmdSN && !r.bidirectional
        && r.cdb.equals(extension ? Buffer.concat([cdb, extension]) : cdb) && r.data.toString() === 'xyz';
    }));
  });

  t.test('Data-Out, NOP-Out, Text, Task Management, Logout', async () => {
    fc.assert(fc.property(fc.boolean(), u32, u32, u32, u32, (final, itt, ttt, dataSN, offset) => {
      const r = framed({ opcode: 5, flags: final ? 0x80 : 0, itt, u32: { 20: ttt, 36: dataSN, 40: offset }, data: Buffer.from('d') });
      return r.kind === 'data-out' && r.final === final && r.itt === itt && r.ttt === ttt && r.dataSN === dataSN && r.bufferOffset === offset;
    }));
    fc.assert(fc.property(lun, u32, u32, u32, (l, itt, ttt, cmdSN) => {
      const r = framed({ opcode: 0, immediate: true, lun: l, itt, u32: { 20: ttt, 24: cmdSN }, data: Buffer.from('ping') });
      return r.kind === 'nop-out' && r.immediate && r.lun.equals(l) && r.itt === itt && r.ttt === ttt && r.cmdSN === cmdSN && r.data.toString() === 'ping';
    }));
    fc.assert(fc.property(fc.boolean(), fc.boolean(), u32, u32, (final, cont, ttt, cmdSN) => {
      const r = framed({ opcode: 4, flags: (final ? 0x80 : 0) | (cont ? 0x40 : 0), itt: 7, u32: { 20: ttt, 24: cmdSN } });
      return r.kind === 'text' && r.final === final && r.continue === cont && r.ttt === ttt && r.cmdSN === cmdSN;
    }));
    fc.assert(fc.property(fc.nat(127), lun, u32, u32, u32, (fn, l, rtt, cmdSN, refCmdSN) => {
      const r = framed({ opcode: 2, flags: 0x80 | fn, lun: l, itt: 1, u32: { 20: rtt, 24: cmdSN, 32: refCmdSN } });
      return r.kind === 'task-management' && r.fn === fn && r.lun.equals(l) && r.referencedTaskTag === rtt && r.cmdSN === cmdSN && r.refCmdSN === refCmdSN;
    }));
    fc.assert(fc.property(fc.nat(127), u16, u32, (reason, cid, cmdSN) => {
      const r = framed({ opcode: 6, flags: 0x80 | reason, itt: 1, u16: { 20: cid }, u32: { 24: cmdSN } });
      return r.kind === 'logout' && r.reason === reason && r.cid === cid && r.cmdSN === cmdSN;
    }));
  });

  t.test('Login Request', async () => {
    fc.assert(fc.property(fc.boolean(), fc.boolean(), fc.nat(3), fc.nat(3), u8, u8, bytes(6), u16, u16, u32, u32, (transit, cont, csg, nsg, vmax, vmin, isid, tsih, cid, cmdSN, expStatSN) => {
      const r = framed({ opcode: 3, immediate: true, flags: (transit ? 0x80 : 0) | (cont ? 0x40 : 0) | (csg << 2) | nsg, byte2: vmax, byte3: vmin, lun: Buffer.concat([isid, Buffer.from([tsih >> 8, tsih & 0xff])]), itt: 9, u16: { 20: cid }, u32: { 24: cmdSN, 28: expStatSN } });
      return r.kind === 'login' && r.transit === transit && r.continue === cont && r.csg === csg && r.nsg === nsg && r.versionMax === vmax
        && r.versionMin === vmin && r.isid.equals(isid) && r.tsih === tsih && r.cid === cid && r.cmdSN === cmdSN && r.expStatSN === expStatSN;
    }));
  });

  t.test('SNACK and undefined opcodes stay recognisable; a bad AHS is a protocol error', async (t) => {
    t.equal(framed({ opcode: 0x10 }).kind, 'snack');
    for (const opcode of [0x07, 0x0f, 0x1c, 0x3f]) t.equal(framed({ opcode }).kind, 'unsupported', `opcode 0x${opcode.toString(16)}`);
    t.throws(() => framed({ opcode: 1, ahs: Buffer.from([0, 9, 1, 0]) }), ProtocolError, 'AHS longer than its segment');
    t.throws(() => framed({ opcode: 1, ahs: Buffer.from([0, 1, 7, 0]) }), ProtocolError, 'unknown AHS type');
    const bidi = framed({ opcode: 1, flags: 0xe0, ahs: Buffer.from([0, 5, 2, 0, 0, 0, 2, 0]) });
    t.ok(bidi.kind === 'scsi-command' && bidi.bidirectional, 'bidirectional read length AHS');
  });
});

t.test('LUN fields and serial numbers', async () => {
  fc.assert(fc.property(fc.nat(16383), (n) => decodeLun(encodeLun(n)) === n));
  fc.assert(fc.property(fc.integer({ min: 0x80, max: 0xff }), u8, (first, second) => decodeLun(Buffer.from([first, second, 0, 0, 0, 0, 0, 0])) === -1));
  fc.assert(fc.property(u32, fc.integer({ min: -0x7fffffff, max: 0x7fffffff }), (a, n) => serialDiff(serialAdd(a, n), a) === n));
});
