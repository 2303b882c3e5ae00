import t from 'tap';
import { formatRate, parseRate, parseScheduleWindow } from '../../src/cli/bandwidth-text.js';

t.test('rates are bits per second unless given in bytes', async (t) => {
  t.equal(parseRate('51200'), 51_200, 'a plain number is bit/s, as in AWS');
  t.equal(parseRate('100Mbit'), 100_000_000);
  t.equal(parseRate('100Mbit/s'), 100_000_000);
  t.equal(parseRate('1.5Gbit'), 1_500_000_000);
  t.equal(parseRate('64kbit'), 64_000);
  t.equal(parseRate('10MB/s'), 80_000_000, 'decimal bytes');
  t.equal(parseRate('8MiB/s'), 8 * 2 ** 20 * 8, 'binary bytes');
  t.equal(parseRate('512KiB'), 512 * 1024 * 8);
  for (const bad of ['', 'fast', '10 parsecs', '-5', '10MB/h', 'Mbit']) {
    t.throws(() => parseRate(bad), { code: 'SGW_INVALID_ARGUMENT', message: /is not a rate/ }, `"${bad}"`);
  }
  t.equal(formatRate(100_000_000), '100 Mbit/s (11.92 MiB/s)');
  t.equal(formatRate(undefined), 'unlimited');
});

t.test('schedule windows read as people write them, stored as AWS keeps them', async (t) => {
  t.same(parseScheduleWindow('Mon-Fri 08:00-18:00', { uploadBitsPerSecond: 1e6 }), {
    daysOfWeek: [1, 2, 3, 4, 5], startHourOfDay: 8, startMinuteOfHour: 0, endHourOfDay: 17, endMinuteOfHour: 59, uploadBitsPerSecond: 1e6,
  }, 'the end is exclusive, AWS\'s end minute inclusive');
  t.same(parseScheduleWindow('Sat,Sun 00:00-24:00', {}).daysOfWeek, [0, 6]);
  t.same(parseScheduleWindow('sat,sun 00:00-24:00', {}), { daysOfWeek: [0, 6], startHourOfDay: 0, startMinuteOfHour: 0, endHourOfDay: 23, endMinuteOfHour: 59 });
  t.same(parseScheduleWindow('Fri-Mon 22:30-23:00', {}).daysOfWeek, [0, 1, 5, 6], 'a range wraps over the weekend');
  t.same(parseScheduleWindow('daily 09:15-09:16', {}).daysOfWeek, [0, 1, 2, 3, 4, 5, 6]);
  t.throws(() => parseScheduleWindow('Mon-Fri 18:00-08:00', {}), { message: /ends before it starts; split/ });
  t.throws(() => parseScheduleWindow('Mon-Fri', {}), { message: /is not DAYS HH:MM-HH:MM/ });
  t.throws(() => parseScheduleWindow('Someday 08:00-09:00', {}), { message: /"someday" is not a day/ });
  t.throws(() => parseScheduleWindow('Mon 08:61-09:00', {}), { message: /times run from 00:00 to 24:00/ });
  t.throws(() => parseScheduleWindow('Mon 08:00-24:01', {}), { message: /times run from 00:00 to 24:00/ });
});
