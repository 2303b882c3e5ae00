import t from 'tap';
import {
  fixedSense,
  invalidCdbField,
  invalidParameterField,
  Sense,
  ScsiCheckCondition,
  UnitAttentions,
} from '../../../../src/daemon/targets/scsi/scsi-sense.js';

t.test('fixed sense puts key, ASC and ASCQ where SPC-4 says, with additional length 10', async (t) => {
  const b = fixedSense(Sense.LBA_OUT_OF_RANGE);
  t.equal(b.length, 18);
  t.equal(b[0], 0x70, 'current error, INFORMATION not valid');
  t.equal(b[2], 0x05);
  t.equal(b[7], 10);
  t.equal(b[12], 0x21);
  t.equal(b[13], 0x00);
  t.equal(b[15], 0, 'no sense-key specific data');
});

t.test('INFORMATION sets VALID; a negative residue is two\'s complement; one that does not fit is left out', async (t) => {
  const miscompare = fixedSense(Sense.MISCOMPARE, { information: 513 });
  t.equal(miscompare[0], 0xf0);
  t.equal(miscompare[2], 0x0e);
  t.equal(miscompare.readUInt32BE(3), 513);
  t.equal(fixedSense(Sense.NO_SENSE, { information: -2 }).readInt32BE(3), -2);
  t.equal(fixedSense(Sense.NO_SENSE, { information: 0xffffffff }).readUInt32BE(3), 0xffffffff);
  const tooBig = fixedSense(Sense.NO_SENSE, { information: 2 ** 32 });
  t.equal(tooBig[0], 0x70);
  t.equal(tooBig.readUInt32BE(3), 0);
});

t.test('tape flags share byte 2 with the key', async (t) => {
  t.equal(fixedSense(Sense.NO_SENSE, { filemark: true })[2], 0x80);
  t.equal(fixedSense(Sense.NO_SENSE, { endOfMedium: true, incorrectLength: true })[2], 0x60);
  t.equal(fixedSense(Sense.INVALID_FIELD_IN_CDB, { incorrectLength: true })[2], 0x25);
});

t.test('field pointers: SKSV, C/D, BPV and bit, then the byte', async (t) => {
  const cdb = invalidCdbField(1, 4).toSense();
  t.equal(cdb[15], 0x80 | 0x40 | 0x08 | 4);
  t.equal(cdb.readUInt16BE(16), 1);
  const whole = invalidCdbField(300).toSense();
  t.equal(whole[15], 0xc0, 'no bit pointer for a whole-byte field');
  t.equal(whole.readUInt16BE(16), 300);
  const parameter = invalidParameterField(20, 0).toSense();
  t.equal(parameter[15], 0x80 | 0x08, 'C/D clear: the field is in the parameter list');
  t.equal(parameter[12], 0x26);
});

t.test('ScsiCheckCondition carries its sense and details', async (t) => {
  const err = new ScsiCheckCondition(Sense.MISCOMPARE, { information: 7 });
  t.ok(err instanceof Error);
  t.equal(err.name, 'ScsiCheckCondition');
  t.match(err.message, /e\/1d\/00/);
  t.same(err.toSense(), fixedSense(Sense.MISCOMPARE, { information: 7 }));
});

t.test('invalid field in command IU is ILLEGAL REQUEST 0E/03', async (t) => {
  t.same(Sense.INVALID_FIELD_IN_COMMAND_IU, { key: 5, asc: 0x0e, ascq: 0x03 });
});

t.test('unit attentions: per nexus, oldest first, no duplicates, none for a nexus seen later', async (t) => {
  const ua = new UnitAttentions();
  ua.see('a');
  ua.see('b');
  ua.raiseAll(Sense.LU_RESET);
  ua.raiseAll(Sense.MODE_PARAMETERS_CHANGED, 'b');
  ua.raiseAll(Sense.LU_RESET);
  ua.see('c');
  t.same(ua.take('a'), Sense.LU_RESET);
  t.same(ua.take('a'), Sense.MODE_PARAMETERS_CHANGED);
  t.equal(ua.take('a'), undefined);
  t.same(ua.take('b'), Sense.LU_RESET);
  t.equal(ua.take('b'), undefined, 'the excepted nexus got no MODE PARAMETERS CHANGED');
  t.equal(ua.take('c'), undefined);
  ua.raise('d', Sense.RESERVATIONS_PREEMPTED);
  t.same(ua.take('d'), Sense.RESERVATIONS_PREEMPTED, 'a condition for one nexus reaches it even if it was not seen');
  ua.raiseAll(Sense.LU_RESET);
  ua.forget('a');
  t.equal(ua.take('a'), undefined, 'a forgotten nexus loses its queue');
  ua.raiseAll(Sense.CAPACITY_DATA_CHANGED);
  t.equal(ua.take('a'), undefined, 'and is no longer reached');
});
