import assert from 'node:assert/strict';
import { CronExpressionParser } from 'cron-parser';
import fc from 'fast-check';
import t from 'tap';
import { UsageError } from '../../../src/errors.js';
import { describeSchedule, missedRun, nextRun, parseSchedule, type SnapshotSchedule } from '../../../src/storage/snapshots/snapshot-schedule.js';

const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata'] as const;
const at = (iso: string) => new Date(iso);
const interval = (startAt: number, everyHours: 1 | 2 | 4 | 8 | 12 | 24): SnapshotSchedule => ({ kind: 'interval', startAt, everyHours });

/** The first `n` runs after `after`, each found from the one before. */
function runs(schedule: SnapshotSchedule, after: Date, timezone: string, n: number): string[] {
  const out: string[] = [];
  for (let run = after; out.length < n;) {
    run = nextRun(schedule, run, timezone);
    out.push(run.toISOString());
  }
  return out;
}

t.test('interval schedules run where cron-parser puts the same hours, daylight saving changes included', async (t) => {
  // Written out by hand, not derived from the schedule, so that the code is not only compared with itself.
  const cases: [SnapshotSchedule, string][] = [
    [interval(3, 8), '0 3,11,19 * * *'],
    [interval(21, 8), '0 5,13,21 * * *'],
    [interval(0, 1), '0 * * * *'],
    [interval(1, 2), '0 1,3,5,7,9,11,13,15,17,19,21,23 * * *'],
    [interval(2, 4), '0 2,6,10,14,18,22 * * *'],
    [interval(14, 12), '0 2,14 * * *'],
    [interval(2, 24), '0 2 * * *'],
    [interval(1, 24), '0 1 * * *'],
    [interval(23, 24), '0 23 * * *'],
  ];
  // Each start is a day before a daylight saving change in Europe and in the US (spring and autumn).
  const starts = ['2026-03-07T00:00:00Z', '2026-03-28T00:00:00Z', '2026-10-24T00:00:00Z', '2026-10-31T00:00:00Z'];
  for (const timezone of ZONES) {
    for (const [schedule, expression] of cases) {
      for (const start of starts) {
        const expected = CronExpressionParser.parse(expression, { currentDate: at(start), tz: timezone }).take(40).map((d) => d.toDate().toISOString());
        t.same(runs(schedule, at(start), timezone, 40), expected, `${describeSchedule(schedule)} in ${timezone} from ${start}`);
      }
    }
  }
});

t.test('interval schedules at instants worked out by hand', async (t) => {
  // Berlin springs forward at 01:00Z on 29 March 2026 (02:00 CET becomes 03:00 CEST): 00:30Z is 01:30 CET, and
  // the next 03:00, 11:00 and 19:00 are CEST (UTC+2).
  t.same(runs(interval(3, 8), at('2026-03-29T00:30:00Z'), 'Europe/Berlin', 4),
    ['2026-03-29T01:00:00.000Z', '2026-03-29T09:00:00.000Z', '2026-03-29T17:00:00.000Z', '2026-03-30T01:00:00.000Z']);
  // New York springs forward on 8 March 2026: 02:00 EST does not exist, so that day's run is at 03:00 EDT (07:00Z);
  // the day before it is 02:00 EST (07:00Z), the day after 02:00 EDT (06:00Z).
  t.same(runs(interval(2, 24), at('2026-03-06T12:00:00Z'), 'America/New_York', 3),
    ['2026-03-07T07:00:00.000Z', '2026-03-08T07:00:00.000Z', '2026-03-09T06:00:00.000Z']);
  // New York falls back on 1 November 2026 (02:00 EDT becomes 01:00 EST, at 06:00Z): 01:00 comes twice, and the run
  // is made once, at the first (01:00 EDT = 05:00Z); the next day 01:00 EST is 06:00Z.
  t.same(runs(interval(1, 24), at('2026-10-31T12:00:00Z'), 'America/New_York', 2),
    ['2026-11-01T05:00:00.000Z', '2026-11-02T06:00:00.000Z']);
  // Kolkata is UTC+5:30 all year: 00:00 and 12:00 IST are 18:30Z and 06:30Z.
  t.same(runs(interval(0, 12), at('2026-06-15T00:00:00Z'), 'Asia/Kolkata', 3),
    ['2026-06-15T06:30:00.000Z', '2026-06-15T18:30:00.000Z', '2026-06-16T06:30:00.000Z']);
  // Strictly after: a run exactly at `after` is not the next one.
  t.same(runs(interval(23, 4), at('2026-01-01T23:00:00Z'), 'UTC', 2), ['2026-01-02T03:00:00.000Z', '2026-01-02T07:00:00.000Z']);
  t.same(nextRun(interval(23, 4), at('2026-01-01T22:59:59.999Z'), 'UTC'), at('2026-01-01T23:00:00Z'));
});

t.test('cron schedules run in the gateway timezone', async (t) => {
  const cron: SnapshotSchedule = { kind: 'cron', expression: '30 4 * * 1' };
  // 2026-06-01 is a Monday; 04:30 CEST is 02:30Z.
  t.same(runs(cron, at('2026-05-30T00:00:00Z'), 'Europe/Berlin', 2), ['2026-06-01T02:30:00.000Z', '2026-06-08T02:30:00.000Z']);
  t.same(runs(cron, at('2026-05-30T00:00:00Z'), 'UTC', 1), ['2026-06-01T04:30:00.000Z']);
  const hashed: SnapshotSchedule = { kind: 'cron', expression: 'H 3 * * *' };
  const first = nextRun(hashed, at('2026-01-01T00:00:00Z'), 'UTC');
  t.same(nextRun(hashed, at('2026-01-05T00:00:00Z'), 'UTC').getUTCMinutes(), first.getUTCMinutes(), 'an H field picks the same minute each time');
});

t.test('the missed run is the latest one due, once', async (t) => {
  const every8 = interval(3, 8);
  t.same(missedRun(every8, at('2026-01-01T00:30:00Z'), at('2026-01-03T10:15:00Z'), 'UTC'), at('2026-01-03T03:00:00Z'), 'down for two days');
  t.equal(missedRun(every8, at('2026-01-01T03:00:00Z'), at('2026-01-01T10:59:59.999Z'), 'UTC'), undefined, 'nothing due yet');
  t.same(missedRun(every8, at('2026-01-01T03:00:00Z'), at('2026-01-01T11:00:00Z'), 'UTC'), at('2026-01-01T11:00:00Z'), 'a run exactly now is due');
  t.equal(missedRun(every8, at('2026-01-01T11:00:00Z'), at('2026-01-01T11:00:00Z'), 'UTC'), undefined, 'a run exactly at the last one is not');
  t.equal(missedRun(every8, at('2026-01-02T00:00:00Z'), at('2026-01-01T12:00:00Z'), 'UTC'), undefined, 'the clock went back');
  t.same(missedRun(interval(0, 1), at('2020-01-01T00:00:00Z'), at('2026-01-01T12:34:56Z'), 'UTC'), at('2026-01-01T12:00:00Z'), 'down for years');
  t.same(missedRun({ kind: 'cron', expression: '0 0 1 1 *' }, at('2020-06-01T00:00:00Z'), at('2026-06-01T00:00:00Z'), 'UTC'), at('2026-01-01T00:00:00Z'), 'a yearly run');
  t.same(missedRun({ kind: 'cron', expression: '* * * * * *' }, at('2026-01-01T00:00:00Z'), at('2026-02-01T00:00:00.500Z'), 'UTC'), at('2026-02-01T00:00:00Z'), 'every second');
  // Berlin falls back on 25 October 2026: 02:00 CEST (00:00Z), then 02:00 CET (01:00Z). The run was the first;
  // the second is no run of its own, so it is not a missed one either.
  t.same(missedRun(interval(2, 24), at('2026-10-24T00:00:00Z'), at('2026-10-25T01:30:00Z'), 'Europe/Berlin'), at('2026-10-25T00:00:00Z'));
  t.equal(missedRun(interval(2, 24), at('2026-10-25T00:00:00Z'), at('2026-10-25T01:30:00Z'), 'Europe/Berlin'), undefined);
  // New York's 02:00 run of 8 March 2026 is at 03:00 EDT (07:00Z), and is missed like any other.
  t.same(missedRun(interval(2, 24), at('2026-03-07T12:00:00Z'), at('2026-03-08T12:00:00Z'), 'America/New_York'), at('2026-03-08T07:00:00Z'));
});

t.test('nextRun and missedRun agree on which instants are runs', async (t) => {
  const schedule = fc.oneof(
    fc.record({
      kind: fc.constant('interval' as const),
      startAt: fc.integer({ min: 0, max: 23 }),
      everyHours: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const, 12 as const, 24 as const),
    }),
    fc.record({ kind: fc.constant('cron' as const), expression: fc.constantFrom('0 */6 * * *', '*/15 * * * *', '0 3 * * 1', '0 0 1 * *', '0 1,2,3 * * *') }),
  );
  // 2025-2027, so that several daylight saving changes are in range.
  const instant = fc.integer({ min: Date.parse('2025-01-01T00:00:00Z'), max: Date.parse('2027-12-31T00:00:00Z') }).map((ms) => new Date(ms));
  const nearby = fc.integer({ min: 0, max: 3 * 24 * 3600_000 });
  fc.assert(fc.property(schedule, fc.constantFrom(...ZONES), instant, nearby, (s, timezone, after, gap) => {
    const next = nextRun(s, after, timezone);
    assert.ok(next > after, 'the next run is after');
    assert.equal(missedRun(s, after, new Date(next.getTime() - 1), timezone), undefined, 'no run before the next one');
    assert.deepEqual(missedRun(s, after, next, timezone), next, 'the next run is due when it comes');
    const now = new Date(after.getTime() + gap);
    const missed = missedRun(s, after, now, timezone);
    if (missed === undefined) {
      assert.ok(next > now, 'nothing missed only while the next run is still to come');
    } else {
      assert.ok(missed > after && missed <= now, 'the missed run is in (after, now]');
      assert.deepEqual(nextRun(s, new Date(missed.getTime() - 1), timezone), missed, 'the missed run is a run');
      assert.ok(nextRun(s, missed, timezone) > now, 'and the latest one');
    }
  }), { numRuns: 200 });
  t.pass('200 random schedules, zones and instants');
});

t.test('parseSchedule', async (t) => {
  const createdAt = at('2026-07-01T22:30:00Z');
  t.same(parseSchedule({}, { createdAt, timezone: 'UTC' }), interval(22, 24), 'daily from the creation hour');
  t.same(parseSchedule({}, { createdAt, timezone: 'Europe/Berlin' }), interval(0, 24), '00:30 CEST');
  t.same(parseSchedule({}, { createdAt, timezone: 'America/New_York' }), interval(18, 24), '18:30 EDT');
  t.same(parseSchedule({}, { createdAt, timezone: 'Asia/Kolkata' }), interval(4, 24), '04:00 IST the next day');
  t.same(parseSchedule({ everyHours: 8 }, { createdAt, timezone: 'UTC' }), interval(22, 8));
  t.same(parseSchedule({ startAt: 0 }, { createdAt, timezone: 'UTC' }), interval(0, 24));
  t.same(parseSchedule({ startAt: 23, everyHours: 1 }, { createdAt, timezone: 'UTC' }), interval(23, 1));
  t.same(parseSchedule({ cron: ' 0 */6 * * * ' }, { createdAt, timezone: 'UTC' }), { kind: 'cron', expression: '0 */6 * * *' });
  t.same(parseSchedule({ cron: '0 0 3 * * *' }, { createdAt, timezone: 'UTC' }), { kind: 'cron', expression: '0 0 3 * * *' }, 'with seconds');
  t.same(parseSchedule({ cron: '@daily' }, { createdAt, timezone: 'UTC' }), { kind: 'cron', expression: '@daily' });

  const bad = (input: Parameters<typeof parseSchedule>[0], message: string | RegExp) => {
    let thrown: unknown;
    try {
      parseSchedule(input, { createdAt, timezone: 'UTC' });
    } catch (err) {
      thrown = err;
    }
    t.type(thrown, UsageError, `${JSON.stringify(input)} is refused`);
    t.match((thrown as Error).message, message);
    t.notMatch((thrown as Error).message, /\n/, 'in one line');
  };
  bad({ everyHours: 5 }, '--every must be one of 1, 2, 4, 8, 12, 24 hours, not 5');
  bad({ everyHours: 0 }, '--every must be one of 1, 2, 4, 8, 12, 24 hours, not 0');
  bad({ startAt: 24 }, '--start-at is an hour from 0 to 23, not 24');
  bad({ startAt: -1, everyHours: 4 }, '--start-at is an hour from 0 to 23, not -1');
  bad({ startAt: 2.5 }, '--start-at is an hour from 0 to 23, not 2.5');
  bad({ cron: 'x y' }, /^--cron "x y" is not a cron expression: \S/);
  bad({ cron: '61 * * * *' }, /^--cron "61 \* \* \* \*" is not a cron expression: \S/);
  bad({ cron: '0 0 30 2 *' }, /^--cron "0 0 30 2 \*" is not a cron expression: \S/);
  bad({ cron: '  ' }, '--cron "  " is not a cron expression: it has 0 fields; give 5 (minute hour day-of-month month day-of-week), or 6 with seconds first');
  bad({ cron: '0 3 * *' }, '--cron "0 3 * *" is not a cron expression: it has 4 fields; give 5');
  bad({ cron: '5' }, '--cron "5" is not a cron expression: it has 1 field; give 5');
  bad({ cron: '0 0 0 3 * * *' }, /^--cron "0 0 0 3 \* \* \*" is not a cron expression: \S/);
  bad({ cron: '0 3 * * *', startAt: 3 }, '--cron cannot be combined with --start-at or --every');
  bad({ cron: '0 3 * * *', everyHours: 24 }, '--cron cannot be combined with --start-at or --every');
});

t.test('describeSchedule', async (t) => {
  t.equal(describeSchedule(interval(3, 24)), 'every 24 h from 03:00');
  t.equal(describeSchedule(interval(14, 8)), 'every 8 h from 14:00');
  t.equal(describeSchedule({ kind: 'cron', expression: '0 */6 * * *' }), 'cron 0 */6 * * *');
});
