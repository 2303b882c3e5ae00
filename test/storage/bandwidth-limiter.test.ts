import { setTimeout as delay } from 'node:timers/promises';
import t from 'tap';
import { BandwidthLimiter } from '../../src/storage/bandwidth-limiter.js';
import { bytesPerSecondAt, validateBandwidthSettings, type BandwidthInterval, type BandwidthSettings } from '../../src/storage/bandwidth-schedule.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const weekdays = [1, 2, 3, 4, 5];

type Window = Omit<BandwidthInterval, 'uploadBitsPerSecond' | 'downloadBitsPerSecond'> & { uploadBytesPerSecond?: number | undefined };
interface Limits {
  timezone: string;
  uploadBytesPerSecond?: number;
  schedule?: Window[];
}

/**
 * The cases speak bytes per second, the settings bits per second. A window without an upload rate limits only
 * downloads, so uploads are unlimited inside it.
 */
function settings({ timezone, uploadBytesPerSecond, schedule = [] }: Limits): BandwidthSettings {
  const upload = (bytes: number | undefined) => (bytes === undefined ? {} : { uploadBitsPerSecond: bytes * 8 });
  return {
    timezone,
    rates: upload(uploadBytesPerSecond),
    schedule: schedule.map(({ uploadBytesPerSecond: bytes, ...w }) => ({ ...w, ...(bytes === undefined ? { downloadBitsPerSecond: 1e6 } : upload(bytes)) })),
  };
}

const rateAt = (l: Limits, when: Date): number | undefined => bytesPerSecondAt(settings(l), 'upload', when);

const interval = (over: Partial<Window> = {}): Window => ({
  daysOfWeek: weekdays, startHourOfDay: 9, startMinuteOfHour: 0, endHourOfDay: 17, endMinuteOfHour: 59, uploadBytesPerSecond: 100 * KiB, ...over,
});

/** A clock that only moves when the limiter sleeps, so every wait is exact and costs no real time. */
function fakeClock(start = Date.UTC(2026, 0, 5, 12)): { now: () => number; sleep: (ms: number) => Promise<void>; elapsed: () => number } {
  let now = start;
  return {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
    elapsed: () => now - start,
  };
}

t.test('invalid settings are usage errors that say what is wrong', async (t) => {
  const invalid = (s: BandwidthSettings, message: RegExp, what: string): void => {
    t.throws(() => validateBandwidthSettings(s), { code: 'SGW_INVALID_ARGUMENT', kind: 'usage', message }, what);
  };
  const bad = (l: Limits, message: RegExp, what: string): void => invalid(settings(l), message, what);
  invalid({ timezone: 'UTC', rates: { uploadBitsPerSecond: 51_199 }, schedule: [] }, /upload rate limit must be a whole number of at least 51200 bit\/s/, 'below the AWS upload minimum');
  invalid({ timezone: 'UTC', rates: { downloadBitsPerSecond: 102_399 }, schedule: [] }, /download rate limit .* at least 102400 bit\/s/, 'below the AWS download minimum');
  invalid({ timezone: 'UTC', rates: { uploadBitsPerSecond: 60_000.5 }, schedule: [] }, /whole number/, 'fractional rate');
  invalid({ timezone: 'UTC', rates: {}, schedule: [{ ...interval(), uploadBytesPerSecond: undefined } as BandwidthInterval] }, /interval 1 sets no rate/, 'a window without a rate');
  bad({ timezone: 'Mars/Olympus', uploadBytesPerSecond: 60_000 }, /not a time zone/, 'unknown zone');
  bad({ timezone: 'UTC', schedule: [interval({ startHourOfDay: 24 })] }, /interval 1: the start hour must be a whole number from 0 to 23, not 24/, 'hour 24');
  bad({ timezone: 'UTC', schedule: [interval({ endMinuteOfHour: 60 })] }, /interval 1: the end minute .* 0 to 59/, 'minute 60');
  bad({ timezone: 'UTC', schedule: [interval({ startHourOfDay: 18 })] }, /ends \(17:59\) before it starts \(18:00\)/, 'end before start');
  bad({ timezone: 'UTC', schedule: [interval({ daysOfWeek: [] })] }, /names no day/, 'no days');
  bad({ timezone: 'UTC', schedule: [interval({ daysOfWeek: [1, 7] })] }, /7 is not a day of the week/, 'day 7');
  bad({ timezone: 'UTC', schedule: [interval({ uploadBytesPerSecond: 1000 })] }, /interval 1: the upload rate limit must be/, 'slow interval');
  bad({ timezone: 'UTC', schedule: Array.from({ length: 21 }, (_, i) => interval({ daysOfWeek: [i % 7], startHourOfDay: Math.floor(i / 7), endHourOfDay: Math.floor(i / 7) })) },
    /at most 20 intervals, not 21/, 'too many intervals');
  bad({ timezone: 'UTC', schedule: [interval(), interval({ daysOfWeek: [0, 5], startHourOfDay: 17, startMinuteOfHour: 59, endHourOfDay: 20 })] },
    /intervals 1 and 2 overlap on Friday/, 'the shared minute 17:59 on Friday');

  t.doesNotThrow(() => validateBandwidthSettings(settings({ timezone: 'UTC' })), 'no limit at all');
  t.doesNotThrow(() => validateBandwidthSettings(settings({
    timezone: 'Europe/Berlin',
    uploadBytesPerSecond: 51_200,
    schedule: [
      interval(),
      interval({ startHourOfDay: 18, startMinuteOfHour: 0, endHourOfDay: 23, endMinuteOfHour: 59, uploadBytesPerSecond: undefined }),
      interval({ daysOfWeek: [0, 6], startHourOfDay: 0, endHourOfDay: 23 }),
    ],
  })), 'back-to-back intervals and the same hours on other days do not overlap');
  t.doesNotThrow(() => validateBandwidthSettings(settings({ timezone: 'UTC', schedule: Array.from({ length: 20 }, (_, i) => interval({ daysOfWeek: [i % 7], startHourOfDay: Math.floor(i / 7), endHourOfDay: Math.floor(i / 7) })) })));
});

t.test('rateAt follows the schedule in the gateway time zone, daylight saving included', async (t) => {
  const berlin: Limits = { timezone: 'Europe/Berlin', uploadBytesPerSecond: 1 * MiB, schedule: [interval()] };
  const at = (iso: string): number | undefined => rateAt(berlin, new Date(iso));
  // Monday 5 January 2026: Berlin is UTC+1.
  t.equal(at('2026-01-05T07:59:59Z'), 1 * MiB, '08:59:59 Berlin, before the interval');
  t.equal(at('2026-01-05T08:00:00Z'), 100 * KiB, '09:00 Berlin');
  t.equal(at('2026-01-05T16:59:59Z'), 100 * KiB, '17:59:59 Berlin: the end minute is inclusive');
  t.equal(at('2026-01-05T17:00:00Z'), 1 * MiB, '18:00 Berlin');
  // Monday 6 July 2026: Berlin is UTC+2.
  t.equal(at('2026-07-06T06:59:00Z'), 1 * MiB, '08:59 summer time');
  t.equal(at('2026-07-06T07:00:00Z'), 100 * KiB, '09:00 summer time');
  t.equal(at('2026-07-06T15:59:00Z'), 100 * KiB, '17:59 summer time');
  t.equal(at('2026-07-06T16:00:00Z'), 1 * MiB, '18:00 summer time');
  t.equal(at('2026-01-10T10:00:00Z'), 1 * MiB, 'Saturday is not in the interval');
  t.equal(rateAt({ ...berlin, timezone: 'UTC' }, new Date('2026-01-05T08:30:00Z')), 1 * MiB, 'the same instant is 08:30 in UTC');

  const nights: Limits = {
    timezone: 'America/Los_Angeles',
    uploadBytesPerSecond: 64 * KiB,
    schedule: [interval({ daysOfWeek: [1], startHourOfDay: 20, endHourOfDay: 23, endMinuteOfHour: 59, uploadBytesPerSecond: undefined })],
  };
  t.equal(rateAt(nights, new Date('2026-01-06T07:59:59Z')), undefined, 'Monday 23:59:59 in Los Angeles (Tuesday in UTC) is unlimited');
  t.equal(rateAt(nights, new Date('2026-01-06T08:00:00Z')), 64 * KiB, 'midnight ends it');
  t.equal(rateAt({ timezone: 'UTC' }, new Date()), undefined, 'no settings: unlimited');
});

t.test('the limiter holds the rate after the first second of burst', async (t) => {
  const clock = fakeClock();
  const limiter = new BandwidthLimiter(settings({ timezone: 'UTC', uploadBytesPerSecond: 512 * KiB }), 'upload', clock.now, clock.sleep);
  for (let sent = 0; sent < 2 * MiB; sent += 64 * KiB) await limiter.take(64 * KiB);
  t.equal(clock.elapsed(), 3000, '2 MiB at 512 KiB/s, less the 512 KiB burst, is exactly 3 s');

  const concurrent = fakeClock();
  const shared = new BandwidthLimiter(settings({ timezone: 'UTC', uploadBytesPerSecond: 512 * KiB }), 'upload', concurrent.now, concurrent.sleep);
  const order: number[] = [];
  await Promise.all(Array.from({ length: 32 }, (_, i) => shared.take(64 * KiB).then(() => order.push(i))));
  t.equal(concurrent.elapsed(), 3000, 'the same when all pieces ask at once');
  t.same(order, Array.from({ length: 32 }, (_, i) => i), 'first come, first served');
});

t.test('a request larger than the burst goes once the bucket is full and leaves it in debt', async (t) => {
  const clock = fakeClock();
  const limiter = new BandwidthLimiter(settings({ timezone: 'UTC', uploadBytesPerSecond: 51_200 }), 'upload', clock.now, clock.sleep);
  await limiter.take(1 * MiB);
  t.equal(clock.elapsed(), 0, 'a full bucket lets a big part through at once');
  await limiter.take(1);
  t.equal(clock.elapsed(), Math.ceil(((1 * MiB - 51_200 + 1) * 1000) / 51_200), 'the next byte waits out the debt');
  await limiter.take(1 * MiB);
  t.equal(clock.elapsed(), Math.ceil(((1 * MiB + 1) * 1000) / 51_200), 'and the next big part waits for a full bucket again');
});

t.test('unlimited never waits, and the schedule decides when limits apply', async (t) => {
  const neverSleep = async (): Promise<void> => {
    throw new Error('an unlimited take slept');
  };
  const unlimited = new BandwidthLimiter(settings({ timezone: 'UTC' }), 'upload', Date.now, neverSleep);
  await Promise.all(Array.from({ length: 100 }, () => unlimited.take(1024 * MiB)));
  t.pass('100 GiB went through without a sleep');

  const clock = fakeClock(Date.UTC(2026, 0, 5, 10)); // Monday 11:00 in Berlin: inside the unlimited interval
  const scheduled = new BandwidthLimiter(settings({
    timezone: 'Europe/Berlin',
    uploadBytesPerSecond: 100 * KiB,
    schedule: [interval({ uploadBytesPerSecond: undefined })],
  }), 'upload', clock.now, clock.sleep);
  for (let i = 0; i < 10; i++) await scheduled.take(10 * MiB);
  t.equal(clock.elapsed(), 0, 'no wait inside the unlimited interval');
  const evening = fakeClock(Date.UTC(2026, 0, 5, 19));
  const limited = new BandwidthLimiter(settings({ timezone: 'Europe/Berlin', uploadBytesPerSecond: 100 * KiB, schedule: [interval({ uploadBytesPerSecond: undefined })] }), 'upload', evening.now, evening.sleep);
  for (let i = 0; i < 3; i++) await limited.take(100 * KiB);
  t.equal(evening.elapsed(), 2000, 'the default limit applies outside it');
});

t.test('abort and update with real time', async (t) => {
  const limiter = new BandwidthLimiter(settings({ timezone: 'UTC', uploadBytesPerSecond: 51_200 }), 'upload');
  await limiter.take(51_200);
  const controller = new AbortController();
  const aborted = limiter.take(51_200, controller.signal);
  const next = limiter.take(1);
  setTimeout(() => controller.abort(), 20);
  const started = Date.now();
  await t.rejects(aborted, { name: 'AbortError' });
  t.ok(Date.now() - started < 500, 'the abort is prompt');
  await t.rejects(limiter.take(1, AbortSignal.abort()), { name: 'AbortError' }, 'an aborted signal rejects at once');
  await next;
  t.ok(Date.now() - started < 500, 'the request behind the aborted one only waited for its own byte');

  await limiter.take(51_200);
  const waiting = limiter.take(51_200);
  await delay(20);
  limiter.update(null);
  const lifted = Date.now();
  await waiting;
  t.ok(Date.now() - lifted < 200, 'lifting the limit releases a waiting request at once');
  t.throws(() => limiter.update(settings({ timezone: 'UTC', uploadBytesPerSecond: 5 })), { code: 'SGW_INVALID_ARGUMENT' });
  t.throws(() => new BandwidthLimiter(settings({ timezone: 'Nowhere/Town' }), 'upload'), { code: 'SGW_INVALID_ARGUMENT' });
  await t.rejects(limiter.take(-1), { code: 'SGW_INTERNAL' });
});

t.test('a short real run stays near the rate', async (t) => {
  const limiter = new BandwidthLimiter(settings({ timezone: 'UTC', uploadBytesPerSecond: 512 * KiB }), 'upload');
  const started = Date.now();
  for (let sent = 0; sent < 1 * MiB; sent += 64 * KiB) await limiter.take(64 * KiB);
  const seconds = (Date.now() - started) / 1000;
  t.ok(seconds >= 0.9 && seconds < 2.5, `1 MiB at 512 KiB/s after a 512 KiB burst took ${seconds} s (about 1 s expected)`);
});
